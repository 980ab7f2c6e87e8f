"""The one error type a user ever sees.

Anything a user hands us (a recipe name, a config key, a data file, a run folder) that is wrong raises
:class:`GanforgeError` with a single line saying what is wrong, where, and how to fix it. The CLI prints
that line and exits with code 2; no traceback from deep inside reaches the user.
"""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Iterable
from typing import Any

QUOTE_CHARS = 60
"""The most characters of a user's value an error message quotes: a message must stay one readable line
whatever was given (a 5 MB string, a list a YAML alias bomb expanded to millions of items)."""

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = QUOTE_CHARS
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 4
_REPR.maxlevel = 3


class GanforgeError(Exception):
    """A problem with the user's input, explained in one line (what, where, how to fix)."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


def quote(value: Any, limit: int = QUOTE_CHARS) -> str:
    """``repr(value)`` cut to at most ``limit`` characters (``...`` marks the cut): the one way an error
    message shows a user's value. ``reprlib`` never builds the full repr, so a huge or deeply shared value
    costs O(limit), not O(size) (``repr`` of an expanded alias bomb takes gigabytes)."""
    try:
        text = _REPR.repr(value)
    except (ValueError, RecursionError):  # an int beyond Python's digit limit, a self-referencing list
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""`` when none is close.

    Names longer than 100 characters get no suggestion: ``difflib`` is quadratic in the length."""
    if len(str(name)) > 100:
        return ""
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""
