"""Network builders for image data: the DCGAN nets and the course notes' MLP image GAN.

``dcgan`` (Radford et al. 2016, :mod:`ganforge.nets.conv`): strided (transposed) convolutions, batch
norm in G (and in D unless spectral norm replaces it), ReLU / leaky ReLU, ``tanh`` output, for square
images of side 8, 16, 32, 64, 128 or 28. ``mlp-image``: the notes' fully connected image GAN (seeds 001
and 003), ``z (100) -> 128 -> 784`` with a ``tanh`` or ``sigmoid`` output and a discriminator
``784 -> 128 -> 1``, for images of any shape.

Both take the data's sample shape ``(C, H, W)`` from the data source and, for a conditional GAN
(``model.conditional: true``), the number of classes: G reads ``[z, E[y]]`` (a learned label
embedding concatenated to the noise, Mirza & Osindero 2014); D either concatenates the label
(one-hot maps on the image channels for ``dcgan``, an embedding on the flattened image for
``mlp-image``) or scores with a projection head ``psi(h) + <E[y], h>`` (Miyato & Koyama 2018).
"""

from __future__ import annotations

import math
from typing import Literal

from torch import nn

from ganforge.errors import GanforgeError
from ganforge.gans.registry import register_network
from ganforge.nets.conditioning import ConditionalNet, ProjectionNet
from ganforge.nets.conv import SUPPORTED_RESOLUTIONS, DCGANDiscriminator, DCGANGenerator, apply_spectral_norm
from ganforge.nets.mlp import Flatten, Unflatten, mlp

Role = Literal["generator", "discriminator"]


def image_shape(sample_shape: tuple[int, ...], network: str) -> tuple[int, int, int]:
    """``(channels, height, width)`` of image samples, or a one-line error for data that are not images."""
    if len(sample_shape) != 3:
        raise GanforgeError(
            f"model: network '{network}' is for images (C, H, W) but the data's samples have shape "
            f"{tuple(sample_shape)}; use network type mlp for numbers and points"
        )
    c, h, w = (int(s) for s in sample_shape)
    return c, h, w


def _check_role(role: str) -> None:
    if role not in ("generator", "discriminator"):
        raise GanforgeError(f"network role '{role}': expected generator or discriminator")


@register_network("dcgan")
def dcgan_network(
    role: str,
    noise_dim: int,
    sample_shape: tuple[int, ...],
    num_classes: int | None,
    width: int = 64,
    output: Literal["tanh", "sigmoid", "linear"] = "tanh",
    label_dim: int | None = None,
    spectral_norm: bool = False,
    conditioning: Literal["concat", "projection"] = "projection",
    minibatch_std: bool = False,
    batch_norm: bool | None = None,
    extra_convs: int = 0,
) -> nn.Module:
    """DCGAN generator / discriminator (Radford et al. 2016) sized for square images of side 8..128 or 28.

    ``width`` is the channel count of the highest-resolution layer (64 in the paper); inner layers double
    it up to 8x. Generator: ``output`` activation (``tanh`` as in the paper) and a ``label_dim`` label
    embedding when conditional. Discriminator: ``spectral_norm`` (then no batch norm unless
    ``batch_norm: true``), ``conditioning`` (``projection`` or ``concat``), ``minibatch_std``. Both:
    ``extra_convs`` 3x3 stride-1 convolutions added per resolution stage (default 0: the paper's nets).
    """
    _check_role(role)
    channels, height, side = image_shape(sample_shape, "dcgan")
    if height != side or side not in SUPPORTED_RESOLUTIONS:
        raise GanforgeError(
            f"model: the dcgan nets need square images of side {', '.join(map(str, SUPPORTED_RESOLUTIONS))}; "
            f"the data's images are {height}x{side} — resize them with --set data.size=32"
        )
    if role == "generator":
        return DCGANGenerator(noise_dim, channels, side, width, output, num_classes, label_dim, extra_convs)
    return DCGANDiscriminator(
        channels, side, width, spectral_norm, num_classes, conditioning, minibatch_std, batch_norm, extra_convs
    )


@register_network("mlp-image")
def mlp_image_network(
    role: str,
    noise_dim: int,
    sample_shape: tuple[int, ...],
    num_classes: int | None,
    hidden: list[int] = (128,),  # type: ignore[assignment]
    activation: str | None = None,
    output: Literal["tanh", "sigmoid"] = "tanh",
    dropout: float = 0.0,
    batch_norm: bool = False,
    label_dim: int = 10,
    conditioning: Literal["concat", "projection"] = "concat",
    spectral_norm: bool = False,
) -> nn.Module:
    """The notes' fully connected image GAN: G ``z -> 128 -> C*H*W`` (tanh or sigmoid), D ``C*H*W -> 128 -> 1``.

    ``hidden`` lists the hidden widths (the notes use one layer of 128); ``activation`` defaults to ReLU in
    G and leaky ReLU (0.2) in D as in seed 001. ``output`` is G's output activation (``tanh``: pixels scaled
    to [-1, 1]; ``sigmoid``: [0, 1], seed 003); D returns a logit (the notes' final sigmoid lives in the
    loss). ``dropout`` and ``spectral_norm`` apply to D, ``batch_norm`` to G's hidden layers. Conditional:
    a ``label_dim`` label embedding is concatenated to G's noise; D concatenates it to the flattened image
    (``concat``) or uses a projection head on its last hidden layer (``projection``).
    """
    _check_role(role)
    image_shape(sample_shape, "mlp-image")
    if not hidden or any(int(h) < 1 for h in hidden):
        raise GanforgeError(f"model.{role}.hidden={list(hidden)}: give at least one positive layer width")
    hidden = [int(h) for h in hidden]
    data_dim = math.prod(sample_shape)
    if role == "generator":
        act = activation or "relu"

        def make_generator(in_dim: int) -> nn.Module:
            body = mlp(in_dim, hidden, data_dim, activation_name=act, output_activation=output,
                       batch_norm=batch_norm)
            net = nn.Sequential(body, Unflatten(sample_shape))
            net.output_activation = output  # type: ignore[attr-defined]
            return net

        if num_classes is None:
            return make_generator(noise_dim)
        return ConditionalNet(make_generator, noise_dim, num_classes, label_dim)

    act = activation or "leaky_relu"

    def make_discriminator(in_dim: int) -> nn.Module:
        net = mlp(in_dim, hidden, 1, activation_name=act, dropout=dropout)
        return apply_spectral_norm(net) if spectral_norm else net

    if num_classes is None:
        return nn.Sequential(Flatten(), make_discriminator(data_dim))
    if conditioning == "concat":
        return ConditionalNet(make_discriminator, data_dim, num_classes, label_dim)
    # projection: features phi(x) = the last hidden layer (after its activation), then psi(h) + <E[y], h>
    features = nn.Sequential(Flatten(), _feature_mlp(data_dim, hidden, act, dropout, spectral_norm))
    return ProjectionNet(features, hidden[-1], num_classes, spectral_norm)


def _feature_mlp(in_dim: int, hidden: list[int], act: str, dropout: float, spectral_norm: bool) -> nn.Module:
    """Dense layers ``in_dim -> hidden...`` each followed by ``act`` (the body of a projection D)."""
    from ganforge.nets.mlp import activation as make_activation

    layers: list[nn.Module] = []
    width = in_dim
    for h in hidden:
        layers += [nn.Linear(width, h), make_activation(act)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = h
    net = nn.Sequential(*layers)
    return apply_spectral_norm(net) if spectral_norm else net
