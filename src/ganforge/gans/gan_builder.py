"""The ``gan`` model type: builds :class:`~ganforge.gans.vanilla.GAN` from a recipe."""

from __future__ import annotations

from typing import Any

from ganforge.data.base import DataSource
from ganforge.errors import GanforgeError
from ganforge.gans.augment import wrap_discriminator
from ganforge.gans.packing import packed_shape
from ganforge.gans.registry import build_network, build_penalties, register_model
from ganforge.gans.vanilla import GAN
from ganforge.registry import with_settings_of


@register_model("gan")
@with_settings_of(GAN, skip=("num_classes", "d_output"))
def build_gan(
    source: DataSource,
    noise_dim: int = 2,
    generator: dict[str, Any] | str = "mlp",
    discriminator: dict[str, Any] | str = "mlp",
    conditional: bool = False,
    penalties: dict[str, Any] | None = None,
    pack: int = 1,
    augment: dict[str, Any] | None = None,
    instance_noise: dict[str, Any] | None = None,
    **settings: Any,
) -> GAN:
    """Generator + discriminator with a named objective (vanilla GAN, DCGAN, cGAN, LSGAN, WGAN...); the
    settings objective, noise, n_critic, label_smoothing, clip_weights are :class:`GAN`'s.

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
    gan = GAN(g, d, noise_dim, num_classes=num_classes, penalties=build_penalties(penalties), **settings)
    if noisy is not None:
        noisy.clock = lambda: gan._step  # anneal by the training step the GAN is in
    return gan
