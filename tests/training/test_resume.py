"""Exact resume: a run continued from any of its checkpoints ends bit-for-bit where the uninterrupted run
ended — weights, EMA, optimizer moments, schedulers, data position, RNG streams and the metrics log.

Protocol: train ``STEPS`` steps keeping every checkpoint, remember the final checkpoint's bytes and the
metrics, then for each earlier checkpoint k (newest first) drop everything after k
(:func:`remove_checkpoints_after`, as if the process had died right after writing k) and ``gf.resume`` the
run. The re-written final checkpoint must equal the remembered one byte for byte. ``finish_run`` (plots,
evaluation) is replaced by a stub: it runs after training and cannot change what is compared.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import safetensors.torch

import ganforge as gf
from ganforge.cli import main
from ganforge.training import metrics_log
from ganforge.training.checkpoint import (
    MODEL_FILE,
    STATE_FILE,
    checkpoint_dir_name,
    list_checkpoints,
    remove_checkpoints_after,
)

STEPS, EVERY = 24, 8
TINY = [
    "model.generator.hidden=[16]",
    "model.discriminator.hidden=[16]",
    "train.batch_size=32",
    "train.log_every=4",
    f"train.checkpoint_every={EVERY}",
    "train.keep_checkpoints=10",
    "monitors.mode_collapse=false",
]

# name -> (recipe, extra overrides); together they cover EMA, every lr schedule, three optimizers,
# infinite and finite (epoch-shuffled) data, labels, lazy R1, n_critic > 1 with clipping, and a 3-D input.
RECIPES: dict[str, tuple[str, list[str]]] = {
    "ema+linear-decay": ("ring8", ["train.ema=0.9", "train.lr_decay=linear", "train.lr_final=0.1"]),
    "cosine+rmsprop": ("moons", ["train.lr_decay=cosine", "train.optimizer.name=rmsprop", "train.optimizer.lr=1e-3"]),
    "array-file": ("points", ["train.ema=0.5", "train.optimizer.name=sgd", "train.optimizer.momentum=0.9"]),
    "r1-lazy": ("grid25", ["model.penalties={r1: {weight: 1.0, every: 3}}", "train.lr_decay=linear"]),
    "wgan-n_critic": (
        "ring8",
        ["model.objective=wasserstein", "model.n_critic=3", "model.clip_weights=0.05", "train.optimizer.name=rmsprop"],
    ),
}


@pytest.fixture(autouse=True)
def _no_final_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip plots and evaluation after training: they are not part of what resume must reproduce."""
    import ganforge.report.summary as summary

    monkeypatch.setattr(
        summary,
        "finish_run",
        lambda trainer, path, seconds, **_: SimpleNamespace(path=path, summary={}, step=trainer.step, trainer=trainer),
    )


def _points_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    path = tmp_path / "points.npy"
    np.save(path, np.concatenate([rng.normal(0, 1, (50, 2)), rng.normal(4, 0.5, (27, 2))]).astype(np.float32))
    return path  # 77 rows: batches of 32 straddle epochs, so the shuffle order must be restored exactly


def _final_bytes(run: Path) -> dict[str, dict[str, bytes]]:
    """Every tensor of the final checkpoint as (dtype, shape, raw bytes). Files are not compared whole:
    safetensors writes its metadata map in an arbitrary order."""
    folder = run / "checkpoints" / checkpoint_dir_name(STEPS)
    out = {}
    for name in (MODEL_FILE, STATE_FILE):
        tensors = safetensors.torch.load_file(folder / name)
        out[name] = {k: (str(t.dtype), tuple(t.shape), t.numpy().tobytes()) for k, t in tensors.items()}
    return out


def _cli(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def _records(run: Path) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "time"} for r in metrics_log.read(run / "metrics.jsonl")]


@pytest.mark.parametrize("name", list(RECIPES))
def test_resume_from_every_checkpoint_is_bit_for_bit(tmp_path: Path, name: str) -> None:
    recipe, extra = RECIPES[name]
    sets = [*TINY, *extra]
    if recipe == "points":
        sets.append(f"data.path={_points_file(tmp_path)}")
    run = tmp_path / "run"
    gf.train(recipe, steps=STEPS, out=run, overrides=sets, show_progress=False)
    assert [c.step for c in list_checkpoints(run)] == [8, 16, 24]
    expected, expected_log = _final_bytes(run), _records(run)
    assert expected_log[-1]["step"] == STEPS

    for k in (16, 8):
        removed = sorted(p.name for p in remove_checkpoints_after(run, k))
        assert removed == [checkpoint_dir_name(s) for s in (16, 24) if s > k]
        result = gf.resume(run, show_progress=False)
        assert result.step == STEPS
        got = _final_bytes(run)
        assert got[MODEL_FILE] == expected[MODEL_FILE], f"{name}: weights differ after resuming from step {k}"
        assert got[STATE_FILE] == expected[STATE_FILE], f"{name}: optimizer/RNG/data state differs (from {k})"
        assert _records(run) == expected_log, f"{name}: metrics differ after resuming from step {k}"


