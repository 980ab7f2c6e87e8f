import pytest
import torch

from ganforge.errors import GanforgeError
from ganforge.nets.recurrent import (
    RecurrentDiscriminator,
    RecurrentGenerator,
    RecurrentNet,
    sequence_mask,
)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers,bidirectional", [(1, False), (2, False), (2, True)])
def test_many_to_many_shapes(cell: str, layers: int, bidirectional: bool) -> None:
    torch.manual_seed(0)
    net = RecurrentNet(3, 8, 4, cell=cell, num_layers=layers, bidirectional=bidirectional, dropout=0.1)
    y = net(torch.randn(5, 7, 3))
    assert y.shape == (5, 7, 4)
    hidden, last = net.features(torch.randn(5, 7, 3))
    assert hidden.shape == (5, 7, 8 * (2 if bidirectional else 1))
    assert last.shape == (5, 8 * (2 if bidirectional else 1))


@pytest.mark.parametrize("activation,lo,hi", [("sigmoid", 0.0, 1.0), ("tanh", -1.0, 1.0)])
def test_output_activation_bounds_the_output(activation: str, lo: float, hi: float) -> None:
    torch.manual_seed(0)
    net = RecurrentNet(2, 4, 3, output_activation=activation)
    y = net(torch.randn(16, 5, 2) * 10)
    assert y.min() >= lo and y.max() <= hi
    assert net.output_activation == activation


def test_sequence_mask() -> None:
    mask = sequence_mask(torch.tensor([1, 3, 2]), 4)
    expected = torch.tensor([[1, 0, 0, 0], [1, 1, 1, 0], [1, 1, 0, 0]], dtype=torch.bool)
    assert torch.equal(mask, expected)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padded_steps_are_ignored(cell: str, bidirectional: bool) -> None:
    torch.manual_seed(0)
    net = RecurrentNet(3, 6, 2, cell=cell, num_layers=2, bidirectional=bidirectional).eval()
    lengths = torch.tensor([4, 7, 2])
    x = torch.randn(3, 7, 3)
    mask = sequence_mask(lengths, 7)
    x_other = torch.where(mask.unsqueeze(-1), x, torch.randn(3, 7, 3) * 100)
    y, y_other = net(x, lengths), net(x_other, lengths)
    assert torch.allclose(y, y_other, atol=1e-6)
    assert torch.all(y[~mask] == 0)
    # a valid prefix run on its own gives the same outputs as inside the padded batch
    alone = net(x[:1, :4])
    assert torch.allclose(y[:1, :4], alone, atol=1e-5)
    # without lengths the padding does leak into later (and, bidirectional, earlier) steps
    assert not torch.allclose(net(x), net(x_other))


def test_per_sequence_summary_ignores_padding() -> None:
    torch.manual_seed(0)
    disc = RecurrentDiscriminator(3, 5, cell="lstm", bidirectional=True, per_step=False).eval()
    x = torch.randn(2, 6, 3)
    lengths = torch.tensor([3, 6])
    x_other = x.clone()
    x_other[0, 3:] = 50.0
    assert torch.allclose(disc(x, lengths=lengths), disc(x_other, lengths=lengths), atol=1e-6)
    assert torch.allclose(disc(x, lengths=lengths)[0], disc(x[:1, :3])[0], atol=1e-5)


def test_generator_unconditional_and_noise() -> None:
    torch.manual_seed(0)
    gen = RecurrentGenerator(4, 16, 3, cell="gru", num_layers=2)
    z = gen.noise(8, 10, generator=torch.Generator().manual_seed(1))
    assert z.shape == (8, 10, 4)
    x = gen(z)
    assert x.shape == (8, 10, 3)
    assert gen.output_activation == "sigmoid"
    assert x.min() >= 0 and x.max() <= 1
    assert RecurrentGenerator(4, 8, 3, output_activation=None).output_activation == "linear"


def test_generator_conditions_on_labels_and_static_vectors() -> None:
    torch.manual_seed(0)
    gen = RecurrentGenerator(2, 8, 3, cell="lstm", num_classes=4)
    z = torch.randn(1, 6, 2).expand(2, -1, -1)
    x = gen(z, torch.tensor([0, 3]))
    assert x.shape == (2, 6, 3)
    assert not torch.allclose(x[0], x[1])  # same noise, different label -> different sequence
    with pytest.raises(GanforgeError, match="conditional"):
        gen(z)
    with pytest.raises(GanforgeError, match="0..3"):
        gen(z, torch.tensor([0, 4]))

    static = RecurrentGenerator(2, 8, 3, static_dim=5)
    assert static(torch.randn(2, 6, 2), torch.randn(2, 5)).shape == (2, 6, 3)
    with pytest.raises(GanforgeError, match=r"\(2, 5\)"):
        static(torch.randn(2, 6, 2), torch.randn(2, 4))
    with pytest.raises(GanforgeError, match="not both"):
        RecurrentGenerator(2, 8, 3, num_classes=3, static_dim=2)


def test_discriminator_per_step_and_per_sequence() -> None:
    torch.manual_seed(0)
    x = torch.randn(4, 9, 3)
    per_step = RecurrentDiscriminator(3, 8, cell="gru", num_classes=2)
    logits = per_step(x, torch.tensor([0, 1, 0, 1]))
    assert logits.shape == (4, 9)
    # a causal (unidirectional) net: the logit at step t does not depend on later steps
    x_later = x.clone()
    x_later[:, 5:] += 3.0
    later = per_step(x_later, torch.tensor([0, 1, 0, 1]))
    assert torch.allclose(logits[:, :5], later[:, :5], atol=1e-6)
    assert not torch.allclose(logits[:, 5:], later[:, 5:])

    whole = RecurrentDiscriminator(3, 8, cell="rnn", num_layers=2, static_dim=2, per_step=False)
    assert whole(x, torch.randn(4, 2)).shape == (4,)


def test_user_errors_are_one_line() -> None:
    with pytest.raises(GanforgeError, match="did you mean 'gru'"):
        RecurrentNet(2, 4, 1, cell="gruu")
    with pytest.raises(GanforgeError, match="output activation"):
        RecurrentNet(2, 4, 1, output_activation="softplus")
    net = RecurrentNet(2, 4, 1)
    with pytest.raises(GanforgeError, match=r"\(N, T, 2\)"):
        net(torch.randn(3, 5, 4))
    with pytest.raises(GanforgeError, match="1..5"):
        net(torch.randn(3, 5, 2), torch.tensor([1, 6, 2]))
