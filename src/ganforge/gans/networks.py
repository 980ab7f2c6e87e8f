"""Network builders for recipes: feed-forward nets for any data shape."""

from __future__ import annotations

import math

from torch import Tensor, nn

from ganforge.errors import GanforgeError
from ganforge.gans.registry import register_network
from ganforge.nets.conv import apply_spectral_norm
from ganforge.nets.layers import MinibatchStdDev
from ganforge.nets.mlp import Flatten, Unflatten, mlp


class LabelConcat(nn.Module):
    """Conditional wrapper: a learned label embedding concatenated to the (flattened) input,
    the conditioning of Mirza & Osindero (2014)."""

    def __init__(self, net: nn.Module, num_classes: int, embed_dim: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(num_classes, embed_dim)
        self.net = net
        self.output_activation = getattr(net, "output_activation", None)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        import torch

        return self.net(torch.cat([x.flatten(1), self.embed(y)], dim=1))


@register_network("mlp")
def mlp_network(
    role: str,
    noise_dim: int,
    sample_shape: tuple[int, ...],
    num_classes: int | None,
    hidden: list[int] = (128, 128),  # type: ignore[assignment]
    activation: str = "relu",
    output_activation: str | None = None,
    batch_norm: bool = False,
    dropout: float = 0.0,
    label_embedding: int = 16,
    spectral_norm: bool = False,
    minibatch_std: bool = False,
) -> nn.Module:
    """Fully connected network: generator noise -> sample, or discriminator sample -> one logit.

    Generators default to a linear output (data standardized to match); use ``output_activation: tanh``
    or ``sigmoid`` and data is min-max scaled into that range instead. Discriminators output a logit;
    ``spectral_norm: true`` divides each of D's weights by its largest singular value (Miyato et al.
    2018) and ``minibatch_std: true`` feeds D's last layer the across-batch feature std (Karras et al. 2018).
    """
    if role == "generator" and (spectral_norm or minibatch_std):
        raise GanforgeError("model.generator: spectral_norm and minibatch_std are discriminator settings")
    data_dim = math.prod(sample_shape)
    extra = label_embedding if num_classes else 0
    if role == "generator":
        body = nn.Sequential(
            mlp(
                noise_dim + extra,
                list(hidden),
                data_dim,
                activation_name=activation,
                output_activation=output_activation,
                batch_norm=batch_norm,
                dropout=dropout,
            )
        )
        if len(sample_shape) > 1:
            body.append(Unflatten(sample_shape))
        body.output_activation = output_activation or "linear"  # type: ignore[attr-defined]
    else:
        body = nn.Sequential(
            Flatten(),
            mlp(
                data_dim + extra,
                list(hidden),
                1,
                activation_name=activation,
                output_activation=output_activation,
                dropout=dropout,
            ),
        )
        if minibatch_std:
            head = body[1]
            last = head[-1] if isinstance(head[-1], nn.Linear) else head[-2]
            index = len(head) - 1 if last is head[-1] else len(head) - 2
            head[index] = nn.Sequential(MinibatchStdDev(), nn.Linear(last.in_features + 1, last.out_features))
        if spectral_norm:
            apply_spectral_norm(body)
    return LabelConcat(body, num_classes, label_embedding) if num_classes else body
