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
