"""Mode coverage on the 2-D ring of 8 and grid of 25 Gaussians: ganforge's shipped recipes against a
hand-written plain PyTorch GAN and the published tables.

For each data set and protocol, each method trains on ``--seeds`` seeds under the same ``--budget`` of
seconds per run, then 2 500 samples are scored with :func:`ganforge.evaluation.lowdim.mode_coverage`
(VEEGAN's metric as PacGAN codes it): modes captured (a mode counts with >= 1 high-quality sample), % of
high-quality samples (within 3 std of the nearest mean) and the reverse KL of the high-quality mode
histogram from uniform, ``KL(p || u) = log K - H(p)``.

Protocols (docs/notes/toy_protocols.md):

* ``pacgan`` — the task's, PacGAN's configs: ring of 8 distinct means, radius 1, std 0.01; grid
  {-4, -2, 0, 2, 4}^2, std 0.05 (also VEEGAN's grid).
* ``gdpp`` — the ring of the GDPP and Unrolled-GAN code that produced the VEEGAN / WGAN-GP / GDPP rows:
  angles ``linspace(0, 2 pi, 8)``, so only 7 distinct clusters, scored against the same 8 means (the
  doubled cluster splits between its two copies). Its grid is the ``pacgan`` grid, so it is not re-run.

Methods:

* ``ganforge`` — the shipped recipe (``ganforge train ring8`` / ``grid25``) through the public API
  ``gf.train``, exactly as a user runs it (run folder, checkpoints, monitors); only training is timed.
* ``plain`` — ``benchmarks/baselines/plain_toy_gan.py``: a lean hand-written loop (non-saturating loss,
  lazy R1, Adam(0, 0.9), linear lr decay).

Both run in this one process, alternating per seed, so machine load affects them alike. The budget is
counted on the process CPU clock by default (``--clock cpu``; with one intra-op thread this is the wall
time the run would take on an idle core, so the numbers stay meaningful on a shared machine); ``--clock
wall`` counts wall time instead. A run that reaches its budget stops there (flagged ``cut``) and is
scored as it is. Seconds are reported on both clocks.

    python benchmarks/toy_modes.py                    # 5 seeds, 30 s budget, both data sets, both protocols
    python benchmarks/toy_modes.py --quick            # 2 seeds, ring8 only, task protocol
    python benchmarks/toy_modes.py --seeds 3 --budget 20 --datasets grid25 --methods ganforge
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines.plain_toy_gan import PlainConfig, train_plain  # noqa: E402

import ganforge as gf  # noqa: E402
from ganforge.data.registry import build_source  # noqa: E402
from ganforge.evaluation.lowdim import ModeCoverage, mode_coverage, reference_high_quality  # noqa: E402
from ganforge.training.callbacks import Callback, register_callbacks  # noqa: E402

EVAL_SAMPLES = 2500
EVAL_SEED_OFFSET = 10_000
NO_REJECTION = "ganforge-all"  # the same trained run, every sample kept (the recipe before rejection)

# Plain-baseline settings per data set (hand-tuned; see docs/benchmarks/toy.md).
PLAIN_CONFIGS = {
    "ring8": PlainConfig(),
    "grid25": PlainConfig(steps=14000, batch_size=256),  # the grid25 recipe: ring8's, longer, larger batch
}

# Data section overrides per protocol (None: identical to the task protocol, not re-run).
PROTOCOLS: dict[str, dict[str, dict[str, Any] | None]] = {
    "pacgan": {"ring8": {}, "grid25": {}},
    "gdpp": {"ring8": {"endpoint": True}, "grid25": None},
}
PROTOCOL_TITLES = {
    "pacgan": "task protocol = PacGAN's (ring: 8 distinct means, radius 1, std 0.01; grid {-4..4}^2, std 0.05)",
    "gdpp": "VEEGAN/GDPP rows' code (ring angles linspace(0, 2pi, 8): 7 distinct clusters, 8 means scored)",
}


@dataclass(frozen=True)
class Published:
    """One published row: modes, % high quality, reverse KL (None where not reported), and its source."""

    method: str
    modes: str
    hq: str
    kl: str
    source: str


_PACGAN_RING = [
    Published("GAN", "6.3 ± 0.5", "98.2 ± 0.2", "0.45 ± 0.09", "PacGAN T1"),
    Published("ALI", "6.6 ± 0.3", "97.6 ± 0.4", "0.36 ± 0.04", "PacGAN T1"),
    Published("PacGAN2", "7.9 ± 0.1", "95.6 ± 2.0", "0.07 ± 0.03", "PacGAN T1"),
    Published("PacGAN3", "7.8 ± 0.1", "97.7 ± 0.3", "0.10 ± 0.02", "PacGAN T1"),
    Published("PacGAN4", "7.8 ± 0.1", "95.9 ± 1.4", "0.07 ± 0.02", "PacGAN T1"),
]
_PACGAN_GRID = [
    Published("GAN", "17.3 ± 0.8", "94.8 ± 0.7", "0.70 ± 0.07", "PacGAN T1"),
    Published("ALI", "24.1 ± 0.4", "95.7 ± 0.6", "0.14 ± 0.03", "PacGAN T1"),
    Published("PacGAN2", "23.8 ± 0.7", "91.3 ± 0.8", "0.13 ± 0.04", "PacGAN T1"),
    Published("PacGAN3", "24.6 ± 0.4", "94.2 ± 0.4", "0.06 ± 0.02", "PacGAN T1"),
    Published("PacGAN4", "24.8 ± 0.2", "93.6 ± 0.6", "0.04 ± 0.01", "PacGAN T1"),
]
_GDPP_RING = [
    Published("GAN", "1", "99.3", "-", "VEEGAN/GDPP T1"),
    Published("ALI", "2.8", "0.13", "-", "VEEGAN/GDPP T1"),
    Published("Unrolled GAN", "7.6", "35.6", "-", "VEEGAN/GDPP T1"),
    Published("VEEGAN", "8.0", "52.9", "-", "VEEGAN/GDPP T1"),
    Published("WGAN-GP", "6.8", "59.6", "-", "GDPP T1"),
    Published("GDPP-GAN", "8.0", "71.7", "-", "GDPP T1"),
]
_GDPP_GRID = [
    Published("GAN", "3.3", "0.5", "-", "VEEGAN/GDPP T1"),
    Published("ALI", "15.8", "1.6", "-", "VEEGAN/GDPP T1"),
    Published("Unrolled GAN", "23.6", "16.0", "-", "VEEGAN/GDPP T1"),
    Published("VEEGAN", "24.6", "40.0", "-", "VEEGAN/GDPP T1"),
    Published("WGAN-GP", "24.2", "28.7", "-", "GDPP T1"),
    Published("GDPP-GAN", "24.8", "68.5", "-", "GDPP T1"),
]
# The grid geometry is the same under both protocols, so both papers' grid rows are shown with it.
PUBLISHED = {
    ("pacgan", "ring8"): _PACGAN_RING,
    ("pacgan", "grid25"): _PACGAN_GRID + _GDPP_GRID,
    ("gdpp", "ring8"): _GDPP_RING,
}


@dataclass
class RunResult:
    """One trained model's scores and cost."""

    method: str
    seed: int
    modes: int
    num_modes: int
    high_quality: float
    kl: float
    cpu_seconds: float
    wall_seconds: float
    steps_done: int
    steps: int
    cut: bool


