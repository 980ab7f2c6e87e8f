"""Crash-safe file writes and the one JSON convention of a run folder.

A run folder must never show a half-written file under its final name: a process killed mid-write (or a
power cut) has to leave either the old file or the new one. Every writer here therefore writes a
temporary file *in the same directory* (so the final step is a same-filesystem rename), flushes and
``fsync``s it, ``os.replace``s it onto the final name (atomic on POSIX and Windows), and then ``fsync``s
the directory so the rename itself survives a power cut.

JSON convention: the JSON files and JSON-lines logs of a run are strict JSON, readable by any tool
(browsers, ``jq``), so the non-finite floats Python would write as the invalid tokens ``NaN`` /
``Infinity`` are written as the *strings* ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` and turned back into
floats by :func:`from_jsonable` on reading. Tensors and numpy values become plain numbers or lists.
"""

from __future__ import annotations

import json
import math
import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganforge.errors import GanforgeError

NON_FINITE_STRINGS: dict[str, float] = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """``fsync`` a directory so renames and new entries in it are durable.

    Windows cannot open a directory for syncing (and its renames are already durable in the journal),
    so there, and on any filesystem that refuses, this is a no-op.
    """
    if os.name == "nt":
        return
    try:
        fd = os.open(os.fspath(path), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_file(path: str | os.PathLike[str]) -> None:
    """``fsync`` an existing file's contents (used for files a library wrote, e.g. safetensors)."""
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old file or the complete new one.

    Steps: write a uniquely named temp file next to ``path``, flush + ``fsync`` it, ``os.replace`` it onto
    ``path`` and ``fsync`` the directory. The temp file is created with mode 0o666 filtered by the umask,
    like an ordinary ``open(path, "w")``. Parent directories are created when missing. On any error the
    temp file is removed and the previous ``path`` (if any) is left untouched.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(final.parent)


@contextmanager
def replaced_on_success(path: str | os.PathLike[str], keep_suffix: bool = False) -> Iterator[Path]:
    """A hidden temporary file beside ``path`` (named with the process id, so two writers never share one) for a
    writer that cannot hand over bytes (Pillow, pandas, NumPy streams, torch.export): renamed onto ``path`` when
    the block ends without an exception, removed however it ends, so ``path`` is never left half-written and no
    temporary file is left behind. ``keep_suffix``: the temporary name ends in ``path``'s suffix (for writers and
    readers that go by it)."""
    path = Path(path)
    tail = path.suffix if keep_suffix else ""
    tmp = path.with_name(f".{path.stem if keep_suffix else path.name}.tmp-{os.getpid()}{tail}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """:func:`atomic_write_bytes` of ``text`` encoded as UTF-8 (newlines written exactly as given)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any, *, indent: int | None = 2) -> None:
    """Atomically write ``obj`` as strict JSON (see the module's JSON convention), ending in a newline."""
    text = json.dumps(to_jsonable(obj), indent=indent, allow_nan=False, ensure_ascii=False)
    atomic_write_text(path, text + "\n")


CSV_ENCODING = "utf-8-sig"
"""How every CSV a user hands us is decoded: UTF-8, with a leading byte-order mark (Excel writes one)
removed. Plain ``utf-8`` keeps the BOM glued to the first cell, so a header-less file's first row reads
as text, is taken for a header, and a row of data is silently lost."""

OTHER_CSV_DELIMITERS = (";", "\t", "|")


def csv_delimiter(path: str | os.PathLike[str], lines: int = 20) -> str:
    """The separator of a user's CSV file: ``,`` unless its header holds no comma outside quotes and one of
    ``;``, tab or ``|`` splits each of the first ``lines`` records into the same number (> 1) of cells (Excel
    saves ``;`` in locales whose decimal mark is a comma). Cells are counted by the csv module, so a quoted
    cell holding the separator (``"x;y"``) does not make a record look longer. Such a file with decimal
    commas in its numbers (``1,5;2,0``) is a one-line error: its numbers would be read as text; a comma in a
    text cell (``follow up, later``) is no decimal comma. Unreadable files give ``,`` (their reader reports)."""
    import csv
    import re

    try:
        with open(path, newline="", encoding=CSV_ENCODING) as handle:
            head = [line for _, line in zip(range(lines), handle, strict=False) if line.strip()]
    except (OSError, UnicodeDecodeError):
        return ","

    def records(delimiter: str) -> list[list[str]]:
        try:
            return [row for row in csv.reader(head, delimiter=delimiter) if row]
        except csv.Error:
            return []

    if not head or len(next(iter(records(",")), [])) > 1:
        return ","
    decimal_comma = re.compile(r"[-+]?\d*,\d+")
    for delimiter in OTHER_CSV_DELIMITERS:
        rows = records(delimiter)
        if len(rows) > 1 and rows[-1] and len(head) >= lines:
            rows = rows[:-1]  # the last record read may be cut short at the line limit
        counts = {len(row) for row in rows}
        if len(counts) == 1 and counts.pop() > 1:
            if any(decimal_comma.fullmatch(cell.strip()) for row in rows[1:] for cell in row):
                raise GanforgeError(
                    f"{os.fspath(path)}: cells separated by {delimiter!r} use decimal commas (e.g. '1,5'); save the "
                    "file with '.' as the decimal mark"
                )
            return delimiter
    return ","


MAX_JSON_BYTES = 256 << 20
"""The largest JSON file of a run read (summary.json, data.json are kilobytes; a bigger one is damage)."""


def refuse_damaged_numpy_file(path: str | os.PathLike[str]) -> None:
    """A file that is neither a zip archive (.npz) nor an .npy array (its magic bytes) is damaged or of another
    kind: said so in one line before NumPy tries it, whose fallback message ("contains pickled (object) data ...
    allow_pickle=") would have the user load a corrupt, possibly hostile file unsafely."""
    import zipfile

    with open(path, "rb") as f:
        npy = f.read(6) == b"\x93NUMPY"
    if not npy and not zipfile.is_zipfile(path):
        raise GanforgeError(
            f"{os.fspath(path)}: not a readable {Path(path).suffix or 'NumPy'} file (no NumPy archive or array: "
            "damaged, cut short, or another kind of file); save it again with numpy.savez or numpy.save"
        )


def read_json(path: str | os.PathLike[str], what: str = "", fix: str = "the run folder is damaged") -> Any:
    """The JSON value in ``path`` (non-finite strings turned back into floats, see :func:`from_jsonable`),
    or one :class:`GanforgeError` line for every way the file can be bad: missing, too large, not UTF-8,
    not JSON, nested too deeply (``RecursionError``), an integer beyond Python's digit limit."""
    p = Path(path)
    label = f"{what} {p}" if what else str(p)
    try:
        size = p.stat().st_size
        if size > MAX_JSON_BYTES:
            raise GanforgeError(f"{label}: {size:,} bytes is too large to be this JSON file; {fix}")
        return from_jsonable(json.loads(p.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise GanforgeError(f"{label} does not exist; {fix}") from None
    except (ValueError, RecursionError) as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        detail = " ".join(str(err).split())[:120] or type(err).__name__
        raise GanforgeError(f"{label} is not valid JSON ({detail}); {fix}") from None


def read_state_dict(path: str | os.PathLike[str], what: str = "weights", fix: str = "") -> dict[str, Any]:
    """The one safe reader of weight files: ``.safetensors``, or a PyTorch ``.pt``/``.pth`` read with
    PyTorch's restricted unpickler only (``weights_only=True``).

    That unpickler accepts tensors and plain containers and refuses every other global, so a pickle that
    would run code (a ``__reduce__`` calling ``os.system``, say) is rejected before anything in it runs.
    The file must hold a dict (a ``state_dict``). Every problem is one :class:`GanforgeError` line naming
    ``what`` is read and, with ``fix``, how to get a good file.
    """
    import pickle
    import warnings

    import torch

    p = Path(path)
    tail = f"; {fix}" if fix else ""
    if not p.is_file():
        raise GanforgeError(f"{what} file {p} does not exist; check the path{tail}")
    if p.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return dict(load_file(str(p)))
        except Exception as err:  # a truncated or foreign file: one line, not a traceback
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise GanforgeError(f"cannot read {what} from {p} ({first}){tail}") from None
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*pickle protocol.*")
            obj = torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise GanforgeError(
            f"cannot read {what} from {p}: it cannot be loaded safely ({_unpickle_reason(err)}); ganforge "
            "refuses to unpickle code, so a "
            ".pt file may hold only tensors and plain containers — re-save it as a state_dict of tensors "
            f"or as .safetensors from code you trust{tail}"
        ) from None
    except Exception as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise GanforgeError(f"cannot read {what} from {p} as a PyTorch file ({first}){tail}") from None
    if not isinstance(obj, dict):
        raise GanforgeError(f"{p} holds a {type(obj).__name__}, not a dict of tensors; save a state_dict{tail}")
    return dict(obj)


def _unpickle_reason(err: Exception) -> str:
    """The one informative line of PyTorch's long restricted-unpickler message."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    for line in lines:
        if "GLOBAL" in line or "Unsupported" in line:
            return line.rstrip(".")
    return "rejected by the restricted unpickler"


def _float_to_json(x: float) -> float | str:
    if math.isfinite(x):
        return x
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def to_jsonable(obj: Any) -> Any:
    """Convert ``obj`` into values strict JSON can hold.

    Tensors and numpy arrays become (nested) lists, 0-d tensors and numpy scalars become Python
    numbers, tuples become lists, paths become strings, and non-finite floats become the strings
    ``"NaN"`` / ``"Infinity"`` / ``"-Infinity"``. Mapping keys are kept (``json`` turns int keys into
    strings). Anything else raises ``TypeError`` naming its type.
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int) and not isinstance(obj, bool):
        return int(obj)
    if isinstance(obj, float):
        return _float_to_json(float(obj))
    if isinstance(obj, torch.Tensor):
        return to_jsonable(obj.detach().cpu().tolist())
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, Mapping):
        return {k: to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"cannot write a {type(obj).__name__} as JSON: {obj!r:.80}")


def from_jsonable(obj: Any) -> Any:
    """Inverse of the non-finite convention: the exact strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``
    (anywhere in nested dicts and lists) become the floats they stand for; everything else is unchanged."""
    if isinstance(obj, str):
        return NON_FINITE_STRINGS.get(obj, obj)
    if isinstance(obj, dict):
        return {k: from_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [from_jsonable(v) for v in obj]
    return obj
