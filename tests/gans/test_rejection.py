"""Discriminator rejection (gans/rejection.py): the threshold is D's quantile on real data, every kept
sample scores at or above it, labels asked for are kept, and models that cannot score one sample refuse."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import ganforge as gf
from ganforge.errors import GanforgeError
from ganforge.evaluation.lowdim import mode_coverage
from ganforge.gans.packing import PackedDiscriminator
from ganforge.gans.rejection import (
    calibrated_threshold,
    can_reject,
    capped_threshold,
    check_rejection_quantile,
    discriminator_scores,
    rejection_threshold,
    sample_accepted,
)
from ganforge.gans.timegan import TimeGAN
from ganforge.gans.vanilla import GAN


class MinusDistance(nn.Module):
    """A hand-made D: the logit is -|x| (samples near 0 look most real)."""

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return -x.abs().sum(dim=1, keepdim=True)


class LabelOffset(nn.Module):
    """A conditional G that returns 3 z + 10 * label, so a sample's label can be read back from it."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(3.0))

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.scale * z + 10 * y.float().unsqueeze(1)


class CentredD(nn.Module):
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return -(x - 10 * y.float().unsqueeze(1)).abs()


def test_threshold_is_the_real_quantile_and_every_kept_sample_passes() -> None:
    torch.manual_seed(0)
    gan = GAN(nn.Linear(1, 1), MinusDistance(), noise_dim=1)
    with torch.no_grad():
        gan.generator.weight.fill_(3.0)  # G(z) = 3 z + b: wider than the real N(0, 1)
        gan.generator.bias.zero_()
    real = torch.randn(20_000, 1)
    t = rejection_threshold(gan, real, None, 0.05)
    assert t == pytest.approx(-float(torch.quantile(real.abs().squeeze(), 0.95)), rel=1e-6)
    x = sample_accepted(gan, 3000, t)
    assert x.shape == (3000, 1)
    assert bool((discriminator_scores(gan, x) >= t).all())
    # the threshold |x| <= 1.96 keeps about 49 % of N(0, 9): the kept samples are the real data's range
    assert float(x.abs().max()) <= -t + 1e-6 and float(x.std()) < 1.3


def test_labels_asked_for_are_kept_through_the_rounds() -> None:
    torch.manual_seed(0)
    gan = GAN(LabelOffset(), CentredD(), noise_dim=1, num_classes=3)
    real_y = torch.randint(0, 3, (3000,))
    real = torch.randn(3000, 1) + 10 * real_y.float().unsqueeze(1)
    t = rejection_threshold(gan, real, real_y, 0.1)
    x = sample_accepted(gan, 600, t, label=2)
    assert bool(((x - 20).abs() <= -t + 1e-5).all())  # every sample from class 2, inside the threshold
    labels = torch.arange(600) % 3
    x = sample_accepted(gan, 600, t, label=labels)
    assert torch.equal(torch.round(x.squeeze(1) / 10).long(), labels)


def test_labels_of_rejection_sampling_are_checked_like_the_models() -> None:
    """A list of labels is taken as a tensor is; a list of the wrong length (an IndexError in the rounds before)
    and non-whole labels are one line naming ``label=``."""
    torch.manual_seed(0)
    gan = GAN(LabelOffset(), CentredD(), noise_dim=1, num_classes=3)
    with torch.no_grad():
        gan.generator.scale.zero_()  # G(z, y) = 10 y exactly
    x = sample_accepted(gan, 4, float("-inf"), label=[0, 1, 2, 1])
    assert (x.squeeze(1) / 10).tolist() == [0, 1, 2, 1]
    with pytest.raises(GanforgeError, match=r"^label= gives 2 labels for 4 samples"):
        sample_accepted(gan, 4, float("-inf"), label=[0, 1])
    with pytest.raises(GanforgeError, match=r"^label=1.5: not a whole class number"):
        sample_accepted(gan, 4, float("-inf"), label=1.5)


