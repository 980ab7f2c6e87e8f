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


class LabelImages(torch.utils.data.Dataset):
    """20 one-channel 4x4 pictures labelled 0..classes-1."""

    def __init__(self, classes: int) -> None:
        self.classes = classes

    def __len__(self) -> int:
        return 20

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return torch.full((1, 4, 4), 0.5), i % self.classes


class CondG(nn.Module):
    def __init__(self, classes: int) -> None:
        super().__init__()
        self.emb, self.fc = nn.Embedding(classes, 4), nn.Linear(8, 16)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.fc(torch.cat([z, self.emb(y)], 1))).view(-1, 1, 4, 4)


class CondD(nn.Module):
    def __init__(self, classes: int) -> None:
        super().__init__()
        self.emb, self.fc = nn.Embedding(classes, 4), nn.Linear(20, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.cat([x.flatten(1), self.emb(y)], 1))


def _plain_g() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 16), nn.Sigmoid(), nn.Unflatten(1, (1, 4, 4)))


def _plain_d() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 1))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: gf.GAN(CondG(3), CondD(3), 4, num_classes=3), "has labels 0..4 but GAN(num_classes=3) takes 0..2; "
         "give num_classes=5"),
        (lambda: gf.GAN(_plain_g(), CondD(5), 4, num_classes=5), "GAN(num_classes=5) calls the generator as "
         "generator(z, y) with labels, but its forward(input) takes no labels"),
        (lambda: gf.GAN(CondG(5), _plain_d(), 4, num_classes=5), "calls the discriminator as discriminator(x, y)"),
        (lambda: gf.GAN(CondG(5), _plain_d(), 4, num_classes=5, d_output="probability"),
         "calls the discriminator as discriminator(x, y)"),
        (lambda: gf.GAN(CondG(5), _plain_d(), 4), "the generator's forward(z, y) needs labels, but without "
         "num_classes it is called as generator(z) alone; give GAN(..., num_classes=5)"),
        (lambda: gf.GAN(_plain_g(), CondD(5), 4), "the discriminator's forward(x, y) needs labels"),
    ],
)
def test_labels_and_num_classes_that_disagree_get_one_line_errors_before_training(make, message: str) -> None:  # noqa: ANN001
    """These failed at the first training step: IndexError in nn.Embedding, or forward()'s TypeError."""
    from ganforge.data.python_objects import source_from_object

    with pytest.raises(gf.GanforgeError) as err:
        check_compatible(make(), source_from_object(LabelImages(5)))
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_num_classes_on_data_without_labels_is_refused() -> None:
    from ganforge.data.python_objects import source_from_object

    with pytest.raises(gf.GanforgeError, match=re.escape("GAN(num_classes=5) conditions on labels, but the data")):
        check_compatible(gf.GAN(CondG(5), CondD(5), 4, num_classes=5), source_from_object(torch.rand(20, 1, 4, 4)))


def test_matching_conditional_and_unconditional_networks_pass_on_labelled_data() -> None:
    from ganforge.data.python_objects import source_from_object

    source = source_from_object(LabelImages(5))
    check_compatible(gf.GAN(CondG(5), CondD(5), 4, num_classes=5), source)
    check_compatible(gf.GAN(CondG(6), CondD(6), 4, num_classes=6), source)  # a class the data lacks is fine
    check_compatible(gf.GAN(_plain_g(), _plain_d(), 4), source)  # labels may be ignored


def test_an_error_inside_a_conditional_forward_is_left_to_its_traceback() -> None:
    class BrokenG(CondG):
        def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            raise TypeError("the user's own bug")

    from ganforge.data.python_objects import source_from_object

    with pytest.raises(TypeError, match="the user's own bug"):
        check_compatible(gf.GAN(BrokenG(5), CondD(5), 4, num_classes=5), source_from_object(LabelImages(5)))
