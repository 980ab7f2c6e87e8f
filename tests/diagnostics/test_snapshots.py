"""Fixed-noise sample snapshots: when they are taken, that they leave training untouched, exact resume, GIF."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import safetensors.torch
from PIL import Image

import ganforge as gf
from ganforge.diagnostics.snapshots import GIF_NAME, SAMPLES_DIR, snapshot_path
from ganforge.training.checkpoint import MODEL_FILE, checkpoint_dir_name, remove_checkpoints_after

TINY = [
    "data.size=8",
    "model.generator.width=4",
    "model.discriminator.width=4",
    "train.batch_size=16",
    "train.ema=0.9",
    "train.log_every=2",
    "train.checkpoint_every=3",
    "train.keep_checkpoints=10",
]


@pytest.fixture(autouse=True)
def _callbacks_only_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace the end-of-run report (plots, evaluation) by the callbacks' own end hooks."""
    import ganforge.report.summary as summary

    monkeypatch.setattr(
        summary,
        "finish_run",
        lambda trainer, path, seconds, **_: SimpleNamespace(path=path, summary=trainer.finish(), trainer=trainer),
    )


def _train(tmp_path: Path, name: str, steps: int, *sets: str, recipe: str = "digits-dcgan"):  # noqa: ANN202
    return gf.train(recipe, out=tmp_path / name, show_progress=False, overrides=[*TINY, f"train.steps={steps}", *sets])


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image).copy()


def test_snapshots_at_every_n_steps_and_a_gif(tmp_path: Path) -> None:
    run = _train(tmp_path, "r", 6, "train.snapshot_every=2")
    info = run.summary["snapshots"]
    assert info["steps"] == [0, 2, 4, 6]
    for step in info["steps"]:
        assert snapshot_path(run.path, step).is_file()
    gif = Path(info["gif"])
    assert gif == run.path / SAMPLES_DIR / GIF_NAME
    with Image.open(gif) as image:
        assert image.n_frames == 4
    # an unconditional grid: 64 images of 8x8, each enlarged to 48x48, 8 per row, 1-pixel borders
    assert _pixels(snapshot_path(run.path, 6)).shape == (8 * 49 + 1, 8 * 49 + 1)
    # the generator changed between snapshots of the same noise
    assert not np.array_equal(_pixels(snapshot_path(run.path, 0)), _pixels(snapshot_path(run.path, 6)))


def test_snapshot_steps_follow_the_logging_steps(tmp_path: Path) -> None:
    """snapshot_every=3 with logs every 2 steps: taken at the first log step at or after each multiple."""
    run = _train(tmp_path, "r", 7, "train.snapshot_every=3", "train.log_every=2")
    assert run.summary["snapshots"]["steps"] == [0, 4, 6, 7]  # 3 -> 4, 6 -> 6, and the last step


def test_only_the_last_step_without_snapshot_every(tmp_path: Path) -> None:
    run = _train(tmp_path, "r", 4, "train.snapshot_every=0")
    info = run.summary["snapshots"]
    assert info["steps"] == [4]
    assert "gif" not in info  # one frame is no animation


def test_snapshots_do_not_change_training(tmp_path: Path) -> None:
    """Sampling the fixed noise every step must leave every weight exactly as without snapshots."""
    a = _train(tmp_path, "a", 6, "train.snapshot_every=1", "train.log_every=1")
    b = _train(tmp_path, "b", 6, "train.snapshot_every=0")
    assert len(a.summary["snapshots"]["steps"]) == 7
    wa = safetensors.torch.load_file(a.path / "checkpoints" / checkpoint_dir_name(6) / MODEL_FILE)
    wb = safetensors.torch.load_file(b.path / "checkpoints" / checkpoint_dir_name(6) / MODEL_FILE)
    assert wa.keys() == wb.keys()
    for key in wa:
        assert np.array_equal(wa[key].numpy(), wb[key].numpy()), key


def test_resume_continues_the_same_pictures(tmp_path: Path) -> None:
    """A run that died after its step-3 checkpoint and was resumed draws the same grids as one that did not."""
    run = _train(tmp_path, "r", 6, "train.snapshot_every=2", "model.conditional=true")
    before = {s: _pixels(snapshot_path(run.path, s)) for s in (0, 2, 4, 6)}
    remove_checkpoints_after(run.path, 3)
    for step in (4, 6):
        snapshot_path(run.path, step).unlink()
    resumed = gf.resume(run.path, show_progress=False)
    assert resumed.summary["snapshots"]["steps"] == [0, 2, 4, 6]
    for step, pixels in before.items():
        assert np.array_equal(_pixels(snapshot_path(run.path, step)), pixels), step
    # a conditional grid: one row per class (10 rows of 8)
    assert before[6].shape == (10 * 49 + 1, 8 * 49 + 1)


def test_only_image_runs_get_snapshots(tmp_path: Path) -> None:
    run = gf.train(
        "ring8",
        out=tmp_path / "pts",
        show_progress=False,
        overrides=["train.steps=2", "train.snapshot_every=1", "monitors.mode_collapse=false"],
    )
    assert "snapshots" not in run.summary
    assert not (run.path / SAMPLES_DIR / GIF_NAME).exists()
