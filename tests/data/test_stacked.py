"""The ``stacked-digits`` data source: three digits per image, labelled by their 1000-way mode."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import ganforge as gf
from ganforge.data.base import ArraySource
from ganforge.data.images import digits_images
from ganforge.data.registry import build_source
from ganforge.data.stacked import NUM_MODES, StackedDigitsSource, draw_stacked
from ganforge.errors import GanforgeError


def test_draws_stack_three_digits_and_label_them_by_mode() -> None:
    x, modes = draw_stacked(200, torch.Generator().manual_seed(0))
    assert x.shape == (200, 3, 8, 8) and modes.shape == (200,)
    assert int(modes.min()) >= 0 and int(modes.max()) < NUM_MODES
    digits, labels = digits_images()
    flat = digits.reshape(len(digits), -1)
    for i in range(10):
        spelled = 0
        for c in range(3):  # every channel is one of the 1797 digits; the mode spells their labels
            match = (flat == x[i, c].reshape(1, -1)).all(dim=1).nonzero()[0, 0]
            spelled = 10 * spelled + int(labels[match])
        assert spelled == int(modes[i])
    again, _ = draw_stacked(200, torch.Generator().manual_seed(0))
    assert torch.equal(x, again)
    # 20000 draws cover the 1000 modes about uniformly
    _, many = draw_stacked(20_000, torch.Generator().manual_seed(1))
    counts = torch.bincount(many, minlength=NUM_MODES)
    assert int((counts > 0).sum()) == NUM_MODES and int(counts.max()) < 50


def test_fresh_source_batches_scaling_and_real_samples() -> None:
    source = build_source("stacked-digits", {"size": 16})
    assert isinstance(source, StackedDigitsSource)
    assert source.kind == "images" and source.sample_shape == (3, 16, 16) and source.num_classes == NUM_MODES
    source.fit_scaler("tanh")
    batch = source.batch(64, torch.Generator().manual_seed(0))
    assert batch.x.shape == (64, 3, 16, 16) and batch.y is not None and batch.y.shape == (64,)
    assert float(batch.x.min()) >= -1.0 and float(batch.x.max()) <= 1.0
    # one shift and scale for all pixels, from the known range [0, 1]
    torch.testing.assert_close(source.scaler.to_model(torch.tensor([0.0, 0.5, 1.0])), torch.tensor([-1.0, 0.0, 1.0]))
    first, second = source.real(50, seed=3), source.real(50, seed=3)
    assert torch.equal(first.x, second.x) and float(first.x.min()) >= 0.0 and float(first.x.max()) <= 1.0
    assert not torch.equal(source.batch(64, torch.Generator().manual_seed(1)).x, batch.x)


def test_fixed_count_is_a_finite_set() -> None:
    source = build_source("stacked-digits", {"count": 300, "seed": 4})
    assert isinstance(source, ArraySource) and len(source) == 300 and source.num_classes == NUM_MODES
    again = build_source("stacked-digits", {"count": 300, "seed": 4})
    assert torch.equal(source.x, again.x) and torch.equal(source.y, again.y)
    assert source.info == {"size": 8, "count": 300, "seed": 4}
    with pytest.raises(GanforgeError, match="data.count"):
        build_source("stacked-digits", {"count": 0})
    with pytest.raises(GanforgeError, match="size"):
        build_source("stacked-digits", {"size": 2})


def test_recipe_trains_and_counts_modes(tmp_path: Path) -> None:
    overrides = [
        "model.generator.width=8",
        "model.discriminator.width=8",
        "model.noise_dim=16",
        "train.batch_size=16",
        "train.snapshot_every=0",
        "eval.n=400",
        "eval.metrics=[modes, fid]",
    ]
    run = gf.train("stacked-digits-dcgan", steps=3, out=tmp_path / "run", overrides=overrides, show_progress=False)
    evaluation = run.summary["evaluation"]
    assert evaluation["features"] == "digits-per-channel"
    assert isinstance(evaluation["modes"], int) and 1 <= evaluation["modes"] <= NUM_MODES
    assert evaluation["modes_real"] > evaluation["modes"]  # 3 steps of training: far from covering 1000 modes
    assert evaluation["kl"] > evaluation["kl_real"]
    assert run.data.sample_shape == (3, 16, 16)