@dataclass
class BudgetState:
    """What the budget callback needs: the limit (None: off), the clock, and what it measured."""

    budget: float | None = None
    clock: str = "cpu"
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    cut: bool = False
    _t0: tuple[float, float] = field(default=(0.0, 0.0))


_BUDGET = BudgetState()


class BudgetCallback(Callback):
    """Times training on both clocks and ends it at the budget (checked every ``train.log_every`` steps):
    setting ``train.steps`` to the current step makes the trainer save and stop after this step."""

    def on_start(self, trainer: Any) -> None:
        _BUDGET._t0 = (time.process_time(), time.perf_counter())
        _BUDGET.cut = False

    def _measure(self) -> None:
        _BUDGET.cpu_seconds = time.process_time() - _BUDGET._t0[0]
        _BUDGET.wall_seconds = time.perf_counter() - _BUDGET._t0[1]

    def on_log(self, trainer: Any, record: dict[str, Any]) -> dict[str, Any] | None:
        self._measure()
        spent = _BUDGET.cpu_seconds if _BUDGET.clock == "cpu" else _BUDGET.wall_seconds
        if _BUDGET.budget is not None and spent > _BUDGET.budget and trainer.step < trainer.train_cfg.steps:
            trainer.train_cfg.steps = trainer.step
            _BUDGET.cut = True
        return None

    def on_end(self, trainer: Any) -> dict[str, Any] | None:
        self._measure()
        return None


