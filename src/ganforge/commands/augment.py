"""``ganforge augment DATA -o OUT``: real + class-conditional GAN samples of a small labelled set.

Images: a .npz archive with ``images`` and ``labels`` (class ids, whole-number floats or class names) or a
folder with one sub-folder per class -> a .npz with ``images`` (an archive's dtype and layout, e.g. uint8
(N, H, W); a folder's (N, C, H, W) in [0, 1], at the pictures' own side when they share one of 8, 16, 32 or 64,
else resized to 32 x 32 or ``--size``), ``labels`` (as given; a folder's class ids 0..K-1), ``class_names``
(a folder's sub-folder names, the name of each id) and ``synthetic`` (1 for generated rows). Tables: a CSV
with a label column (``--label-column``, names or numbers) -> the same columns with generated rows appended,
integer columns as integers and the others with their own number of decimals (``--balance`` fills every
class up to the largest one). The input file is never the output, and a run that would add nothing (balanced
already, ``--per-class 0``) writes no file. Training shows ``ganforge train``'s progress line on stderr
(``--quiet`` hides it).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ganforge.cli import SEED_RANGE, SIZE_RANGE, register_command

KEPT_SIDES = (8, 16, 32, 64)
"""Sides an image folder keeps when all its pictures share one (square, a side the convolutional GAN builds);
anything else is resized to :data:`FOLDER_SIZE` with a line saying so."""
FOLDER_SIZE = 32

_FLAGS = {"filter_confidence": "--filter-confidence", "per_class": "--per-class", "ratio": "--ratio",
          "steps": "--steps", "arch": "--arch", "expand": "--expand"}
_PARAMETER = re.compile(r"(?<![-\w.])(" + "|".join(_FLAGS) + r")(?:='([^']*)'|\b)")


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
        "--size", **SIZE_RANGE,
        help="resize images to size x size (an image folder keeps a shared side of 8-64, else 32)")] = None,
    seed: Annotated[int, typer.Option("--seed", **SEED_RANGE)] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress line")] = False,
) -> None:
    """Train a class-conditional GAN on a small labelled set (or reuse --run) and write real + synthetic."""
    import numpy as np
    import pandas as pd

    from ganforge.apps.augment import DEFAULT_STEPS
    from ganforge.apps.augment import augment as run_augment
    from ganforge.errors import GanforgeError
    from ganforge.fileio import atomic_write_bytes, atomic_write_text
    from ganforge.outputs import never_over, output_file
    from ganforge.training.progress import ProgressDisplay

    if sum(v is not None and v is not False for v in (per_class, ratio, balance or None)) > 1:
        raise GanforgeError("give one of --per-class, --ratio and --balance")
    if run is not None:
        training = [flag for flag, given in (("--steps", steps is not None), ("--arch", arch != "auto")) if given]
        if training:  # they would be dropped without a word: the run is sampled as trained
            raise GanforgeError(
                f"{' and '.join(training)} configure{'s' if len(training) == 1 else ''} the GAN augment trains, "
                f"which --run {run} skips (it samples the trained run); drop {' and '.join(training)} or --run"
            )
    want = ".csv" if data.suffix.lower() == ".csv" else ".npz"
    never_over(output, data, what="the input file")
    frame = None
    class_names = None
    if data.suffix.lower() == ".csv":
        frame, x, y = _read_table(data, label_column)
    elif data.is_dir() or data.suffix.lower() == ".npz":
        x, y, class_names = _read_images(data, size)
    else:
        raise GanforgeError(f"{data}: give a .npz of images and labels, an image folder, or a .csv with --label-column")
    output = output_file(output, (want,), "-o")
    if _asks_for_nothing(y, per_class, ratio, balance):  # before minutes of training that would add nothing
        raise GanforgeError(_nothing_to_add(data, y, per_class, ratio, balance))
    _warn_single_sample_classes(data, y, class_names)
    total = DEFAULT_STEPS if steps is None else steps
    shown: list[ProgressDisplay] = []

    def report(step: int, record: dict[str, float]) -> None:
        """Step 0 (every option checked, training starts): the line saying what runs, and the progress display
        (a redrawn bar on a terminal, ten plain lines in a log); then ``ganforge train``'s progress line."""
        if step == 0:
            if not quiet:
                print(f"augment: training a class-conditional GAN on {len(y)} samples for {total} steps "
                      "(--steps sets them, --quiet hides this)", file=sys.stderr, flush=True)
            shown.append(ProgressDisplay(total, 0, enabled=not quiet, name="augment"))
        elif shown:
            shown[0].update(step, record)

    try:
        result = run_augment(x, y, per_class, ratio=ratio, balance=balance, run=run,
                             filter_confidence=filter_confidence, expand=expand, seed=seed,
                             **({} if run is not None else {"arch": arch, "progress": report}),
                             **({} if steps is None else {"steps": steps}))
    except GanforgeError as exc:
        raise GanforgeError(_in_flag_words(str(exc))) from None
    finally:
        for display in shown:
            display.close()
    n_syn = int(result.synthetic.sum())
    if n_syn == 0:  # the API trained nothing (asked for nothing): no file is better than a copy of the input
        raise GanforgeError(_nothing_to_add(data, y, per_class, ratio, balance))
    if frame is not None:
        table = pd.DataFrame(np.asarray(result.x), columns=x.columns).astype(x.dtypes.to_dict())
        _round_like_the_input(table, x, np.asarray(result.synthetic))
        table.insert(frame.columns.get_loc(label_column), label_column, np.asarray(result.y))
        atomic_write_text(output, table.to_csv(index=False))
    else:
        import io

        arrays = {"images": result.x, "labels": result.y, "synthetic": result.synthetic.astype(np.uint8)}
        if class_names is not None:
            arrays["class_names"] = class_names
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        atomic_write_bytes(output, buffer.getvalue())
    k = len(np.unique(np.asarray(result.y)))
    print(f"wrote {output}: {len(result.y) - n_syn} real + {n_syn} synthetic samples, "
          f"{k} class{'' if k == 1 else 'es'}")


