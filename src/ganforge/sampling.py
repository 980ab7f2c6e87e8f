"""Writing generated samples to files, streamed in batches so memory stays bounded for any N.

.npy is written block by block after its header (no memory map) and .csv row block by row block
(sequences (N, T, F) in long format: ``sample,t,<features>``, one row per sample and step; the column
names of the user's CSV when the run was trained on one, and each column's type: whole numbers or its
decimals, within its observed range). .npz is the streamed .npy stored in a zip
archive under ``images`` (image data: the key ``ganforge fid`` and the ``images-npz`` source read) or
``samples``, with ``labels`` for conditional models (classes balanced: sample ``i`` is of class
``i mod K``, in .npy and .csv too, which cannot hold the labels). Every file goes to a temporary name first
and is renamed when complete, so an existing file is never left half-overwritten.
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
from numpy.lib import format as npy_format

from ganforge.errors import GanforgeError
from ganforge.fileio import replaced_on_success
from ganforge.runs import Run

# Rows generated per block: GANModel.sample's own batch, so no block keeps several generator passes'
# outputs alive at once (each pass's activations would then be interleaved with retained outputs on the
# heap, and the allocator could not reuse them: resident memory grew by one pass's activations per pass).
STREAM_BATCH = 4_096
BLOCK_BYTES = 64 * 2**20  # and at most this much float32 output per block (large images)


SAMPLE_SUFFIXES = (".csv", ".npy", ".npz")
FLOAT32_DIGITS = "%.9g"  # 9 significant digits give every float32 back exactly (7 lost up to 5e-7 on ring8)


def _batches(run: Run, n: int, label: int | torch.Tensor | None, batch: int, **options: object):  # noqa: ANN202
    for start in range(0, n, batch):
        part = label[start : start + batch] if isinstance(label, torch.Tensor) else label
        yield run.sample(min(batch, n - start), label=part, **options).numpy()


def balanced_labels(run: Run, n: int) -> torch.Tensor | None:
    """Labels ``i mod K`` for ``n`` samples of a conditional model (None for an unconditional one)."""
    classes = getattr(run.gan, "num_classes", None)
    return None if classes is None else torch.arange(n) % int(classes)


def column_names(run: Run, count: int) -> list[str]:
    """The data's column names (stored in ``data.json`` when the run was trained on a CSV with a header),
    else ``x0, x1, ...``."""
    return names_in_info(getattr(run.data_info, "info", None), count)


def names_in_info(info: object, count: int) -> list[str]:
    """The ``count`` column names a data description's ``info`` holds (``columns``, from a CSV's header), else
    ``x0, x1, ...`` (also when the stored list does not match ``count``)."""
    names = info.get("columns") if isinstance(info, dict) else None
    if isinstance(names, list) and len(names) == count and all(isinstance(c, (str, int)) for c in names):
        return [str(c) for c in names]
    return [f"x{i}" for i in range(count)]


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
    """Generate ``n`` samples (data units) into ``out`` (.csv, .npy, .npz; pictures are handled by
    :func:`ganforge.report.pictures`), streaming ``batch`` samples at a time."""
    from ganforge.outputs import output_file

    if getattr(run.data_info, "kind", None) == "table":
        return write_table(run, n, out, **options)
    if options.get("where") is not None:
        raise GanforgeError("--where conditions apply to tables; for class-conditional models use --label")
    options.pop("where", None)
    if n <= 0:
        raise GanforgeError(f"-n must be a positive number of samples, got {n}")
    out = output_file(out, SAMPLE_SUFFIXES)
    suffix = out.suffix.lower()
    shape = tuple(run.data_info.sample_shape)
    batch = max(1, min(batch, BLOCK_BYTES // (4 * math.prod(shape))))
    if label is None and getattr(run.gan, "sampling_captions", None) is None:
        # .npz and folders draw balanced classes; so do .npy and .csv, which cannot store labels: one seed gives
        # the same samples in every format, and sample i is of class i mod K (random draws were lost)
        label = balanced_labels(run, n)
    with replaced_on_success(out) as tmp:
        if suffix == ".npy":
            _write_npy(tmp, (n, *shape), _batches(run, n, label, batch, **options))
        elif suffix == ".npz":
            _write_npz(run, n, tmp, label if not isinstance(label, torch.Tensor) else None, batch, **options)
        elif suffix == ".csv" and len(shape) == 2:
            _write_sequences_csv(run, n, tmp, label, batch, **options)
        elif suffix == ".csv":
            if len(shape) != 1:
                raise GanforgeError(
                    f"{out}: CSV holds one row per sample of numbers; these samples have shape "
                    f"{shape} — use .npy, or .png for a picture"
                )
            header = ",".join(column_names(run, shape[0]))
            with tmp.open("w", encoding="utf-8") as handle:
                handle.write(header + "\n")
                for chunk in _batches(run, n, label, batch, **options):
                    np.savetxt(handle, chunk, delimiter=",", fmt=FLOAT32_DIGITS)
        else:
            raise GanforgeError(f"{out}: unsupported output type '{suffix}'; use .csv, .npy, .npz or .png")
    return out


def _write_sequences_csv(run: Run, n: int, path: Path, label: int | None, batch: int, **options: object) -> None:
    """Sequences (N, T, F) as a long-format CSV: header ``sample,t,<feature names>`` and one row per sample
    and time step (``sample`` 0..n-1, ``t`` 0..T-1), feature names from the source's columns if known (a feature
    named ``sample`` or ``t`` keeps its name and the index column becomes ``_sample`` / ``_t``).

    A run trained on a CSV series writes each feature as its column was: whole numbers for integer columns,
    the column's decimals otherwise, within its observed range (the rule tables follow, recorded in
    ``data.json``: :func:`ganforge.data.sequences.column_formats`); other runs write 9 significant digits."""
    from ganforge.data.sequences import column_formats

    steps, features = run.data_info.sample_shape
    names = [str(name) for name in column_names(run, features)]
    formats = column_formats(getattr(run.data_info, "info", None), features, str(run.path / "data.json"))
    feature_fmt = (
        [FLOAT32_DIGITS] * features
        if formats is None
        else ["%d" if f.integer else FLOAT32_DIGITS if f.decimals is None else f"%.{f.decimals}f" for f in formats]
    )
    index = []
    for name in ("sample", "t"):  # a feature already named so keeps its name; the index column gets a "_"
        while name in names or name in index:
            name = "_" + name
        index.append(name)
    with path.open("w", encoding="utf-8") as handle:
        handle.write(",".join([*index, *names]) + "\n")
        first = 0
        for chunk in _batches(run, n, label, batch, **options):
            ids = np.repeat(np.arange(first, first + len(chunk)), steps)[:, None]
            ts = np.tile(np.arange(steps), len(chunk))[:, None]
            values = chunk.reshape(-1, features).astype(np.float64)
            if formats is not None:
                for j, fmt in enumerate(formats):  # + 0.0 turns the -0.0 rounding can give into 0.0 ("-0.00")
                    values[:, j] = fmt.legal(values[:, j]) + 0.0
            rows = np.hstack([ids, ts, values])
            np.savetxt(handle, rows, delimiter=",", fmt=["%d", "%d", *feature_fmt])
            first += len(chunk)


def _write_npz(run: Run, n: int, path: Path, label: int | None, batch: int, **options: object) -> None:
    """An uncompressed .npz: the samples streamed to a .npy (one block in memory), then stored in the zip
    archive as ``images`` or ``samples``; conditional models also get ``labels`` (and ``class_names``, the name of
    each id, for a run trained on class sub-folders), text-to-image models ``captions``, the sentence of each
    sample (``--text`` cycled, or the training captions drawn without it)."""
    labels = balanced_labels(run, n) if label is None else None
    key = "images" if run.data_info.kind == "images" else "samples"
    member = path.with_name(f"{path.name}.{key}.npy")
    chosen = labels if labels is not None else label
    captions = None
    plan = getattr(run.gan, "sampling_captions", None)  # text-to-image: each sample's caption is kept beside it
    if plan is not None and label is None:
        chosen, captions = plan(n, options.pop("text", None))
    try:
        _write_npy(member, (n, *tuple(run.data_info.sample_shape)), _batches(run, n, chosen, batch, **options))
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            archive.write(member, arcname=f"{key}.npy")
            if labels is not None or label is not None:
                y = labels.numpy() if labels is not None else np.full(n, int(label), dtype=np.int64)  # type: ignore[arg-type]
                with archive.open("labels.npy", "w", force_zip64=True) as handle:
                    npy_format.write_array(handle, y.astype(np.int64))
                if run.class_names is not None:  # the name of each id, as augment writes it: fid --per-class reads it
                    with archive.open("class_names.npy", "w", force_zip64=True) as handle:
                        npy_format.write_array(handle, np.array([str(c) for c in run.class_names]))
            if captions is not None:
                with archive.open("captions.npy", "w", force_zip64=True) as handle:
                    npy_format.write_array(handle, np.array(captions, dtype=str))
    finally:
        if member.exists():
            member.unlink()


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
    with replaced_on_success(out) as tmp:
        frame.to_csv(tmp, index=False)
    return out
