"""Writing generated samples to files, streamed in batches so memory stays bounded for any N.

.npy is written through a memory-mapped file and .csv row block by row block; both go to a temporary
name first and are renamed when complete, so an existing file is never left half-overwritten.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from numpy.lib.format import open_memmap

from ganforge.errors import GanforgeError
from ganforge.runs import Run

STREAM_BATCH = 65_536


def _batches(run: Run, n: int, label: int | None, batch: int, **options: object):  # noqa: ANN202 - generator
    for start in range(0, n, batch):
        yield run.sample(min(batch, n - start), label=label, **options).numpy()


def write_samples(
    run: Run, n: int, out: str | Path, label: int | None = None, batch: int = STREAM_BATCH, **options: object
) -> Path:
    """Generate ``n`` samples (data units) into ``out`` (.csv, .npy; pictures are handled by
    :func:`ganforge.report.pictures`), streaming ``batch`` samples at a time."""
    out = Path(out)
    suffix = out.suffix.lower()
    if n <= 0:
        raise GanforgeError(f"-n must be a positive number of samples, got {n}")
    if not out.parent.exists():
        raise GanforgeError(f"output folder '{out.parent}' does not exist; create it first")
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shape = tuple(run.data.sample_shape)
    try:
        if suffix == ".npy":
            array = open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n, *shape))
            pos = 0
            for chunk in _batches(run, n, label, batch, **options):
                array[pos : pos + len(chunk)] = chunk
                pos += len(chunk)
            array.flush()
            del array
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


def sample_tensor(run: Run, n: int, label: int | None = None, **options: object) -> torch.Tensor:
    return run.sample(n, label=label, **options)
