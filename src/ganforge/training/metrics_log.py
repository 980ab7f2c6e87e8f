"""The run's ``metrics.jsonl``: one JSON object per line, appended as training goes.

Why JSON lines: appending one line is the only write, so a process killed mid-write can damage at most
the last line. Readers skip such a torn last line, the next writer cuts it off before appending, and a
resumed run calls :func:`truncate_after` so no step appears twice.

Values follow the run-folder JSON convention of :mod:`ganforge.fileio`: tensors and numpy numbers become
plain numbers (or lists), and the non-finite floats a diverging GAN produces are written as the strings
``"NaN"``, ``"Infinity"``, ``"-Infinity"`` (strict JSON) and read back as floats.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ganforge.errors import GanforgeError
from ganforge.fileio import atomic_write_text, from_jsonable, to_jsonable


def encode_record(record: Mapping[str, Any]) -> bytes:
    """One record as a line of strict JSON, newline included (keys must be strings or ints)."""
    if not isinstance(record, Mapping):
        raise TypeError(f"a metrics record must be a dict, got {type(record).__name__}")
    text = json.dumps(to_jsonable(record), allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    return (text + "\n").encode("utf-8")


def _split_lines(data: bytes) -> tuple[list[bytes], bytes]:
    """Complete lines (newline-terminated) and the unterminated tail (empty when the file ends cleanly)."""
    lines = data.split(b"\n")
    return lines[:-1], lines[-1]


def _parse(line: bytes) -> dict[str, Any] | None:
    """A record, or ``None`` for a blank line (power loss can leave NUL-filled tails)."""
    text = line.decode("utf-8", errors="strict").strip().strip("\x00")
    if not text:
        return None
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("line is not a JSON object")
    return from_jsonable(value)


def _records_with_lines(path: Path) -> list[tuple[dict[str, Any], bytes]]:
    """Every valid record with its original line; the torn last line (if any) is dropped."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    lines, tail = _split_lines(data)
    if tail:
        lines.append(tail)
    out: list[tuple[dict[str, Any], bytes]] = []
    for number, line in enumerate(lines, start=1):
        try:
            record = _parse(line)
        except (ValueError, UnicodeDecodeError, RecursionError) as err:  # RecursionError: nested 1,000 deep
            if number == len(lines):
                break  # torn by a kill or power cut mid-append: the record is lost, the rest is good
            raise GanforgeError(
                f"{path} line {number} is not a JSON record ({type(err).__name__}); delete that line"
            ) from None
        if record is not None:
            out.append((record, line))
    return out


def read(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All records of a metrics file in order (``[]`` when it does not exist).

    A torn last line is skipped; a damaged line elsewhere raises :class:`GanforgeError` naming it.
    """
    return [record for record, _ in _records_with_lines(Path(path))]


def _after(record: Mapping[str, Any], step: int) -> bool:
    value = record.get("step")
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > step


def truncate_after(path: str | os.PathLike[str], step: int) -> int:
    """Atomically rewrite the file keeping only records with ``record["step"] <= step``; return how many
    were removed (a torn last line is dropped too, without counting).

    Used on resume from the checkpoint of ``step``: the records the killed run wrote after that
    checkpoint are about to be written again. Records without a ``"step"`` key are kept; kept lines are
    copied byte for byte.
    """
    p = Path(path)
    if not p.exists():
        return 0
    entries = _records_with_lines(p)
    kept = [line for record, line in entries if not _after(record, step)]
    text = b"".join(line.rstrip(b"\r") + b"\n" for line in kept).decode("utf-8")
    atomic_write_text(p, text)
    return len(entries) - len(kept)


class MetricsLog:
    """Appends records to a JSON-lines file, one flushed line per :meth:`append`.

    The file is opened per append, so a :func:`truncate_after` (which replaces the file) in between
    cannot leave this log writing into the replaced file. Before its first append the log cuts off a
    torn last line a killed run left, so the new record does not glue onto it. With ``fsync`` each line
    is also forced to disk (slower; flushing alone already survives a killed process).
    """

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self._checked_tail = False

    def _cut_torn_tail(self) -> None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        if not data or data.endswith(b"\n"):
            return
        tail = data[data.rfind(b"\n") + 1 :]
        try:
            complete = _parse(tail) is not None
        except (ValueError, UnicodeDecodeError):
            complete = False
        with open(self.path, "rb+") as f:
            if complete:  # a whole record that only lacks its newline: keep it
                f.seek(0, os.SEEK_END)
                f.write(b"\n")
            else:  # torn mid-record: unrecoverable, cut it off
                f.truncate(len(data) - len(tail))

    def append(self, record: Mapping[str, Any]) -> None:
        """Write ``record`` as one line and flush it (see :func:`encode_record` for value conversion)."""
        line = encode_record(record)
        if not self._checked_tail:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._cut_torn_tail()
            self._checked_tail = True
        with open(self.path, "ab", buffering=0) as f:
            view = memoryview(line)
            while view:
                view = view[f.write(view) :]
            if self.fsync:
                os.fsync(f.fileno())

    def read(self) -> list[dict[str, Any]]:
        """All records of this log (see :func:`read`)."""
        return read(self.path)

    def truncate_after(self, step: int) -> int:
        """Keep only records up to ``step`` (see :func:`truncate_after`)."""
        removed = truncate_after(self.path, step)
        self._checked_tail = True  # the rewrite ends in a newline
        return removed
