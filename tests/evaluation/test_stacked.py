"""Stacked digits: 1000 modes, and the PacGAN/VEEGAN mode count on them."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganforge.data.images import digits_images
from ganforge.errors import GanforgeError
from ganforge.evaluation.stacked import NUM_MODES, count_stacked_modes, mode_kl, stacked_digits
from ganforge.nets.features import DigitsClassifier, load_digits_classifier


@pytest.fixture(scope="module")
def classifier() -> DigitsClassifier:
    return load_digits_classifier()


def test_stacked_digits_shape_range_and_labels() -> None:
    images, modes = stacked_digits(40, seed=3)
    assert images.shape == (40, 3, 8, 8) and modes.shape == (40,)
    assert float(images.min()) >= 0.0 and float(images.max()) <= 1.0
    assert int(modes.min()) >= 0 and int(modes.max()) < NUM_MODES
    again, _ = stacked_digits(40, seed=3)
    other, _ = stacked_digits(40, seed=4)
    assert torch.equal(images, again) and not torch.equal(images, other)
    # each channel is one of the digits, and the mode spells its three labels
    digits, labels = digits_images()
    flat = digits.reshape(len(digits), -1)
    for i in range(5):
        for c, weight in enumerate((100, 10, 1)):
            match = (flat == images[i, c].reshape(1, -1)).all(dim=1).nonzero()[0, 0]
            assert (int(modes[i]) // weight) % 10 == int(labels[match])
    big, _ = stacked_digits(3, seed=0, size=32)
    assert big.shape == (3, 3, 32, 32)


def test_mode_kl_formula() -> None:
    assert mode_kl(np.ones(NUM_MODES)) == pytest.approx(0.0, abs=1e-12)
    single = np.zeros(NUM_MODES)
    single[7] = 5
    assert mode_kl(single) == pytest.approx(math.log(NUM_MODES))
    half = np.zeros(NUM_MODES)
    half[:500] = 2
    assert mode_kl(half) == pytest.approx(math.log(2))


def test_real_stacked_digits_cover_all_modes(classifier: DigitsClassifier) -> None:
    n = 6000
    images, modes = stacked_digits(n, seed=0)
    result = count_stacked_modes(images, classifier)
    true_counts = torch.bincount(modes, minlength=NUM_MODES)
    assert result["n"] == n and int(result["counts"].sum()) == n
    assert result["modes"] >= 990
    # finite-sample KL of a perfect sampler is about 999 / (2n) = 0.083; classifier errors add little
    assert result["kl"] < 0.15
    assert abs(result["kl"] - mode_kl(true_counts)) < 0.02


def test_collapsed_sampler_is_detected(classifier: DigitsClassifier) -> None:
    images, modes = stacked_digits(3000, seed=1)
    keep = modes < 100  # only modes whose first digit is 0: 100 of the 1000 modes
    collapsed = images[keep]
    result = count_stacked_modes(collapsed, classifier)
    assert result["modes"] <= 105
    assert result["kl"] > math.log(10) - 0.3  # uniform over 100 modes would give log(10)


def test_bad_input_is_a_one_line_error(classifier: DigitsClassifier) -> None:
    with pytest.raises(GanforgeError, match=r"\(N, 3, H, W\)"):
        count_stacked_modes(torch.rand(4, 1, 8, 8), classifier)
    with pytest.raises(GanforgeError, match="n >= 1"):
        stacked_digits(0)
