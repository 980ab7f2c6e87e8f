"""Synthetic tables: ganforge's tabular GAN beside ctgan's CTGAN and TVAE, a Gaussian copula, independent
columns and the real training rows, on the shipped tables; SDGym's simulated grid / gridr / ring likelihoods.

Protocol (docs/benchmarks/tables.md):
* each data set is split once (split seed 0): 70% train, 10% validation, 20% holdout; every synthesizer
  fits the training rows (ganforge's GAN also checks quality on the validation rows during training and
  keeps its best checkpoint) and samples as many rows as the training split has;
* every synthetic table is scored by ganforge.evaluation.tables.evaluate_table against the holdout:
  quality (SDMetrics-style shapes + pair trends), ML efficacy (SDGym's evaluate.py models: train on
  synthetic, test on holdout), DCR share with equal-size train/holdout samples, exact copies of training
  rows, out-of-range cells; fit and sample CPU seconds (time.process_time, one thread);
* 3 training seeds (0, 1, 2); mean +- std over seeds;
* ctgan (BUSL-licensed, optional) runs in a separate Python (``--ctgan-python``, a virtual environment with
  ``pip install ctgan``) at its defaults (epochs=300, batch 500); ganforge never imports it;
* SDGym simulated data: the GaussianMixture(10 and 30 components, diagonal covariance) likelihoods of
  SDGym's evaluate.py: syn = mean log-likelihood of the synthetic rows under a GMM fitted on the test rows,
  test = of the test rows under a GMM fitted on the synthetic rows (sklearn's score), beside the published
  CTGAN / TVAE numbers (SDGym's results/0.2.0.csv, the CTGAN paper's benchmark).

    heavy env PYTHONPATH=src python3 benchmarks/tables.py --ctgan-python /tmp/ctgan-venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganforge.evaluation.tables import HEADLINE  # noqa: E402

torch.set_num_threads(1)

DATASETS = {
    "breast-cancer": ("breast-cancer-table", {}),
    "wine": ("wine-table", {}),
    "diabetes": ("diabetes-table", {}),
    "digits-binarized": ("digits-binarized", {}),
    "penguins": ("penguins-table", {}),
}
SIMULATED = ("grid", "gridr", "ring")
# Published syn / test likelihoods on the simulated sets: SDGym's results/0.2.0.csv (sdv-dev/SDGym), the
# benchmark table of the CTGAN paper (Xu et al. 2019: the same eight synthesizers). Its Identity row
# (-3.06 on grid) differs from SDGym's 2020 leaderboard (-3.46), which our identity row reproduces: read
# each published synthesizer against the published identity, ours against ours.
PUBLISHED_SIMULATED = {
    "grid": {"identity": (-3.06, -3.06), "ctgan": (-5.63, -3.69), "tvae": (-2.86, -11.26)},
    "gridr": {"identity": (-3.06, -3.07), "ctgan": (-8.11, -4.31), "tvae": (-3.41, -3.20)},
    "ring": {"identity": (-1.70, -1.70), "ctgan": (-3.43, -2.19), "tvae": (-1.68, -1.79)},
}
METRICS = (*HEADLINE, "fit_seconds", "sample_seconds")  # the evaluator's headline, then the costs
MODELS = ("ganforge", "ctgan", "tvae", "gaussian_copula", "independent", "identity")

CTGAN_SCRIPT = r"""
import json, sys, time
import pandas as pd, torch
from ganforge.evaluation.tables import HEADLINE  # noqa: E402

torch.set_num_threads(1)
from ctgan import CTGAN, TVAE
args = json.loads(sys.argv[1])
frame = pd.read_csv(args["train"])
for c in args["discrete"]:
    frame[c] = frame[c].astype(str)
