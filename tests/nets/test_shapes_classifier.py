"""The shipped attribute reader of shapes-text scenes reads real scenes, held-out pairs included."""

import torch

from ganforge.data.captions import parse_held_out, shape_scenes
from ganforge.nets.shapes_classifier import load_shapes_classifier, score_scenes, shapes_card


def test_shipped_reader_reads_fresh_real_scenes() -> None:
    reader = load_shapes_classifier()
    for split, held in (("all", set()), ("held-out", parse_held_out(["green triangle", "yellow circle"]))):
        x, a, _ = shape_scenes(300, 11, held, split)
        scores = score_scenes(reader.read(x), torch.from_numpy(a))
        assert scores["all"].float().mean() >= 0.98, split
    assert shapes_card()["test_all"]["all"] >= 0.99
    assert reader.features(x[:5]).shape == (5, 256)


def test_scoring_counts_wrong_and_extra_objects() -> None:
    scene = torch.tensor([[[0, 0, 1, 0], [-1, -1, -1, -1]]])  # a large red circle, top left
    right = {"present": torch.tensor([[1, 0, 0, 0]]), "shape": torch.tensor([[0, 0, 0, 0]]),
             "colour": torch.tensor([[0, 0, 0, 0]]), "size": torch.tensor([[1, 0, 0, 0]])}
    assert bool(score_scenes(right, scene)["all"])
    extra = {**right, "present": torch.tensor([[1, 0, 0, 1]])}
    assert not bool(score_scenes(extra, scene)["all"]) and not bool(score_scenes(extra, scene)["no_extra"])
    blue = {**right, "colour": torch.tensor([[2, 0, 0, 0]])}
    scores = score_scenes(blue, scene)
    assert not bool(scores["all"]) and not bool(scores["colour"]) and bool(scores["shape"])
