"""Gradient penalties against hand computations on a tiny discriminator, and weight clipping.

The tiny critic is D(x) = a/2 ||x||^2 with one scalar parameter a, so grad_x D = a x, ||grad_x D|| =
|a| ||x||, and every penalty and its derivative in a has a closed form.
"""

import pytest
import torch
from torch import nn

from ganforge.data.base import Batch
from ganforge.gans.packing import PackedDiscriminator
from ganforge.gans.penalties import DRAGAN, R1, R2, GradientPenalty, gradient_norm_squared
from ganforge.gans.registry import build_penalties
from ganforge.gans.vanilla import GAN, PenaltyInputs


class Quadratic(nn.Module):
    def __init__(self, a: float) -> None:
        super().__init__()
        self.a = nn.Parameter(torch.tensor(a))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * self.a * x.flatten(1).pow(2).sum(1, keepdim=True)


def _inputs(d: nn.Module, real: torch.Tensor, fake: torch.Tensor, step: int = 0) -> PenaltyInputs:
    return PenaltyInputs(d, real, fake, d(real), d(fake), None, step)


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(6, 3, generator=g), torch.randn(6, 3, generator=g) * 2 + 1


def _value_and_grad(penalty, d: Quadratic, real, fake, seed: int = 7):  # noqa: ANN001, ANN202
    torch.manual_seed(seed)
    out = penalty(_inputs(d, real, fake))
    (grad_a,) = torch.autograd.grad(out, d.a)
    return out.item(), grad_a.item()


def test_r1_and_r2_match_hand_computation() -> None:
    real, fake = _data()
    a = 1.7
    for cls, x in ((R1, real), (R2, fake)):
        d = Quadratic(a)
        value, grad = _value_and_grad(cls(weight=0.5), d, real, fake)
        sq = x.pow(2).sum(1)  # ||x||^2 per sample
        assert value == pytest.approx(0.5 * (a**2 * sq).mean().item(), rel=1e-5)
        assert grad == pytest.approx(0.5 * (2 * a * sq).mean().item(), rel=1e-5)


def test_gradient_penalty_matches_hand_computation_at_interpolates() -> None:
    real, fake = _data()
    a = 0.8
    d = Quadratic(a)
    value, grad = _value_and_grad(GradientPenalty(weight=10.0), d, real, fake, seed=3)
    torch.manual_seed(3)
    eps = torch.rand(real.shape[0], 1)  # the same draw the penalty makes
    x_hat = eps * real + (1 - eps) * fake
    r = x_hat.norm(dim=1)
    expected = 10 * ((a * r - 1) ** 2).mean()
    expected_grad = 10 * (2 * (a * r - 1) * r).mean()  # d/da (a r - 1)^2 = 2 (a r - 1) r
    assert value == pytest.approx(expected.item(), rel=1e-5)
    assert grad == pytest.approx(expected_grad.item(), rel=1e-5)


def test_dragan_matches_hand_computation_at_perturbed_reals() -> None:
    real, fake = _data()
    a = 1.3
    d = Quadratic(a)
    value, grad = _value_and_grad(DRAGAN(weight=2.0, scale=0.5), d, real, fake, seed=11)
    torch.manual_seed(11)  # the authors' code: x_p = x + c std(all values) u, then x + alpha (x_p - x)
    perturbed = real + 0.5 * real.numpy().std(ddof=1) * torch.rand_like(real)
    alpha = torch.rand(real.shape[0], 1)
    x = real + alpha * (perturbed - real)
    r = x.norm(dim=1)
    assert value == pytest.approx((2 * ((a * r - 1) ** 2).mean()).item(), rel=1e-5)
    assert grad == pytest.approx((2 * (2 * (a * r - 1) * r).mean()).item(), rel=1e-5)


def test_penalties_reach_one_for_a_unit_gradient_critic() -> None:
    """A linear critic with ||w|| = 1 is exactly 1-Lipschitz: GP and DRAGAN vanish, R1 = R2 = 1."""
    d = nn.Linear(3, 1)
    with torch.no_grad():
        d.weight.copy_(torch.tensor([[0.6, 0.0, 0.8]]))
    real, fake = _data()
    inputs = _inputs(d, real, fake)
    assert GradientPenalty(1.0).value(inputs).item() == pytest.approx(0.0, abs=1e-6)
    assert DRAGAN(1.0).value(inputs).item() == pytest.approx(0.0, abs=1e-6)
    assert R1(1.0).value(inputs).item() == pytest.approx(1.0, rel=1e-6)
    assert R2(1.0).value(inputs).item() == pytest.approx(1.0, rel=1e-6)