model = (CTGAN if args["model"] == "ctgan" else TVAE)()
model.set_random_state(args["seed"])
t0 = time.process_time()
model.fit(frame, args["discrete"])
fit = time.process_time() - t0
t0 = time.process_time()
out = model.sample(args["rows"])
sample = time.process_time() - t0
out.to_csv(args["out"], index=False)
print(json.dumps({"fit_seconds": fit, "sample_seconds": sample}))
"""


def parse_variant(text: str) -> tuple[str, dict[str, Any]]:
    """``NAME=data.encoding:quantile,train.steps:300`` -> (NAME, {dotted key: YAML-parsed value})."""
    import yaml

    name, _, rest = text.partition("=")
    settings = {}
    for part in [p for p in rest.split(",") if p]:
        key, _, value = part.partition(":")
        settings[key.strip()] = yaml.safe_load(value)
    return name.strip(), settings


def ganforge_fit(
    source_name: str,
    params: dict[str, Any],
    seed: int,
    steps: int,
    workdir: Path,
    settings: dict[str, Any] | None = None,
) -> tuple[Any, dict]:
    """Train the `table` recipe on a source (``settings``: dotted recipe keys of a variant);
    (synthetic frame of len(train) rows, timings)."""
    import ganforge as gf
    from ganforge.evaluation import suite
    from ganforge.recipes import load_recipe

    raw = load_recipe("table")
    raw["data"] = {"source": source_name, **params}
    raw["train"]["steps"] = steps
    raw["seed"] = seed
    for key, value in (settings or {}).items():
        node = raw
        *path, last = key.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    raw["name"] = "-".join(
        [source_name, *map(str, params.values()), str(zlib.crc32(str(settings).encode())), str(seed)]
    )
    import ganforge.evaluation.tables  # noqa: F401  (registers the table evaluator, replaced below)

    full = suite.EVALUATORS.get("table")

    def periodic_only(run: Any, n: int, metrics: list[str]) -> dict[str, Any]:
        # the end-of-run report is skipped (this benchmark scores every synthesizer itself)
        return full(run, n, metrics) if run.gan.training else {}

    suite.EVALUATORS["table"] = periodic_only
    try:
        t0 = time.process_time()
        run = gf.train(raw, out=workdir / raw["name"], show_progress=False)
        fit = time.process_time() - t0
    finally:
        suite.EVALUATORS["table"] = full
    best = run.path / "best"
    loaded = gf.load(run.path, checkpoint=best) if best.is_dir() else gf.load(run.path)
    source = run.source or run.real_data()
    torch.manual_seed(seed)
    t0 = time.process_time()
    frame = loaded.sample(rows=len(source.frame))
    sample = time.process_time() - t0
    encode = float(source.info.get("encode_seconds", 0.0))
    best_step = (run.summary.get("best") or {}).get("step")
    return frame, {"fit_seconds": fit, "sample_seconds": sample, "encode_seconds": encode, "best_step": best_step}


def ctgan_fit(python: str, model: str, source: Any, seed: int, workdir: Path) -> tuple[Any, dict] | None:
    import pandas as pd

    from ganforge.data.tables import DISCRETE_KINDS

    transformer = source.transformer
    names = [c.name for c in transformer.columns if c.kind != "id"]
    discrete = [c.name for c in transformer.columns if c.kind in DISCRETE_KINDS]
    train_csv = workdir / f"{source.name}-train.csv"
    out_csv = workdir / f"{source.name}-{model}-{seed}.csv"
    from ganforge.data.tables import _category_value

    frame = source.frame[names].copy()
    for column in discrete:  # categories as ganforge reads them (a float column's 2.0 is category 2)
        frame[column] = [str(_category_value(v)) for v in frame[column].tolist()]
    from ganforge.evaluation.tables import _numeric

    for col in transformer.columns:  # datetimes as numbers; missing continuous cells median-imputed
        if col.kind in ("numeric", "integer", "datetime"):
            values = _numeric(source.frame, col)
            frame[col.name] = np.where(np.isnan(values), np.nanmedian(values), values)
    frame.to_csv(train_csv, index=False)
    args = {"train": str(train_csv), "discrete": discrete, "model": model, "seed": seed, "rows": len(frame)}
    args["out"] = str(out_csv)
    result = subprocess.run(
        [python, "-c", CTGAN_SCRIPT, json.dumps(args)],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"},
    )
    if result.returncode != 0:
        print(f"  {model} failed: {result.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    timing = json.loads(result.stdout.strip().splitlines()[-1])
    synthetic = pd.read_csv(out_csv)
    for col in transformer.columns:
        if col.kind in DISCRETE_KINDS:  # back to the column's own category values
            lookup = {("" if c is None else str(c)): c for c in col.categories}
            synthetic[col.name] = synthetic[col.name].map(lambda v, lk=lookup: lk.get("" if pd.isna(v) else str(v)))
        if col.kind == "datetime":
            unit = 86_400 if col.unit == "D" else 1
            stamps = pd.to_datetime(np.round(synthetic[col.name].to_numpy() * unit), unit="s")
            synthetic[col.name] = stamps.strftime("%Y-%m-%d" if col.unit == "D" else "%Y-%m-%d %H:%M:%S")
    return synthetic, timing


def baseline_fit(name: str, source: Any, seed: int) -> tuple[Any, dict]:
    from ganforge.gans.table_baselines import GaussianCopula, IndependentColumns

    if name == "identity":
        return source.frame, {"fit_seconds": 0.0, "sample_seconds": 0.0}
    cls = GaussianCopula if name == "gaussian_copula" else IndependentColumns
    t0 = time.process_time()
    model = cls(source.transformer).fit(source.frame, seed=seed)
    fit = time.process_time() - t0
    t0 = time.process_time()
    frame = model.sample(len(source.frame), seed=seed)
    return frame, {"fit_seconds": fit, "sample_seconds": time.process_time() - t0}


SPLIT = "holdout"  # --split validation: score against the validation rows (for choosing settings)


def score(frame: Any, source: Any) -> dict[str, Any]:
    from ganforge.evaluation.tables import evaluate_table

    real = source.real_frame(SPLIT)
    return evaluate_table(frame, source.frame, real, source.transformer, source.info.get("target"))


def gmm_likelihoods(synthetic: np.ndarray, test: np.ndarray) -> dict[str, float]:
    """SDGym's _evaluate_gmm_likelihood, averaged over its 10- and 30-component GMMs (seeded here)."""
    from sklearn.mixture import GaussianMixture

    syn, tst = [], []
    for k in (10, 30):
        gmm = GaussianMixture(k, covariance_type="diag", random_state=0).fit(test)
        syn.append(gmm.score(synthetic))
        gmm = GaussianMixture(k, covariance_type="diag", random_state=0).fit(synthetic)
        tst.append(gmm.score(test))
    return {"syn_likelihood": float(np.mean(syn)), "test_likelihood": float(np.mean(tst))}


