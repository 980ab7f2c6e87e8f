"""Quality floor of the conditional digits GAN, judged by the shipped digits classifier (issue 3's
"generate a 7": the requested class for >= 90 % of samples at full length)."""

from __future__ import annotations

from pathlib import Path

import torch

import ganforge as gf
from ganforge.nets.features import load_digits_classifier


def test_digits_cgan_draws_the_requested_digit(tmp_path: Path) -> None:
    # The shipped recipe at 600 of its 3 000 steps (seed 0; its learning rates are constant). Measured:
    # 91.6 % of 1 000 images (100 per class) are classified as the class asked for (98.8 % at full length).
    run = gf.train(
        "digits-cgan",
        steps=600,
        seed=0,
        out=tmp_path / "cgan",
        show_progress=False,
        overrides=["eval.n=200", "eval.metrics=[fid]", "train.snapshot_every=0"],
    )
    torch.manual_seed(0)
    requested = torch.arange(1000) % 10
    images = gf.load(run.path).sample(1000, label=requested).clamp(0, 1)
    with torch.no_grad():
        predicted = load_digits_classifier().logits(images).argmax(1)
    per_class = torch.stack([(predicted[requested == k] == k).float().mean() for k in range(10)])
    assert float((predicted == requested).float().mean()) > 0.85, per_class
    assert float(per_class.min()) > 0.5, per_class  # no class is left out
