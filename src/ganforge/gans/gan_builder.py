"""The ``gan`` model type: builds :class:`~ganforge.gans.vanilla.GAN` from a recipe."""

from __future__ import annotations

from typing import Any, Literal

from ganforge.data.base import DataSource
from ganforge.errors import GanforgeError
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
) -> GAN:
    """Generator + discriminator with a named objective (vanilla GAN, DCGAN, cGAN, LSGAN, WGAN...)."""
    num_classes = None
    if conditional:
        if source.num_classes is None:
            raise GanforgeError(f"model.conditional: data '{source.name}' has no labels to condition on")
        num_classes = source.num_classes
    g = build_network(generator, "model.generator", "generator", noise_dim, source.sample_shape, num_classes)
    d = build_network(
        discriminator, "model.discriminator", "discriminator", noise_dim, source.sample_shape, num_classes
    )
    return GAN(
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
