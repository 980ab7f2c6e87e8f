"""Writing generated samples to files, streamed in batches so memory stays bounded for any N.

.npy is written block by block after its header (no memory map) and .csv row block by row block
(sequences (N, T, F) in long format: ``sample,t,<features>``, one row per sample and step); both go to a temporary
name first and are renamed when complete, so an existing file is never left half-overwritten.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
from numpy.lib import format as npy_format

from ganforge.errors import GanforgeError
from ganforge.runs import Run

# Rows generated per block: GANModel.sample's own batch, so no block keeps several generator passes'
# outputs alive at once (each pass's activations would then be interleaved with retained outputs on the
# heap, and the allocator could not reuse them: resident memory grew by one pass's activations per pass).
STREAM_BATCH = 4_096
BLOCK_BYTES = 64 * 2**20  # and at most this much float32 output per block (large images)


def _batches(run: Run, n: int, label: int | None, batch: int, **options: object):  # noqa: ANN202 - generator
    for start in range(0, n, batch):
        yield run.sample(min(batch, n - start), label=label, **options).numpy()


def _write_npy(path: Path, shape: tuple[int, ...], chunks: Iterable[np.ndarray]) -> None:
    """A float32 .npy of ``shape`` from row blocks, written sequentially: the header, then each block's bytes.

    Unlike filling a memory map, this never maps the file into the process (mapped pages written to
    count in its resident memory until the OS evicts them), so memory is one block whatever ``shape[0]``.
    The file is an ordinary .npy: ``np.load(path, mmap_mode="r")`` memory-maps it back.
    """
    dtype = np.dtype("<f4")
    header = {"descr": npy_format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
    written = 0
    with path.open("wb") as handle:
        npy_format.write_array_header_1_0(handle, header)
        for chunk in chunks:
            block = np.ascontiguousarray(chunk, dtype=dtype)
            handle.write(block.tobytes())
            written += block.shape[0]
    if written != shape[0]:
        raise RuntimeError(f"wrote {written} rows into a .npy declared with {shape[0]}")


def write_samples(
    run: Run, n: int, out: str | Path, label: int | None = None, batch: int = STREAM_BATCH, **options: object
) -> Path:
    """Generate ``n`` samples (data units) into ``out`` (.csv, .npy; pictures are handled by
    :func:`ganforge.report.pictures`), streaming ``batch`` samples at a time."""
    out = Path(out)
    suffix = out.suffix.lower()
    if getattr(run.data, "kind", None) == "table":
        return write_table(run, n, out, **options)
    if options.get("where") is not None:
        raise GanforgeError("--where conditions apply to tables; for class-conditional models use --label")
    options.pop("where", None)
    if n <= 0:
        raise GanforgeError(f"-n must be a positive number of samples, got {n}")
    if not out.parent.exists():
        raise GanforgeError(f"output folder '{out.parent}' does not exist; create it first")
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shape = tuple(run.data.sample_shape)
    batch = max(1, min(batch, BLOCK_BYTES // (4 * math.prod(shape))))
    try:
        if suffix == ".npy":
            _write_npy(tmp, (n, *shape), _batches(run, n, label, batch, **options))
        elif suffix == ".csv" and len(shape) == 2:
            _write_sequences_csv(run, n, tmp, label, batch, **options)
        elif suffix == ".csv":
            if len(shape) != 1:
                raise GanforgeError(
                    f"{out}: CSV holds one row per sample of numbers; these samples have shape "
                    f"{shape} — use .npy, or .png for a picture"
                )
            header = ",".join(f"x{i}" for i in range(shape[0]))
            with tmp.open("w", encoding="utf-8") as handle:
                handle.write(header + "\n")
                for chunk in _batches(run, n, label, batch, **options):
                    np.savetxt(handle, chunk, delimiter=",", fmt="%.7g")
        else:
            raise GanforgeError(f"{out}: unsupported output type '{suffix}'; use .csv, .npy or .png")
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out


def _write_sequences_csv(run: Run, n: int, path: Path, label: int | None, batch: int, **options: object) -> None:
    """Sequences (N, T, F) as a long-format CSV: header ``sample,t,<feature names>`` and one row per sample
    and time step (``sample`` 0..n-1, ``t`` 0..T-1), feature names from the source's columns if known."""
    steps, features = run.data.sample_shape
    names = run.data.info.get("columns") if isinstance(run.data.info, dict) else None
    if not (isinstance(names, list) and len(names) == features):
        names = [f"x{i}" for i in range(features)]
    with path.open("w", encoding="utf-8") as handle:
        handle.write(",".join(["sample", "t", *map(str, names)]) + "\n")
        first = 0
        for chunk in _batches(run, n, label, batch, **options):
            ids = np.repeat(np.arange(first, first + len(chunk)), steps)[:, None]
            ts = np.tile(np.arange(steps), len(chunk))[:, None]
            rows = np.hstack([ids, ts, chunk.reshape(-1, features)])
            np.savetxt(handle, rows, delimiter=",", fmt=["%d", "%d"] + ["%.7g"] * features)
            first += len(chunk)


def sample_tensor(run: Run, n: int, label: int | None = None, **options: object) -> torch.Tensor:
    return run.sample(n, label=label, **options)


def write_table(run: Run, n: int, out: str | Path, where: str | None = None, **options: object) -> Path:
    """``n`` synthetic rows of a table run into ``out`` (.csv: the input's columns, order and value types),
    conditioned on ``where`` ("col=value"); written to a temporary name and renamed when complete."""
    out = Path(out)
    if options:
        raise GanforgeError(f"option {next(iter(options))!r} does not apply to tables; use --rows and --where")
    if out.suffix.lower() != ".csv":
        raise GanforgeError(f"{out}: tables are written as .csv; name the output file NAME.csv")
    if n <= 0:
        raise GanforgeError(f"--rows must be a positive number of rows, got {n}")
    if not out.parent.exists():
        raise GanforgeError(f"output folder '{out.parent}' does not exist; create it first")
    frame = run.sample(rows=n, where=where)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        frame.to_csv(tmp, index=False)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out
