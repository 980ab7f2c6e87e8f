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
  samples.

The reference row applies the same measurements to the real held-out digits (the classifier's test split),
resized the way the recipe's data is.

Run::

    python benchmarks/image_quality.py                          # trains digits-cgan and digits-dcgan
    python benchmarks/image_quality.py --recipes digits-mlp --n 2000
    python benchmarks/image_quality.py --run digits-cgan=runs/digits-cgan-2024...   # judge a trained run
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


@torch.no_grad()
def judge(images: torch.Tensor, requested: torch.Tensor | None = None) -> dict[str, Any]:
    """Classifier statistics of ``images`` (N, 1, H, W) in [0, 1]; ``requested``: the asked-for classes."""
    from ganforge.evaluation.features import load_digits_classifier

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
    from ganforge.data.images import resize_images
    from ganforge.evaluation.features import digits_images, digits_split

    images, labels = digits_images()
    _, test = digits_split()
    x = resize_images(images[test], size)
    return judge(x, labels[test])


def generated(run: Any, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``n`` images of ``run`` (seed 0) and, for a conditional model, the requested classes."""
    torch.manual_seed(0)
    labels = torch.arange(n) % run.gan.num_classes if run.gan.num_classes else None
    return run.sample(n, label=labels).clamp(0, 1), labels


def train_recipe(recipe: str, out: Path, sets: list[str]) -> Any:
    import ganforge as gf

    return gf.train(recipe, out=out, show_progress=False, overrides=sets)


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
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import ganforge as gf

    existing = dict(item.split("=", 1) for item in args.run)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for recipe in dict.fromkeys([*args.recipes, *existing]):
            load_start = os.getloadavg()[0]
            t0 = time.perf_counter()
            if recipe in existing:
                run = gf.load(existing[recipe])
            else:
                run = train_recipe(recipe, Path(tmp) / recipe, args.sets)
            wall = time.perf_counter() - t0
            images, labels = generated(run, args.n)
            stats = judge(images, labels)
            summary = run.summary or {}
            rows.append((recipe, run, stats, summary.get("train_seconds"), wall, load_start))
    print(f"judge: shipped digits classifier; {args.n} generated images per model, seed 0\n")
    print(
        "| images | steps | train s | job s (incl. eval) | load | requested-class acc. (worst class) "
        "| mean max-prob | share > 0.9 | class share min / max |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    sizes = set()
    for recipe, run, stats, train_s, wall, load in rows:
        side = run.data.sample_shape[-1]
        sizes.add(side)
        acc = stats.get("requested_accuracy")
        acc_text = (
            f"{fmt(acc, True)} ({fmt(stats['worst_class_accuracy'], True)}, digit {stats['worst_class']})"
            if acc is not None
            else "—"
        )
        print(
            f"| {recipe} ({side}x{side}) | {run.step} | {f'{train_s:.0f}' if train_s else '—'} | {wall:.0f} | "
            f"{load:.1f} | {acc_text} | {fmt(stats['mean_max_prob'])} | {fmt(stats['confident'], True)} | "
            f"{fmt(stats['class_share_min'], True)} / {fmt(stats['class_share_max'], True)} |"
        )
    for side in sorted(sizes):
        ref = real_reference(side)
        print(
            f"| real held-out digits ({side}x{side}) | | | | | {fmt(ref['requested_accuracy'], True)} "
            f"({fmt(ref['worst_class_accuracy'], True)}, digit {ref['worst_class']}) | "
            f"{fmt(ref['mean_max_prob'])} | {fmt(ref['confident'], True)} | "
            f"{fmt(ref['class_share_min'], True)} / {fmt(ref['class_share_max'], True)} |"
        )
    for recipe, _, stats, *_ in rows:
        acc = stats.get("requested_accuracy")
        if acc is not None:
            verdict = "met" if acc >= CONDITIONAL_TARGET else "MISSED"
            print(f"\n{recipe}: requested-class accuracy {acc:.1%} — target >= {CONDITIONAL_TARGET:.0%} {verdict}")


if __name__ == "__main__":
    main()
