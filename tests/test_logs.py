"""The log file: secrets scrubbed everywhere (tracebacks too), control characters escaped,
owner-only files (review D1, D10, D13)."""

from __future__ import annotations

import logging
import stat

import pytest

from cftui import logs


@pytest.fixture
def log_file(tmp_path):
    path = logs.setup(tmp_path / "logs")
    yield path
    logs.setup(tmp_path / "other-logs")  # leave no handler on the first file


def written(path) -> str:
    for handler in logging.getLogger("cftui").handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def test_a_traceback_is_scrubbed_like_the_message(log_file):
    logs.redact("SECRET-API-KEY-123456")
    try:
        raise ValueError("boom SECRET-API-KEY-123456")
    except ValueError:
        logging.getLogger("cftui.test").exception("unexpected error")
    text = written(log_file)
    assert "ValueError: boom" in text and "Traceback" in text
    assert "SECRET-API-KEY-123456" not in text


def test_control_characters_cannot_forge_a_line_or_reach_the_terminal(log_file):
    path = "/webhook/\x1b[2J\n2026-12-05 06:52:23,599 WARNING cftui.forged: FAKE LINE"
    logging.getLogger("cftui.webhooks.receiver").info("webhook rejected from %s %s", "127.0.0.1", path)
    try:
        raise ValueError("bad \x1b]0;OWNED\x07 title")
    except ValueError:
        logging.getLogger("cftui.test").exception("with a hostile exception text")
    text = written(log_file)
    assert "\x1b" not in text and "\x07" not in text
    assert not any(line.startswith("2026-12-05 06:52:23,599") for line in text.splitlines())
    assert "\\x1b[2J\\n2026-12-05 06:52:23,599 WARNING cftui.forged: FAKE LINE" in text
    assert "bad \\x1b]0;OWNED\\x07 title" in text


def test_log_files_and_rotated_ones_are_owner_only(tmp_path):
    old = logs.ROTATE_BYTES
    try:
        logs.ROTATE_BYTES = 2000
        path = logs.setup(tmp_path / "state" / "log")
        for i in range(100):
            logging.getLogger("cftui.test").info("line %d %s", i, "x" * 50)
        written(path)
    finally:
        logs.ROTATE_BYTES = old
        logs.setup(tmp_path / "other-logs")
    files = sorted(path.parent.glob("cftui.log*"))
    assert len(files) > 2  # rotated at least twice
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
