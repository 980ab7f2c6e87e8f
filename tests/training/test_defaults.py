"""The settings ganforge fits to a user's networks and files (training/defaults.py)."""

from __future__ import annotations

from torch import nn

import ganforge as gf
from ganforge.errors import did_you_mean
from ganforge.training.defaults import for_user_model


def _small_gan() -> gf.GAN:
    return gf.GAN(nn.Sequential(nn.Linear(1, 8), nn.ReLU(), nn.Linear(8, 1)), nn.Linear(1, 1))


def test_an_override_of_the_lr_alone_keeps_the_tuned_betas() -> None:
    raw = {"name": "x", "data": {"source": "normal"}, "model": {"type": "python"}}
    fitted, line = for_user_model(raw, _small_gan(), gf.data.normal(10, 1), ["train.optimizer.lr=0.001"])
    config = gf.build_config(fitted, ["train.optimizer.lr=0.001"])
    assert config.train.optimizer.lr == 0.001 and tuple(config.train.optimizer.betas) == (0.0, 0.9)
    assert "Adam betas (0, 0.9)" in line and "lr 0.002" not in line  # the line says what was chosen, not the lr
    fitted, line = for_user_model(raw, _small_gan(), gf.data.normal(10, 1), ["train.optimizer.name=sgd"])
    assert "optimizer" not in fitted["train"] and "Adam" not in line  # another optimizer: the user's own choice


def test_a_key_in_the_wrong_section_is_suggested_by_its_name() -> None:
    keys = ["train.steps", "train.optimizer.lr", "train.optimizer.betas", "eval.n"]
    assert did_you_mean("train.lr", keys) == " (did you mean 'train.optimizer.lr'?)"
    assert did_you_mean("train.stepz", keys) == " (did you mean 'train.steps'?)"