def test_resume_ignores_global_rng_state_left_in_the_process(tmp_path: Path) -> None:
    """Resume must not depend on anything left in the process: scramble every global RNG first."""
    import random

    import torch

    run = tmp_path / "run"
    gf.train("ring8", steps=STEPS, out=run, overrides=[*TINY, "train.ema=0.9"], show_progress=False)
    expected = _final_bytes(run)
    remove_checkpoints_after(run, 8)
    torch.manual_seed(999)
    np.random.seed(999)
    random.seed(999)
    torch.randn(1000)
    gf.resume(run, show_progress=False)
    assert _final_bytes(run) == expected


def test_killed_before_first_checkpoint_restarts_from_step_zero_with_saved_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sets = [*TINY, "train.ema=0.9", "train.lr_decay=linear", "seed=7"]
    reference = tmp_path / "reference"
    gf.train("ring8", steps=STEPS, out=reference, overrides=sets, show_progress=False)

    # What a process killed at step 6 leaves: config + data description, a torn metrics line, a
    # half-written checkpoint under its temporary name, and a step folder without meta.json.
    run = tmp_path / "killed"
    run.mkdir()
    shutil.copy(reference / "config.yaml", run / "config.yaml")
    shutil.copy(reference / "data.json", run / "data.json")
    (run / "metrics.jsonl").write_text('{"step": 4, "loss_d": 1.0}\n{"step": 8, "los')
    (run / "checkpoints" / ".tmp-step-00000008-999999999").mkdir(parents=True)
    (run / "checkpoints" / ".tmp-step-00000008-999999999" / MODEL_FILE).write_bytes(b"\x00" * 10)
    (run / "checkpoints" / checkpoint_dir_name(8)).mkdir()
    (run / "checkpoints" / checkpoint_dir_name(8) / MODEL_FILE).write_bytes(b"partial")

    assert _cli(["resume", str(run), "--quiet"]) == 0
    assert "from step 0 (no complete checkpoint; using its saved config)" in capsys.readouterr().err
    assert _final_bytes(run) == _final_bytes(reference)
    assert _records(run) == _records(reference)
    assert not any(p.name.startswith(".tmp-") for p in (run / "checkpoints").iterdir())


def test_resume_says_which_checkpoint_it_uses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    gf.train("ring8", steps=16, out=run, overrides=TINY, show_progress=False)
    # a newer, damaged checkpoint must be passed over in favour of the newest valid one
    damaged = run / "checkpoints" / checkpoint_dir_name(16) / MODEL_FILE
    damaged.write_bytes(damaged.read_bytes()[:-7])
    assert _cli(["resume", str(run), "--steps", "24", "--quiet"]) == 0
    assert "from checkpoint step 8 (step-00000008)" in capsys.readouterr().err
    assert [c.step for c in list_checkpoints(run)] == [8, 16, 24]


def _snapshot(run: Path) -> dict[str, tuple[bytes, int] | str]:
    """Every file's bytes and mtime, every folder by name: what a failing command must leave as it was."""
    return {
        str(p.relative_to(run)): (p.read_bytes(), p.stat().st_mtime_ns) if p.is_file() else "dir"
        for p in sorted(run.rglob("*"))
    }


def _damage_every_meta(run: Path) -> None:
    for meta in (run / "checkpoints").glob("step-*/meta.json"):
        meta.write_text(meta.read_text().replace('"step"', '"stop"', 1))


BREAKS = {
    "data.json missing": lambda run: (run / "data.json").unlink(),
    "data.json damaged": lambda run: (run / "data.json").write_text('{"kind": "points", "sample_shape": "x"}'),
    "data.json not json": lambda run: (run / "data.json").write_bytes(b"\x00\xff"),
    "every checkpoint damaged": _damage_every_meta,
}


@pytest.mark.parametrize("name", sorted(BREAKS))
def test_a_failing_resume_changes_nothing_in_the_run(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    gf.train("ring8", steps=16, out=run, overrides=TINY, show_progress=False)
    BREAKS[name](run)
    before = _snapshot(run)
    capsys.readouterr()
    assert _cli(["resume", str(run), "--steps", "40", "--quiet"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert _snapshot(run) == before  # no step written, none deleted, config.yaml and metrics.jsonl as they were


@pytest.mark.parametrize(
    "edit, shown",
    [({"lr": 0.001}, "lr 0.002 -> 0.001"), ({"name": "rmsprop"}, "name adam -> rmsprop"),
     ({"betas": [0.9, 0.99]}, "betas [0.0, 0.9] -> [0.9, 0.99]")],
)
def test_an_edited_optimizer_is_refused_not_ignored(
    tmp_path: Path, edit: dict, shown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    run = tmp_path / "run"
    gf.train("ring8", steps=16, out=run, overrides=TINY, show_progress=False)
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["train"]["optimizer"].update(edit)
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    before = _snapshot(run)
    capsys.readouterr()
    assert _cli(["resume", str(run), "--steps", "24", "--quiet"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip() and not line.startswith("resuming")]
    assert len(err) == 1 and shown in err[0] and "optimizer" in err[0], err
    assert _snapshot(run) == before
