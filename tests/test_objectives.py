"""Objective values against hand computation, and the stability of the notes' sigmoid discriminator."""

import math

import pytest
import torch

from ganforge import objectives as O
from ganforge.errors import GanforgeError

REAL = torch.tensor([2.0, -1.0])
FAKE = torch.tensor([0.5, -3.0])


def sig(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_bce_discriminator_loss_is_the_notes_formula() -> None:
    expected = -(math.log(sig(2.0)) + math.log(sig(-1.0))) / 2 - (
        math.log(1 - sig(0.5)) + math.log(1 - sig(-3.0))
    ) / 2
    assert O.bce_discriminator_loss(REAL, FAKE).item() == pytest.approx(expected, rel=1e-6)


def test_minimax_and_nonsaturating_generator_losses() -> None:
    saturating = (math.log(1 - sig(0.5)) + math.log(1 - sig(-3.0))) / 2
    nonsat = -(math.log(sig(0.5)) + math.log(sig(-3.0))) / 2
    assert O.minimax_generator_loss(FAKE).item() == pytest.approx(saturating, rel=1e-6)
    assert O.nonsaturating_generator_loss(FAKE).item() == pytest.approx(nonsat, rel=1e-6)


def test_minimax_and_nonsaturating_share_the_discriminator_loss() -> None:
    assert O.OBJECTIVES["minimax"].discriminator is O.OBJECTIVES["nonsaturating"].discriminator


def test_least_squares_hinge_wasserstein_values() -> None:
    assert O.least_squares_discriminator_loss(REAL, FAKE).item() == pytest.approx(
        0.5 * ((1.0 + 4.0) / 2) + 0.5 * ((0.25 + 9.0) / 2)
    )
    assert O.least_squares_generator_loss(FAKE).item() == pytest.approx(0.5 * ((0.25 + 16.0) / 2))
    assert O.hinge_discriminator_loss(REAL, FAKE).item() == pytest.approx((0 + 2) / 2 + (1.5 + 0) / 2)
    assert O.hinge_generator_loss(FAKE).item() == pytest.approx(1.25)
    assert O.wasserstein_critic_loss(REAL, FAKE).item() == pytest.approx(-1.25 - 0.5)
    assert O.wasserstein_generator_loss(FAKE).item() == pytest.approx(1.25)


def test_label_smoothing_changes_only_the_real_term() -> None:
    smoothed = O.bce_discriminator_loss(REAL, FAKE, real_target=0.9).item()
    real_term = -sum(0.9 * math.log(sig(r)) + 0.1 * math.log(1 - sig(r)) for r in (2.0, -1.0)) / 2
    fake_term = -sum(math.log(1 - sig(f)) for f in (0.5, -3.0)) / 2
    assert smoothed == pytest.approx(real_term + fake_term, rel=1e-6)


def test_extreme_logits_give_finite_losses_and_gradients() -> None:
    logits = torch.tensor([-200.0, 200.0], requires_grad=True)
    for obj in O.OBJECTIVES.values():
        loss = obj.discriminator(logits, logits) + obj.generator(logits)
        (grad,) = torch.autograd.grad(loss, logits)
        assert torch.isfinite(loss) and torch.isfinite(grad).all(), obj.name


def test_saturating_gradient_vanishes_where_nonsaturating_does_not() -> None:
    fake = torch.tensor([-10.0], requires_grad=True)  # D(G(z)) ~ 4.5e-5: the discriminator wins
    (g_sat,) = torch.autograd.grad(O.minimax_generator_loss(fake), fake)
    (g_ns,) = torch.autograd.grad(O.nonsaturating_generator_loss(fake), fake)
    assert abs(g_sat.item()) < 1e-4 < 0.99 < abs(g_ns.item())


def test_unknown_objective_suggests_the_nearest() -> None:
    with pytest.raises(GanforgeError, match="did you mean 'nonsaturating'"):
        O.get_objective("nonsaturatng")
