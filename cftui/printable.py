"""Text from outside, made safe to show on a terminal.

Anyone who can reach the webhook receiver controls the request path and, in
an unverified body, the envelope fields cftui shows. A terminal acts on the
control characters in such text: ESC sequences set the clipboard (OSC 52),
the window title or clear the screen, and a newline forges a whole line in
a log. :func:`printable` is the one function every display of such text goes
through (``listen``/``daemon`` lines, the log file, the dashboard): control
characters become visible escapes like ``\\x1b``. The store keeps the raw
bytes; only what is shown is escaped.
"""

from __future__ import annotations

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# C0 and C1 controls, DEL, and the invisible marks that reorder how a line is
# displayed (bidi overrides, "Trojan Source") or break it (line separators).
_CONTROLS = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
_FORMAT = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029]


def _escape(code: int) -> str:
    char = chr(code)
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


_ONE_LINE = {code: _escape(code) for code in (*_CONTROLS, *_FORMAT)}
_MULTILINE = {code: text for code, text in _ONE_LINE.items() if chr(code) not in "\n\t"}


def printable(text: str | None, *, multiline: bool = False) -> str:
    """``text`` with every control character shown as an escape (``None`` becomes "").

    ``multiline`` keeps newlines and tabs (a body or a traceback shown as a block).
    """
    if not text:
        return ""
    if text.isprintable():  # the usual case, checked in C: every character escaped below is not printable
        return text
    return text.translate(_MULTILINE if multiline else _ONE_LINE)
