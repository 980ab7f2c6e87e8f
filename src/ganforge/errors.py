"""The one error type a user ever sees.

Anything a user hands us (a recipe name, a config key, a data file, a run folder) that is wrong raises
:class:`GanforgeError` with a single line saying what is wrong, where, and how to fix it. The CLI prints
that line and exits with code 2; no traceback from deep inside reaches the user.
"""

from __future__ import annotations

import difflib
import errno
import reprlib
from collections.abc import Iterable
from numbers import Real
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

    A dotted key whose last part names exactly one choice's last part is matched by it first
    (``train.lr`` -> ``train.optimizer.lr``: the spelling is right, the section is not). Names longer than
    100 characters get no suggestion: ``difflib`` is quadratic in the length."""
    if len(str(name)) > 100:
        return ""
    options = [str(c) for c in choices]
    leaf = str(name).rpartition(".")[2]
    same_leaf = [c for c in options if "." in c and c.rpartition(".")[2] == leaf and c != name]
    if "." in str(name) and len(same_leaf) == 1:
        return f" (did you mean '{same_leaf[0]}'?)"
    close = difflib.get_close_matches(str(name), options, n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


def whole_number(value: Any) -> int | None:
    """``value`` as an int when it is one whole number, else None (the caller words the error).

    Taken: ints, numpy and torch integer scalars (``np.int64(5)``, ``torch.tensor(4)``: what indexing an array
    gives), and whole floats (``5.0``, ``1e4``: what arithmetic gives). Refused: bools (``True`` is no count
    and no class), non-whole or non-finite floats (``2.5`` must not silently become 2), strings (``"4"``), and
    arrays of more than one value. One rule for every count or class number given from Python."""
    value = _one_value(value)
    if value is _NOT_ONE or isinstance(value, bool):
        return None
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if hasattr(value, "__index__"):
        try:
            return int(value.__index__())
        except (TypeError, ValueError):
            return None
    return None


def real_number(value: Any) -> float | None:
    """``value`` as a float when it is one real number, else None (the caller words the error and its range).

    Taken: ints and floats, numpy and torch scalars (0-d arrays and tensors too), inf and NaN (a range check
    refuses those). Refused: bools, strings (``"0.1"``), complex numbers, and arrays of more than one value.
    :func:`whole_number`'s twin for the weights, shares and bounds given from Python."""
    value = _one_value(value)
    if value is _NOT_ONE or isinstance(value, bool) or not isinstance(value, Real):
        return None
    return float(value)


def range_text(low: float, open_low: bool, high: float | None) -> str:
    """A numeric argument's range in words for an error line: ``in [0, 1)`` or ``in (0, 1)`` with an upper bound
    (always excluded; 2**63, the largest seed + 1, written so), else ``>= 1`` or ``> 0``."""
    if high is None:
        return f"{'>' if open_low else '>='} {low}"
    top = "2**63" if high == 2**63 else high
    return f"in {'(' if open_low else '['}{low}, {top})"


def in_range(number: float, low: float, open_low: bool, high: float | None) -> bool:
    """Whether ``number`` lies in the range :func:`range_text` describes (NaN never does)."""
    return (number > low if open_low else number >= low) and (high is None or number < high)


_NOT_ONE = object()  # what _one_value returns for an array of other than one value


def _one_value(value: Any) -> Any:
    """A numpy / torch scalar or 0-d array as its Python number; an array of any other shape (or one that will
    not give its value) as ``_NOT_ONE``; anything else as it is."""
    if getattr(value, "shape", None) is None:
        return value
    if tuple(value.shape) != ():
        return _NOT_ONE
    try:
        return value.item()
    except (TypeError, ValueError, RuntimeError):
        return _NOT_ONE


def is_allocation_failure(exc: BaseException) -> bool:
    """Whether ``exc`` says memory could not be allocated: ``MemoryError`` (numpy's too) or torch's
    ``RuntimeError`` from its allocators (CPU "can't allocate memory", CUDA "out of memory")."""
    if isinstance(exc, MemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(
        s in text for s in ("can't allocate memory", "not enough memory", "out of memory", "bad_alloc")
    )


def as_user_error(exc: BaseException, output: str | None = None) -> GanforgeError | None:
    """The one-line :class:`GanforgeError` for failures caused by the environment or by an input's size
    rather than by a bug, or ``None`` for anything else (which stays a traceback: a bug must be seen).

    - ``OSError`` with a file name, or a disk error (read-only folder, full disk, a folder where a file is
      meant, a missing parent): what could not be written or read (``output``, the command's ``-o``, when
      the error names no file), the system's reason and what to do;
    - allocation failures: the sizes to lower;
    - ``RecursionError``: an input nested too deeply for Python's parser.
    """
    if isinstance(exc, OSError) and (exc.filename is not None or exc.errno in _DISK_ERRNOS):
        # a failed write() names no file: the command's output (-o) is then what was being written
        where = f" '{output}' (the output)" if output else ""
        name = f" '{exc.filename}'" if exc.filename is not None else where
        reason = exc.strerror or type(exc).__name__
        fix = _OS_FIXES.get(exc.errno or 0, "check the path and its permissions")
        return GanforgeError(f"cannot access{name}: {reason}; {fix}. Files written before this are intact")
    if is_allocation_failure(exc):
        first = " ".join(str(exc).split())[:160] or type(exc).__name__
        return GanforgeError(
            f"out of memory ({first}); lower the sizes: train.batch_size, the model's widths, -n / eval.n"
        )
    if isinstance(exc, RecursionError):
        return GanforgeError("an input is nested too deeply to read (RecursionError); check the file you gave")
    return None


_OS_FIXES = {
    errno.ENOSPC: "free disk space or write elsewhere (-o / --out)",
    errno.EDQUOT: "free space within your quota or write elsewhere (-o / --out)",
    errno.EFBIG: "the file is larger than this system allows here; write elsewhere (-o / --out)",
    errno.EROFS: "the file system is read-only; write elsewhere (-o / --out)",
    errno.EACCES: "no permission; write elsewhere (-o / --out) or change the permissions",
    errno.EPERM: "no permission; write elsewhere (-o / --out) or change the permissions",
    errno.EISDIR: "it is a folder; give a file name",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.ENOENT: "a folder on the path does not exist; create it first",
    errno.ENAMETOOLONG: "the name is too long; choose a shorter path",
    errno.EEXIST: "it already exists; give a new name",
}
_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO}
