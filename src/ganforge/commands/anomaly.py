"""``ganforge anomaly fit DATA --out RUN`` and ``ganforge anomaly score RUN DATA -o scores.csv``.

fit learns "normal" from a file of normal samples (CSV rows, a CSV series cut into ``--window`` windows,
.npy/.npz arrays, an image folder) and calibrates a threshold on a held-out split of that same data;
score writes one line per sample: its name, the anomaly score, the threshold and a 0/1 flag, and, with
``--maps``, a residual picture per image (``--residuals`` adds per-feature residual columns for rows).
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
    window: Annotated[Optional[int], typer.Option("--window", help="CSV series: score windows of this length")] = None,  # noqa: UP045
    stride: Annotated[int, typer.Option("--stride", help="step between windows")] = 1,
    size: Annotated[Optional[int], typer.Option("--size", **SIZE_RANGE, help="images: resize to size x size")] = None,  # noqa: UP045
    false_alarm_rate: Annotated[float, typer.Option(
        "--false-alarm-rate", help="fraction of held-out normal data above the threshold")] = 0.05,
    seed: Annotated[int, typer.Option("--seed", **SEED_RANGE)] = 0,
) -> None:
    """Fit a GAN anomaly detector on normal data; the threshold is calibrated on a held-out normal split."""
    from ganforge.apps.anomaly import AnomalyDetector
    from ganforge.apps.anomaly.inputs import read_samples
    from ganforge.errors import GanforgeError

    if score is not None and method != "ganomaly":
        raise GanforgeError(f"--score {score} is a setting of --method ganomaly, not of {method}; drop --score")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):  # never write into a run or a detector
        raise GanforgeError(f"--out {out}: exists and is not an empty folder; give a new folder (nothing written)")
    samples = read_samples(data, window=window, stride=stride, size=size)
    det = AnomalyDetector(method=method, kind=samples.kind, steps=steps, false_alarm_rate=false_alarm_rate, seed=seed,
                          options={"score": score} if score else None)
    det.fit(samples.x)
    det.save(out, extra={"columns": samples.columns, "window": window, "stride": stride, "size": size,
                         "data": str(data)})
    print(f"fitted {method} on {det.n_train_} samples {tuple(det.sample_shape_)} ({samples.kind}); "
          f"threshold {det.threshold_:.5g} (flags {false_alarm_rate:.0%} of held-out normal data); wrote {out}")


@anomaly_app.command("score")
def score(
    run: Annotated[Path, typer.Argument(help="detector folder written by ganforge anomaly fit")],
    data: Annotated[Path, typer.Argument(help="samples to score, same columns / image size as the fit data")],
    output: Annotated[Path, typer.Option("-o", "--output", help="CSV of scores")] = Path("scores.csv"),
    maps: Annotated[Optional[Path], typer.Option("--maps", help="images: write residual maps (PNG) here")] = None,  # noqa: UP045
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
    extra = getattr(det, "extra_", {})
    samples = read_samples(data, window=extra.get("window"), stride=extra.get("stride") or 1, size=extra.get("size"))
    fitted_columns = extra.get("columns") or []
    if samples.kind != det.kind_:
        raise GanforgeError(f"{data}: holds {samples.kind} data but {run} was fitted on {det.kind_} data")
    headerless = [f"x{i}" for i in range(len(samples.columns))]  # the names a CSV without a header row gets
    if fitted_columns and samples.columns and samples.columns != fitted_columns and headerless not in (
        samples.columns, fitted_columns
    ):
        raise GanforgeError(f"{data}: columns {', '.join(samples.columns)} differ from the fitted "
                            f"{', '.join(fitted_columns)}; give the same columns in the same order")
    x = det._check_input(samples.x, str(data))
    scores, resid = det._score(x)
    flags = scores > det.threshold_
    names = fitted_columns or samples.columns
    header = ["sample", "score", "threshold", "anomaly"]
    add_residuals = residuals and det.kind_ == "table"
    if add_residuals:
        header += [f"residual_{c}" for c in (names or [f"x{i}" for i in range(x.shape[1])])]
    lines = [",".join(header)]
    for i, name in enumerate(samples.names):
        row = [name, f"{scores[i]:.6g}", f"{det.threshold_:.6g}", str(int(flags[i]))]
        if add_residuals:
            row += [f"{v:.4g}" for v in resid[i]]
        lines.append(",".join(csv_cell(c) for c in row))
    atomic_write_text(output, "\n".join(lines) + "\n")
    if maps is not None:
        write_maps(maps, samples.names, np.abs(resid))
    print(f"scored {len(scores)} samples: {int(flags.sum())} flagged above threshold {det.threshold_:.5g}; "
          f"wrote {output}" + (f" and maps in {maps}" if maps is not None else ""))


def csv_cell(value: str) -> str:
    """A CSV cell, quoted when it holds a comma or quote (image names may)."""
    if any(ch in value for ch in ',"\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def write_maps(folder: Path, names: list[str], residual: object) -> None:
    """One gray PNG per image: |x - x_hat| averaged over channels, 0 black .. 2 (the [-1, 1] range) white."""
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    arr = np.asarray(residual)
    for name, r in zip(names, arr, strict=True):
        pixels = np.clip(r.mean(axis=0) / 2.0, 0, 1)
        stem = Path(name).with_suffix("").as_posix().replace("/", "_")
        Image.fromarray((pixels * 255).round().astype(np.uint8)).save(folder / f"{stem}.png")

