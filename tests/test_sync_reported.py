"""The frame both syncs (BTCPay, Angor) run in: what it reports and how a failure becomes one sentence."""

from __future__ import annotations

import logging
import sqlite3
import threading

import pytest

from cftui.errors import AuthError, ExitCode
from cftui.sync.events import SyncFinished, SyncProgress, SyncStarted
from cftui.sync.reported import Cancelled, SyncRun, run_reported


async def reported(body, *, cancel=None, after=None):
    events = []
    result = await run_reported(
        "test:src", body, reporter=events.append, cancel=cancel, cancelled="stopped; kept", after=after
    )
    return result, events


async def test_a_run_reports_its_start_progress_and_end_with_the_duration():
    async def body(run: SyncRun) -> None:
        run.started("backfill")
        run.result.fetched = 7
        run.progress("seven read", total=9)

    result, events = await reported(body)
    assert result.ok and result.source == "test:src" and result.duration >= 0
    assert events == [
        SyncStarted("test:src", "backfill"),
        SyncProgress("test:src", 7, 9, "seven read"),
        SyncFinished(result),
    ]


async def test_a_cancel_between_steps_is_the_given_sentence_and_still_finishes():
    cancel = threading.Event()
    reached = []

    async def body(run: SyncRun) -> None:
        run.started("incremental")
        run.check_cancel()
        reached.append("first step")
        cancel.set()
        assert run.cancelled()
        run.check_cancel()
        reached.append("second step")

    result, events = await reported(body, cancel=cancel)
    assert reached == ["first step"]
    assert result.error == "stopped; kept" and isinstance(events[-1], SyncFinished)


async def test_failures_become_one_sentence_with_their_exit_code(caplog):
    async def denied(run: SyncRun) -> None:
        raise AuthError("The key was refused.", hint="Check it.")

    async def disk_full(run: SyncRun) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    async def bug(run: SyncRun) -> None:
        raise KeyError("oops")

    result, events = await reported(denied)
    assert (result.error, result.error_code) == ("The key was refused. Check it.", ExitCode.AUTH)
    assert [type(e) for e in events] == [SyncFinished]  # a failure before the start reports the end only
    result, _ = await reported(disk_full)
    assert "full" in result.error and result.error_code == ExitCode.DATA
    with caplog.at_level(logging.ERROR, logger="cftui.sync.reported"):
        result, _ = await reported(bug)
    assert (
        result.error.startswith("Unexpected error while syncing (KeyError") and "details are in the log" in result.error
    )
    assert any(record.exc_info for record in caplog.records)  # the traceback is in the log, not the result


async def test_after_sees_the_finished_result_before_it_is_reported():
    seen = []

    async def body(run: SyncRun) -> None:
        raise Cancelled

    async def after(result) -> None:
        seen.append((result.error, result.duration >= 0))

    def reporter(event) -> None:
        seen.append(type(event).__name__)

    result = await run_reported("test:src", body, reporter=reporter, cancel=None, cancelled="stopped", after=after)
    assert seen == [("stopped", True), "SyncFinished"] and result.error == "stopped"


async def test_an_error_in_after_is_not_swallowed():
    async def body(run: SyncRun) -> None:
        pass

    async def after(result) -> None:
        raise RuntimeError("recording failed")

    with pytest.raises(RuntimeError, match="recording failed"):
        await reported(body, after=after)
