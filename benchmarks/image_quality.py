"""Quality of the digits image GANs, judged by a classifier trained on real digits.

Protocol. The judge is ganforge's shipped digits classifier (``load_digits_classifier``: a small CNN trained
on a fixed stratified 75 % of scikit-learn's 1,797 digits, 99.8 % accuracy on the other 25 %; it resizes any
input to 16x16). Each recipe is trained as shipped (``--set`` adds overrides) into a temporary folder, or an
existing run is read (``--run RECIPE=PATH``), and ``--n`` images are generated (seed 0; the EMA generator
when the recipe enables it):

* conditional (``digits-cgan``): ``n / 10`` images per requested class; **requested-class accuracy** =
  share of images the classifier assigns to the class that was asked for (target >= 90 %), overall and
  for the worst class;
* unconditional (``digits-dcgan``, ``digits-mlp``): the classifier's **mean max-probability**
  ``mean_i max_k p(k | x_i)`` (how clearly each image is some digit), the share of images with
  ``max_k p > 0.9``, and the spread of predicted classes (least and most frequent class share; 10 % each
  for a generator covering all digits evenly), so a collapsed generator cannot hide behind confident
  samples. Target: mean max-probability >= 0.90 (real held-out digits: about 0.96).

Times: ``train s`` is the run's training wall time; ``train CPU s`` the process CPU time up to the end-of-run
evaluation (with ``--threads 1`` it does not grow with the machine's load the way wall time does).

The reference row applies the same measurements to the real held-out digits (the classifier's test split),
resized the way the recipe's data is.

Run::

    python benchmarks/image_quality.py                          # trains digits-cgan and digits-dcgan
    python benchmarks/image_quality.py --recipes digits-mlp --n 2000
    python benchmarks/image_quality.py --run digits-cgan=runs/digits-cgan-2024...   # judge a trained run
    python benchmarks/image_quality.py --recipes digits-dcgan --keep runs/quality --curve   # + every checkpoint
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

CONDITIONAL_TARGET = 0.90
UNCONDITIONAL_TARGET = 0.90  # mean max-probability; real held-out digits score about 0.96


@torch.no_grad()
def judge(images: torch.Tensor, requested: torch.Tensor | None = None) -> dict[str, Any]:
    """Classifier statistics of ``images`` (N, 1, H, W) in [0, 1]; ``requested``: the asked-for classes."""
    from ganforge.nets.features import load_digits_classifier

    net = load_digits_classifier()
    probs = torch.cat([net.logits(images[i : i + 1000]).softmax(1) for i in range(0, len(images), 1000)])
    top, predicted = probs.max(1)
    shares = torch.bincount(predicted, minlength=10).float() / len(images)
    out: dict[str, Any] = {
        "n": len(images),
        "mean_max_prob": float(top.mean()),
        "confident": float((top > 0.9).float().mean()),
        "class_share_min": float(shares.min()),
        "class_share_max": float(shares.max()),
    }
    if requested is not None:
        hits = (predicted == requested).float()
        per_class = torch.stack([hits[requested == k].mean() for k in requested.unique()])
        out["requested_accuracy"] = float(hits.mean())
        out["worst_class_accuracy"] = float(per_class.min())
        out["worst_class"] = int(requested.unique()[per_class.argmin()])
    return out


def real_reference(size: int) -> dict[str, Any]:
    """The same statistics on the classifier's held-out real digits, resized to ``size``."""
    from ganforge.data.images import digits_images, digits_split, resize_images

    images, labels = digits_images()
    _, test = digits_split()
    x = resize_images(images[test], size)
    return judge(x, labels[test])


