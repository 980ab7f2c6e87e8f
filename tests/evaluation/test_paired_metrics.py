"""Pix2Pix scores: the paired scores of perfect and blank translations."""

import torch

from ganforge.data.builtin_pairs import labels2scenes
from ganforge.evaluation.paired_metrics import paired_scores


def test_perfect_translations_score_like_the_real_targets() -> None:
    test = labels2scenes(count=60, split="test")
    a, b, _, maps = test.heldout(60)
    perfect = paired_scores(b, b, "labels2scenes", maps=maps)
    assert perfect["l1"] == 0 and perfect["ssim"] > 0.999 and perfect["fid"] < 1e-3
    assert perfect["fcn_pixel_accuracy"] == perfect["fcn_pixel_accuracy_real"]
    blank = paired_scores(torch.full_like(b, 0.5), b, "labels2scenes", maps=maps, with_real=False)
    assert blank["fcn_pixel_accuracy"] < 0.6 and blank["psnr"] < perfect["psnr"]
    assert "fcn_pixel_accuracy_real" not in blank
