"""``ganforge augment DATA -o OUT``: real + class-conditional GAN samples of a small labelled set.

Images: a .npz archive with ``images`` and ``labels`` or a folder with one sub-folder per class -> a .npz
with ``images`` (an archive's dtype and layout, e.g. uint8 (N, H, W); a folder's (N, C, H, W) in [0, 1]),
``labels`` and ``synthetic`` (1 for generated rows). Tables: a CSV with a label column (``--label-column``,
names or numbers) -> the same columns with generated rows appended, integer columns as integers
(``--balance`` fills every class up to the largest one). The input file is never the output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ganforge.cli import SEED_RANGE, SIZE_RANGE, register_command


@register_command()
def augment(
    data: Annotated[Path, typer.Argument(help="labelled data: .npz (images, labels), image folder, or .csv")],
    output: Annotated[Path, typer.Option("-o", "--output", help="output .npz (images) or .csv (tables)")] = Path(
        "augmented.npz"),
    per_class: Annotated[Optional[int], typer.Option(  # noqa: UP045
        "--per-class", help="synthetic samples per class (default: max(2 x real, 50), see --ratio)")] = None,
    ratio: Annotated[Optional[float], typer.Option("--ratio", help="synthetic per real sample of each class")] = None,  # noqa: UP045
    balance: Annotated[bool, typer.Option("--balance", help="fill every class up to the largest one")] = False,
    run: Annotated[Optional[Path], typer.Option("--run", help="sample this trained conditional run instead")] = None,  # noqa: UP045
    label_column: Annotated[Optional[str], typer.Option("--label-column", help="CSV: the class column")] = None,  # noqa: UP045
    steps: Annotated[Optional[int], typer.Option(  # noqa: UP045
        "--steps", help="GAN training steps (default 4000)")] = None,
    filter_confidence: Annotated[Optional[float], typer.Option(  # noqa: UP045
        "--filter-confidence",
        help="keep synthetic samples a classifier assigns to their class with this probability")] = None,
    arch: Annotated[str, typer.Option(
        "--arch", help="GAN networks: auto (conv for square images of side 8, 16, 32, ...), mlp, conv")] = "auto",
    expand: Annotated[str, typer.Option(
        "--expand", help="auto/shifts: the GAN trains on every image and its 4 one-pixel shifts; none")] = "auto",
    size: Annotated[Optional[int], typer.Option(  # noqa: UP045
        "--size", **SIZE_RANGE, help="image folder: resize to size x size")] = None,
    seed: Annotated[int, typer.Option("--seed", **SEED_RANGE)] = 0,
) -> None:
    """Train a class-conditional GAN on a small labelled set (or reuse --run) and write real + synthetic."""
    import numpy as np
    import pandas as pd

    from ganforge.apps.augment import augment as run_augment
    from ganforge.errors import GanforgeError
    from ganforge.fileio import atomic_write_bytes, atomic_write_text
    from ganforge.outputs import never_over, output_file

    if sum(v is not None and v is not False for v in (per_class, ratio, balance or None)) > 1:
        raise GanforgeError("give one of --per-class, --ratio and --balance")
    want = ".csv" if data.suffix.lower() == ".csv" else ".npz"
    never_over(output, data, what="the input file")
    frame = None
    if data.suffix.lower() == ".csv":
        frame, x, y = _read_table(data, label_column)
    elif data.is_dir() or data.suffix.lower() == ".npz":
        x, y = _read_images(data, size)
    else:
        raise GanforgeError(f"{data}: give a .npz of images and labels, an image folder, or a .csv with --label-column")
    output = output_file(output, (want,), "-o")
    result = run_augment(x, y, per_class, ratio=ratio, balance=balance, run=run,
                         filter_confidence=filter_confidence, expand=expand, seed=seed,
                         **({} if run is not None else {"arch": arch}), **({} if steps is None else {"steps": steps}))
    if frame is not None:
        table = pd.DataFrame(result.x, columns=x.columns).astype(x.dtypes.to_dict())
        table.insert(frame.columns.get_loc(label_column), label_column, result.y)
        atomic_write_text(output, table.to_csv(index=False))
    else:
        import io

        buffer = io.BytesIO()
        np.savez_compressed(buffer, images=result.x, labels=result.y, synthetic=result.synthetic.astype(np.uint8))
        atomic_write_bytes(output, buffer.getvalue())
    n_syn = int(result.synthetic.sum())
    print(f"wrote {output}: {len(result.y) - n_syn} real + {n_syn} synthetic samples, "
          f"{len(np.unique(result.y))} classes")


def _read_table(data: Path, label_column: str | None) -> tuple[Any, Any, Any]:
    """(the CSV as read, its numeric feature columns, its label column): labels may be names or numbers,
    features must be numbers (integer columns come back as integers, within their observed range)."""
    from ganforge.data.tables import read_table
    from ganforge.errors import GanforgeError

    frame = read_table(data)
    columns = [str(c) for c in frame.columns]
    if label_column is None:
        raise GanforgeError(f"{data}: name the class column with --label-column (columns: {', '.join(columns)})")
    if label_column not in columns:
        raise GanforgeError(f"{data}: no column named {label_column!r}; columns are {', '.join(columns)}")
    x = frame.drop(columns=[label_column])
    if x.shape[1] == 0:
        raise GanforgeError(f"{data}: no feature columns besides {label_column!r}")
    text = [str(c) for c in x.columns if x[c].dtype.kind not in "iuf"]
    if text:
        raise GanforgeError(
            f"{data}: column {text[0]!r} is not numeric; augment generates numeric feature columns: drop or encode "
            f"{', '.join(text)} (for mixed tables, `ganforge train {data.name}` learns a table GAN)"
        )
    return frame, x, frame[label_column].to_numpy()


def _read_images(data: Path, size: int | None) -> tuple[Any, Any]:
    """(images, labels) of a .npz archive or a folder with one sub-folder per class. An archive's arrays go to
    augment as stored (uint8 or [0, 1] floats, any layout), so the output keeps their dtype and layout;
    a folder, a resize or [0, 255] floats are read as (N, C, H, W) in [0, 1]."""

    from ganforge.data.image_files import image_folder, images_npz
    from ganforge.errors import GanforgeError
    from ganforge.recipes import npz_array_keys

    if data.is_dir():
        source = image_folder(str(data), size=32 if size is None else size)
    else:
        images_key, labels_key = npz_array_keys(data)
        if size is None and images_key is not None and labels_key is not None:
            stored = _stored_arrays(data, images_key, labels_key)
            if stored is not None:
                return stored
        source = images_npz(str(data), images_key=images_key or "images", size=size,
                            **({"labels_key": labels_key} if labels_key else {}))
    if source.y is None:
        raise GanforgeError(
            f"{data}: no labels (a 1-D integer array with one entry per image, or one sub-folder per class); "
            "augment needs classes"
        )
    return source.x.numpy(), source.y.numpy()


def _stored_arrays(data: Path, images_key: str, labels_key: str) -> tuple[Any, Any] | None:
    """An archive's (images, labels) as stored, when augment reads them as they are (uint8, or floats in
    [0, 1]); None otherwise (other value ranges, or a member that cannot be read: images_npz then converts
    the stack or words the error). The archive is read once either way."""
    import numpy as np

    try:
        with np.load(data, allow_pickle=False) as archive:
            images = archive[images_key]
            if not (images.dtype == np.uint8 or (images.dtype.kind == "f" and images.min() >= 0 and images.max() <= 1)):
                return None
            return images, archive[labels_key]
    except Exception:  # noqa: BLE001 - a damaged member: the loader reports it in one line
        return None
