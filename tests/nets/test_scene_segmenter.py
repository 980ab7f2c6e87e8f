"""The scene segmenter behind the FCN-score: scores from the confusion matrix, the shipped weights on held-out
real scenes (and its card)."""

import torch

from ganforge.data.builtin_pairs import labels2scenes
from ganforge.nets.scene_segmenter import load_scene_segmenter, scene_segmenter_card, segmentation_scores


def test_segmentation_scores_match_hand_counts() -> None:
    true = torch.tensor([[0, 0, 1, 1], [2, 2, 2, 2]])
    pred = torch.tensor([[0, 1, 1, 1], [2, 2, 0, 0]])
    scores = segmentation_scores(pred, true, num_classes=4)  # class 3 absent: not averaged
    assert scores["pixel_accuracy"] == 5 / 8
    assert abs(scores["class_accuracy"] - (1 / 2 + 1 + 1 / 2) / 3) < 1e-12
    iou = (1 / 4 + 2 / 3 + 2 / 4) / 3  # class 0: 1 / (2 + 3 - 1); class 1: 2 / (2 + 3 - 2); class 2: 2 / (4 + 2 - 2)
    assert abs(scores["class_iou"] - iou) < 1e-12


def test_shipped_segmenter_reads_held_out_real_scenes() -> None:
    card = scene_segmenter_card()
    test = labels2scenes(count=200, split="test")
    scores = segmentation_scores(load_scene_segmenter().predict(test.x_b), test.label_maps, 5)
    assert scores["pixel_accuracy"] > 0.97 and card["heldout_real_pixel_accuracy"] > 0.97


def test_flat_scenes_fill_every_region_with_its_mean_colour() -> None:
    from ganforge.nets.scene_segmenter import flat_scenes

    scenes = torch.zeros(1, 3, 2, 2)
    scenes[0, 0] = torch.tensor([[0.2, 0.4], [1.0, 0.0]])
    maps = torch.tensor([[[0, 0], [1, 2]]])
    flat = flat_scenes(scenes, maps, 3)
    assert torch.allclose(flat[0, 0], torch.tensor([[0.3, 0.3], [1.0, 0.0]]))
    assert flat[0, 1:].abs().max() == 0


def test_class_color_jitter_draws_one_colour_change_per_class_region() -> None:
    from ganforge.nets.scene_segmenter import class_color_jitter

    scenes = torch.full((2, 3, 4, 4), 0.5)
    maps = torch.zeros(2, 4, 4, dtype=torch.long)
    maps[:, 2:] = 1
    out = class_color_jitter(scenes, maps, 2, torch.Generator().manual_seed(0), strength=0.5)
    for i in range(2):
        for c in range(2):
            region = out[i][:, maps[i] == c]  # (3, pixels): one colour per region
            assert torch.allclose(region, region[:, :1].expand_as(region))
    assert not torch.allclose(out[:, :, 0, 0], out[:, :, 3, 3])  # the two classes moved differently
    assert out.min() >= 0 and out.max() <= 1


def test_color_jitter_is_the_one_region_case_of_the_class_jitter() -> None:
    from ganforge.nets.scene_segmenter import class_color_jitter, color_jitter

    x = torch.rand(3, 3, 5, 5, generator=torch.Generator().manual_seed(1))
    whole = torch.zeros(3, 5, 5, dtype=torch.long)
    out = color_jitter(x, torch.Generator().manual_seed(2), 0.25)
    assert torch.equal(out, class_color_jitter(x, whole, 1, torch.Generator().manual_seed(2), 0.25))
    flat = color_jitter(torch.full((2, 3, 4, 4), 0.5), torch.Generator().manual_seed(2))
    assert torch.allclose(flat, flat[:, :, :1, :1].expand_as(flat))  # one colour change per image


def test_texture_segmenter_card_records_real_and_flat_scores() -> None:
    card = scene_segmenter_card("texture")
    assert card["color_jitter_per_class"] is True
    assert card["validity_real_class_accuracy"] > 0.95 > 0.75 > card["validity_flat_class_accuracy"]


def test_unknown_segmenter_variant_is_a_clear_error() -> None:
    import pytest

    from ganforge.errors import GanforgeError

    with pytest.raises(GanforgeError, match="variant 'grey' unknown"):
        load_scene_segmenter(variant="grey")
