"""The one error type a user ever sees.

Anything a user hands us (a recipe name, a config key, a data file, a run folder) that is wrong raises
:class:`GanforgeError` with a single line saying what is wrong, where, and how to fix it. The CLI prints
that line and exits with code 2; no traceback from deep inside reaches the user.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class GanforgeError(Exception):
    """A problem with the user's input, explained in one line (what, where, how to fix)."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""`` when none is close."""
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""
