"""Side-by-side validation of variants of ``augment``'s GAN on the digits (round 13; docs/benchmarks/augment.md).

For each seed and size the split and the few real images are those of ``benchmarks/augment.py --validation``
(scored on the training half's undrawn images; the test half is never loaded into a score). Three generators
are trained per (seed, size) and the variants sample them:

* ``2000 steps, EMA 0.99``: the defaults before round 13 (checked equal to ``augment(..., steps=2000,
  ema=0.99)``'s own samples on the first case);
* ``truncation 0.7`` / ``0.5``: z ~ N(0, psi^2 I) at sampling (the truncation trick);
* ``quantized``: every pixel snapped to the nearest of the values real digits take (17 levels);
* ``two generators``: a second generator (seed + 1000) draws half of each class;
* ``two generators, truncation 0.7``;
* ``4000 steps, EMA 0.999``: the round-13 default.

``--study longer`` (sizes 5, 10, 20, 50) compares instead the round-13 default with ``8000 steps, EMA 0.999``
and with ``max(4 x real, 50) per class`` (the round-13 generator drawing 80 / 200 samples per class at 20 / 50
real images).

``--study policy`` (round 14, sizes 5, 10, 20, 50) compares the default DiffAugment policy on D's inputs,
``translation``, with ``translation,cutout`` and ``color,translation,cutout`` (the DiffAugment paper's choice for
100-shot generation), all at 4,000 steps and EMA 0.999.

``--study ensemble`` (round 14, sizes 5, 10, 20, 50) splits the same count max(2 x real, 50) per class over two or
three generators trained independently (seeds s, s + 1000, s + 2000) at the round-13 defaults.

``--study count`` (round 14, sizes 5, 10, 20, 50) draws more samples of the default generator: max(2 x real, 100)
and max(2 x real, 200) per class, beside the default max(2 x real, 50).

``--study lecam`` (round 16, sizes 5, 10, 20, 50) adds the LeCam regularizer to D's loss (weights 0.3 and 0.1)
beside the default generator (weight 0).

    python benchmarks/augment_variants.py --seeds 0 1 --json variants.json
    python benchmarks/augment_variants.py --study longer --seeds 0 1 --json longer.json
    python benchmarks/augment_variants.py --study policy --seeds 0 1 --json policy.json
    python benchmarks/augment_variants.py --study ensemble --seeds 0 1 --json ensemble.json
    python benchmarks/augment_variants.py --study count --seeds 0 1 --json count.json
    python benchmarks/augment_variants.py --study lecam --cnn --seeds 0 1 --json lecam.json

Prints per variant the SVC accuracy % of real + GAN, real + shifts + GAN and GAN only (CAS) at each size.
``--cnn`` (round 15) scores the small CNN of ``benchmarks/augment.py`` on real + GAN and real + shifts + GAN too,
so a study can see what a choice does to a second classifier:

    python benchmarks/augment_variants.py --study count --cnn --seeds 0 1 --json count-cnn.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from augment import cnn_accuracy, few_shot_split, shifts
from sklearn.datasets import load_digits
from sklearn.svm import SVC

from ganforge.apps.augment import augment, one_pixel_shifts, train_conditional_gan

EVERY_SIZE = (5, 10, 20, 50)
ROUND13_MIN_PER_CLASS = 50  # the studies compare against round 13's count (the default again since round 15)


def round13_count(n: int) -> int:
    """Synthetic samples per class for ``n`` real ones under round 13's default, max(2n, 50)."""
    return max(2 * n, ROUND13_MIN_PER_CLASS)

STUDIES = {"sampling": (5, 10), "longer": EVERY_SIZE, "policy": EVERY_SIZE, "ensemble": EVERY_SIZE, "count": EVERY_SIZE,
           "lecam": EVERY_SIZE}


