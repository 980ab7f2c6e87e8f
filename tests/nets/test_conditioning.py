"""Label conditioning pieces: label checks, embeddings, concat wrapper, projection head."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from ganforge.errors import GanforgeError
from ganforge.nets.conditioning import (
    ConditionalNet,
    LabelEmbedding,
    ProjectionHead,
    ProjectionNet,
    check_labels,
    label_maps,
)


def test_check_labels_accepts_column_and_rejects_bad_labels() -> None:
    assert check_labels(torch.tensor([[1], [2]]), 3, 2).tolist() == [1, 2]
    with pytest.raises(GanforgeError, match="pass labels"):
        check_labels(None, 3, 2)
    with pytest.raises(GanforgeError, match="integers"):
        check_labels(torch.tensor([0.0, 1.0]), 3, 2)
    with pytest.raises(GanforgeError, match="expected 2 class labels"):
        check_labels(torch.tensor([0, 1, 2]), 3, 2)
    with pytest.raises(GanforgeError, match="out of range"):
        check_labels(torch.tensor([0, 3]), 3, 2)
    with pytest.raises(GanforgeError, match="out of range"):
        check_labels(torch.tensor([-1, 0]), 3, 2)


def test_label_embedding_learned_and_one_hot() -> None:
    torch.manual_seed(0)
    learned = LabelEmbedding(5, 7)
    y = torch.tensor([0, 4, 4])
    e = learned(y)
    assert e.shape == (3, 7)
    assert torch.equal(e[1], e[2]) and not torch.equal(e[0], e[1])
    onehot = LabelEmbedding(5, one_hot=True)
    assert onehot.dim == 5
    assert torch.equal(onehot(y), torch.eye(5)[y])
    assert LabelEmbedding(4).dim == 4  # default dim = number of classes
    with pytest.raises(GanforgeError):
        LabelEmbedding(0)


def test_label_maps_are_constant_one_hot_planes() -> None:
    maps = label_maps(torch.tensor([2, 0]), 3, 5, 6)
    assert maps.shape == (2, 3, 5, 6)
    assert torch.all(maps[0, 2] == 1) and torch.all(maps[0, :2] == 0)
    assert torch.all(maps[1, 0] == 1) and maps[1].sum() == 30


def _mlp_factory(seen: list[int]) -> nn.Module:
    def make(in_features: int) -> nn.Module:
        seen.append(in_features)
        net = nn.Sequential(nn.Linear(in_features, 16), nn.ReLU(), nn.Linear(16, 3), nn.Tanh())
        net.output_activation = "tanh"  # type: ignore[assignment]
        return net

    return make


def test_conditional_net_widens_base_input_and_uses_the_label() -> None:
    torch.manual_seed(0)
    seen: list[int] = []
    net = ConditionalNet(_mlp_factory(seen), in_features=8, num_classes=10, label_dim=4)
    assert seen == [12]
    assert net.output_activation == "tanh"
    z = torch.randn(6, 8)
    a = net(z, torch.zeros(6, dtype=torch.long))
    b = net(z, torch.full((6,), 9))
    assert a.shape == (6, 3)
    assert not torch.allclose(a, b)
    # samples of any shape are flattened: 2x2x2 = 8 features
    assert net(z.view(6, 2, 2, 2), torch.zeros(6, dtype=torch.long)).shape == (6, 3)
    with pytest.raises(GanforgeError, match="expects 8 input features"):
        net(torch.randn(6, 5), torch.zeros(6, dtype=torch.long))
    with pytest.raises(GanforgeError, match="conditional on 10 classes"):
        net(z)


def test_projection_head_matches_its_formula() -> None:
    torch.manual_seed(0)
    head = ProjectionHead(12, num_classes=3)
    h = torch.randn(4, 3, 2, 2)  # flattened to 12 features
    y = torch.tensor([0, 1, 2, 1])
    expected = head.psi(h.flatten(1)) + (head.embed.weight[y] * h.flatten(1)).sum(1, keepdim=True)
    out = head(h, y)
    assert out.shape == (4, 1)
    assert torch.allclose(out, expected, atol=1e-6)
    plain = ProjectionHead(12)
    assert torch.allclose(plain(h), plain.psi(h.flatten(1)))
    with pytest.raises(GanforgeError):
        head(h)


def test_projection_head_spectral_norm_parametrizes_both_terms() -> None:
    head = ProjectionHead(6, num_classes=4, spectral_norm=True)
    assert parametrize.is_parametrized(head.psi, "weight")
    assert parametrize.is_parametrized(head.embed, "weight")
    assert head(torch.randn(5, 6), torch.arange(5) % 4).shape == (5, 1)


def test_projection_net_gradient_reaches_only_used_class_embeddings() -> None:
    torch.manual_seed(0)
    net = ProjectionNet(nn.Sequential(nn.Flatten(), nn.Linear(4, 5), nn.ReLU()), features=5, num_classes=3)
    x = torch.randn(8, 2, 2)
    net(x, torch.ones(8, dtype=torch.long)).sum().backward()
    grad = net.head.embed.weight.grad
    assert grad[1].abs().sum() > 0
    assert grad[0].abs().sum() == 0 and grad[2].abs().sum() == 0
    assert net.body[1].weight.grad is not None
