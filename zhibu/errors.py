"""The one exception every package raises for input the user must fix (CLI exit status 2), and how
to quote that input in a message without echoing a hostile file back."""

import re
import reprlib

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


class BadInput(Exception):
    """Carries a message fit to show the user (Chinese for chat users; English is fine for CLI flags)."""


def quoted(text: str, limit: int = 60) -> str:
    """User text fit for a message: at most `limit` characters, control characters escaped (a NUL
    or an escape sequence would corrupt a terminal or a spreadsheet)."""
    head = _CONTROL_CHARACTERS.sub(lambda match: f"\\x{ord(match.group()):02x}", text[:limit])
    return head if len(text) <= limit else f"{head}…（共 {len(text)} 个字符）"


def _short_repr() -> reprlib.Repr:
    short = reprlib.Repr()
    short.maxlevel, short.maxdict, short.maxlist, short.maxtuple, short.maxset = 2, 4, 4, 4, 4
    short.maxstring = short.maxother = short.maxlong = 60
    return short


_SHORT_REPR = _short_repr()


def quoted_value(value: object) -> str:
    """Any parsed value (a string, a list, a number) as a bounded repr: never the whole of a huge input."""
    try:
        return _SHORT_REPR.repr(value)
    except ValueError:  # an integer too long to turn into text at all
        return "（位数过多的数字）"
