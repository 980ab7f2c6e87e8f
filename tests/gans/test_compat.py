"""Checks of a user's networks against the data before anything is written (gans/compat.py)."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

import ganforge as gf
from ganforge.data.registry import build_source
from ganforge.gans.compat import check_batch_size, check_compatible
from ganforge.gans.tablegan import TableGAN


class HiddenSigmoidD(nn.Module):
    """Registers its sigmoid last but applies it between the two layers: a hidden activation."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2, self.act = nn.Linear(1, 8), nn.Linear(8, 1), nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class FunctionalTanhG(nn.Module):
    def __init__(self, then_view: bool = False) -> None:
        super().__init__()
        self.fc = nn.Linear(1, 1)
        self.then_view = then_view

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out = torch.tanh(self.fc(z))
        return out.view(z.shape[0], -1) if self.then_view else out


def _checked(generator: nn.Module, discriminator: nn.Module, data=None) -> gf.GAN:  # noqa: ANN001
    gan = gf.GAN(generator, discriminator, noise_dim=1)
    check_compatible(gan, data or gf.data.normal(10, 1))
    return gan


def test_a_sigmoid_registered_last_but_used_inside_is_put_back() -> None:
    gan = _checked(nn.Linear(1, 1), HiddenSigmoidD())
    assert isinstance(gan.discriminator.act, nn.Sigmoid)  # D stays the network the user wrote


def test_the_notes_final_sigmoid_stays_removed_so_outputs_are_logits() -> None:
    gan = _checked(nn.Linear(1, 1), nn.Sequential(nn.Linear(1, 8), nn.ReLU(), nn.Linear(8, 1), nn.Sigmoid()))
    assert type(gan.discriminator[3]).__name__ == "RemovedSigmoid"  # the last layer's output is the logit


@pytest.mark.parametrize("then_view", [False, True])
def test_a_functional_tanh_at_the_end_sets_the_generators_range(then_view: bool) -> None:
    gan = gf.GAN(FunctionalTanhG(then_view), nn.Linear(1, 1), noise_dim=1)
    assert gan.output_activation == "linear"  # no nn.Tanh module to read before a forward pass
    check_compatible(gan, gf.data.normal(10, 1))
    assert gan.output_activation == "tanh"  # else the data would be scaled to mean +- 1 sd and clipped there


def test_a_tanh_module_that_another_layer_follows_is_not_the_output_range() -> None:
    class TanhThenLinear(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc, self.tanh = nn.Linear(1, 1), nn.Tanh()  # tanh registered last, applied first

        def forward(self, z: torch.Tensor) -> torch.Tensor:
            return self.fc(self.tanh(z))

    gan = gf.GAN(TanhThenLinear(), nn.Linear(1, 1), noise_dim=1)
    assert gan.output_activation == "tanh"  # the last registered leaf misleads the static reading
    check_compatible(gan, gf.data.normal(10, 1))
    assert gan.output_activation == "linear"


class ScalarD(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x).mean()


class TupleG(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(1, 1)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.fc(z), z


@pytest.mark.parametrize(
    ("generator", "discriminator", "message"),
    [
        (nn.Linear(1, 1), nn.Linear(1, 2), "2 values per sample"),
        (nn.Linear(1, 1), ScalarD(), "returns () for a batch of 2"),
        (TupleG(), nn.Linear(1, 1), "returns a tuple, not a tensor"),
    ],
)
def test_networks_of_the_wrong_kind_get_one_line_errors(generator, discriminator, message: str) -> None:  # noqa: ANN001
    with pytest.raises(gf.GanforgeError, match=re.escape(message)) as err:
        _checked(generator, discriminator)
    assert "\n" not in str(err.value)


def test_a_generator_that_is_not_a_module_is_refused_when_the_gan_is_built() -> None:
    with pytest.raises(gf.GanforgeError, match="the generator is a function; give a torch.nn.Module"):
        gf.GAN(lambda z: z, nn.Linear(1, 1))


def test_one_logit_per_time_step_is_accepted_for_sequences() -> None:
    step_d = nn.Sequential(nn.Linear(3, 1), nn.Flatten())  # (N, T, 3) -> (N, T): one logit per step
    gan = gf.GAN(nn.Linear(2, 3), step_d, noise_dim=(6, 2))  # Linear maps each step's noise (N, T, 2) -> (N, T, 3)
    check_compatible(gan, build_source("sines", {"n": 8, "seq_len": 6, "dim": 3}))


def test_a_table_batch_must_divide_into_packs() -> None:
    gan = TableGAN(pack=10)
    check_batch_size(gan, 500)
    with pytest.raises(gf.GanforgeError, match="multiple of model.pack=10; use e.g. --set train.batch_size=250"):
        check_batch_size(gan, 256)


def test_a_3d_array_read_as_images_points_to_gf_data_sequences() -> None:
    import numpy as np

    from ganforge.data.python_objects import source_from_object

    x = np.random.default_rng(0).random((8, 6, 3)).astype("float32")
    gan = gf.GAN(nn.Linear(2, 3), nn.Sequential(nn.Flatten(), nn.Linear(18, 1)), noise_dim=(6, 2))
    with pytest.raises(gf.GanforgeError, match=re.escape("gf.data.sequences(array)")):
        check_compatible(gan, source_from_object(x))
    check_compatible(gan, gf.data.sequences(x))  # the same array, said to be sequences, fits


@pytest.mark.parametrize(("recipe", "sets"), [("grid25-pacgan", []), ("grid25-gan", ["model.pack=4"])])
def test_a_packed_discriminator_passes_the_shape_check(tmp_path, recipe: str, sets: list[str]) -> None:  # noqa: ANN001
    """The shape check asked for one logit per sample of a 2-sample batch; PacGAN's D gives one per pack, so the
    shipped grid25-pacgan recipe (and the mode-collapse remedy model.pack=4) stopped before training."""
    run = gf.train(recipe, steps=4, out=tmp_path / "r", overrides=[*sets, "eval.enabled=false"], show_progress=False)
    assert run.step == 4
