"""GAN anomaly detectors (ganforge.apps.anomaly) beside scikit-learn's classical detectors, AUROC over seeds.

Tasks (each seed draws its own split; detectors see normal training data only; AUROC needs no threshold;
settings are chosen on the validation tasks, but ``digits-holdout-validation``'s pseudo-anomalies are test
anomalies of other cases: the ``-clean`` pair is the leak-free one):

* ``digits-holdout``: scikit-learn digits (pixel / 16); one digit is the anomaly; the other nine are
  normal: 80 % of them train, 20 % plus every image of the held-out digit test (GANomaly/EGBAD protocol).
* ``digits-oneclass``: one digit is the only normal class: 80 % of it trains; its other 20 % plus every
  other digit test (Deep SVDD / OCGAN protocol).
* ``digits-holdout-validation``: for choosing settings without the test split: inside each case's training
  normals, digit (d + 1) % 10 plays the anomaly (see ``validation_cases``).
* ``digits-holdout-clean-validation`` / ``digits-holdout-clean``: digits-holdout with every digit's images
  split in seeded halves, one for choosing settings, one for the test (``clean_holdout_cases``): the plain
  validation task above lets test anomalies of other cases play its pseudo-anomalies.
* ``digits-oneclass-validation`` / ``digits-oneclass-test``: digits-oneclass with the other digits split in
  seeded halves, one for validation, one for the test (see ``oneclass_halves``).
* ``wine-validation``: scikit-learn's wine, each class in turn the anomaly and the other two normal (80 % train,
  standardized on it); a table set no test task uses, for choosing table settings.
* ``breast_cancer``: benign = normal; 80 % of benign rows train; 20 % of benign plus all malignant test.
* ``sines``: a noisy sine series (period 25 +- 5 steps, noise sd 0.05) trains on windows of 32 steps;
  held-out series get one anomaly type each, injected 8 times (spike: one point +-3; level shift: +1 for
  24 steps; frozen: value held for 24 steps; frequency: period halved for 24 steps); a window is anomalous
  when it overlaps an injected segment; AUROC per type. GANomaly runs on windows with GRU networks.

Baselines (scikit-learn defaults unless said): IsolationForest (random_state=seed), OneClassSVM
(gamma="scale", nu=0.5), PCA reconstruction error (components for 90 % of the variance), kNN distance
(mean distance to the 5 nearest training samples). Rows are standardized for breast_cancer (all
detectors); digits use pixel / 16, and the GAN detectors get them as (N, 1, 8, 8) images (since round 12).

    heavy env PYTHONPATH=src python3 benchmarks/anomaly.py --task digits-holdout --seeds 5
    heavy env PYTHONPATH=src python3 benchmarks/anomaly.py --task breast_cancer --seeds 5
    heavy env PYTHONPATH=src python3 benchmarks/anomaly.py --task digits-oneclass --seeds 5 --methods ganomaly
    heavy env PYTHONPATH=src python3 benchmarks/anomaly.py --task sines --seeds 5
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from collections.abc import Callable

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

from ganforge.apps.anomaly import METHODS, AnomalyDetector
from ganforge.apps.anomaly.models import GANOMALY_SCORES

Scorer = Callable[[np.ndarray, np.ndarray, int], np.ndarray]


def pca_score(train: np.ndarray, test: np.ndarray, seed: int) -> np.ndarray:
    pca = PCA(n_components=0.9, random_state=seed).fit(train)
    return ((test - pca.inverse_transform(pca.transform(test))) ** 2).sum(axis=1)


def knn_score(train: np.ndarray, test: np.ndarray, seed: int) -> np.ndarray:
    return NearestNeighbors(n_neighbors=5).fit(train).kneighbors(test)[0].mean(axis=1)


BASELINES: dict[str, Scorer] = {
    "IsolationForest": lambda a, b, s: -IsolationForest(random_state=s).fit(a).score_samples(b),
    "OneClassSVM": lambda a, b, s: -OneClassSVM(gamma="scale").fit(a).score_samples(b),
    "PCA": pca_score,
    "kNN": knn_score,
}


def flat(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), -1)


def detectors(methods: list[str], steps: int, images: bool = False, score: str | None = None,
              latent: int | None = None) -> dict[str, Scorer]:
    """The GAN detectors as scorers; ``images``: 64-pixel rows go in as (N, 1, 8, 8) digit images (the
    detector's image units, [-1, 1], instead of per-column standardization, which blows up nearly constant
    border pixels); ``score`` / ``latent``: GANomaly's score and the latent size (None: the defaults)."""
    out: dict[str, Scorer] = {}
    options = {"score": score} if score else None
    for m in methods:
        def scorer(a: np.ndarray, b: np.ndarray, s: int, m: str = m) -> np.ndarray:
            if images:
                a, b = a.reshape(-1, 1, 8, 8), b.reshape(-1, 1, 8, 8)
            det = AnomalyDetector(method=m, steps=steps, seed=s, latent=latent,
                                  options=options if m == "ganomaly" else None)
            return det.fit(a).anomaly_score(b)

        label = ", ".join(x for x in ((score if m == "ganomaly" else None),
                                      f"latent {latent}" if latent else None) if x)
        out[f"ganforge {m}" + (f" ({label})" if label else "")] = scorer
    return out


