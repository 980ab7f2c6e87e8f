"""The settings ganforge fits to a user's networks and files (training/defaults.py)."""

from __future__ import annotations

from torch import nn

import ganforge as gf
from ganforge.errors import did_you_mean
from ganforge.training.defaults import for_user_model


def _small_gan() -> gf.GAN:
    return gf.GAN(nn.Sequential(nn.Linear(1, 8), nn.ReLU(), nn.Linear(8, 1)), nn.Linear(1, 1))


def test_an_override_of_the_lr_is_the_users_optimizer_and_the_line_says_what_fills_the_rest() -> None:
    """The notes' examples set only the lr (their Adam(0.001)); the tuned (0, 0.9) betas belong to the tuned lr.
    The line used to go silent about the optimizer; it now names the betas the run uses."""
    raw = {"name": "x", "data": {"source": "normal"}, "model": {"type": "python"}}
    fitted, line = for_user_model(raw, _small_gan(), gf.data.normal(10, 1), ["train.optimizer.lr=0.001"])
    config = gf.build_config(fitted, ["train.optimizer.lr=0.001"])
    betas = tuple(config.train.optimizer.betas)
    assert config.train.optimizer.lr == 0.001 and betas == (0.5, 0.999)
    assert f"betas {betas}" in line and "lr 0.002" not in line


def test_a_key_in_the_wrong_section_is_suggested_by_its_name() -> None:
    keys = ["train.steps", "train.optimizer.lr", "train.optimizer.betas", "eval.n"]
    assert did_you_mean("train.lr", keys) == " (did you mean 'train.optimizer.lr'?)"
    assert did_you_mean("train.stepz", keys) == " (did you mean 'train.steps'?)"