def generated(run: Any, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``n`` images of ``run`` (seed 0) and, for a conditional model, the requested classes."""
    torch.manual_seed(0)
    labels = torch.arange(n) % run.gan.num_classes if run.gan.num_classes else None
    return run.sample(n, label=labels).clamp(0, 1), labels


def checkpoint_curve(path: Path, n: int) -> list[tuple[int, dict[str, Any]]]:
    """(step, judged statistics) of every complete checkpoint kept in the run folder ``path``."""
    import ganforge as gf
    from ganforge.training.checkpoint import list_checkpoints

    curve = []
    for info in list_checkpoints(path):
        run = gf.load(path, checkpoint=info.path)
        images, labels = generated(run, n)
        curve.append((info.step, judge(images, labels)))
    return sorted(curve, key=lambda item: item[0])


def train_recipe(recipe: str, out: Path, sets: list[str]) -> tuple[Any, float]:
    """Train ``recipe`` into ``out``; returns the run and the CPU seconds of this process spent before the
    end-of-run evaluation starts (building the data and model, and training)."""
    import ganforge as gf
    import ganforge.report.summary as summary

    original = summary.finish_run
    marks: dict[str, float] = {}

    def finish_run(trainer: Any, path: Path, seconds: float, **options: Any) -> Any:
        marks["train_done"] = time.process_time()
        return original(trainer, path, seconds, **options)

    summary.finish_run = finish_run  # api.train imports it at call time
    start = time.process_time()
    try:
        run = gf.train(recipe, out=out, show_progress=False, overrides=sets)
    finally:
        summary.finish_run = original
    return run, marks["train_done"] - start


def fmt(value: Any, percent: bool = False) -> str:
    if value is None:
        return "—"
    return f"{100 * value:.1f} %" if percent else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipes", nargs="*", default=["digits-cgan", "digits-dcgan"])
    parser.add_argument("--run", action="append", default=[], help="RECIPE=PATH: judge an existing run")
    parser.add_argument("--set", action="append", default=[], dest="sets", help="override for every recipe")
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None, help="train into DIR/RECIPE and keep the runs")
    parser.add_argument("--curve", action="store_true", help="also judge every kept checkpoint of each run")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import ganforge as gf

    existing = dict(item.split("=", 1) for item in args.run)
    rows = []
    curves: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for recipe in dict.fromkeys([*args.recipes, *existing]):
            load_start = os.getloadavg()[0]
            t0 = time.perf_counter()
            train_cpu = None
            if recipe in existing:
                run = gf.load(existing[recipe])
            else:
                run, train_cpu = train_recipe(recipe, Path(args.keep or tmp) / recipe, args.sets)
            wall = time.perf_counter() - t0
            images, labels = generated(run, args.n)
            stats = judge(images, labels)
            summary = run.summary or {}
            load = (load_start + os.getloadavg()[0]) / 2
            rows.append((recipe, run, stats, summary.get("train_seconds"), train_cpu, wall, load))
            if args.curve:
                curves[recipe] = checkpoint_curve(run.path, args.n)
    print(
        f"judge: shipped digits classifier; {args.n} generated images per model, seed 0; "
        f"{args.threads} torch thread(s); load: mean of the 1-minute load average before and after each job\n"
    )
    print(
        "| images | steps | train s | train CPU s | job s (incl. eval) | load | requested-class acc. (worst class) "
        "| mean max-prob | share > 0.9 | class share min / max |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    sizes = set()
    for recipe, run, stats, train_s, train_cpu, wall, load in rows:
        side = run.data_info.sample_shape[-1]
        sizes.add(side)
        acc = stats.get("requested_accuracy")
        acc_text = (
            f"{fmt(acc, True)} ({fmt(stats['worst_class_accuracy'], True)}, digit {stats['worst_class']})"
            if acc is not None
            else "—"
        )
        print(
            f"| {recipe} ({side}x{side}) | {run.step} | {f'{train_s:.0f}' if train_s else '—'} | "
            f"{f'{train_cpu:.0f}' if train_cpu else '—'} | {wall:.0f} | "
            f"{load:.1f} | {acc_text} | {fmt(stats['mean_max_prob'])} | {fmt(stats['confident'], True)} | "
            f"{fmt(stats['class_share_min'], True)} / {fmt(stats['class_share_max'], True)} |"
        )
    for side in sorted(sizes):
        ref = real_reference(side)
        print(
            f"| real held-out digits ({side}x{side}) | | | | | | {fmt(ref['requested_accuracy'], True)} "
            f"({fmt(ref['worst_class_accuracy'], True)}, digit {ref['worst_class']}) | "
            f"{fmt(ref['mean_max_prob'])} | {fmt(ref['confident'], True)} | "
            f"{fmt(ref['class_share_min'], True)} / {fmt(ref['class_share_max'], True)} |"
        )
    for recipe, curve in curves.items():
        print(f"\n{recipe}: checkpoints judged the same way\n")
        print("| step | mean max-prob | share > 0.9 | class share min / max |")
        print("|---:|---:|---:|---:|")
        for step, stats in curve:
            print(
                f"| {step} | {fmt(stats['mean_max_prob'])} | {fmt(stats['confident'], True)} | "
                f"{fmt(stats['class_share_min'], True)} / {fmt(stats['class_share_max'], True)} |"
            )
    for recipe, _, stats, *_ in rows:
        acc = stats.get("requested_accuracy")
        if acc is not None:
            verdict = "met" if acc >= CONDITIONAL_TARGET else "MISSED"
            print(f"\n{recipe}: requested-class accuracy {acc:.1%} — target >= {CONDITIONAL_TARGET:.0%} {verdict}")
        else:
            mmp = stats["mean_max_prob"]
            verdict = "met" if mmp >= UNCONDITIONAL_TARGET else "MISSED"
            print(f"\n{recipe}: mean max-probability {mmp:.3f} — target >= {UNCONDITIONAL_TARGET:.2f} {verdict}")


if __name__ == "__main__":
    main()
