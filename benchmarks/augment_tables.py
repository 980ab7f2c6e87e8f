"""Filling a table's minority class: ``augment(balance=True)`` beside random oversampling and SMOTE.

Protocol, per seed: a scikit-learn table is split in stratified halves (``random_state=seed``); the test half is
only scored. In the training half the minority class is cut to ``--minority`` x the majority class's count
(10 % by default; at least 6 rows, so SMOTE has 5 neighbours), drawn with the seed. The training rows are then
balanced four ways and a classifier is fitted on each:

* none: the imbalanced rows as they are;
* random oversampling: minority rows repeated until the classes are equal (imbalanced-learn);
* SMOTE (Chawla et al. 2002): new minority rows on segments to one of their 5 nearest minority neighbours
  (imbalanced-learn's defaults);
* ganforge: ``augment(x, y, balance=True)`` with its defaults (a conditional GAN on the standardized columns,
  MLP networks), and the same with round 12's 2,000 steps and EMA 0.99.

Classifiers: logistic regression on standardized columns and a random forest (100 trees), scikit-learn's
defaults otherwise. Scores on the test half: balanced accuracy and the minority class's F1. Tables: mean +- sd
over the seeds. Nothing here chooses a setting: it measures what a user gets.

    python benchmarks/augment_tables.py --seeds 10          # needs imbalanced-learn (the optional extra "compare")
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ganforge.apps.augment import augment


def tables() -> dict[str, tuple[np.ndarray, np.ndarray, int]]:
    """name -> (rows, labels, minority class). breast_cancer: malignant (212 of 569) is the minority; wine:
    class 2 (48 of 178) against classes 0 and 1 together."""
    bc = load_breast_cancer()
    wine = load_wine()
    return {
        "breast_cancer": (bc.data, bc.target, 0),
        "wine (class 2 vs rest)": (wine.data, (wine.target == 2).astype(int), 1),
    }


def imbalanced_split(x: np.ndarray, y: np.ndarray, minority: int, fraction: float,
                     seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train rows, train labels, test rows, test labels): halves, then the training minority cut to
    ``fraction`` x the training majority (at least 6 rows)."""
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.5, random_state=seed, stratify=y)
    rng = np.random.default_rng(seed)
    minor = np.flatnonzero(y_tr == minority)
    keep = max(6, round(fraction * int((y_tr != minority).sum())))
    kept = np.sort(np.r_[np.flatnonzero(y_tr != minority), rng.choice(minor, min(keep, len(minor)), replace=False)])
    return x_tr[kept].astype(np.float32), y_tr[kept], x_te, y_te


GAN_SETTINGS: dict[str, dict[str, float]] = {
    "ganforge (defaults)": {},
    "ganforge (2,000 steps, EMA 0.99)": {"steps": 2000, "ema": 0.99},
}


def balanced_sets(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]],
                                                                     dict[str, float]]:
    from imblearn.over_sampling import SMOTE, RandomOverSampler

    sets = {"none": (x, y),
            "random oversampling": RandomOverSampler(random_state=seed).fit_resample(x, y),
            "SMOTE": SMOTE(random_state=seed).fit_resample(x, y)}
    cpu = {}
    for name, options in GAN_SETTINGS.items():
        t0 = time.process_time()
        out = augment(x, y, balance=True, seed=seed, **options)
        cpu[name] = time.process_time() - t0
        sets[name] = (out.x, out.y)
    return sets, cpu


CLASSIFIERS = {
    "logistic regression": lambda seed: make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)),
    "random forest": lambda seed: RandomForestClassifier(n_estimators=100, random_state=seed),
}


def run(seeds: list[int], fraction: float) -> dict:
    results: dict = {}
    for table, (x, y, minority) in tables().items():
        for seed in seeds:
            x_tr, y_tr, x_te, y_te = imbalanced_split(x, y, minority, fraction, seed)
            sets, cpu = balanced_sets(x_tr, y_tr, seed)
            for method, (a, b) in sets.items():
                for clf_name, make in CLASSIFIERS.items():
                    pred = make(seed).fit(a, b).predict(x_te)
                    cell = results.setdefault(table, {}).setdefault(clf_name, {}).setdefault(method, [])
                    cell.append({"balanced_accuracy": balanced_accuracy_score(y_te, pred),
                                 "minority_f1": f1_score(y_te, pred, pos_label=minority), "seed": seed})
            print(f"{table} seed {seed}: {int((y_tr == minority).sum())} minority rows of {len(y_tr)}; GAN CPU-s "
                  + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()), flush=True)
    return results


def print_tables(results: dict) -> None:
    for table, by_clf in results.items():
        for clf_name, by_method in by_clf.items():
            n = len(next(iter(by_method.values())))
            print(f"\n{table}, {clf_name}, mean +- sd over {n} seeds (test half)\n")
            print("| balancing | balanced accuracy % | minority F1 % |\n|---|---|---|")
            for method, runs in by_method.items():
                cells = []
                for key in ("balanced_accuracy", "minority_f1"):
                    v = 100 * np.array([r[key] for r in runs])
                    cells.append(f"{v.mean():.1f} +- {v.std(ddof=1) if len(v) > 1 else 0:.1f}")
                print(f"| {method} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--minority", type=float, default=0.1, help="minority rows kept, as a fraction of the majority")
    parser.add_argument("--json", default=None)
    parser.add_argument("--report", default=None, help="print the tables of this --json file; no runs")
    args = parser.parse_args()
    if args.report:
        with open(args.report) as fh:
            print_tables(json.load(fh))
        return
    torch.set_num_threads(1)
    results = run(list(range(args.seeds)), args.minority)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)
    print_tables(results)


if __name__ == "__main__":
    main()