def pyod_detectors(names: list[str]) -> dict[str, Scorer]:
    """pyod's AnoGAN / ALAD with pyod's own defaults (the tool a user would otherwise reach for; optional
    extra, BSD-2: ``pip install pyod``); a one-line error when pyod is not installed."""
    try:
        from pyod.models.alad import ALAD
        from pyod.models.anogan import AnoGAN
    except ImportError:
        raise SystemExit("error: --pyod needs pyod (pip install pyod); run without --pyod to skip it") from None
    classes = {"anogan": AnoGAN, "alad": ALAD}
    out: dict[str, Scorer] = {}
    for name in names:
        def scorer(a: np.ndarray, b: np.ndarray, s: int, cls: type = classes[name]) -> np.ndarray:
            torch.manual_seed(s)
            np.random.seed(s)  # pyod draws batches and latent codes from torch's and numpy's global generators
            return cls(device="cpu").fit(a).decision_function(b)  # pyod: larger = more anomalous

        out[f"pyod {classes[name].__name__}"] = scorer
    return out


def split(normal: np.ndarray, seed: int, fraction: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(normal)
    k = int(round(fraction * len(order)))
    return order[:k], order[k:]


Case = tuple[str, np.ndarray, np.ndarray, np.ndarray]


def case(name: str, X: np.ndarray, train: np.ndarray, normal_test: np.ndarray, anomalies: np.ndarray) -> Case:
    """(name, training rows, test rows, test labels 1 = anomaly) from index arrays into ``X``."""
    test = np.concatenate([normal_test, anomalies])
    return name, X[train], X[test], np.r_[np.zeros(len(normal_test)), np.ones(len(anomalies))]


def standardized_case(name: str, X: np.ndarray, normal: np.ndarray, anomalies: np.ndarray, seed: int) -> Case:
    """A table case: 80 % of ``normal`` train; every column standardized with the training rows' mean and sd."""
    tr, te_n = split(normal, seed)
    name, train, test, labels = case(name, X, tr, te_n, anomalies)
    scaler = StandardScaler().fit(train)
    return name, scaler.transform(train).astype(np.float32), scaler.transform(test).astype(np.float32), labels


def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as pixel / 16 (float32) and their labels."""
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y


def tabular_cases(task: str, seed: int) -> list[Case]:
    """(case name, train, test, test labels 1 = anomaly)."""
    if task == "digits-holdout-validation":
        return validation_cases(seed)
    if task in ("digits-holdout-clean", "digits-holdout-clean-validation"):
        return clean_holdout_cases(task, seed)
    if task in ("digits-oneclass-validation", "digits-oneclass-test"):
        return oneclass_halves(task, seed)
    if task.startswith("digits"):
        X, y = digits()
        cases = []
        for d in range(10):
            normal, anomalies = (y != d, y == d) if task == "digits-holdout" else (y == d, y != d)
            tr, te_n = split(np.flatnonzero(normal), seed)
            cases.append(case(f"digit {d}", X, tr, te_n, np.flatnonzero(anomalies)))
        return cases
    if task == "wine-validation":  # a table set no test task uses: for choosing table settings
        X, y = load_wine(return_X_y=True)
        return [standardized_case(f"class {k} anomalous", X, np.flatnonzero(y != k), np.flatnonzero(y == k), seed)
                for k in range(3)]
    if task == "breast_cancer":
        X, y = load_breast_cancer(return_X_y=True)  # target 1 = benign
        return [standardized_case("benign normal", X, np.flatnonzero(y == 1), np.flatnonzero(y == 0), seed)]
    return []


def validation_cases(seed: int) -> list[Case]:
    """digits-holdout's validation: inside each case's *training* normals (the same seed's split), digit
    p = (d + 1) % 10 plays the anomaly; 80 % of the other eight digits' training images fit, their other 20 %
    plus the training images of p are scored. Held-out digit d and every test image stay unseen."""
    X, y = digits()
    cases = []
    for d in range(10):
        tr, _ = split(np.flatnonzero(y != d), seed)
        p = (d + 1) % 10
        fit, val_n = split(tr[y[tr] != p], seed + 100)
        cases.append(case(f"digit {d} (anomaly {p})", X, fit, val_n, tr[y[tr] == p]))
    return cases


def clean_holdout_cases(task: str, seed: int) -> list[Case]:
    """digits-holdout with a selection half and a test half (rule 23, 2026-12-07). ``validation_cases`` let
    digit (d + 1) % 10 play the anomaly, but every image of that digit is a test anomaly of case (d + 1) % 10,
    so settings chosen on it saw labelled test anomalies. Here each digit's images are split in seeded halves
    S and T (seed + 300): ``-clean-validation`` case d fits on 80 % of S-images of the other digits and scores
    their other 20 % plus the S-images of d; ``-clean`` case d trains on the S-images of the other digits and
    80 % of their T-images, and scores the other 20 % plus the T-images of d. No T image is seen by a choice."""
    X, y = digits()
    halves = [split(np.flatnonzero(y == k), seed + 300, 0.5) for k in range(10)]
    select, test = ({k: halves[k][i] for k in range(10)} for i in (0, 1))
    cases = []
    for d in range(10):
        others = [k for k in range(10) if k != d]
        if task == "digits-holdout-clean-validation":
            fit, scored = split(np.concatenate([select[k] for k in others]), seed)
            cases.append(case(f"digit {d}", X, fit, scored, select[d]))
        else:
            fit, scored = split(np.concatenate([test[k] for k in others]), seed)
            cases.append(case(f"digit {d}", X, np.concatenate([*(select[k] for k in others), fit]), scored, test[d]))
    return cases


def oneclass_halves(task: str, seed: int) -> list[Case]:
    """digits-oneclass with the other digits' images split in seeded halves, so settings can be chosen
    without the test: ``-validation`` fits on 80 % of digit d's training images and scores their other 20 %
    plus the first half of the other digits; ``-test`` trains on all of d's training images (as
    digits-oneclass does) and scores d's test images plus the second half."""
    X, y = digits()
    cases = []
    for d in range(10):
        tr, te_n = split(np.flatnonzero(y == d), seed)
        val_pool, test_pool = split(np.flatnonzero(y != d), seed + 200, 0.5)
        if task == "digits-oneclass-validation":
            tr, te_n = split(tr, seed + 100)
        cases.append(case(f"digit {d}", X, tr, te_n, val_pool if task == "digits-oneclass-validation" else test_pool))
    return cases


WINDOW = 32
SEGMENT = 24


def sine_series(rng: np.random.Generator, length: int) -> np.ndarray:
    period = rng.uniform(20, 30)
    t = np.arange(length)
    return np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi)) + rng.normal(0, 0.05, length)


