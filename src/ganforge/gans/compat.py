"""Checks, before anything is written, that a GAN's networks fit the data they will train on."""

from __future__ import annotations

import torch

from ganforge.data.base import DataSource
from ganforge.errors import GanforgeError
from ganforge.gans.base import GANModel


@torch.no_grad()
def check_compatible(gan: GANModel, source: DataSource) -> None:
    """Run the generator and discriminator once on a tiny batch (eval mode, RNG state restored, so
    training is unaffected) and turn a shape mismatch into a one-line error."""
    generate = getattr(gan, "generate", None)
    discriminate = getattr(gan, "discriminate", None)
    if generate is None or discriminate is None or not hasattr(gan, "noise"):
        return
    state = torch.get_rng_state()
    was_training = gan.training
    gan.eval()
    try:
        n = 2
        y = gan.labels_for(n, None, 0, torch.device("cpu")) if gan.num_classes is not None else None
        device = next(gan.parameters()).device
        y = None if y is None else y.to(device)
        try:
            fake = generate(gan.sample_latents(n).to(device), y)
        except RuntimeError as exc:
            raise GanforgeError(
                f"the generator cannot take noise of dimension {gan.noise.shape}: {str(exc).splitlines()[0]}; "
                "make noise_dim match the generator's first layer"
            ) from None
        expected = tuple(source.sample_shape)
        if tuple(fake.shape[1:]) != expected:
            raise GanforgeError(
                f"the generator makes samples of shape {tuple(fake.shape[1:])} but the data '{source.name}' has "
                f"samples of shape {expected}; change the generator's output size to match the data"
            )
        try:
            discriminate(fake, y)
        except RuntimeError as exc:
            raise GanforgeError(
                f"the discriminator cannot read samples of shape {expected}: {str(exc).splitlines()[0]}; "
                "change its input size to match the data"
            ) from None
    finally:
        gan.train(was_training)
        torch.set_rng_state(state)
