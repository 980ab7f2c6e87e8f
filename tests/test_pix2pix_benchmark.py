"""The Pix2Pix benchmark's own arithmetic (benchmarks/pix2pix.py): the paper's learning-rate schedule over a
CPU budget and the per-seed comparison its report prints. Fast: a stand-in trainer, no networks."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from pix2pix import (  # noqa: E402
    edge_inputs,
    edge_split_fids,
    edge_split_lines,
    ordering_verdict,
    paper_schedule,
    seed_wins,
    texture,
    train_for,
)


@pytest.mark.parametrize(
    ("fraction", "factor"), [(0.0, 1.0), (0.25, 1.0), (0.4999, 1.0), (0.5, 1.0), (0.75, 0.5), (0.9, 0.2), (1.0, 0.0)]
)
def test_paper_schedule_is_flat_then_linear_to_zero(fraction: float, factor: float) -> None:
    assert paper_schedule(fraction) == pytest.approx(factor)


def test_paper_schedule_never_negative_past_the_budget() -> None:
    assert paper_schedule(1.3) == 0.0


class BusyTrainer:
    """What ``train_for`` touches of a ``Trainer``: step, train_cfg.steps, optimizers, schedulers, fit()."""

    def __init__(self, lr: float) -> None:
        self.param = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([self.param], lr=lr)
        self.optimizers = {"generator": opt}
        self.schedulers = {"generator": torch.optim.lr_scheduler.LambdaLR(opt, lambda _t: 1.0)}
        self.train_cfg = type("Cfg", (), {"steps": 0})()
        self.step = 0
        self.seen: list[float] = []
        self.began: list[float] = []  # process CPU time at the start of every step

    def fit(self) -> None:
        while self.step < self.train_cfg.steps:
            self.seen.append(self.optimizers["generator"].param_groups[0]["lr"])
            self.began.append(time.process_time())
            end = time.process_time() + 0.002
            while time.process_time() < end:
                pass
            self.optimizers["generator"].step()  # no gradients: changes nothing, keeps torch's order check quiet
            self.schedulers["generator"].step()  # as Trainer.train_step: must not undo the budget schedule
            self.step += 1


def test_train_for_paper_schedule_decays_the_lr_over_the_cpu_budget() -> None:
    trainer = BusyTrainer(lr=0.1)
    timing = train_for(trainer, cpu_seconds=0.6, chunk=5, schedule="paper")  # type: ignore[arg-type]
    seen = trainer.seen
    assert timing["cpu_seconds"] >= 0.6
    assert seen[0] == pytest.approx(0.1)
    assert all(b <= a + 1e-12 for a, b in zip(seen, seen[1:], strict=False))  # never rises
    # flat for the first half of the budget, judged by the CPU time each step began at (not by step index:
    # idle torch threads left spinning by an earlier test spend this process's CPU too, unevenly)
    first_half = [lr for lr, at in zip(seen, trainer.began, strict=True) if at - trainer.began[0] < 0.25]
    assert first_half and all(v == pytest.approx(0.1) for v in first_half)
    assert seen[-1] < 0.03  # the last chunk runs within the last ~15 % of the budget: lr near 0


def test_train_for_recipe_schedule_trains_the_configs_own_steps_whatever_the_budget() -> None:
    trainer = BusyTrainer(lr=0.1)
    trainer.train_cfg.steps = 7
    timing = train_for(trainer, cpu_seconds=100.0, chunk=5, schedule="recipe")  # type: ignore[arg-type]
    assert timing["steps"] == 7 and timing["cpu_seconds"] < 5  # not the budget, not a multiple of the chunk


def test_train_for_constant_schedule_leaves_the_lr_alone() -> None:
    trainer = BusyTrainer(lr=0.1)
    train_for(trainer, cpu_seconds=0.2, chunk=5)  # type: ignore[arg-type]
    assert all(v == pytest.approx(0.1) for v in trainer.seen)


def test_seed_wins_compares_each_seeds_pair() -> None:
    runs = [
        {"row": "L1", "seed": 0, "fid": 2.0},
        {"row": "L1 + cGAN", "seed": 0, "fid": 1.0},  # wins (lower)
        {"row": "L1", "seed": 1, "fid": 1.0},
        {"row": "L1 + cGAN", "seed": 1, "fid": 5.0},  # loses
        {"row": "cGAN", "seed": 1, "fid": 0.1},  # another row: ignored
        {"row": "L1", "seed": 2, "fid": 1.0},  # no L1 + cGAN run for seed 2: not counted
    ]
    assert seed_wins(runs, "fid", "lower") == (1, 2)
    assert seed_wins(runs, "fid", "higher") == (1, 2)
    runs[1]["fid"] = 3.0
    assert seed_wins(runs, "fid", "lower") == (0, 2)


def test_the_ordering_holds_only_when_the_mean_and_most_seeds_agree() -> None:
    assert ordering_verdict(100.0, 120.0, "lower", 2, 3) == "holds"
    assert ordering_verdict(111.7, 119.7, "lower", 1, 3) == "holds on the mean only"  # round 15's edges2photos
    assert ordering_verdict(0.99, 0.98, "higher", 1, 2) == "holds on the mean only"
    assert ordering_verdict(130.0, 120.0, "lower", 3, 3) == "fails"
    assert ordering_verdict(0.97, 0.98, "higher", 0, 3) == "fails"


def test_texture_measures_neighbour_differences_and_flat_patches() -> None:
    flat = torch.full((2, 3, 8, 8), 0.4)
    board = (torch.arange(8)[:, None] + torch.arange(8)[None, :]).remainder(2).float().expand(1, 3, 8, 8)
    gradient, share = texture(torch.cat([flat, board]))
    assert torch.allclose(gradient, torch.tensor([0.0, 0.0, 1.0]))  # a checkerboard changes by 1 at every step
    assert share == pytest.approx(2 / 3)


def test_report_of_a_missing_result_is_a_one_line_error_with_exit_2() -> None:
    import subprocess

    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "pix2pix.py"), "--report", "--sets", "gray2color", "--tag=-absent"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "pix2pix-gray2color-absent.json" in done.stderr


def test_edge_inputs_counts_edgeless_maps_and_edge_pixels() -> None:
    maps = torch.zeros(4, 1, 4, 4)
    maps[1, 0, 0, :2] = 1.0  # 2 of 16 pixels on an edge
    maps[2, 0, :2, :2] = 1.0  # 4 of 16
    maps[3] = 0.5  # uniform, though not black: still no edge
    edgeless, median = edge_inputs(maps)
    assert edgeless == 0.5
    assert median == pytest.approx(0.0)  # torch's lower median of (0, 0, 0.125, 0.25)


def test_edge_split_fids_scores_each_group_against_its_own_targets() -> None:
    """Outputs equal to the targets score ~0 in both groups; spoiling only the edgeless inputs' outputs raises the
    edgeless FID alone. A group of fewer than 10 images is left out."""
    gen = torch.Generator().manual_seed(0)
    real = torch.rand(40, 3, 32, 32, generator=gen)
    inputs = torch.zeros(40, 1, 32, 32)
    inputs[20:, 0, 5, :] = 1.0  # 20 edged, 20 edgeless inputs
    same = edge_split_fids(real.clone(), inputs, real, "edges2photos")
    assert same["edgeless"]["n"] == 20 and same["edged"]["n"] == 20
    assert same["edgeless"]["fid"] < 1e-3 and same["edged"]["fid"] < 1e-3
    spoiled = real.clone()
    spoiled[:20] = 0.5
    scores = edge_split_fids(spoiled, inputs, real, "edges2photos")
    assert scores["edgeless"]["fid"] > 1.0 and scores["edged"]["fid"] < 1e-3
    assert set(edge_split_fids(real[:25], inputs[:25], real[:25], "edges2photos")) == {"edgeless"}


def test_edge_split_lines_gives_each_rows_mean_and_the_paired_wins_per_group() -> None:
    """Means over seeds per row and group, and L1 + cGAN against L1 seed by seed in each group; nothing when a run
    predates ``by_edges``."""

    def run(row: str, seed: int, edged: float, edgeless: float) -> dict:
        return {"row": row, "seed": seed, "by_edges": {"edged": {"fid": edged}, "edgeless": {"fid": edgeless}}}

    runs = [run("L1", 0, 200.0, 2000.0), run("L1", 1, 100.0, 1000.0)]
    runs += [run("L1 + cGAN", 0, 50.0, 3000.0), run("L1 + cGAN", 1, 150.0, 500.0)]
    line = edge_split_lines(runs)
    assert "L1 150.0 / 1500.0" in line and "L1 + cGAN 100.0 / 1750.0" in line
    assert line.endswith("edged 1/2; edgeless 1/2")
    assert edge_split_lines([*runs, {"row": "L1", "seed": 2}]) == ""


def test_fid_terms_split_the_fid_into_its_mean_and_covariance_parts() -> None:
    from pix2pix_fid_mixture import fid_terms

    rng = np.random.default_rng(0)
    real = rng.normal(0.0, 1.0, (400, 3))
    real -= real.mean(0)  # mean exactly 0, so scaling it keeps the mean
    shifted = real + np.array([3.0, 0.0, 4.0])  # same covariance, means 5 apart
    terms = fid_terms(real, shifted)
    assert terms["mean_term"] == pytest.approx(25.0) and abs(terms["cov_term"]) < 1e-6
    wider = fid_terms(real, real * 2.0)  # same mean, each sd doubled: covariance term ~ 3 x (2 - 1)^2
    assert wider["mean_term"] < 1e-20 and wider["cov_term"] == pytest.approx(3.0, rel=0.1)
