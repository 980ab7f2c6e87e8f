"""GAN data augmentation on scikit-learn's digits (8x8) against one-pixel shifts, with an SVC and a small CNN.

Protocol: per seed, digits are split in halves (stratified, ``random_state=seed``); the 899-image test half
is never touched until the final scoring. From the training half, ``n`` images per class (5 / 10 / 20 / 50)
are drawn; the conditional GAN (``ganforge.apps.augment`` with its defaults: convolutional networks, trained
on the images and their one-pixel shifts, max(2 x n, 50) synthetic images per class) is trained on those
images only. Classifiers (SVC with scikit-learn's defaults on pixel / 16; a small CNN, fixed 400 Adam steps)
are trained on:

  real | real + shifts (each image and its 4 one-pixel shifts) | real + GAN | real + shifts + GAN,

and on GAN samples alone (the classification accuracy score, CAS: train on synthetic, test on real).
Nothing is chosen on the test half: augment's defaults were picked with ``--validation`` (scores on the
training half's images not drawn; docs/benchmarks/augment.md), and every setting here is fixed in advance.

    heavy env PYTHONPATH=src python3 benchmarks/augment.py --seeds 10 --json augment.json     # the protocol
    heavy env PYTHONPATH=src python3 benchmarks/augment.py --validation --seeds 2 --sizes 5 10 --no-cnn
    python3 benchmarks/augment.py --merge a.json b.json      # the tables of runs split over seeds
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC
from torch import nn

from ganforge.apps.augment import augment, one_pixel_shifts

SIZES = (5, 10, 20, 50)
CONDITIONS = ("real", "real+shifts", "real+GAN", "real+shifts+GAN", "GAN only (CAS)")


def shifts(x: np.ndarray) -> np.ndarray:
    """Each flattened 8x8 image followed by its shifts by one pixel down, up, right and left (zero filled)."""
    return one_pixel_shifts(x.reshape(-1, 1, 8, 8), fill="zero").reshape(-1, 64)


def cnn_accuracy(x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, seed: int) -> float:
    """A small CNN (conv 16 - conv 32 - pool - fc 64) trained 400 Adam steps (batch 64, lr 1e-3)."""
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 16, 64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, 10),
    )
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    xt = torch.from_numpy(x.reshape(-1, 1, 8, 8)).float()
    yt = torch.from_numpy(y).long()
    gen = torch.Generator().manual_seed(seed)
    for _ in range(400):
        idx = torch.randint(0, len(yt), (min(64, len(yt)),), generator=gen)
        loss = nn.functional.cross_entropy(net(xt[idx]), yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        pred = net(torch.from_numpy(x_test.reshape(-1, 1, 8, 8)).float()).argmax(1).numpy()
    return float((pred == y_test).mean())


def few_shot_split(seed: int, n: int,
                   validation: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(few images, their labels, scoring images, their labels) of one (seed, size): ``n`` images per class
    drawn from the stratified training half (pixel / 16, flattened); scored on the 899-image test half, or with
    ``validation`` on every training-half image not drawn."""
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(X, y, test_size=899, random_state=seed, stratify=y)
    rng = np.random.default_rng(seed)
    idx = np.concatenate([rng.choice(np.flatnonzero(y_train == c), n, replace=False) for c in range(10)])
    if validation:
        rest = np.setdiff1d(np.arange(len(y_train)), idx)
        x_test, y_test = x_train[rest], y_train[rest]
    return x_train[idx], y_train[idx], x_test, y_test


def run_one(seed: int, n: int, ratio: float | None, cnn: bool, expand: str = "auto",
            validation: bool = False, **augment_options: object) -> dict[str, dict[str, float]]:
    """One (seed, size): scored on the 899-image test half, or with ``validation`` on the rest of the
    training half (every training-half image not among the ``n`` per class drawn), never the test half."""
    xs, ys, x_test, y_test = few_shot_split(seed, n, validation)
    t0 = time.process_time()
    aug = augment(xs.reshape(-1, 1, 8, 8), ys, ratio=ratio, seed=seed, include_real=False, expand=expand,
                  **augment_options)
    gan_s = time.process_time() - t0
    gx, gy = aug.x.reshape(len(aug.x), -1), aug.y
    sets = {
        "real": (xs, ys),
        "real+shifts": (shifts(xs), np.tile(ys, 5)),
        "real+GAN": (np.concatenate([xs, gx]), np.concatenate([ys, gy])),
        "real+shifts+GAN": (np.concatenate([shifts(xs), gx]), np.concatenate([np.tile(ys, 5), gy])),
        "GAN only (CAS)": (gx, gy),
    }
    out: dict[str, dict[str, float]] = {"svc": {}, "cnn": {}, "cpu_s": {"gan": gan_s}}
    for name, (a, b) in sets.items():
        out["svc"][name] = float(SVC().fit(a, b).score(x_test, y_test))
        if cnn:
            out["cnn"][name] = cnn_accuracy(a, b, x_test, y_test, seed)
    return out


