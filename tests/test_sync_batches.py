"""The batch writer's ordering rule: the saved scan position never runs ahead of the stored rows.

A unit test of one class: ``write`` is a stand-in for the DB thread whose
commits the test releases one by one, so every interleaving is exact. The
kill -9 test (tests/test_sync_resume.py) checks the same rule end to end.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from cftui.sync.batches import Batch, BatchWriter, ScanPosition


class Commits:
    """A DB thread that logs what it is given and commits when the test says so."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.log: list[str] = []
        self.batches: list[Batch] = []
        self.release: list[asyncio.Event] = []
        self.fail_at = fail_at

    async def write(self, batch: Batch) -> Batch:
        number = len(self.batches)
        self.batches.append(batch)
        self.release.append(asyncio.Event())
        self.log.append(f"start {number}")
        await self.release[number].wait()
        if number == self.fail_at:
            self.log.append(f"failed {number}")
            raise OSError("disk full")
        self.log.append(f"commit {number}")
        return batch


def position(offset: int) -> ScanPosition:
    return ScanPosition(offset, newest_seen=1_700_000_000 + offset)


async def settle() -> None:
    for _ in range(5):  # let the tasks the writer started run as far as they can
        await asyncio.sleep(0)


async def test_pages_queue_while_a_write_runs_and_commit_in_order_with_their_last_position():
    commits = Commits()
    written: list[Batch] = []
    writer = BatchWriter(commits.write, written.append, label="store t")
    await writer.add(["r1"], [], position(1))
    await writer.add(["r2"], [], position(2))  # the first write is still running: these two wait
    await writer.add(["r3"], [], position(3))
    await settle()
    assert commits.log == ["start 0"]
    commits.release[0].set()
    drained = asyncio.create_task(writer.drain())
    await settle()
    assert commits.log == ["start 0", "commit 0", "start 1"]  # the next batch only once the first committed
    commits.release[1].set()
    await drained
    assert [(b.records, b.position) for b in commits.batches] == [(["r1"], position(1)), (["r2", "r3"], position(3))]
    assert written == commits.batches  # counted in commit order


async def test_a_failed_write_stops_every_later_one():
    commits = Commits(fail_at=0)
    writer = BatchWriter(commits.write, lambda batch: None, label="store t")
    await writer.add(["r1"], [], position(1))
    await writer.add(["r2"], [], position(2))
    await settle()
    commits.release[0].set()
    await settle()
    for _ in range(2):  # raises again on every call: the failure is not forgotten
        with pytest.raises(OSError, match="disk full"):
            await writer.add(["r3"], [], position(3))
    with pytest.raises(OSError):
        await writer.drain()
    assert commits.log == ["start 0", "failed 0"]  # position 2 and 3 were never handed to the DB thread


async def test_close_writes_what_was_read_and_logs_a_failure_instead_of_raising(caplog):
    commits = Commits()
    writer = BatchWriter(commits.write, lambda batch: None, label="store t")
    await writer.add(["r1"], [], position(1))
    await writer.add(["r2"], [], position(2))
    await settle()
    commits.release[0].set()
    closing = asyncio.create_task(writer.close())
    await settle()
    commits.release[1].set()
    await closing
    assert commits.log == ["start 0", "commit 0", "start 1", "commit 1"]

    failing = Commits(fail_at=0)
    writer = BatchWriter(failing.write, lambda batch: None, label="store t")
    await writer.add(["r1"], [], position(1))
    await settle()
    failing.release[0].set()
    with caplog.at_level(logging.ERROR, logger="cftui.sync.batches"):
        await writer.close()
    assert "store t: writing the last pages failed" in caplog.text


async def test_a_full_batch_waits_for_the_write_in_flight():
    commits = Commits()
    writer = BatchWriter(commits.write, lambda batch: None, label="store t", max_records=2)
    await writer.add(["r1"], [], position(1))
    adding = asyncio.create_task(writer.add(["r2", "r3"], [], position(3)))
    await settle()
    assert not adding.done() and commits.log == ["start 0"]  # the parser waits instead of the queue growing
    commits.release[0].set()
    await adding
    await settle()
    assert commits.log == ["start 0", "commit 0", "start 1"]
    commits.release[1].set()
    await writer.drain()


async def test_a_walk_that_saves_no_position_writes_only_rows_and_skips():
    commits = Commits()
    writer = BatchWriter(commits.write, lambda batch: None, label="store t")
    await writer.add([], [], None)  # an empty page of an incremental walk: nothing to write
    assert commits.batches == []
    await writer.add(["r1"], [], None)
    await settle()
    commits.release[0].set()
    await writer.drain()
    assert [(b.records, b.position) for b in commits.batches] == [(["r1"], None)]
