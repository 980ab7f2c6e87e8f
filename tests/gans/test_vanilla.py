"""The GAN class: sigmoid discriminators, phases, conditioning, clipping, EMA."""

import pytest
import torch
from torch import nn

from ganforge.data.base import Batch
from ganforge.errors import GanforgeError
from ganforge.gans.base import logit_discriminator, output_activation_of
from ganforge.gans.vanilla import GAN


class NotesDiscriminator(nn.Module):
    """Seed 002's discriminator: nn.Linear(1, 1) followed by nn.Sigmoid as attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(1, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.sigmoid(self.fc(x))


def test_trailing_sigmoid_is_removed_so_outputs_are_logits() -> None:
    torch.manual_seed(0)
    d = NotesDiscriminator()
    x = torch.randn(5, 1)
    prob = d(x)
    logits = logit_discriminator(d)(x)
    assert torch.allclose(torch.sigmoid(logits), prob, atol=1e-6)
    seq = nn.Sequential(nn.Linear(1, 4), nn.ReLU(), nn.Linear(4, 1), nn.Sigmoid())
    assert isinstance(logit_discriminator(seq)[-1], nn.Identity)


def test_probability_wrapper_never_produces_infinite_logits() -> None:
    d = nn.Sequential(nn.Linear(1, 1))
    with torch.no_grad():
        d[0].weight.fill_(1000.0)
    wrapped = logit_discriminator(nn.Sequential(d, nn.Sigmoid()), "probability")
    out = wrapped(torch.tensor([[5.0], [-5.0]]))
    assert torch.isfinite(out).all()


def test_output_activation_read_from_last_layer() -> None:
    assert output_activation_of(nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid())) == "sigmoid"
    assert output_activation_of(nn.Sequential(nn.Linear(2, 2), nn.Tanh())) == "tanh"
    assert output_activation_of(nn.Linear(1, 1)) == "linear"


def _gan(**kw) -> GAN:
    torch.manual_seed(0)
    return GAN(
        nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2)),
        nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1)),
        noise_dim=2,
        **kw,
    )


def test_phases_repeat_discriminator_n_critic_times() -> None:
    phases = _gan(n_critic=5).phases(0)
    assert [(p.name, p.repeats) for p in phases] == [("discriminator", 5), ("generator", 1)]


def test_generator_phase_reuses_the_fake_batch_of_the_discriminator_phase() -> None:
    gan = _gan()
    d_phase, g_phase = gan.phases(0)
    _, logs = gan.phase_loss(d_phase, Batch(torch.randn(16, 2)), 0)
    assert set(logs) >= {"loss_d", "d_real", "d_fake"}
    loss, _ = gan.phase_loss(g_phase, None, 0)
    loss.backward()
    assert all(p.grad is not None for p in gan.generator.parameters())
    assert all(p.grad is None for p in gan.discriminator.parameters())


def test_weight_clipping_keeps_critic_weights_in_range() -> None:
    gan = _gan(objective="wasserstein", clip_weights=0.01)
    with torch.no_grad():
        for p in gan.discriminator.parameters():
            p.mul_(100)
    gan.after_update(gan.phases(0)[0])
    assert max(p.abs().max().item() for p in gan.discriminator.parameters()) <= 0.01


def test_ema_is_used_for_sampling_and_differs_from_raw() -> None:
    gan = _gan()
    gan.enable_ema(0.9)
    with torch.no_grad():
        for p in gan.generator.parameters():
            p.add_(1.0)
    gan.update_ema()
    raw_w = gan.generator[0].weight
    ema_w = gan.ema_generator[0].weight
    assert not torch.allclose(raw_w, ema_w)
    torch.manual_seed(1)
    sampled = gan.sample(4)
    torch.manual_seed(1)
    assert torch.allclose(sampled, gan.ema_generator(gan.noise.sample(4)))


def test_the_users_discriminator_keeps_its_sigmoid_and_shares_its_parameters() -> None:
    """The final sigmoid is removed in the GAN's copy only: it was replaced in the user's own module, whose
    ``D(x)`` then returned a logit where the user's code expects a probability."""
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Linear(1, 4), nn.ReLU(), nn.Linear(4, 1), nn.Sigmoid())
    notes = NotesDiscriminator()
    for d in (seq, notes):
        before = dict(d.state_dict())
        gan = GAN(nn.Linear(1, 1), d, noise_dim=1)
        assert isinstance(list(d.modules())[-1], nn.Sigmoid)
        assert type(list(gan.discriminator.modules())[-1]).__name__ == "RemovedSigmoid"
        assert all(a is b for a, b in zip(gan.discriminator.parameters(), d.parameters(), strict=True))
        assert list(gan.discriminator.state_dict()) == list(before)  # checkpoints keep their keys
        x = torch.randn(6, 1) * 5
        assert torch.allclose(torch.sigmoid(gan.discriminator(x)), d(x), atol=1e-6)