def print_tables(results: dict[int, list[dict]], label: str, cnn: bool) -> None:
    """Markdown tables (mean +- sd over the runs of each size) of every condition, per classifier."""
    sizes = sorted(results)
    for clf in ("svc", "cnn") if cnn else ("svc",):
        print(f"\n{clf.upper()} accuracy %, mean +- sd over {label}")
        print("| condition | " + " | ".join(f"{n}/class" for n in sizes) + " |")
        print("|---|" + "---|" * len(sizes))
        for cond in CONDITIONS:
            cells = []
            for n in sizes:
                v = 100 * np.array([r[clf][cond] for r in results[n]])
                cells.append(f"{v.mean():.1f} +- {v.std(ddof=1) if len(v) > 1 else 0:.1f}")
            print(f"| {cond} | " + " | ".join(cells) + " |")
    gan = [r["cpu_s"]["gan"] for n in sizes for r in results[n]]
    print(f"\nGAN training + sampling: {np.mean(gan):.1f} CPU-s mean per (seed, size), one thread")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--ratio", type=float, default=None,
                        help="GAN samples per real sample (default: augment's, max(2 x real, 50) per class)")
    parser.add_argument("--expand", choices=["auto", "shifts", "none"], default="auto", help="augment's expand")
    parser.add_argument("--arch", choices=["auto", "mlp", "conv"], default="auto", help="augment's arch")
    parser.add_argument("--steps", type=int, default=None, help="GAN training steps (default: augment's, 4000)")
    parser.add_argument("--filter-confidence", type=float, default=None, help="augment's filter_confidence")
    parser.add_argument("--validation", action="store_true",
                        help="score on the training half's unused images instead of the test half")
    parser.add_argument("--no-cnn", action="store_true")
    parser.add_argument("--json", default=None)
    parser.add_argument("--merge", nargs="+", default=None, help="print the tables of these --json files; no runs")
    args = parser.parse_args()
    if args.merge:
        merged: dict[int, list[dict]] = {}
        for path in args.merge:
            with open(path) as fh:
                for n, runs in json.load(fh).items():
                    merged.setdefault(int(n), []).extend(runs)
        print_tables(merged, f"{len(next(iter(merged.values())))} seeds ({', '.join(args.merge)})",
                     cnn=bool(next(iter(merged.values()))[0]["cnn"]))
        return
    torch.set_num_threads(1)
    results: dict[int, list[dict]] = {n: [] for n in args.sizes}
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for seed in seeds:
        for n in args.sizes:
            r = run_one(seed, n, args.ratio, not args.no_cnn, args.expand, args.validation,
                        filter_confidence=args.filter_confidence, arch=args.arch,
                        **({} if args.steps is None else {"steps": args.steps}))
            results[n].append(r)
            print(f"seed {seed} n {n}: svc: " + ", ".join(f"{k} {v:.3f}" for k, v in r["svc"].items())
                  + " | cnn: " + ", ".join(f"{k} {v:.3f}" for k, v in r["cnn"].items())
                  + f" | GAN {r['cpu_s']['gan']:.1f} CPU-s", flush=True)
        if args.json:  # after every seed, so a run cut short keeps the seeds it finished
            with open(args.json, "w") as fh:
                json.dump({str(n): v for n, v in results.items()}, fh, indent=1)
    scored = "validation images of the training half" if args.validation else "899 test images"
    print_tables(results, f"seeds {list(seeds)} ({scored})", cnn=not args.no_cnn)


if __name__ == "__main__":
    main()