def test_gradient_norm_is_taken_per_pack_for_packed_discriminators() -> None:
    """With pack m, one output reads m samples: the norm is over the whole packed input."""
    torch.manual_seed(0)
    x = torch.randn(8, 2, requires_grad=True)
    d = PackedDiscriminator(Quadratic(1.0), pack=4)
    sq = gradient_norm_squared(d(x), x)
    assert sq.shape == (2,)
    expected = x.detach().reshape(2, 8).pow(2).sum(1)  # grad = x, norm^2 over the 4 samples of a pack
    assert torch.allclose(sq, expected)


def test_a_packed_critic_is_penalized_on_the_line_between_packs() -> None:
    """WGAN-GP and DRAGAN drew eps per sample, so a packed input (PacGAN; TableGAN's default pack 10) mixed
    different weights inside one pack and did not lie between a real pack and a fake pack (CTGAN's code
    draws one per pack)."""
    pack = 3
    seen = []

    def critic(x: torch.Tensor) -> torch.Tensor:
        seen.append(x.detach().clone())
        return x.reshape(-1, pack * 2).sum(1, keepdim=True)

    real, fake = torch.zeros(12, 2), torch.ones(12, 2)
    logits = torch.zeros(12 // pack, 1)
    GradientPenalty(1.0).value(PenaltyInputs(critic, real, fake, logits, logits, None, 0))
    packs = seen[0].reshape(4, pack * 2)  # each row: one pack's 3 samples x 2 values, all equal to its eps
    assert torch.equal(packs, packs[:, :1].expand(4, pack * 2)) and len(set(packs[:, 0].tolist())) == 4
    real = torch.randn(12, 2, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(5)
    DRAGAN(1.0).value(PenaltyInputs(critic, real, fake, logits, logits, None, 0))
    torch.manual_seed(5)
    perturbed = real + 0.5 * real.std() * torch.rand_like(real)
    alpha = torch.rand(4, 1).repeat_interleave(pack, dim=0)
    assert torch.allclose(seen[1], real + alpha * (perturbed - real))


def test_lazy_penalty_skips_steps_and_scales_weight() -> None:
    real, fake = _data()
    d = Quadratic(1.0)
    lazy = R1(weight=0.5, every=4)
    assert lazy(_inputs(d, real, fake, step=3)) is None
    assert lazy(_inputs(d, real, fake, step=8)).item() == pytest.approx(4 * R1(0.5)(_inputs(d, real, fake)).item())


def test_registry_builds_each_penalty_with_paper_defaults() -> None:
    built = {p.name: p for p in build_penalties({"gp": {}, "r1": 1.0, "r2": {"weight": 0.1}, "dragan": {}})}
    assert built["gp"].weight == 10.0 and built["gp"].center == 1.0
    assert built["dragan"].weight == 10.0 and built["dragan"].scale == 0.5
    assert built["r2"].weight == 0.1 and built["r1"].weight == 1.0


def test_gan_adds_penalty_to_discriminator_loss_and_logs_it() -> None:
    torch.manual_seed(0)
    g = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    d = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    plain = GAN(g, d, 2, "wasserstein")
    with_gp = GAN(g, d, 2, "wasserstein", penalties=[GradientPenalty(10.0)])
    batch = Batch(torch.randn(16, 2))
    phase = plain.phases(0)[0]
    torch.manual_seed(1)
    loss_plain, _ = plain.phase_loss(phase, batch, 0)
    torch.manual_seed(1)
    loss_gp, logs = with_gp.phase_loss(phase, batch, 0)
    assert logs["gp"].item() > 0
    assert loss_gp.item() == pytest.approx(loss_plain.item() + logs["gp"].item(), rel=1e-5)


def test_weight_clipping_keeps_every_critic_weight_in_range() -> None:
    torch.manual_seed(0)
    g = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    d = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
    gan = GAN(g, d, 2, "wasserstein", n_critic=5, clip_weights=0.01)
    phases = gan.phases(0)
    opt_d = torch.optim.RMSprop(gan.discriminator.parameters(), lr=0.5)  # huge steps: clipping must hold them
    opt_g = torch.optim.RMSprop(gan.generator.parameters(), lr=5e-5)
    for _ in range(3):
        for repeat in range(phases[0].repeats):
            loss, _ = gan.phase_loss(phases[0], Batch(torch.randn(32, 2) * 3), repeat)
            opt_d.zero_grad()
            loss.backward()
            opt_d.step()
            gan.after_update(phases[0])
            weights = torch.cat([p.detach().flatten() for p in gan.discriminator.parameters()])
            assert weights.abs().max().item() <= 0.01 + 1e-9
            assert weights.abs().max().item() == pytest.approx(0.01)  # the clip is active, not vacuous
        loss, _ = gan.phase_loss(phases[1], None, 0)
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()
