"""printable(): every control character is shown as an escape; ordinary text passes unchanged (review D1)."""

from __future__ import annotations

from cftui.printable import _ONE_LINE, printable


def test_controls_become_escapes_and_text_is_kept():
    assert printable("caf\u00e9 \u5e97 ok") == "caf\u00e9 \u5e97 ok"
    assert printable("a\x1b]0;T\x07b\nc\td\x9be\u202ef") == "a\\x1b]0;T\\x07b\\nc\\td\\x9be\\u202ef"
    assert printable("line\nnext\r\x1b", multiline=True) == "line\nnext\\r\\x1b"
    assert printable(None) == "" and printable("") == ""


def test_the_fast_path_for_printable_text_cannot_skip_an_escape():
    # printable() returns text that str.isprintable() accepts as it is: none of what it escapes may be printable.
    assert not [hex(code) for code in _ONE_LINE if chr(code).isprintable()]
