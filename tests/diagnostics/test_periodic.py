"""Metrics during training and the best checkpoint: logged, kept, and invisible to the training itself."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch

import ganforge as gf
from ganforge.data.registry import build_source
from ganforge.diagnostics.periodic import PeriodicEvaluation, RNGGuard, parse_best
from ganforge.errors import GanforgeError
from ganforge.nets.conv import DCGANDiscriminator, DCGANGenerator
from ganforge.training import metrics_log
from ganforge.training.checkpoint import list_checkpoints, load_checkpoint, save_checkpoint

SMALL_POINTS = [
    "model.generator.hidden=[32, 32]",
    "model.discriminator.hidden=[32, 32]",
    "train.batch_size=64",
    "train.log_every=5",
    "eval.n=300",
]


def _points_run(out: Path, steps: int, *extra: str) -> gf.Run:
    return gf.train("ring8", steps=steps, out=out, show_progress=False, overrides=[*SMALL_POINTS, *extra])


def test_parse_best_directions() -> None:
    assert parse_best("fid") == ("fid", "min")
    assert parse_best("coverage") == ("coverage", "max")
    assert parse_best("precision_matched") == ("precision_matched", "max")
    assert parse_best("modes") == ("modes", "max")
    assert parse_best("max:my_score") == ("my_score", "max")
    assert parse_best("min: w1") == ("w1", "min")
    with pytest.raises(GanforgeError, match="min:NAME"):
        parse_best("sharpness")


def test_rng_guard_restores_every_generator() -> None:
    torch.manual_seed(3)
    np.random.seed(3)
    random.seed(3)
    with RNGGuard():
        torch.rand(5), np.random.rand(5), random.random()
    after = (torch.rand(2), np.random.rand(2), random.random())
    torch.manual_seed(3)
    np.random.seed(3)
    random.seed(3)
    expected = (torch.rand(2), np.random.rand(2), random.random())
    assert torch.equal(after[0], expected[0]) and np.array_equal(after[1], expected[1]) and after[2] == expected[2]


def test_periodic_evaluation_does_not_change_training(tmp_path: Path) -> None:
    plain = _points_run(tmp_path / "plain", 30)
    watched = _points_run(tmp_path / "watched", 30, "eval.every=10", "eval.best=w1")
    a, _ = load_checkpoint(plain.path, weights_only=True)
    b, _ = load_checkpoint(watched.path, weights_only=True)
    assert a["model"].keys() == b["model"].keys()
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name
    records = metrics_log.read(watched.path / "metrics.jsonl")
    evaluated = [r for r in records if "eval" in r]
    assert [r["step"] for r in evaluated] == [10, 20, 30]
    assert all({"w1", "ks", "n_fake", "eval_seconds"} <= set(r["eval"]) for r in evaluated)
    assert not any("eval" in r for r in metrics_log.read(plain.path / "metrics.jsonl"))
    # the same losses were logged at every step, with or without evaluation
    losses = [(r["step"], r["loss_d"], r["loss_g"]) for r in records]
    assert losses == [(r["step"], r["loss_d"], r["loss_g"]) for r in metrics_log.read(plain.path / "metrics.jsonl")]


def test_best_checkpoint_is_kept_beyond_rotation_and_recorded(tmp_path: Path) -> None:
    run = _points_run(
        tmp_path / "best", 40, "eval.every=10", "eval.best=w1", "train.checkpoint_every=5", "train.keep_checkpoints=1"
    )
    evaluated = {r["step"]: r["eval"] for r in metrics_log.read(run.path / "metrics.jsonl") if "eval" in r}
    best_step = min(evaluated, key=lambda s: evaluated[s]["w1"])
    best = run.summary["best"]
    assert best["metric"] == "w1" and best["direction"] == "min" and best["step"] == best_step
    assert best["value"] == pytest.approx(evaluated[best_step]["w1"])
    assert evaluated[best_step].get("is_best") is True
    # regular checkpoints rotate down to one; the best one lives on in its own folder
    assert [c.step for c in list_checkpoints(run.path)] == [40]
    folder = run.path / best["checkpoint"]
    assert folder.is_dir() and folder.name == f"step-{best_step:08d}"
    assert [c.step for c in list_checkpoints(run.path / "best")] == [best_step]
    loaded = gf.load(run.path, checkpoint=folder)
    assert loaded.step == best_step
    torch.manual_seed(0)
    again = loaded.evaluate(300, ["w1"])
    assert again["w1"] == pytest.approx(best["value"], rel=0.5)  # same weights; fresh fake samples


def test_best_needs_every_and_a_reported_metric(tmp_path: Path) -> None:
    with pytest.raises(GanforgeError, match="eval.every"):
        _points_run(tmp_path / "a", 10, "eval.best=w1")
    with pytest.raises(GanforgeError, match="reports no such number.*w1"):
        _points_run(tmp_path / "b", 10, "eval.every=5", "eval.best=max:sharpness")


def test_a_best_checkpoint_the_state_does_not_know_is_dropped(tmp_path: Path) -> None:
    callback = PeriodicEvaluation(10, 100, [], "w1", tmp_path)
    weights = {"model": {"w": torch.zeros(2)}}
    save_checkpoint(tmp_path / "best", 30, weights, keep=1)  # written after the step a resume restarts from
    callback.load_state_dict({"next_due": 20, "evaluations": 1, "best_value": 0.5, "best_step": 10})
    callback.on_start(None)  # type: ignore[arg-type]
    assert not (tmp_path / "best").exists()
    save_checkpoint(tmp_path / "best", 10, weights, keep=1)  # the one the state knows stays
    callback.load_state_dict({"next_due": 20, "evaluations": 1, "best_value": 0.5, "best_step": 10})
    callback.on_start(None)  # type: ignore[arg-type]
    assert [c.step for c in list_checkpoints(tmp_path / "best")] == [10]


def test_resume_keeps_the_best_and_evaluates_on(tmp_path: Path) -> None:
    sets = ["eval.every=10", "eval.best=w1", "train.checkpoint_every=10", "train.lr_decay=none"]  # same schedule
    first = _points_run(tmp_path / "r", 20, *sets)
    resumed = gf.resume(first.path, steps=40, show_progress=False)
    straight = _points_run(tmp_path / "s", 40, *sets)
    assert resumed.summary["best"] == {**straight.summary["best"], "checkpoint": resumed.summary["best"]["checkpoint"]}
    steps = [r["step"] for r in metrics_log.read(resumed.path / "metrics.jsonl") if "eval" in r]
    assert steps == [10, 20, 30, 40]


def test_images_are_evaluated_during_training_with_floors(tmp_path: Path) -> None:
    torch.manual_seed(0)
    g = DCGANGenerator(noise_dim=8, channels=1, resolution=8, width=8)
    d = DCGANDiscriminator(channels=1, resolution=8, width=8)
    run = gf.train(
        gf.GAN(g, d, noise_dim=8),
        data=build_source("digits", {}),
        steps=8,
        out=tmp_path / "img",
        show_progress=False,
        batch_size=32,
        overrides=["eval.every=4", "eval.best=fid", "eval.n=80", "eval.metrics=[fid, precision]", "train.log_every=4"],
    )
    evaluated = [r["eval"] for r in metrics_log.read(run.path / "metrics.jsonl") if "eval" in r]
    assert len(evaluated) == 2
    for report in evaluated:
        assert {"fid", "fid_noise_floor", "noise_floor_n", "precision", "recall", "features", "reference"} <= set(
            report
        )
        assert report["features"] == "digits" and report["n_fake"] == 80
    assert run.summary["best"]["value"] == pytest.approx(min(r["fid"] for r in evaluated))


def test_best_is_chosen_on_a_validation_split_never_the_test_split(tmp_path: Path, run_cli) -> None:
    """Pix2Pix, SRGAN and CycleGAN runs are evaluated on their test split: eval.best chose the checkpoint on the
    pairs its numbers were then reported on, and `eval --best` printed the very value that did the choosing. Where
    the data has a validation split the evaluations during training read it; where it has none, eval.best is
    refused before anything is written."""
    with pytest.raises(GanforgeError, match=r"eval.best=min:l1: edges2digits runs are evaluated on their test split, "
                                            r"with no validation split .*--set data.val_fraction=0.1"):
        gf.train("edges2digits", steps=2, out=tmp_path / "p", show_progress=False,
                 overrides=["eval.every=1", "eval.best=min:l1"])
    assert not (tmp_path / "p").exists()  # refused before anything was written
    run = gf.train("labels2scenes", steps=4, out=tmp_path / "scenes", show_progress=False, batch_size=4,
                   overrides=["data.count=16", "eval.every=2", "eval.best=min:l1", "eval.n=12", "train.log_every=2"])
    references = [r["eval"]["reference"] for r in metrics_log.read(run.path / "metrics.jsonl") if "eval" in r]
    assert len(references) == 2 and all(r.startswith("labels2scenes split=val") for r in references)
    assert run.summary["best"]["evaluation_reference"].startswith("labels2scenes split=val")
    assert run.summary["best"]["split"] == "val"
    assert "best checkpoint</th><td>step " in (page := (run.path / "report.html").read_text(encoding="utf-8"))
    assert "chosen on the validation split" in page
    code, out, _ = run_cli("eval", run.path, "--best", "-n", "12")
    assert code == 0 and "best checkpoint was chosen on the validation split; these numbers are on the test" in out
    code, out, _ = run_cli("eval", run.path, "--best", "-n", "12", "--json")
    assert code == 0 and json.loads(out)["reference"].startswith("labels2scenes split=test")
    upscaler = gf.train("photos-srgan", steps=2, out=tmp_path / "sr", show_progress=False, batch_size=4,
                        overrides=["data.count=16", "data.val_fraction=0.1", "eval.every=1", "eval.best=max:psnr",
                                   "eval.n=12", "train.log_every=1"])
    assert upscaler.summary["best"]["evaluation_reference"].startswith("sr-patches split=val")
    with pytest.raises(GanforgeError, match=r"hold out a validation split of the training data with --set "
                                            r"data.val_fraction=0.1"):
        gf.train("photos-srgan", steps=2, out=tmp_path / "sr-test", show_progress=False,
                 overrides=["eval.every=1", "eval.best=max:psnr"])
    run = _points_run(tmp_path / "best", 10, "eval.every=5", "eval.best=w1")
    code, out, _ = run_cli("eval", run.path, "--best", "-n", "300")
    assert code == 0 and "chosen by this evaluation on the same real samples, so its number is optimistic" in out


def test_eval_best_without_a_best_checkpoint_says_how_to_keep_one(tmp_path: Path, run_cli) -> None:
    digits = gf.train("edges2digits", steps=2, out=tmp_path / "p", show_progress=False, batch_size=4)
    code, _, err = run_cli("eval", digits.path, "--best")
    assert code == 2 and "has no best checkpoint, and eval.best could not keep one: edges2digits runs are " in err
    points = _points_run(tmp_path / "points", 5)
    code, _, err = run_cli("eval", points.path, "--best")
    assert code == 2 and "train with --set eval.every=500 --set eval.best=w1 to keep one" in err
