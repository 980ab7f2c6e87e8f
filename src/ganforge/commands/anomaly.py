"""``ganforge anomaly fit DATA --out RUN`` and ``ganforge anomaly score RUN DATA -o scores.csv``.

fit learns "normal" from a file of normal samples (CSV rows, a CSV series cut into ``--window`` windows,
.npy/.npz arrays, an image folder) and calibrates a threshold on a held-out split of that same data;
``--columns`` picks CSV columns (a date or id column left out), and score reads the same ones.
score writes one line per sample (of a file, a folder of pictures or one picture): its name, the anomaly
score, the threshold and a 0/1 flag, and, with ``--maps``, a residual picture per image in a folder where
no file is replaced (``--residuals`` adds per-feature residual columns for rows). Options the data does not
use are refused, never silently ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ganforge.cli import COMMANDS, SEED_RANGE, SIZE_RANGE, app

anomaly_app = typer.Typer(no_args_is_help=True, help="Anomaly detection with a GAN trained on normal data.")
app.add_typer(anomaly_app, name="anomaly")
COMMANDS.add("anomaly", anomaly_app)


@anomaly_app.command("fit")
def fit(
    data: Annotated[Path, typer.Argument(
        help="normal samples: .csv rows, a folder of images, or .npy/.npz of (N, D) rows, (N, T, F) windows or "
        "(N, C, H, W) images ('images' in an .npz: (N, H, W) too)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="folder to write the detector to")] = Path("runs/ad"),
    method: Annotated[str, typer.Option("--method", help="ganomaly, egbad, alad or anogan")] = "ganomaly",
    score: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--score", help="ganomaly's score: residual (default), latent (the paper's) or knn")] = None,
    steps: Annotated[int, typer.Option("--steps", help="training steps")] = 2000,
    columns: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--columns", help="CSV: the columns to use, names or 0-based indices (a,b or 1,2 or 1-30); "
        "anomaly score applies the same selection")] = None,
    window: Annotated[Optional[int], typer.Option("--window", help="CSV series: score windows of this length")] = None,  # noqa: UP045
    stride: Annotated[Optional[int], typer.Option("--stride", help="with --window: step between windows (1)")] = None,  # noqa: UP045
    size: Annotated[Optional[int], typer.Option("--size", **SIZE_RANGE, help="images: resize to size x size")] = None,  # noqa: UP045
    false_alarm_rate: Annotated[float, typer.Option(
        "--false-alarm-rate", help="fraction of held-out normal data above the threshold")] = 0.05,
    seed: Annotated[int, typer.Option("--seed", **SEED_RANGE)] = 0,
) -> None:
    """Fit a GAN anomaly detector on normal data; the threshold is calibrated on a held-out normal split."""
    from ganforge.apps.anomaly import METHODS, AnomalyDetector
    from ganforge.apps.anomaly.inputs import csv_names, read_samples
    from ganforge.errors import GanforgeError, did_you_mean

    # the detector checks these too, under its Python names; here the user sees the flag they typed
    if method not in METHODS:
        raise GanforgeError(f"--method {method}: unknown anomaly method{did_you_mean(method, METHODS)}; choose one "
                            f"of {', '.join(METHODS)}")
    if score is not None and method != "ganomaly":
        raise GanforgeError(f"--score {score} is a setting of --method ganomaly, not of {method}; drop --score")
    if not 0.0 < false_alarm_rate < 1.0:
        raise GanforgeError(f"--false-alarm-rate {false_alarm_rate}: give a fraction in (0, 1), e.g. 0.05")
    if steps < 1:
        raise GanforgeError(f"--steps {steps}: train at least one step")
    if out.exists() and not out.is_dir():
        raise GanforgeError(f"--out {out}: is a file; give a new folder for the detector (nothing written)")
    if out.exists() and any(out.iterdir()):  # never write into a run or a detector
        raise GanforgeError(f"--out {out}: exists and is not an empty folder; give a new folder (nothing written)")
    samples = read_samples(data, window=window, stride=stride, size=size, columns=columns)
    det = AnomalyDetector(method=method, kind=samples.kind, steps=steps, false_alarm_rate=false_alarm_rate, seed=seed,
                          options={"score": score} if score else None)
    det._fit(samples.x, str(data))
    extra: dict[str, object] = {"columns": samples.columns, "window": window, "stride": stride or 1, "size": size,
                                "data": str(data)}
    if columns is not None:  # anomaly score reads the same columns: by name, or by place from a file without header
        all_names = csv_names(Path(data).expanduser())
        extra["select"] = samples.columns
        extra["select_index"] = [all_names.index(c) for c in samples.columns]
    det.save(out, extra=extra)
    print(f"fitted {method} on {det.n_train_} {sample_words(samples.kind, tuple(det.sample_shape_))}"
          f"{columns_note(samples.columns, samples.index_column)}; threshold {det.threshold_:.5g} "
          f"(flags {false_alarm_rate:.0%} of held-out normal data); wrote {out}")


def sample_words(kind: str, shape: tuple[int, ...]) -> str:
    """What one fitted sample is, in words: ``rows of 4 columns (table)``, ``windows of 24 steps x 5 features
    (sequence)``, ``pictures of 1x16x16 (image)``; a shape a user does not read as a tuple."""
    if len(shape) == 1:
        return f"rows of {shape[0]} column{'s' * (shape[0] != 1)} ({kind})"
    if len(shape) == 2:
        return f"windows of {shape[0]} steps x {shape[1]} feature{'s' * (shape[1] != 1)} ({kind})"
    return f"pictures of {'x'.join(str(d) for d in shape)} ({kind})"


def columns_note(columns: list[str], index_column: str | None) -> str:
    """The fit summary's part on CSV columns: which were used (a user sees an id or date column that slipped
    in) and a word on a first column that looks like a saved pandas index, fitted as a feature."""
    if not columns:
        return ""
    shown = [c or "(unnamed)" for c in columns]
    listed = ", ".join(shown) if len(shown) <= 8 else ", ".join(shown[:6]) + f", ... ({len(shown)} in all)"
    note = f"; columns {listed}"
    if index_column is not None:
        rest = f"1-{len(columns) - 1}" if len(columns) > 2 else "1"
        note += (f"; note: column 0 {repr(index_column) if index_column else '(no header)'} counts 0, 1, 2, ... "
                 f"like a saved pandas index and was fitted as a feature: leave it out with --columns {rest} "
                 "(or save the CSV with index=False)")
    return note


@anomaly_app.command("score")
def score(
    run: Annotated[Path, typer.Argument(help="detector folder written by ganforge anomaly fit")],
    data: Annotated[Path, typer.Argument(
        help="samples to score, same columns / image size as the fit data (a picture for an image detector)")],
    output: Annotated[Path, typer.Option("-o", "--output", help="CSV of scores")] = Path("scores.csv"),
    maps: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        "--maps", help="images: write residual maps (PNG) here; existing files are never replaced")] = None,
    residuals: Annotated[bool, typer.Option("--residuals", help="rows: add one residual column per feature")] = False,
) -> None:
    """Score samples: one line per sample with its anomaly score, the calibrated threshold and a 0/1 flag."""
    import numpy as np

    from ganforge.apps.anomaly import AnomalyDetector
    from ganforge.apps.anomaly.inputs import read_samples
    from ganforge.errors import GanforgeError
    from ganforge.fileio import atomic_write_text
    from ganforge.outputs import never_over, output_file, output_folder

    output = output_file(output, (".csv",), "-o")
    never_over(output, data)
    det = AnomalyDetector.load(run)
    if maps is not None:
        if det.kind_ != "image":
            raise GanforgeError(f"--maps needs image data; {run} was fitted on {det.kind_} data (use --residuals)")
        maps = output_folder(maps, "--maps")
        never_over(maps, data, option="--maps")  # the pictures being scored would be replaced by their maps
    if residuals and det.kind_ != "table":
        fix = ("for images write residual maps with --maps FOLDER" if det.kind_ == "image" else
               "per time step residuals: gf.AnomalyDetector.load(RUN).residuals(windows)")
        raise GanforgeError(f"--residuals adds one column per feature of rows; {run} was fitted on {det.kind_} "
                            f"data: drop --residuals ({fix})")
    extra = getattr(det, "extra_", {})
    selection = fitted_selection(extra, Path(data).expanduser(), run)
    samples = read_samples(data, window=extra.get("window"), stride=extra.get("stride") or 1, size=extra.get("size"),
                           columns=selection, scoring=True)
    fitted_columns = extra.get("columns") or []
    if samples.kind != det.kind_:
        raise GanforgeError(f"{data}: holds {samples.kind} data but {run} was fitted on {det.kind_} data")
    headerless = [f"x{i}" for i in range(len(samples.columns))]  # the names a CSV without a header row gets
    by_place = bool(selection) and all(c.isdigit() for c in selection)  # fitted columns picked from a bare CSV
    if fitted_columns and samples.columns and samples.columns != fitted_columns and not by_place and headerless not in (
        samples.columns, fitted_columns
    ):
        raise GanforgeError(f"{data}: columns {', '.join(samples.columns)} differ from the fitted "
                            f"{', '.join(fitted_columns)}; give the same columns in the same order")
    files = map_files(maps, samples.names) if maps is not None else []
    x = det._check_input(samples.x, str(data))
    scores, resid = det._score(x)
    flags = scores > det.threshold_
    names = fitted_columns or samples.columns
    header = ["sample", "score", "threshold", "anomaly"]
    if residuals:
        header += [f"residual_{c}" for c in (names or [f"x{i}" for i in range(x.shape[1])])]
    lines = [",".join(header)]
    for i, name in enumerate(samples.names):
        row = [name, f"{scores[i]:.6g}", f"{det.threshold_:.6g}", str(int(flags[i]))]
        if residuals:
            row += [f"{v:.4g}" for v in resid[i]]
        lines.append(",".join(csv_cell(c) for c in row))
    atomic_write_text(output, "\n".join(lines) + "\n")
    if maps is not None:
        write_maps(files, np.abs(resid))
    print(f"scored {len(scores)} samples: {int(flags.sum())} flagged above threshold {det.threshold_:.5g}; "
          f"wrote {output}" + (f" and maps in {maps}" if maps is not None else ""))


def fitted_selection(extra: dict, data: Path, run: Path) -> list[str] | None:
    """The CSV columns ``anomaly fit --columns`` chose, for the file being scored: by name, or by place when
    the file has no header row (its columns are x0, x1, ...). None when fit used every column or the data
    is not a CSV (its shape is checked against the detector's as usual). By place, the columns are given as
    their indices ("1", "2"), which a file without header has no names for."""
    from ganforge.apps.anomaly.inputs import csv_names
    from ganforge.errors import GanforgeError

    chosen = extra.get("select")
    if not chosen or data.suffix.lower() != ".csv" or not data.is_file() or data.stat().st_size == 0:
        return None
    names = csv_names(data)
    if all(c in names for c in chosen):
        return list(chosen)
    if names == [f"x{i}" for i in range(len(names))]:
        return [str(i) for i in extra.get("select_index") or []] or None
    missing = next(c for c in chosen if c not in names)
    raise GanforgeError(f"{data}: no column named {missing!r}; {run} was fitted on columns {', '.join(chosen)} "
                        "(anomaly fit --columns); give a file that has them")


def csv_cell(value: str) -> str:
    """A CSV cell, quoted when it holds a comma or quote (image names may)."""
    if any(ch in value for ch in ',"\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def map_files(folder: Path, names: list[str]) -> list[Path]:
    """The residual map file of each image (``sub/a.png`` -> ``sub_a.png``), checked before anything is written:
    two images that would share a map file, or a map file that already exists (an earlier run's maps, or the
    user's own pictures), are refused: a user's file is never replaced."""
    from ganforge.errors import GanforgeError

    files: list[Path] = []
    seen: dict[Path, str] = {}
    for name in names:
        file = folder / (Path(name).with_suffix("").as_posix().replace("/", "_") + ".png")
        if file in seen:
            raise GanforgeError(f"--maps: '{seen[file]}' and '{name}' would both be written as {file}; rename one "
                                "of them (nothing written)")
        seen[file] = name
        files.append(file)
    taken = [f for f in files if f.exists() or f.is_symlink()]
    if taken:
        which = f"{taken[0]} already exists"
        if len(taken) > 1:
            which = f"{taken[0]} and {len(taken) - 1} more already exist"
        raise GanforgeError(f"--maps {folder}: {which} and would be overwritten; give a new or empty folder (nothing "
                            "written)")
    return files


def write_maps(files: list[Path], residual: object) -> None:
    """One gray PNG per image: |x - x_hat| averaged over channels, 0 black .. 2 (the [-1, 1] range) white."""
    import numpy as np
    from PIL import Image

    arr = np.asarray(residual)
    for folder in {file.parent for file in files}:  # made once, not once per picture
        folder.mkdir(parents=True, exist_ok=True)
    for file, r in zip(files, arr, strict=True):
        pixels = np.clip(r.mean(axis=0) / 2.0, 0, 1)
        with file.open("xb") as handle:  # "x": fails rather than replace a file that appeared since map_files
            Image.fromarray((pixels * 255).round().astype(np.uint8)).save(handle, format="PNG")