@pytest.mark.parametrize("quantile", ["0.1", True, [0.1], None])
def test_a_quantile_that_is_not_a_number_is_one_line(quantile: object) -> None:
    """``"0.1"`` reached ``'<=' not supported between 'int' and 'str'``; ``True`` passed as 1 and failed later."""
    with pytest.raises(GanforgeError, match=r"^reject=.*: not a number; give a quantile from 0"):
        check_rejection_quantile(quantile, "reject=")
    assert check_rejection_quantile(np.float64(0.01), "reject=") == 0.01
    assert check_rejection_quantile(torch.tensor(0.25), "--reject") == 0.25


def test_models_whose_discriminator_cannot_score_one_sample_refuse() -> None:
    packed = GAN(nn.Linear(1, 1), PackedDiscriminator(nn.Linear(2, 1), 2), noise_dim=1)
    assert not can_reject(packed)
    with pytest.raises(GanforgeError, match="discriminator_rejection"):
        sample_accepted(packed, 10, 0.0)
    gan = GAN(nn.Linear(1, 1), MinusDistance(), noise_dim=1)
    with pytest.raises(GanforgeError, match="below 0.5"):
        rejection_threshold(gan, torch.randn(500, 1), None, 0.7)
    with pytest.raises(GanforgeError, match="at least 100"):
        rejection_threshold(gan, torch.randn(50, 1), None, 0.01)