def test_noise_dim_is_read_from_a_first_linear_layer_and_a_contradicting_one_is_refused() -> None:
    d = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1))
    notes_g = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 1))  # seed 000's generator
    assert GAN(notes_g, d).noise.shape == (5,)
    conv_first = nn.Sequential(nn.Unflatten(1, (3, 1, 1)), nn.ConvTranspose2d(3, 1, 4))
    assert GAN(conv_first, d).noise.shape == (1,)  # nothing to read: the old default
    with pytest.raises(GanforgeError, match=r"^noise_dim=3 but the generator's first layer nn.Linear takes 5 inputs"):
        GAN(notes_g, d, noise_dim=3)

    class OutOfOrder(nn.Module):  # registers its output layer first: its first Linear is not its input
        def __init__(self) -> None:
            super().__init__()
            self.out, self.inp = nn.Linear(16, 1), nn.Linear(2, 16)

        def forward(self, z: torch.Tensor) -> torch.Tensor:
            return self.out(torch.relu(self.inp(z)))

    assert GAN(OutOfOrder(), d, noise_dim=2).noise.shape == (2,)  # it runs on 2: not a contradiction


def test_label_smoothing_is_refused_where_the_loss_has_no_bce_target() -> None:
    """label_smoothing with hinge, least squares or Wasserstein gave the very same loss as without it, silently;
    a share outside [0, 1) flipped or erased the real target."""
    g, d = nn.Linear(2, 2), nn.Linear(2, 1)
    for objective in ("hinge", "least_squares", "wasserstein"):
        with pytest.raises(GanforgeError, match=f"BCE objectives .* objective '{objective}' has no real target"):
            GAN(g, d, 2, objective, label_smoothing=0.1)
        assert GAN(g, d, 2, objective).label_smoothing == 0.0
    for bad in (-0.1, 1.0, 1.5, "0.1", True):  # text and True were read by float() as 0.1 and 1.0
        with pytest.raises(GanforgeError, match=r"give a share in \[0, 1\)"):
            GAN(g, d, 2, "nonsaturating", label_smoothing=bad)
    smoothed = GAN(g, d, 2, "nonsaturating", label_smoothing=0.2)
    real, fake = torch.tensor([[0.5], [2.0]]), torch.tensor([[-1.0], [0.3]])
    assert smoothed.discriminator_loss(real, fake) > GAN(g, d, 2, "nonsaturating").discriminator_loss(real, fake)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"n_critic": 0}, "GAN(n_critic=0): give a whole number >= 1"),
        ({"n_critic": -1}, "GAN(n_critic=-1): give a whole number >= 1"),
        ({"n_critic": 2.5}, "GAN(n_critic=2.5): give a whole number >= 1"),
        ({"n_critic": True}, "GAN(n_critic=True): give a whole number >= 1"),
        ({"noise_dim": 1.5}, "GAN(noise_dim=1.5): give the noise size as a whole number >= 1"),
        ({"noise_dim": "1"}, "GAN(noise_dim='1'): give the noise size as a whole number >= 1"),
        ({"noise_dim": 0}, "GAN(noise_dim=0): give a whole number >= 1"),
        ({"noise_dim": (6, 0)}, "GAN(noise_dim=(6, 0)): item 1 is 0"),
        ({"penalties": "r1"}, "GAN(penalties='r1'): give a list of Penalty objects, e.g. from ganforge.gans.penalties"),
        ({"penalties": ["r1"]}, "GAN(penalties=...): item 0 is 'r1', not a Penalty object"),
        ({"d_output": "prob"}, "GAN(d_output='prob'): choose one of auto, logits, probability (did you mean"),
        ({"clip_weights": -0.01}, "GAN(clip_weights=-0.01): give a finite number > 0"),
        ({"clip_weights": 0}, "GAN(clip_weights=0): give a finite number > 0"),
        ({"clip_weights": float("inf")}, "GAN(clip_weights=inf): give a finite number > 0"),
        ({"num_classes": 0}, "GAN(num_classes=0): give a whole number >= 1"),
    ],
)
def test_bad_constructor_arguments_are_refused_in_one_line_naming_the_argument(settings, message: str) -> None:  # noqa: ANN001
    """Each of these trained silently or failed at the first step with a message naming no argument."""
    settings = {"noise_dim": 2, **settings}
    with pytest.raises(GanforgeError) as err:
        GAN(nn.Linear(2, 2), nn.Linear(2, 1), **settings)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_a_single_penalty_not_in_a_list_is_refused_and_the_example_is_importable() -> None:
    from ganforge.gans.penalties import R1

    with pytest.raises(GanforgeError, match=r"give a list of penalties, e.g. from ganforge.gans.penalties import R1"):
        _gan(penalties=R1(1.0))
    assert _gan(penalties=[R1(1.0)]).penalties[0].name == "r1"


def test_whole_floats_are_taken_as_whole_numbers() -> None:
    gan = _gan(n_critic=2.0, num_classes=3.0, clip_weights=1)
    assert (gan.n_critic, gan.num_classes, gan.clip_weights) == (2, 3, 1.0)
    assert isinstance(gan.n_critic, int) and isinstance(gan.num_classes, int)
    assert GAN(nn.Linear(2, 2), nn.Linear(2, 1), noise_dim=2.0).noise.shape == (2,)
    assert GAN(nn.Linear(2, 3), nn.Linear(3, 1), noise_dim=[6.0, 2]).noise.shape == (6, 2)
    assert _gan(clip_weights=torch.tensor(0.5)).clip_weights == 0.5  # a 0-d tensor is a number, as for counts