def draw(gens: list[torch.nn.Module], count: int, seed: int, psi: float = 1.0,
         levels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``count`` samples per class, split evenly over ``gens``, with z scaled by ``psi``; pixels in [0, 1]
    snapped to ``levels`` when given. The noise stream is ``augment``'s (seed + 1)."""
    gen = torch.Generator().manual_seed(seed + 1)
    xs, ys = [], []
    for c in range(10):
        per = [count // len(gens) + (i < count % len(gens)) for i in range(len(gens))]
        parts = []
        for g, k in zip(gens, per, strict=True):
            z = torch.randn(k, g.noise_dim, generator=gen) * psi
            with torch.no_grad():
                parts.append(np.clip(g(z, torch.full((k,), c, dtype=torch.long)).numpy() * 0.5 + 0.5, 0, 1))
        s = np.concatenate(parts)
        if levels is not None:
            s = levels[np.abs(s[..., None] - levels).argmin(-1)]
        xs.append(s)
        ys.append(np.full(count, c))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys)


def sampling_variants(x_gan: np.ndarray, y_gan: np.ndarray, n: int, seed: int,
                      levels: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Round 13's first study: the round-12 generator sampled six ways, beside the round-13 default."""
    g0, _ = train_conditional_gan(x_gan, y_gan, 10, steps=2000, ema=0.99, seed=seed)
    g1, _ = train_conditional_gan(x_gan, y_gan, 10, steps=2000, ema=0.99, seed=seed + 1000)
    g4, _ = train_conditional_gan(x_gan, y_gan, 10, steps=4000, ema=0.999, seed=seed)
    count = round13_count(n)
    return {
        "2000 steps, EMA 0.99": draw([g0], count, seed),
        "truncation 0.7": draw([g0], count, seed, 0.7),
        "truncation 0.5": draw([g0], count, seed, 0.5),
        "quantized": draw([g0], count, seed, levels=levels),
        "two generators": draw([g0, g1], count, seed),
        "two generators, truncation 0.7": draw([g0, g1], count, seed, 0.7),
        "4000 steps, EMA 0.999": draw([g4], count, seed),
    }


def longer_variants(x_gan: np.ndarray, y_gan: np.ndarray, n: int, seed: int,
                    levels: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Round 13's second study: twice the steps, or twice the synthetic count at 20 and 50 per class."""
    g4, _ = train_conditional_gan(x_gan, y_gan, 10, steps=4000, ema=0.999, seed=seed)
    g8, _ = train_conditional_gan(x_gan, y_gan, 10, steps=8000, ema=0.999, seed=seed)
    return {
        "4000 steps, EMA 0.999": draw([g4], round13_count(n), seed),
        "8000 steps, EMA 0.999": draw([g8], round13_count(n), seed),
        "max(4 x real, 50) per class": draw([g4], max(4 * n, 50), seed),
    }


def policy_variants(x_gan: np.ndarray, y_gan: np.ndarray, n: int, seed: int,
                    levels: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Round 14's study: what D's inputs go through. Cutout hides half the side of a digit, so D must judge
    a stroke from the rest; colour shifts brightness and contrast (saturation is a no-op on one channel)."""
    count = round13_count(n)
    return {
        f"policy {policy}": draw([train_conditional_gan(x_gan, y_gan, 10, seed=seed, policy=policy)[0]], count, seed)
        for policy in ("translation", "translation,cutout", "color,translation,cutout")
    }


def ensemble_variants(x_gan: np.ndarray, y_gan: np.ndarray, n: int, seed: int,
                      levels: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Round 14's second study: independently trained generators add what one run's samples miss (its
    modes and its seed's quirks); the count stays max(2n, 50) per class, split evenly."""
    gens = [train_conditional_gan(x_gan, y_gan, 10, seed=seed + 1000 * k)[0] for k in range(3)]
    count = round13_count(n)
    return {
        "one generator (default)": draw(gens[:1], count, seed),
        "two generators": draw(gens[:2], count, seed),
        "three generators": draw(gens, count, seed),
    }


def count_variants(x_gan: np.ndarray, y_gan: np.ndarray, n: int, seed: int,
                   levels: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Round 14's third study: the count was chosen at the round-12 generator; its EMA 0.999 successor's
    samples are better (higher CAS), so more of them may pay."""
    g, _ = train_conditional_gan(x_gan, y_gan, 10, seed=seed)
    return {f"max(2 x real, {floor}) per class": draw([g], max(2 * n, floor), seed) for floor in (50, 100, 200)}


def lecam_variants(x_gan: np.ndarray, y_gan: np.ndarray, n: int, seed: int,
                   levels: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Round 16's study: the LeCam regularizer on D (weight 0.3, the authors' limited-data CIFAR value, and
    0.1) beside the default without it; same seed, so the three runs differ only in D's loss."""
    count = round13_count(n)
    return {
        f"LeCam {weight}": draw([train_conditional_gan(x_gan, y_gan, 10, seed=seed, lecam=weight)[0]], count, seed)
        for weight in (0.0, 0.3, 0.1)
    }


VARIANTS = {"sampling": sampling_variants, "longer": longer_variants, "policy": policy_variants,
            "ensemble": ensemble_variants, "count": count_variants, "lecam": lecam_variants}


def run_seed(seed: int, study: str = "sampling", cnn: bool = False) -> dict[int, dict[str, dict[str, float]]]:
    levels = np.unique((load_digits().data / 16.0).astype(np.float32))  # the 17 values a digit's pixel takes
    out: dict[int, dict[str, dict[str, float]]] = {}
    for n in STUDIES[study]:
        xs, ys, xv, yv = few_shot_split(seed, n, validation=True)
        x_gan, y_gan = (one_pixel_shifts(xs.reshape(-1, 1, 8, 8)) - 0.5) / 0.5, np.tile(ys, 5)
        variants = VARIANTS[study](x_gan, y_gan, n, seed, levels)
        if study == "sampling" and n == STUDIES[study][0]:
            ref = augment(xs.reshape(-1, 1, 8, 8), ys, round13_count(n), seed=seed, include_real=False, steps=2000,
                          ema=0.99)
            assert np.allclose(ref.x.reshape(len(ref.x), -1), variants["2000 steps, EMA 0.99"][0], atol=1e-6)
        scores = {}
        for name, (gx, gy) in variants.items():
            scores[name] = {
                "real+GAN": SVC().fit(np.r_[xs, gx], np.r_[ys, gy]).score(xv, yv),
                "real+shifts+GAN": SVC().fit(np.r_[shifts(xs), gx], np.r_[np.tile(ys, 5), gy]).score(xv, yv),
                "CAS": SVC().fit(gx, gy).score(xv, yv),
            }
            if cnn:  # the seed as augment.py gives it, so a variant equal to the default scores as it does there
                scores[name]["CNN real+GAN"] = cnn_accuracy(np.r_[xs, gx], np.r_[ys, gy], xv, yv, seed)
                scores[name]["CNN real+shifts+GAN"] = cnn_accuracy(
                    np.r_[shifts(xs), gx], np.r_[np.tile(ys, 5), gy], xv, yv, seed)
            print(f"seed {seed} n {n} {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in scores[name].items()),
                  flush=True)
        out[n] = scores
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--study", choices=list(STUDIES), default="sampling")
    parser.add_argument("--cnn", action="store_true", help="score the small CNN too (real + GAN, real + shifts + GAN)")
    parser.add_argument("--json", default=None)
    parser.add_argument("--merge", nargs="+", default=None, help="print the table of these --json files; no runs")
    args = parser.parse_args()
    if args.merge:
        results = [r for path in args.merge for r in json.loads(Path(path).read_text())]
    else:
        torch.set_num_threads(1)
        runs = [run_seed(s, args.study, args.cnn) for s in args.seeds]
        results = json.loads(json.dumps(runs))  # keys as the files hold them
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    sizes = [int(n) for n in results[0]]
    first = results[0][str(sizes[0])]
    keys = [k for k in ("real+GAN", "real+shifts+GAN", "CAS", "CNN real+GAN", "CNN real+shifts+GAN")
            if k in next(iter(first.values()))]
    print(f"\nAccuracy % (SVC unless named), {' / '.join(map(str, sizes))} real images per class, "
          f"mean over {len(results)} seeds")
    print("\n| variant | " + " | ".join(k.replace("+", " + ") for k in keys) + " |\n|---|" + "---|" * len(keys))
    for name in first:
        cells = [" / ".join(f"{100 * np.mean([r[str(n)][name][k] for r in results]):.1f}" for n in sizes)
                 for k in keys]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