@register_callbacks
def _budget_callbacks(config: Any, source: Any, run_dir: Any) -> list[Callback]:
    return [BudgetCallback()]


def score(samples: torch.Tensor, means: torch.Tensor, std: float) -> ModeCoverage:
    return mode_coverage(samples, means, std)


def run_ganforge(recipe: str, data: dict[str, Any], seed: int, budget: float | None, clock: str) -> list[RunResult]:
    """Train the shipped recipe with ``gf.train`` (data overrides from the protocol) and score it twice
    on the same noise: sampled as shipped (its ``sample.discriminator_rejection``) and with every sample
    kept (``reject=0``, the recipe before rejection)."""
    _BUDGET.budget, _BUDGET.clock = budget, clock
    sets = [f"data.{k}={json.dumps(v)}" for k, v in data.items()]
    results = []
    with tempfile.TemporaryDirectory(prefix="toy-modes-") as tmp:
        run = gf.train(recipe, seed=seed, out=Path(tmp) / "run", overrides=sets, show_progress=False)
        mixture = run.data_info.mixture
        assert mixture is not None
        steps = gf.build_config(recipe).train.steps
        for method, reject in (("ganforge", None), (NO_REJECTION, 0.0)):
            torch.manual_seed(EVAL_SEED_OFFSET + seed)
            cov = score(run.sample(EVAL_SAMPLES, reject=reject), mixture.means, mixture.std)
            results.append(RunResult(
                method, seed, cov.modes, cov.num_modes, cov.high_quality, cov.kl, _BUDGET.cpu_seconds,
                _BUDGET.wall_seconds, run.step, steps, _BUDGET.cut,
            ))  # fmt: skip
    return results


def run_plain(
    name: str, data: dict[str, Any], seed: int, budget: float | None, clock: str, cfg: PlainConfig
) -> list[RunResult]:
    """Train the plain PyTorch baseline on the same mixture and score it the same way."""
    source = build_source(name, dict(data))
    assert source.mixture is not None
    means, std = source.mixture.means, source.mixture.std
    result = train_plain(means, std, cfg, seed=seed, budget=budget, clock=clock)
    torch.manual_seed(EVAL_SEED_OFFSET + seed)
    cov = score(result.sample(EVAL_SAMPLES), means, std)
    return [RunResult(
        "plain", seed, cov.modes, cov.num_modes, cov.high_quality, cov.kl, result.cpu_seconds, result.seconds,
        result.steps_done, result.steps, result.steps_done < result.steps,
    )]  # fmt: skip


def real_row(name: str, data: dict[str, Any], seeds: list[int]) -> list[ModeCoverage]:
    """Scores of 2 500 real samples per seed: the ceiling (98.89 % high quality in 2-D)."""
    source = build_source(name, dict(data))
    assert source.mixture is not None
    return [
        score(source.real(EVAL_SAMPLES, seed=EVAL_SEED_OFFSET + s).x, source.mixture.means, source.mixture.std)
        for s in seeds
    ]


