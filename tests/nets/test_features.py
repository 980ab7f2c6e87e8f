"""Feature networks: the shipped digits classifier and the FID Inception-v3."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ganforge.data.images import digits_images, digits_split
from ganforge.errors import GanforgeError
from ganforge.nets.features import (
    DIGITS_CARD,
    DIGITS_WEIGHTS,
    INCEPTION_ENV,
    DigitsClassifier,
    InceptionFeatures,
    digits_card,
    load_digits_classifier,
    resolve_features,
)


@pytest.fixture(scope="module")
def classifier() -> DigitsClassifier:
    return load_digits_classifier()


@pytest.fixture(scope="module")
def held_out() -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = digits_images()
    test_idx = np.asarray(digits_card()["split"]["test_indices"])
    return images[test_idx], labels[test_idx]


def test_shipped_weights_are_small_and_documented() -> None:
    assert DIGITS_WEIGHTS.stat().st_size < 1_000_000
    card = json.loads(DIGITS_CARD.read_text())
    for key in ("test_accuracy", "split", "epochs", "seed", "augmentation"):
        assert key in card
    assert card["split"]["n_test"] == len(card["split"]["test_indices"])


def test_recorded_split_is_reproducible() -> None:
    card = digits_card()
    train, test = digits_split(card["split"]["seed"], card["split"]["test_fraction"])
    assert test.tolist() == card["split"]["test_indices"]
    assert not set(train.tolist()) & set(test.tolist()) and len(train) + len(test) == 1797


def test_held_out_accuracy_matches_record(classifier: DigitsClassifier, held_out) -> None:
    images, labels = held_out
    accuracy = float((classifier.predict(images) == labels).float().mean())
    assert accuracy >= digits_card()["test_accuracy"] - 0.005
    assert accuracy > 0.97


@pytest.mark.parametrize("size", [16, 28, 32])
def test_classifier_reads_digits_rendered_at_other_sizes(classifier: DigitsClassifier, held_out, size: int) -> None:
    images, labels = held_out
    resized = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
    assert float((classifier.predict(resized) == labels).float().mean()) > 0.97


def test_features_logits_and_eval_mode(classifier: DigitsClassifier, held_out) -> None:
    images, _ = held_out
    assert not classifier.training
    assert not any(p.requires_grad for p in classifier.parameters())
    feats, logits = classifier(images[:7]), classifier.logits(images[:7])
    assert feats.shape == (7, classifier.num_features) and logits.shape == (7, 10)
    all_feats = classifier(images)
    assert bool((all_feats.std(0) > 1e-4).all())  # no dead feature dimension
    with pytest.raises(GanforgeError, match=r"\(N, 1, H, W\)"):
        classifier(torch.rand(2, 3, 8, 8))


def test_missing_weights_file_is_a_one_line_error(tmp_path) -> None:
    with pytest.raises(GanforgeError, match="train_digits_classifier"):
        load_digits_classifier(tmp_path / "nope.safetensors")


def test_resolve_features() -> None:
    module = torch.nn.Flatten()
    assert resolve_features(module) is module
    assert isinstance(resolve_features("digits"), DigitsClassifier)
    with pytest.raises(GanforgeError, match="did you mean 'inception'"):
        resolve_features("inceptoin")


# ------------------------------------------------------------------------------------------ Inception


def test_inception_without_weights_says_how_to_get_them(monkeypatch) -> None:
    monkeypatch.delenv(INCEPTION_ENV, raising=False)
    with pytest.raises(GanforgeError, match=f"pt_inception-2015-12-05.*{INCEPTION_ENV}") as info:
        InceptionFeatures()
    assert "\n" not in str(info.value)
    monkeypatch.setenv(INCEPTION_ENV, "/no/such/file.pth")
    with pytest.raises(GanforgeError, match="does not exist"):
        resolve_features("inception")


def test_inception_architecture_and_weight_loading(tmp_path, monkeypatch) -> None:
    torch.manual_seed(0)
    net = InceptionFeatures(weights=False)
    # torchvision's Inception3 without aux logits has 23,834,568 parameters with 1000 classes; the FID
    # graph has 1008 classes: + 8 * (2048 + 1) = 23,850,960.
    assert sum(p.numel() for p in net.parameters()) == 23_850_960
    images = torch.rand(2, 1, 28, 28)
    feats = net(images)
    assert feats.shape == (2, 2048) and net.logits(images[:1]).shape == (1, 1008)
    net.train()
    assert not net.training  # batch norm statistics are part of the reference

    # A .pth state dict as pytorch-fid ships it (no batch-norm step counters) loads by path and env var.
    state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    file = tmp_path / "pt_inception.pth"
    torch.save(state, file)
    loaded = InceptionFeatures(path=file)
    assert torch.allclose(loaded(images), feats, atol=1e-5)
    monkeypatch.setenv(INCEPTION_ENV, str(file))
    assert isinstance(resolve_features("inception"), InceptionFeatures)

    wrong = tmp_path / "wrong.pth"
    torch.save({"conv.weight": torch.zeros(1)}, wrong)
    with pytest.raises(GanforgeError, match="is not the FID Inception-v3"):
        InceptionFeatures(path=wrong)
