"""``train.tensorboard``: scalars, sample pictures and histograms, read back with TensorBoard's event reader."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import ganforge as gf
from ganforge.errors import GanforgeError
from ganforge.training.metrics_log import read

pytest.importorskip("tensorboard")


def _events(run_dir: Path):  # noqa: ANN202 - tensorboard's accumulator
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"scalars": 0, "images": 0, "histograms": 0})
    acc.Reload()
    return acc


def test_points_run_logs_scalars_pictures_and_histograms(tmp_path: Path) -> None:
    run = gf.train("ring8", steps=200, out=tmp_path / "run", show_progress=False,
                   overrides=["train.tensorboard=true", "train.log_every=20", "eval.n=300"])
    acc = _events(run.path)
    tags = acc.Tags()
    for tag in ("loss_d", "loss_g", "d_real", "d_fake", "grad_norm_d", "lr/discriminator", "lr/generator"):
        assert tag in tags["scalars"], tag
    loss = acc.Scalars("loss_d")
    assert [e.step for e in loss] == list(range(20, 201, 20))
    records = read(run.path / "metrics.jsonl")
    assert loss[-1].value == pytest.approx(records[-1]["loss_d"], rel=1e-6)
    assert "samples" in tags["images"]
    assert [e.step for e in acc.Images("samples")] == list(range(20, 201, 20))  # 200 steps / 20 pictures
    weights = [t for t in tags["histograms"] if t.startswith("weights/generator.")]
    grads = [t for t in tags["histograms"] if t.startswith("gradients/discriminator.")]
    assert weights and grads
    assert run.summary["tensorboard"] == str(run.path / "tensorboard")


def test_image_run_logs_sample_grids(tmp_path: Path) -> None:
    run = gf.train("digits-dcgan", steps=20, out=tmp_path / "run", show_progress=False,
                   overrides=["train.tensorboard=true", "train.log_every=10", "eval.n=200", "train.batch_size=32"])
    acc = _events(run.path)
    images = acc.Images("samples")
    assert [e.step for e in images] == [10, 20]
    assert images[-1].encoded_image_string.startswith(b"\x89PNG")
    assert images[-1].width > 16 * 7  # a grid of the 64 samples, not one 16x16 digit


def test_missing_package_is_one_line_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # import tensorboard -> ImportError
    with pytest.raises(GanforgeError, match=r"pip install 'ganforge\[tensorboard\]'") as err:
        gf.train("ring8", steps=10, out=tmp_path / "run", show_progress=False, overrides=["train.tensorboard=true"])
    assert "\n" not in str(err.value)
    assert not (tmp_path / "run").exists()