def _in_flag_words(message: str) -> str:
    """An ``augment:`` error of the Python API in the CLI's words: ``filter_confidence 0.9`` ->
    ``--filter-confidence 0.9``, ``arch='mlp'`` -> ``--arch mlp``, so the user sees the option they typed.
    Other messages (they may quote paths) are left as they are."""
    if not message.startswith("augment: "):
        return message
    return _PARAMETER.sub(lambda m: _FLAGS[m[1]] + ("" if m[2] is None else f" {m[2]}"), message)


def _asks_for_nothing(y: Any, per_class: int | None, ratio: float | None, balance: bool) -> bool:
    """Whether the counts asked for are 0 for every class (the rule of ``apps.augment._counts``): balanced
    classes with --balance, --per-class 0, a --ratio that rounds to 0 samples. Labels numpy cannot count are
    left to the API, which words their error."""
    import numpy as np

    try:
        counts = np.unique(np.asarray(y), return_counts=True)[1]
    except TypeError:
        return False
    if balance:
        return bool((counts == counts.max()).all())
    if per_class is not None:
        return per_class == 0
    return ratio is not None and ratio >= 0 and all(round(ratio * int(n)) == 0 for n in counts)


def _nothing_to_add(data: Path, y: Any, per_class: int | None, ratio: float | None, balance: bool) -> str:
    """Why no synthetic sample was asked for, and what asks for some: the one line of that refusal."""
    import numpy as np

    if balance:
        counts = np.unique(np.asarray(y), return_counts=True)[1]
        return (f"{data}: every class already has {int(counts.max())} samples, so --balance has nothing to add "
                "(no file written); use --per-class N or --ratio R to add samples to every class")
    asked = f"--per-class {per_class}" if per_class is not None else f"--ratio {ratio}"
    return f"{asked} asks for no synthetic samples (no file written); give --per-class N >= 1 or a larger --ratio"


def _warn_single_sample_classes(data: Path, y: Any, class_names: Any) -> None:
    """One stderr line naming the classes with a single sample: every synthetic sample of such a class is a
    near-copy of it (the GAN has nothing else to learn from). Not refused: a user may want exactly that."""
    import numpy as np

    y = np.asarray(y)
    if y.dtype.kind == "f":
        if not np.all(y == np.round(y)):
            return  # not classes: augment refuses them in one line, which a warning would only precede
        y = y.astype(np.int64)
    try:
        names, counts = np.unique(y, return_counts=True)
    except TypeError:  # labels that cannot be sorted into classes: augment words that error
        return
    single = [names[i] for i in np.flatnonzero(counts == 1)]
    if not single:
        return
    shown = [str(class_names[int(c)]) if class_names is not None else str(c) for c in single]
    listed = ", ".join(repr(s) for s in shown[:5]) + (", ..." if len(shown) > 5 else "")
    print(f"augment: warning: class{'es' if len(shown) > 1 else ''} {listed} of {data} "
          f"{'have' if len(shown) > 1 else 'has'} 1 sample; its synthetic samples will be near-copies of it "
          "(add samples of the class, or drop it)", file=sys.stderr, flush=True)