def summarize(values: list[float]) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    mean, std = float(np.mean(values)), float(np.std(values))
    if abs(mean) >= 100:
        return f"{mean:.0f} ± {std:.0f}"
    return f"{mean:.3f} ± {std:.3f}"


def print_table(title: str, results: dict[str, list[dict[str, Any]]], keys: tuple[str, ...]) -> None:
    print(f"\n### {title}\n")
    models = [m for m in results if results[m]]
    print("| metric | " + " | ".join(models) + " |")
    print("|---|" + "---|" * len(models))
    for key in keys:
        print(f"| {key} | " + " | ".join(summarize([r.get(key) for r in results[m]]) for m in models) + " |")
    sys.stdout.flush()


def census_like(n: int, seed: int = 0) -> Any:
    """A generated mixed-type table of ``n`` rows (the scale check; no 50,000-row table ships offline
    here): ints, floats with 2 decimals, categories, a boolean, dates, missing values, a binary label
    that depends on several columns."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    education = rng.choice(["none", "school", "college", "bachelor", "master"], n, p=[0.1, 0.35, 0.25, 0.2, 0.1])
    level = pd.Series(education).map({"none": 0, "school": 1, "college": 2, "bachelor": 3, "master": 4}).to_numpy()
    age = rng.integers(18, 80, n)
    hours = np.clip(np.round(rng.normal(38 + 2 * level, 8)), 5, 80).astype(int)
    income = np.round(np.exp(9.5 + 0.25 * level + 0.01 * (age - 18) + rng.normal(0, 0.4, n)), 2)
    frame = pd.DataFrame(
        {
            "age": age,
            "education": education,
            "hours": hours,
            "income": income,
            "sex": rng.choice(["F", "M"], n),
            "married": rng.random(n) < 0.5,
            "region": rng.choice([f"r{i}" for i in range(8)], n),
            "start": (pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3000, n), unit="D")).strftime(
                "%Y-%m-%d"
            ),
        }
    )
    frame.loc[rng.random(n) < 0.05, "hours"] = np.nan
    logit = 0.8 * (level - 2) + 0.03 * (age - 45) + 0.04 * (hours - 40) + rng.normal(0, 1, n)
    frame["label"] = np.where(logit > 0.5, ">50K", "<=50K")
    return frame


def scale_check(rows: int) -> None:
    """Train the `table` recipe on a generated table of ``rows`` rows and evaluate it (CPU minutes)."""
    import ganforge as gf
    from ganforge.recipes import load_recipe

    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "census.csv"
        census_like(rows).to_csv(csv, index=False)
        raw = load_recipe("table")
        raw["data"] = {"source": "table", "path": str(csv), "target": "label"}
        t0 = time.process_time()
        run = gf.train(raw, out=Path(tmp) / "run", show_progress=False)
        total = time.process_time() - t0
        t0 = time.process_time()
        report = gf.load(run.path).evaluate()
        again = time.process_time() - t0
    from ganforge.data.tables import table_source
    from ganforge.evaluation.tables import privacy_report

    frame = census_like(rows)
    half = table_source(frame, "census", target="label", validation=0.0, holdout=0.5, quiet=True)
    synthetic = census_like(rows, seed=1)
    t0 = time.process_time()
    dcr = privacy_report(synthetic, half.frame, half.holdout_frame, half.transformer)
    dcr_seconds = time.process_time() - t0
    print(f"\n### scale: {rows} rows (generated census-like table)\n")
    print(
        f"DCR of {rows} synthetic rows against {len(half.frame)} training + {len(half.holdout_frame)} holdout rows: "
        f"{dcr_seconds:.1f} CPU-s (share {dcr['dcr_share']:.3f}, exact copies {dcr['exact_copies']})"
    )
    print(
        f"gf.train (its end-of-run evaluation runs or skips itself as eval.enabled=auto decides): "
        f"{total / 60:.2f} CPU-min; full evaluation (`ganforge eval`): {again / 60:.2f} CPU-min"
    )
    print(json.dumps({k: v for k, v in report.items() if isinstance(v, (int, float))}, indent=None))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=None, help="training steps (default: the table recipe's)")
    parser.add_argument("--ctgan-python", default=None, help="a Python with `ctgan` installed (optional)")
    parser.add_argument("--simulated", default=",".join(SIMULATED), help="SDGym simulated sets ('' to skip)")
    parser.add_argument("--json", default=None, help="also write every number to this JSON file")
    parser.add_argument(
        "--simulated-ctgan", action="store_true", help="also run ctgan on the simulated sets (about 6 CPU-min a fit)"
    )
    parser.add_argument("--scale", type=int, default=0, help="also time a generated table of this many rows")
    parser.add_argument(
        "--split", default="holdout", choices=("holdout", "validation"), help="real rows to score against"
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        help="an extra ganforge column: NAME=dotted.key:value,... (e.g. q=data.encoding:quantile); repeatable",
    )
    parser.add_argument(
        "--no-default", action="store_true", help="leave out the ganforge column at the recipe's defaults"
    )
    args = parser.parse_args()
    global SPLIT
    SPLIT = args.split
    variants = ([] if args.no_default else [("ganforge", {})]) + [parse_variant(v) for v in args.variant]
    for name, _ in variants[1 if not args.no_default else 0 :]:
        if name in MODELS:
            raise SystemExit(f"--variant {name}: the name is taken by a synthesizer column")
    if args.scale:
        scale_check(args.scale)
    from ganforge.data.registry import build_source
    from ganforge.recipes import load_recipe

    steps = args.steps or int(load_recipe("table")["train"]["steps"])
    seeds = [int(s) for s in args.seeds.split(",") if s]
    everything: dict[str, Any] = {"steps": steps, "seeds": seeds, "tables": {}, "simulated": {}}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for name in [d for d in args.datasets.split(",") if d]:
            source_name, params = DATASETS[name]
            source = build_source(source_name, dict(params))
            columns = [v for v, _ in variants] + [m for m in MODELS if m != "ganforge"]
            results: dict[str, list[dict[str, Any]]] = {m: [] for m in columns}
            for seed in seeds:
                for variant, settings in variants:
                    frame, timing = ganforge_fit(source_name, params, seed, steps, workdir, settings)
                    results[variant].append({**score(frame, source), **timing})
                for model in ("ctgan", "tvae"):
                    if args.ctgan_python:
                        fitted = ctgan_fit(args.ctgan_python, model, source, seed, workdir)
                        if fitted is not None:
                            results[model].append({**score(fitted[0], source), **fitted[1]})
                for model in ("gaussian_copula", "independent", "identity"):
                    if model == "identity" and seed != seeds[0]:
                        continue
                    frame, timing = baseline_fit(model, source, seed)
                    results[model].append({**score(frame, source), **timing})
                print(f"{name} seed {seed} done", file=sys.stderr, flush=True)
            rows = source.info["rows"]
            target = source.info.get("target")
            title = (
                f"{name}: {rows['train']} train / {rows['validation']} validation / {rows['holdout']} holdout rows, "
                f"target {target}; ganforge {steps} steps, encoding {source.info['encode_seconds']:.1f} CPU-s"
            )
            per_model = tuple(
                sorted({k for r in results[variants[0][0]] for k in r if k.startswith("ml_") and k not in METRICS})
            )
            title += f"; scored against the {SPLIT} rows"
            title += "".join(f"; {v}: {s}" for v, s in variants if s)
            print_table(title, results, METRICS + per_model + ("encode_seconds", "best_step"))
            everything["tables"][name] = results
        for name in [s for s in args.simulated.split(",") if s]:
            source = build_source("sdgym-simulated", {"name": name})
            test = source.holdout_frame[["x0", "x1"]].to_numpy()
            results = {m: [] for m in MODELS}
            for seed in seeds:
                frame, timing = ganforge_fit("sdgym-simulated", {"name": name}, seed, steps, workdir)
                results["ganforge"].append({**gmm_likelihoods(frame[["x0", "x1"]].to_numpy(), test), **timing})
                for model in ("ctgan", "tvae"):
                    if args.ctgan_python and args.simulated_ctgan:
                        fitted = ctgan_fit(args.ctgan_python, model, source, seed, workdir)
                        if fitted is not None:
                            syn = fitted[0][["x0", "x1"]].to_numpy()
                            results[model].append({**gmm_likelihoods(syn, test), **fitted[1]})
                for model in ("gaussian_copula", "independent", "identity"):
                    if model == "identity" and seed != seeds[0]:
                        continue
                    frame, timing = baseline_fit(model, source, seed)
                    results[model].append({**gmm_likelihoods(frame[["x0", "x1"]].to_numpy(), test), **timing})
                print(f"sdgym {name} seed {seed} done", file=sys.stderr, flush=True)
            print_table(
                f"SDGym simulated {name} (10,000 train / 10,000 test rows)",
                results,
                ("syn_likelihood", "test_likelihood", "fit_seconds", "sample_seconds"),
            )
            published = PUBLISHED_SIMULATED[name]
            print(
                "published (SDGym results/0.2.0.csv, syn / test): "
                + ", ".join(f"{m} {syn:.2f} / {test:.2f}" for m, (syn, test) in published.items())
            )
            everything["simulated"][name] = results
    if args.json:
        Path(args.json).write_text(json.dumps(everything, indent=1, default=str))


if __name__ == "__main__":
    main()