def _ms(values: list[float], digits: int = 1) -> str:
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.fmean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def summarize(results: list[RunResult]) -> dict[str, str]:
    modes = [float(r.modes) for r in results]
    hq = [100 * r.high_quality for r in results]
    kl = [r.kl for r in results if not math.isnan(r.kl)]
    cuts = sum(r.cut for r in results)
    return {
        "modes": _ms(modes),
        "min modes": f"{min(r.modes for r in results)}/{results[0].num_modes}",
        "% HQ": _ms(hq),
        "min % HQ": f"{min(hq):.1f}",
        "KL": _ms(kl, 3) if kl else "nan",
        "cpu s": _ms([r.cpu_seconds for r in results]),
        "wall s": _ms([r.wall_seconds for r in results]),
        "steps": f"{min(r.steps_done for r in results)}/{results[0].steps}" + (f" ({cuts} cut)" if cuts else ""),
    }


def print_table(title: str, rows: list[tuple[str, dict[str, str]]], columns: list[str]) -> None:
    widths = [max(len(c), *(len(r[1].get(c, "")) for r in rows)) for c in columns]
    name_w = max(len("method"), *(len(r[0]) for r in rows))
    print(f"\n{title}")
    header = "method".ljust(name_w) + " | " + " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    print(header)
    print("-" * len(header))
    for name, row in rows:
        cells = " | ".join(row.get(c, "").ljust(w) for c, w in zip(columns, widths, strict=True))
        print(name.ljust(name_w) + " | " + cells)


def floor_check(name: str, results: list[RunResult]) -> str:
    """The issue's floor: every seed 8/8 at >= 92 % HQ (ring8) or 25/25 at >= 94 % HQ (grid25)."""
    need = 0.92 if name == "ring8" else 0.94
    bad = [r.seed for r in results if r.modes < r.num_modes or r.high_quality < need]
    return "all seeds pass" if not bad else f"below the floor on seeds {bad}"


def print_results(protocol: str, name: str, results: dict[str, list[RunResult]]) -> None:
    """The table of one data set and protocol: real samples, our methods, the published rows."""
    data = PROTOCOLS[protocol][name]
    assert data is not None
    seeds = sorted({r.seed for rs in results.values() for r in rs})
    real = real_row(name, data, seeds)
    rows: list[tuple[str, dict[str, str]]] = [
        (
            "real samples (ceiling)",
            {
                "modes": _ms([float(c.modes) for c in real]),
                "min modes": f"{min(c.modes for c in real)}/{real[0].num_modes}",
                "% HQ": _ms([100 * c.high_quality for c in real]),
                "min % HQ": f"{min(100 * c.high_quality for c in real):.1f}",
                "KL": _ms([c.kl for c in real], 3),
            },
        )
    ]
    label = {
        "ganforge": f"ganforge `{name}` recipe",
        NO_REJECTION: f"ganforge `{name}`, every sample kept",
        "plain": "plain PyTorch GAN",
    }
    rows += [(label[m], summarize(rs)) for m, rs in results.items() if rs]
    rows += [
        (f"{p.method} [{p.source}]", {"modes": p.modes, "% HQ": p.hq, "KL": p.kl}) for p in PUBLISHED[(protocol, name)]
    ]
    columns = ["modes", "min modes", "% HQ", "min % HQ", "KL", "cpu s", "wall s", "steps"]
    print_table(
        f"[{name}] {PROTOCOL_TITLES[protocol]}; ours: mean ± std over seeds {seeds} "
        "(published: as reported, with far longer training)",
        rows,
        columns,
    )
    for m, rs in results.items():
        if rs:
            print(f"  floor check, {label[m]}: {floor_check(name, rs)}")
    for m, rs in results.items():
        done = [r for r in rs if r.steps_done]
        if done:
            per_step = statistics.fmean(1000 * r.cpu_seconds / r.steps_done for r in done)
            print(f"  {label[m]}: {per_step:.2f} cpu ms per training step")