def _round_like_the_input(table: Any, x: Any, synthetic: Any) -> None:
    """Round the synthetic rows of each float column to the decimals the input column has (the rule
    ``ganforge sample`` writes a CSV series by, :func:`ganforge.data.tables.number_format`): a column read as
    17.99 gets 17.43, not float32 noise such as 17.432104110717773. Integer columns are integers already."""
    import numpy as np

    from ganforge.data.tables import number_format

    for column in x.columns:
        if x[column].dtype.kind != "f":
            continue
        _, decimals = number_format(x[column].to_numpy(np.float64))
        if decimals is not None:
            table.loc[synthetic, column] = table.loc[synthetic, column].round(decimals)


def _line_numbers(data: Path) -> list[int]:
    """The file line of each data row of a CSV (blank lines, which pandas skips, are not rows)."""
    with data.open(encoding="utf-8", errors="replace") as handle:
        return [i for i, line in enumerate(handle, start=1) if line.strip()][1:]


def _read_table(data: Path, label_column: str | None) -> tuple[Any, Any, Any]:
    """(the CSV as read, its numeric feature columns, its label column): labels may be names or numbers,
    features must be numbers (integer columns come back as integers, within their observed range). An empty
    cell is named by line and column here: deeper down it would only be a NaN nobody can find."""
    import numpy as np

    from ganforge.data.tables import read_table
    from ganforge.errors import GanforgeError

    frame = read_table(data)
    columns = [str(c) for c in frame.columns]
    if label_column is None:
        raise GanforgeError(f"{data}: name the class column with --label-column (columns: {', '.join(columns)})")
    if label_column not in columns:
        raise GanforgeError(f"{data}: no column named {label_column!r}; columns are {', '.join(columns)}")
    if len(frame) == 0:
        raise GanforgeError(f"{data}: a header and no rows; augment needs labelled rows (a few of each class)")
    labels = frame[label_column]
    if labels.isna().any():
        line = _line_numbers(data)[int(np.flatnonzero(labels.isna().to_numpy())[0])]
        raise GanforgeError(f"{data}, line {line}, column {label_column!r}: the label is empty; fill it in or drop "
                            "the row")
    x = frame.drop(columns=[label_column])
    if x.shape[1] == 0:
        raise GanforgeError(f"{data}: no feature columns besides {label_column!r}")
    text = [str(c) for c in x.columns if x[c].dtype.kind not in "iuf"]
    if text:
        raise GanforgeError(
            f"{data}: column {text[0]!r} is not numeric; augment generates numeric feature columns: drop or encode "
            f"{', '.join(text)} (for mixed tables, `ganforge train {data.name}` learns a table GAN)"
        )
    bad = ~np.isfinite(x.to_numpy(np.float64))
    if bad.any():
        row, col = (int(i[0]) for i in np.nonzero(bad))
        value = x.iat[row, col]
        what = "'' is not a number; fill the empty cell" if np.isnan(value) else f"{value} is not finite; fix it"
        raise GanforgeError(f"{data}, line {_line_numbers(data)[row]}, column {str(x.columns[col])!r}: {what} or drop "
                            "the row")
    return frame, x, labels.to_numpy()


def _read_images(data: Path, size: int | None) -> tuple[Any, Any, Any]:
    """(images, labels, class names or None) of a .npz archive or a folder with one sub-folder per class.
    An archive's arrays go to augment as stored (uint8 or [0, 1] floats, any layout; labels as class ids,
    whole-number floats or names), so the output keeps their dtype, layout and label values; a folder, a
    resize or [0, 255] floats are read as (N, C, H, W) in [0, 1]. A folder's class names are its sub-folders'
    (labels are their ids); an archive's are its ``class_names`` array when it has one (a folder's augment
    output read back)."""
    import numpy as np

    from ganforge.data.image_files import image_folder, images_npz
    from ganforge.errors import GanforgeError
    from ganforge.recipes import npz_array_keys

    if data.is_dir():
        if size is None:
            size, note = _folder_size(data)
            if note:
                print(note, file=sys.stderr, flush=True)
        source = image_folder(str(data), size=size)
        classes = source.info.get("classes") or None
        names = None if classes is None else np.array([str(c) for c in classes])
    else:
        images_key, labels_key = npz_array_keys(data)
        names = _stored_class_names(data)
        if images_key is not None and labels_key is None:
            named = _named_labels_key(data, images_key)
            if named is not None:  # images_npz reads integer labels only: these are read here, as given
                return (*_named_archive(data, images_key, named, size), None)
        if size is None and images_key is not None and labels_key is not None:
            stored = _stored_arrays(data, images_key, labels_key)
            if stored is not None:
                return (*stored, names)
        source = images_npz(str(data), images_key=images_key or "images", size=size,
                            **({"labels_key": labels_key} if labels_key else {}))
    if source.y is None:
        raise GanforgeError(
            f"{data}: no labels (a 1-D array with one class id or name per image, or one sub-folder per class); "
            "augment needs classes"
        )
    return source.x.numpy(), source.y.numpy(), names