def inject(series: np.ndarray, kind: str, rng: np.random.Generator, count: int = 8) -> np.ndarray:
    """The series with ``count`` anomalies of ``kind``; returns (series, per-step 0/1 labels)."""
    x = series.copy()
    labels = np.zeros(len(x))
    starts = np.linspace(100, len(x) - 100, count).astype(int) + rng.integers(-20, 20, count)
    for s in starts:
        if kind == "spike":
            x[s] += rng.choice([-3.0, 3.0])
            labels[s] = 1
            continue
        seg = slice(s, s + SEGMENT)
        if kind == "level shift":
            x[seg] += 1.0
        elif kind == "frozen":
            x[seg] = x[s]
        elif kind == "frequency":
            # period halved over the segment, continuous at its start: sin at twice the phase speed
            phase = np.arcsin(np.clip(series[s], -1, 1))
            x[seg] = np.sin(phase + 2 * np.pi * np.arange(SEGMENT) / 12.5) + rng.normal(0, 0.05, SEGMENT)
        labels[seg] = 1
    return x, labels


def windows(x: np.ndarray, stride: int) -> np.ndarray:
    return np.stack([x[i:i + WINDOW] for i in range(0, len(x) - WINDOW + 1, stride)])[..., None].astype(np.float32)


def sine_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    base_rng = np.random.default_rng(seed + 1000)
    series = sine_series(base_rng, 6000)  # one process: train on its first 4000 steps, test on the rest
    train = windows(series[:4000], 2)
    cases = []
    for kind in ("spike", "level shift", "frozen", "frequency"):
        test_series, labels = inject(series[4000:], kind, rng)
        w = windows(test_series, 4)
        lab = windows(labels, 4)[..., 0].max(axis=1)
        cases.append((kind, train, w, lab))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", choices=["digits-holdout", "digits-oneclass", "breast_cancer", "sines",
                                           "digits-holdout-validation", "digits-oneclass-validation",
                                           "digits-oneclass-test", "wine-validation", "digits-holdout-clean",
                                           "digits-holdout-clean-validation"], default="digits-holdout")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--score", choices=list(GANOMALY_SCORES), default=None,
                        help="GANomaly's score (default: the detector's, the residual since round 12)")
    parser.add_argument("--latent", type=int, default=None, help="latent size (default: from the input size)")
    parser.add_argument("--pyod", nargs="+", default=[], choices=["anogan", "alad"],
                        help="also run pyod's AnoGAN / ALAD (optional extra: pip install pyod)")
    parser.add_argument("--rows", action="store_true",
                        help="digits: give the GAN detectors 64-column rows (as before round 12), not images")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    images = args.task.startswith("digits") and not args.rows
    scorers = {**BASELINES, **detectors(args.methods, args.steps, images, args.score, args.latent),
               **pyod_detectors(args.pyod)}
    auc: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    cpu: dict[str, float] = defaultdict(float)
    for seed in range(args.seeds):
        cases = sine_cases(seed) if args.task == "sines" else tabular_cases(args.task, seed)
        for case, train, test, labels in cases:
            line = []
            for name, scorer in scorers.items():
                seq = train.ndim == 3
                a, b = (flat(train), flat(test)) if (seq and not name.startswith("ganforge")) else (train, test)
                if seq and name not in ("kNN",) and not name.startswith(("ganforge", "pyod")):
                    continue  # sines: kNN-on-windows is the baseline
                t0 = time.process_time()
                value = roc_auc_score(labels, scorer(a, b, seed))
                cpu[name] += time.process_time() - t0
                auc[name][case].append(value)
                line.append(f"{name} {value:.3f}")
            print(f"seed {seed} {case}: " + ", ".join(line), flush=True)
    names = list(auc)
    cases_all = list(auc[names[0]])
    print(f"\n{args.task}: AUROC mean +- sd over {args.seeds} seeds")
    print("| case | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for case in cases_all:
        cells = [f"{np.mean(auc[n][case]):.3f} +- {np.std(auc[n][case], ddof=1) if args.seeds > 1 else 0:.3f}"
                 for n in names]
        print(f"| {case} | " + " | ".join(cells) + " |")
    if len(cases_all) > 1:
        means = [np.mean([np.mean(auc[n][c]) for c in cases_all]) for n in names]
        print("| **mean** | " + " | ".join(f"**{m:.3f}**" for m in means) + " |")
    print("| CPU-s per fit+score | " + " | ".join(
        f"{cpu[n] / (args.seeds * len(cases_all)):.2f}" for n in names) + " |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({n: dict(v) for n, v in auc.items()}, fh, indent=1)


if __name__ == "__main__":
    main()
