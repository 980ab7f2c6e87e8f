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
    assert perfect["fcn_texture_class_iou"] == perfect["fcn_texture_class_iou_real"] > 0.95
    blank = paired_scores(torch.full_like(b, 0.5), b, "labels2scenes", maps=maps, with_real=False)
    assert blank["fcn_pixel_accuracy"] < 0.6 and blank["psnr"] < perfect["psnr"]
    assert "fcn_pixel_accuracy_real" not in blank


def test_colour_targets_get_rgb_psnr_which_sees_wrong_colours_at_the_right_luma() -> None:
    from ganforge.data.builtin_pairs import gray2color
    from ganforge.data.images import set_channels

    test = gray2color(count=24, split="test")
    _, b, _, _ = test.heldout(24)
    gray = set_channels(b, True).expand(-1, 3, -1, -1)  # same luma, no colour
    scores = paired_scores(gray, b, "gray2color", with_real=False)
    assert scores["psnr"] > 60 and scores["psnr_rgb"] < 40  # luma PSNR cannot tell; RGB PSNR does
    assert "psnr_rgb" not in paired_scores(b[:, :1], b[:, :1], "edges2digits", with_real=False)


def test_only_the_texture_segmenter_scores_flat_scenes_far_below_real_ones() -> None:
    """A textureless output that keeps layout and colour (each region at its mean colour) is what an L1
    regressor converges to; the colour FCN-score barely notices it, the texture FCN-score does."""
    from ganforge.nets.scene_segmenter import flat_scenes

    test = labels2scenes(count=100, split="test")
    _, b, _, maps = test.heldout(100)
    flat = paired_scores(flat_scenes(b, maps, 5), b, "labels2scenes", maps=maps)
    assert flat["fcn_class_accuracy"] > 0.8  # colour + layout alone
    assert flat["fcn_texture_class_accuracy"] < 0.75 < flat["fcn_texture_class_accuracy_real"]