def _folder_size(data: Path) -> tuple[int, str | None]:
    """(side, note): the pictures' own side when they all share one square side in :data:`KEPT_SIDES` (8 x 8
    digits stay 8 x 8, as the user drew them), else :data:`FOLDER_SIZE` and the one line saying they were
    resized and how to choose the side (--size), so a run's shape mismatch or a blurred digit is explained."""
    from ganforge.data.image_files import _stored_size, scan_folder

    files, _, _ = scan_folder(data)
    try:
        sides = sorted({_stored_size(f) for f in files})
    except Exception:  # noqa: BLE001 - an unreadable picture: image_folder reports it in one line
        return FOLDER_SIZE, None
    if len(sides) == 1 and sides[0][0] == sides[0][1] and sides[0][0] in KEPT_SIDES:
        return sides[0][0], None
    if sides == [(FOLDER_SIZE, FOLDER_SIZE)]:
        return FOLDER_SIZE, None
    shown = ", ".join(f"{w}x{h}" for w, h in sides[:3]) + (", ..." if len(sides) > 3 else "")
    return FOLDER_SIZE, (f"augment: resized the images of {data} ({shown}) to {FOLDER_SIZE}x{FOLDER_SIZE}; choose the "
                         f"side with --size N (pictures sharing a side of {', '.join(map(str, KEPT_SIDES))} keep it)")


def _named_labels_key(data: Path, images_key: str) -> str | None:
    """An archive's labels that are not integers (class names, whole-number floats, booleans), which
    ``npz_array_keys`` leaves out because training reads integer ids only: a 1-D array of one entry per image,
    named like labels (``labels``, ``y``, ...)."""
    from ganforge.recipes import LABEL_NAMES, npz_array_specs

    specs = npz_array_specs(data)
    count = specs[images_key][0][0]
    return next((k for k in LABEL_NAMES if k in specs and specs[k][0] == (count,) and specs[k][1] in "fbUS"), None)


def _stored_class_names(data: Path) -> Any:
    """An archive's ``class_names`` (1-D strings, the name of each class id, as augment writes for a folder),
    or None."""
    import numpy as np

    try:
        with np.load(data, allow_pickle=False) as archive:
            if "class_names" not in getattr(archive, "files", []):
                return None
            names = archive["class_names"]
    except Exception:  # noqa: BLE001 - the loader reports a damaged archive in one line
        return None
    return names if names.ndim == 1 and names.dtype.kind in "US" else None


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


def _named_archive(data: Path, images_key: str, labels_key: str, size: int | None) -> tuple[Any, Any]:
    """(images, labels) of an archive whose labels are names or whole-number floats, which images_npz (integer
    ids only) refuses: the labels as stored (augment writes them back as given), the images as stored when
    augment reads them so (uint8 or [0, 1] floats, no ``size``), else as (N, C, H, W) in [0, 1], resized to
    ``size``, by the converters images_npz uses."""
    import numpy as np
    import torch

    from ganforge.data.image_files import _to_nchw
    from ganforge.data.images import resize_images, to_unit_range
    from ganforge.errors import GanforgeError

    try:
        with np.load(data, allow_pickle=False) as archive:
            images, labels = archive[images_key], archive[labels_key]
    except Exception as exc:  # noqa: BLE001 - numpy's parser of a damaged archive raises many types
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise GanforgeError(f"{data}: not a readable .npz archive ({detail})") from None
    if images.shape[0] == 0:
        raise GanforgeError(f"{data}: '{images_key}' holds 0 images")
    as_stored = images.dtype == np.uint8 or (images.dtype.kind == "f" and images.min() >= 0 and images.max() <= 1)
    if size is None and as_stored:
        return images, labels
    stack = to_unit_range(_to_nchw(images, "auto", data), f"{data}['{images_key}']")
    x = torch.from_numpy(np.ascontiguousarray(stack))
    return (x if size is None else resize_images(x, size)).numpy(), labels