def merge_json(paths: list[str]) -> dict[str, dict[str, list[RunResult]]]:
    """Per-seed results of earlier runs (``--json`` files, e.g. shards run in parallel), merged."""
    merged: dict[str, dict[str, list[RunResult]]] = {}
    for path in paths:
        for key, per_method in json.loads(Path(path).read_text()).items():
            for method, rows in per_method.items():
                merged.setdefault(key, {}).setdefault(method, []).extend(RunResult(**r) for r in rows)
    for per_method in merged.values():
        for rows in per_method.values():
            rows.sort(key=lambda r: r.seed)
    return merged


def parse_seeds(text: str) -> list[int]:
    """``"5"`` -> seeds 0..4; ``"3,4"`` -> seeds 3 and 4."""
    return [int(s) for s in text.split(",") if s] if "," in text else list(range(int(text)))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="Mode coverage on ring8 / grid25 against a plain PyTorch GAN.")
    parser.add_argument("--seeds", default="5", help="N (seeds 0..N-1) or a list like 3,4 (default 5)")
    parser.add_argument("--budget", type=float, default=30.0, help="training seconds per run (default 30; 0: no limit)")
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu", help="clock the budget is counted on")
    parser.add_argument("--datasets", default="ring8,grid25")
    parser.add_argument("--protocols", default="pacgan,gdpp")
    parser.add_argument("--methods", default="plain,ganforge")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    parser.add_argument("--quick", action="store_true", help="2 seeds, ring8, task protocol only")
    parser.add_argument("--json", default=None, help="also write all per-seed results to this JSON file")
    parser.add_argument("--from-json", nargs="+", default=None, help="print the tables of saved --json files")
    args = parser.parse_args(argv)
    if args.from_json:
        merged = merge_json(args.from_json)
        for key, results in merged.items():
            protocol, name = key.split("/")
            print_results(protocol, name, results)
        return merged
    if args.quick:
        args.seeds, args.datasets, args.protocols = "2", "ring8", "pacgan"
    torch.set_num_threads(args.threads)
    seeds = parse_seeds(args.seeds)
    budget = args.budget if args.budget > 0 else None
    datasets = [d for d in args.datasets.split(",") if d]
    protocols = [p for p in args.protocols.split(",") if p]
    methods = [m for m in args.methods.split(",") if m]

    print(
        f"toy mode coverage: seeds {seeds}, budget {budget or 'none'} s ({args.clock} clock), "
        f"{args.threads} thread(s), {EVAL_SAMPLES} samples scored; load average at start {os.getloadavg()[0]:.2f}"
    )
    runners: dict[str, Callable[[str, dict[str, Any], int], list[RunResult]]] = {
        "ganforge": lambda n, d, s: run_ganforge(n, d, s, budget, args.clock),
        "plain": lambda n, d, s: run_plain(n, d, s, budget, args.clock, PLAIN_CONFIGS[n]),
    }
    out: dict[str, Any] = {}
    for protocol in protocols:
        for name in datasets:
            data = PROTOCOLS[protocol][name]
            if data is None:
                print(f"\n[{name}, {protocol}] same geometry as the task protocol; see that table")
                continue
            results: dict[str, list[RunResult]] = {}
            for seed in seeds:
                for r in (r for method in methods for r in runners[method](name, data, seed)):
                    results.setdefault(r.method, []).append(r)
                    print(
                        f"  {name} {protocol} {r.method:8s} seed {seed}: {r.modes}/{r.num_modes} modes, "
                        f"{100 * r.high_quality:.1f} % HQ, KL {r.kl:.3f}, {r.cpu_seconds:.1f} cpu s, "
                        f"{r.wall_seconds:.1f} wall s, {r.steps_done} steps{' (cut)' if r.cut else ''}, "
                        f"load {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )
            print_results(protocol, name, results)
            out[f"{protocol}/{name}"] = {m: [asdict(r) for r in rs] for m, rs in results.items()}
            if args.json:
                Path(args.json).write_text(json.dumps(out, indent=1))
    print(f"\nreal 2-D samples score {100 * reference_high_quality(2):.2f} % high quality in expectation")
    return out


if __name__ == "__main__":
    main()