class StepDistance(nn.Module):
    """A hand-made per-step D: logit_t = -|h_t|_1 (steps near 0 look most real), shape (N, T, 1)."""

    def forward(self, h: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        return -h.abs().sum(dim=-1, keepdim=True)


class StepLinear(nn.Linear):
    """nn.Linear applied per step, taking (and ignoring) TimeGAN's ``lengths`` argument."""

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        return super().forward(x)


def test_timegan_scores_a_sequence_by_its_mean_step_logit_and_keeps_only_those_above_the_threshold() -> None:
    torch.manual_seed(0)
    gan = TimeGAN(6, 2, hidden=4, num_layers=1, noise_per="sequence", noise_dim=4)
    assert can_reject(gan)
    # x^ = r(s(g(z))) = 2 z - 1 on the first two channels of one noise draw per sequence; D reads e(x) = x
    gan.generator, gan.supervisor, gan.recovery, gan.embedder = (
        StepLinear(4, 4), StepLinear(4, 4), StepLinear(4, 2), StepLinear(2, 2)
    )
    with torch.no_grad():
        for net in (gan.generator, gan.supervisor, gan.embedder):
            net.weight.copy_(torch.eye(net.in_features))
            net.bias.zero_()
        gan.recovery.weight.copy_(torch.tensor([[2.0, 0, 0, 0], [0, 2.0, 0, 0]]))
        gan.recovery.bias.fill_(-1.0)
    gan.discriminator = StepDistance()
    real = 0.6 * torch.randn(2000, 6, 2)
    scores = discriminator_scores(gan, real)
    assert torch.allclose(scores, -real.abs().sum(dim=-1).mean(dim=1), atol=1e-6)  # mean over the 6 steps
    t = rejection_threshold(gan, real, None, 0.2)
    assert t == pytest.approx(float(torch.quantile(scores, 0.2)), rel=1e-6)
    torch.manual_seed(1)
    plain = gan.sample(2000)
    torch.manual_seed(1)
    kept = sample_accepted(gan, 2000, t)
    assert kept.shape == (2000, 6, 2)
    assert bool((discriminator_scores(gan, kept) >= t).all())
    assert float(kept.abs().mean()) < float(plain.abs().mean())  # the sequences far from 0 were redrawn


def test_a_generator_d_rejects_entirely_stops_with_one_line() -> None:
    gan = GAN(nn.Linear(1, 1), MinusDistance(), noise_dim=1)
    with torch.no_grad():
        gan.generator.weight.zero_()
        gan.generator.bias.fill_(100.0)  # every sample at 100, far outside the threshold
    with pytest.raises(GanforgeError, match="rejects nearly everything"):
        sample_accepted(gan, 10, -1.0)


def test_the_threshold_never_rejects_more_than_half_of_the_generated_samples() -> None:
    scores = torch.tensor([0.0, 1.0, 2.0, 3.0])
    assert capped_threshold(5.0, scores) == (1.5, True)  # D ranks all fakes below real data: the median
    assert capped_threshold(-1.0, scores) == (-1.0, False)


def test_the_calibrated_threshold_caps_on_its_own_stream_and_leaves_the_callers_alone() -> None:
    gan = GAN(nn.Linear(1, 1), MinusDistance(), noise_dim=1)
    with torch.no_grad():
        gan.generator.weight.fill_(3.0)
        gan.generator.bias.fill_(5.0)  # G(z) = 3 z + 5: D ranks most fakes below the real N(0, 1)
    real = torch.randn(2000, 1, generator=torch.Generator().manual_seed(1))
    torch.manual_seed(11)
    expected_next = torch.rand(3)
    torch.manual_seed(11)
    threshold, capped = calibrated_threshold(gan, real, None, 0.05, seed=4)
    assert torch.equal(torch.rand(3), expected_next)  # the caller's random stream did not move
    assert capped and threshold < rejection_threshold(gan, real, None, 0.05)
    torch.manual_seed(4)
    fakes = discriminator_scores(gan, gan.sample(2000))
    assert threshold == pytest.approx(float(torch.quantile(fakes, 0.5)))
    assert calibrated_threshold(gan, real, None, 0.05, seed=4) == (threshold, True)


def test_an_untrained_run_samples_with_the_cap_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = gf.train("ring8", steps=10, seed=0, out=tmp_path / "r", show_progress=False,
                   overrides=["eval.enabled=false", "train.batch_size=32"])
    torch.manual_seed(3)
    plain = run.sample(400, reject=0)
    torch.manual_seed(3)
    kept = run.sample(400)  # the recipe's q = 0.01: D still separates real from fake at step 10
    assert kept.shape == plain.shape == (400, 2)
    assert "capped at half of the generated samples" in capsys.readouterr().err
    threshold = run.rejection_threshold(0.01)
    assert bool((discriminator_scores(run.gan, run.scaler.to_model(kept)) >= threshold - 1e-5).all())
    with pytest.raises(GanforgeError, match=r"^reject=0.5: give a quantile from 0"):  # the Python argument
        run.sample(10, reject=0.5)


@pytest.mark.slow
def test_rejection_thins_the_bridges_of_a_trained_ring(tmp_path: Path, run_cli) -> None:
    """ring8 shortened to 1500 steps (seed 0): the bridges it still draws are what D scores lowest."""
    run = gf.train("ring8", steps=1500, seed=0, out=tmp_path / "r", show_progress=False,
                   overrides=["eval.enabled=false", "sample.discriminator_rejection=0"])
    mixture = run.data_info.mixture
    torch.manual_seed(1)
    plain = mode_coverage(run.sample(2500, reject=0), mixture.means, mixture.std)
    torch.manual_seed(1)
    kept = mode_coverage(run.sample(2500, reject=0.01), mixture.means, mixture.std)
    assert kept.modes == plain.modes == 8
    assert kept.high_quality > plain.high_quality + 0.005, (plain.high_quality, kept.high_quality)
    assert kept.kl < 0.05
    code, _, err = run_cli("sample", run.path, "-n", "500", "--reject", "0.01", "-o", tmp_path / "s.npy")
    assert code == 0, err
    code, _, err = run_cli("sample", run.path, "--reject", "0.7", "-o", tmp_path / "t.npy")
    assert code == 2 and err.count("\n") == 1 and "--reject 0.7" in err
    assert not (tmp_path / "t.npy").exists()


def test_a_generator_loaded_on_its_own_is_told_it_has_no_discriminator() -> None:
    from ganforge.gans.base import GANModel
    from ganforge.gans.rejection import discriminator_scores

    class GeneratorOnly(GANModel):  # what gf.load gives for user networks read back from generator.pt2
        pass

    with pytest.raises(GanforgeError, match="has no discriminator"):
        discriminator_scores(GeneratorOnly(), torch.zeros(2, 1))
