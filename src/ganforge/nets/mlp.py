"""Feed-forward (fully connected) networks with the activations the course notes teach."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ganforge.errors import GanforgeError, did_you_mean

ACTIVATIONS = {
    "relu": lambda: nn.ReLU(),
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "sigmoid": lambda: nn.Sigmoid(),
    "tanh": lambda: nn.Tanh(),
    "softmax": lambda: nn.Softmax(dim=-1),
    "elu": lambda: nn.ELU(),
    "gelu": lambda: nn.GELU(),
    "linear": lambda: nn.Identity(),
}


def activation(name: str | None) -> nn.Module:
    """The activation module for ``name`` (``None`` and ``"linear"`` mean identity)."""
    key = "linear" if name is None else name.lower().replace("-", "_")
    if key == "leakyrelu":
        key = "leaky_relu"
    if key not in ACTIVATIONS:
        raise GanforgeError(
            f"unknown activation '{name}'{did_you_mean(key, ACTIVATIONS)}; choose one of {', '.join(ACTIVATIONS)}"
        )
    return ACTIVATIONS[key]()


def mlp(
    in_dim: int,
    hidden: Sequence[int],
    out_dim: int,
    *,
    activation_name: str = "relu",
    output_activation: str | None = None,
    batch_norm: bool = False,
    dropout: float = 0.0,
) -> nn.Sequential:
    """Dense layers ``in_dim -> hidden[0] -> ... -> out_dim``.

    Each hidden layer is Linear -> [BatchNorm1d] -> activation -> [Dropout]. The output layer is Linear
    followed by ``output_activation`` (none = linear). Seed 000's generator is
    ``mlp(5, [16], 1, output_activation="sigmoid")``.
    """
    layers: list[nn.Module] = []
    width = in_dim
    for h in hidden:
        layers.append(nn.Linear(width, h))
        if batch_norm:
            layers.append(nn.BatchNorm1d(h))
        layers.append(activation(activation_name))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, out_dim))
    if output_activation not in (None, "linear"):
        layers.append(activation(output_activation))
    return nn.Sequential(*layers)


class Flatten(nn.Module):
    """(N, *shape) -> (N, prod(shape)), so an MLP discriminator can read images or sequences."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)


class Unflatten(nn.Module):
    """(N, prod(shape)) -> (N, *shape), so an MLP generator can emit images or sequences."""

    def __init__(self, shape: Sequence[int]) -> None:
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.shape[0], *self.shape)
