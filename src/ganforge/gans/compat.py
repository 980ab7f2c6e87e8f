"""Checks, before anything is written, that a GAN's networks fit the data they will train on."""

from __future__ import annotations

import inspect
from typing import Any

import torch
from torch import nn

from ganforge.data.base import DataSource
from ganforge.errors import GanforgeError
from ganforge.gans.base import GANModel, ProbabilityToLogit, output_activation_of_output, restore_inner_sigmoid
from ganforge.gans.vanilla import GAN


def check_batch_size(gan: GANModel, batch_size: int) -> None:
    """A model that reads batches in groups (TableGAN's PacGAN packs) needs a batch that divides into them."""
    multiple = int(getattr(gan, "batch_multiple", 1))
    if batch_size % multiple:
        fitted = max(multiple, batch_size // multiple * multiple)
        raise GanforgeError(
            f"train.batch_size={batch_size} must be a multiple of model.pack={multiple}; use e.g. "
            f"--set train.batch_size={fitted}"
        )


@torch.no_grad()
def check_compatible(gan: GANModel, source: DataSource) -> None:
    """Run the generator and discriminator once on a tiny batch (eval mode, RNG state restored, so
    training is unaffected) and turn a shape mismatch into a one-line error. For a :class:`GAN` the data's
    labels are checked against ``num_classes`` first (:func:`check_labels`), and a forward that takes labels
    where ``num_classes`` gives none, or the reverse, is named (:func:`check_takes_labels`)."""
    generate = getattr(gan, "generate", None)
    discriminate = getattr(gan, "discriminate", None)
    if generate is None or discriminate is None or not hasattr(gan, "noise"):
        return
    users_networks = isinstance(gan, GAN)  # networks a user wrote: their roles are read from a forward pass
    if users_networks:
        check_labels(gan, source)
    state = torch.get_rng_state()
    was_training = gan.training
    gan.eval()
    try:
        n = 2
        y = gan.labels_for(n, None, 0, torch.device("cpu")) if gan.num_classes is not None else None
        device = next(gan.parameters()).device
        y = None if y is None else y.to(device)
        try:
            with torch.enable_grad():  # the output's autograd node tells which activation made it
                fake = generate(gan.sample_latents(n).to(device), y)
        except TypeError:
            if users_networks:
                check_takes_labels(gan.generator, "generator", gan.num_classes, source)
            raise
        except RuntimeError as exc:
            raise GanforgeError(
                f"the generator cannot take noise of dimension {gan.noise.shape}: {str(exc).splitlines()[0]}; "
                "make noise_dim match the generator's first layer"
            ) from None
        if not isinstance(fake, torch.Tensor):
            raise GanforgeError(
                f"the generator returns a {type(fake).__name__}, not a tensor; make its forward return the "
                "samples alone (one tensor of shape (N, ...))"
            )
        expected = tuple(source.sample_shape)
        if tuple(fake.shape[1:]) != expected:
            hint = ""
            if source.kind == "images" and len(expected) == 3 and expected[0] == 1 and len(fake.shape) == 3:
                hint = "; a 3-D array is read as (N, H, W) images: pass sequences as gf.data.sequences(array)"
            raise GanforgeError(
                f"the generator makes samples of shape {tuple(fake.shape[1:])} but the data '{source.name}' has "
                f"samples of shape {expected}; change the generator's output size to match the data{hint}"
            )
        if users_networks:
            settle_output_activation(gan, fake)
        fake = fake.detach()
        try:
            if users_networks:
                net = gan.discriminator
                restore_inner_sigmoid(net, lambda: net(fake, y) if gan.num_classes is not None else net(fake))
                outputs = net(fake, y) if gan.num_classes is not None else net(fake)
                check_discriminator_output(outputs, -(-n // getattr(net, "pack", 1)), source)  # PacGAN: one per pack
            discriminate(fake, y)
        except TypeError:
            if users_networks:
                check_takes_labels(gan.discriminator, "discriminator", gan.num_classes, source)
            raise
        except RuntimeError as exc:
            raise GanforgeError(
                f"the discriminator cannot read samples of shape {expected}: {str(exc).splitlines()[0]}; "
                "change its input size to match the data"
            ) from None
    finally:
        gan.train(was_training)
        torch.set_rng_state(state)


def settle_output_activation(gan: GANModel, sample: torch.Tensor) -> None:
    """Read the generator's output range from what its forward pass did (a functional ``torch.tanh`` as well
    as an ``nn.Tanh`` module; a last-registered ``nn.Tanh`` that another layer follows does not count), for
    networks that do not declare ``output_activation``. The data is scaled to that range before training,
    so a tanh read as linear would clip every sample to the data's mean +- 1 sd."""
    generator = getattr(gan, "generator", None)
    if generator is None or getattr(generator, "output_activation", None) is not None:
        return
    if sample.grad_fn is not None:
        gan.output_activation = output_activation_of_output(sample)


def check_discriminator_output(logits: object, n: int, source: DataSource) -> None:
    """One logit per sample (per pack of samples for PacGAN: ``n`` is the number of D inputs): (N,), (N, 1), a
    patch map (N, 1, H', W') or one per time step (N, T[, 1]).
    A (N, K) output with K > 1 is K outputs per sample (a Linear(.., 2) last layer), which the losses would
    silently read as K patches."""
    if not isinstance(logits, torch.Tensor) or logits.dim() == 0 or logits.shape[0] != n:
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise GanforgeError(
            f"the discriminator returns {shape} for a batch of {n} samples; it must return one logit per sample, "
            "shape (N, 1)"
        )
    steps = source.sample_shape[0] if source.kind == "sequences" else None
    width = logits.shape[1] if logits.dim() == 2 else 1
    if width > 1 and width != steps:
        raise GanforgeError(
            f"the discriminator returns {width} values per sample (shape {tuple(logits.shape)}); it must return "
            "one logit per sample: make its last layer output 1 value, e.g. nn.Linear(hidden, 1)"
        )


def check_labels(gan: GAN, source: DataSource) -> None:
    """A conditional GAN's ``num_classes`` against the data's labels: every label must lie in
    0..num_classes-1, or the first batch failed inside the user's ``nn.Embedding`` ("IndexError: index out
    of range in self"); data without labels gave the networks ``y=None``."""
    if gan.num_classes is None:
        return
    labels = getattr(source, "y", None)
    if labels is None and source.num_classes is None:
        raise GanforgeError(
            f"GAN(num_classes={gan.num_classes}) conditions on labels, but the data '{source.name}' has none; give "
            "data of (x, label) pairs (a Dataset yielding them), or leave num_classes out for an unconditional GAN"
        )
    if isinstance(labels, torch.Tensor) and labels.numel() and not labels.is_floating_point():
        low, high = int(labels.min()), int(labels.max())
    elif source.num_classes is not None:
        low, high = 0, int(source.num_classes) - 1
    else:
        return  # condition vectors, not class numbers: the forward pass below checks them
    if low < 0:
        raise GanforgeError(
            f"the data '{source.name}' has label {low}; labels must be class numbers 0..K-1: renumber them from 0"
        )
    if high >= gan.num_classes:
        raise GanforgeError(
            f"the data '{source.name}' has labels 0..{high} but GAN(num_classes={gan.num_classes}) takes 0.."
            f"{gan.num_classes - 1}; give num_classes={high + 1}"
        )


def check_takes_labels(net: nn.Module, role: str, num_classes: int | None, source: DataSource) -> None:
    """After a ``TypeError`` from the probe: when ``net``'s forward cannot be called the way ``num_classes``
    says (``net(x, y)`` with it, ``net(x)`` without), the one line saying which setting to change; otherwise
    nothing (the error came from inside forward, and its traceback points at the user's line)."""
    if isinstance(net, ProbabilityToLogit):  # d_output="probability": the user's network is inside
        net = net.net
    try:
        signature = inspect.signature(net.forward)
    except (TypeError, ValueError):
        return
    args: tuple[Any, ...] = (None, None) if num_classes is not None else (None,)
    try:
        signature.bind(*args)
        return
    except TypeError:
        pass
    argument = "z" if role == "generator" else "x"
    stars = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}
    forward = f"forward({', '.join(stars.get(p.kind, '') + p.name for p in signature.parameters.values())})"
    if num_classes is not None:
        raise GanforgeError(
            f"GAN(num_classes={num_classes}) calls the {role} as {role}({argument}, y) with labels, but its "
            f"{forward} takes no labels; give it a forward({argument}, y) that uses them, or leave num_classes out "
            "for an unconditional GAN"
        ) from None
    classes = f"num_classes={source.num_classes}" if source.num_classes else "num_classes=K"
    raise GanforgeError(
        f"the {role}'s {forward} needs labels, but without num_classes it is called as {role}({argument}) alone; "
        f"give GAN(..., {classes}) to train a conditional GAN on the labels of the data '{source.name}'"
    ) from None
