"""The ``gan`` model type: builds :class:`~ganforge.gans.vanilla.GAN` from a recipe."""

from __future__ import annotations

from typing import Any, Literal

from ganforge.data.base import DataSource
from ganforge.errors import GanforgeError
from ganforge.gans.augment import wrap_discriminator
from ganforge.gans.packing import packed_shape
from ganforge.gans.registry import build_network, build_penalties, register_model
from ganforge.gans.vanilla import GAN


@register_model("gan")
def build_gan(
    source: DataSource,
    objective: str = "nonsaturating",
    noise_dim: int = 2,
    noise: Literal["normal", "uniform"] = "normal",
    generator: dict[str, Any] | str = "mlp",
    discriminator: dict[str, Any] | str = "mlp",
    n_critic: int = 1,
    conditional: bool = False,
    label_smoothing: float = 0.0,
    penalties: dict[str, Any] | None = None,
    clip_weights: float | None = None,
    pack: int = 1,
    augment: dict[str, Any] | None = None,
    instance_noise: dict[str, Any] | None = None,
) -> GAN:
    """Generator + discriminator with a named objective (vanilla GAN, DCGAN, cGAN, LSGAN, WGAN...).

    ``pack: m`` makes D judge m samples per input (PacGAN); ``augment: {diffaugment: "color,translation"}``
    applies DiffAugment to every D input (images); ``instance_noise: {std: 0.1, anneal_steps: 2000}`` adds
    annealed Gaussian noise to every D input (see :mod:`ganforge.gans.packing`, :mod:`ganforge.gans.augment`).
    """
    num_classes = None
    if conditional:
        if source.num_classes is None:
            raise GanforgeError(f"model.conditional: data '{source.name}' has no labels to condition on")
        num_classes = source.num_classes
    g = build_network(generator, "model.generator", "generator", noise_dim, source.sample_shape, num_classes)
    if pack != 1 and num_classes is not None:
        raise GanforgeError("model.pack: packing is not supported with model.conditional; use pack: 1")
    d = build_network(
        discriminator, "model.discriminator", "discriminator", noise_dim, packed_shape(source.sample_shape, pack),
        num_classes,
    )
    d, noisy = wrap_discriminator(d, source, pack, augment, instance_noise)
    gan = GAN(
        g,
        d,
        noise_dim,
        objective,
        noise=noise,
        n_critic=n_critic,
        num_classes=num_classes,
        label_smoothing=label_smoothing,
        penalties=build_penalties(penalties),
        clip_weights=clip_weights,
    )
    if noisy is not None:
        noisy.clock = lambda: gan._step  # anneal by the training step the GAN is in
    return gan
