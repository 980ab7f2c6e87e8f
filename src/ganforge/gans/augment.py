"""What the discriminator sees: differentiable augmentation and instance noise, as D wrappers.

**DiffAugment** (Zhao et al. 2020): the same random, differentiable transformation family T is applied
to *every* discriminator input — real batches, fake batches in the D phase, and fake batches in the G
phase, whose gradient flows back through T into the generator:

    J_D = loss(D(T(x)), D(T(G(z)))),   J_G = loss_G(D(T(G(z))))

Because G is trained through T rather than on T-augmented reals, the augmentations do not leak into the
generated images, and a discriminator that sees many transformed copies overfits a small data set
less. Policies (random parameters drawn per sample, ops applied in the order named):

* ``color``: brightness x + (r - 1/2); saturation (x - mean_c x) * 2r + mean_c x; contrast
  (x - mean x) * (r + 1/2) + mean x; r ~ U[0, 1] each.
* ``translation``: an integer shift of up to 1/8 of the height/width in each direction, zero padded.
* ``cutout``: a zeroed square of half the height/width at a uniformly random centre.

**Instance noise** (Sønderby et al. 2017; Arjovsky & Bottou 2017): x + sigma_t * n, n ~ N(0, I), added
to real and fake inputs alike, so the two distributions overlap and D cannot separate them perfectly;
sigma_t = sigma_0 * max(0, 1 - t / anneal_steps) anneals it away (linear; constant when
``anneal_steps`` is None).

Both act only in training mode; in eval mode D sees its input unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.data.base import DataSource
from ganforge.errors import GanforgeError, did_you_mean
from ganforge.gans.packing import PackedDiscriminator


def _uniform(x: Tensor) -> Tensor:
    """One U[0, 1] draw per sample, shaped to broadcast over an image batch (N, 1, 1, 1)."""
    return torch.rand(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype)


def brightness(x: Tensor) -> Tensor:
    """x + (r - 1/2), r ~ U[0, 1] per sample."""
    return x + (_uniform(x) - 0.5)


def saturation(x: Tensor) -> Tensor:
    """(x - mean_c x) * 2r + mean_c x: scales each pixel's distance from its channel mean."""
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * (_uniform(x) * 2.0) + mean


def contrast(x: Tensor) -> Tensor:
    """(x - mean x) * (r + 1/2) + mean x, the mean over channels and pixels of each image."""
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_uniform(x) + 0.5) + mean


def translation(x: Tensor, ratio: float = 0.125) -> Tensor:
    """Shift each image by integers (ty, tx) in [-ratio H, ratio H] x [-ratio W, ratio W], zero padded.

    Implemented as a gather from the zero-padded batch, so the gradient reaches every kept pixel.
    """
    n, _, h, w = x.shape
    sy, sx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    if sy == 0 and sx == 0:
        return x
    ty = torch.randint(-sy, sy + 1, (n, 1), device=x.device)
    tx = torch.randint(-sx, sx + 1, (n, 1), device=x.device)
    padded = F.pad(x, [sx, sx, sy, sy])
    rows = torch.arange(h, device=x.device)[None, :] + sy - ty  # (N, H) source row of each output row
    cols = torch.arange(w, device=x.device)[None, :] + sx - tx  # (N, W)
    batch = torch.arange(n, device=x.device)[:, None, None]
    out = padded[batch, :, rows[:, :, None], cols[:, None, :]]  # advanced indices first: (N, H, W, C)
    return out.permute(0, 3, 1, 2)


def cutout(x: Tensor, ratio: float = 0.5) -> Tensor:
    """Zero a (ratio H) x (ratio W) square at a random centre of each image (clipped at the borders)."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=x.device)
    cx = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=x.device)
    ys = torch.arange(h, device=x.device)[None, :, None]
    xs = torch.arange(w, device=x.device)[None, None, :]
    inside = (ys >= cy - ch // 2) & (ys < cy - ch // 2 + ch) & (xs >= cx - cw // 2) & (xs < cx - cw // 2 + cw)
    return x * (~inside).unsqueeze(1).to(x.dtype)


POLICIES: dict[str, tuple[Callable[[Tensor], Tensor], ...]] = {
    "color": (brightness, saturation, contrast),
    "translation": (translation,),
    "cutout": (cutout,),
}


def parse_policy(policy: str | Sequence[str]) -> tuple[str, ...]:
    """``"color,translation"`` or ``["color", "translation"]`` -> validated names, in order."""
    names = [p.strip() for p in policy.split(",")] if isinstance(policy, str) else [str(p) for p in policy]
    names = [p for p in names if p]
    for p in names:
        if p not in POLICIES:
            raise GanforgeError(
                f"model.augment.diffaugment: unknown policy '{p}'{did_you_mean(p, POLICIES)}; "
                f"choose from {', '.join(POLICIES)}, comma separated"
            )
    if not names:
        raise GanforgeError("model.augment.diffaugment: name at least one policy, e.g. 'color,translation,cutout'")
    return tuple(names)


def diff_augment(x: Tensor, policy: Sequence[str]) -> Tensor:
    """T(x): the ops of ``policy`` applied in order with fresh random parameters per sample."""
    if x.dim() != 4:
        raise GanforgeError(
            f"DiffAugment works on image batches (N, C, H, W); got shape {tuple(x.shape)}. "
            "Remove model.augment for non-image data"
        )
    for name in policy:
        for op in POLICIES[name]:
            x = op(x)
    return x.contiguous()


class DiffAugmentDiscriminator(nn.Module):
    """``D(T(x), ...)``: every discriminator input is augmented while training (real and fake alike)."""

    def __init__(self, net: nn.Module, policy: str | Sequence[str]) -> None:
        super().__init__()
        self.net = net
        self.policy = parse_policy(policy)

    def forward(self, x: Tensor, *args: Any) -> Tensor:
        return self.net(diff_augment(x, self.policy) if self.training else x, *args)

    def extra_repr(self) -> str:
        return f"policy={','.join(self.policy)}"


class InstanceNoiseDiscriminator(nn.Module):
    """``D(x + sigma_t n, ...)`` while training; ``clock()`` gives the training step t (None: t = 0)."""

    def __init__(
        self,
        net: nn.Module,
        std: float,
        anneal_steps: int | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        super().__init__()
        if std < 0:
            raise GanforgeError(f"model.instance_noise.std: must be 0 or more, got {std}")
        if anneal_steps is not None and anneal_steps < 1:
            raise GanforgeError(f"model.instance_noise.anneal_steps: must be 1 or more, got {anneal_steps}")
        self.net = net
        self.std = float(std)
        self.anneal_steps = anneal_steps
        self.clock = clock

    def sigma(self, step: int | None = None) -> float:
        """sigma_t = std * max(0, 1 - t / anneal_steps) (constant std without annealing)."""
        if self.anneal_steps is None:
            return self.std
        t = step if step is not None else (self.clock() if self.clock is not None else 0)
        return self.std * max(0.0, 1.0 - t / self.anneal_steps)

    def forward(self, x: Tensor, *args: Any) -> Tensor:
        if self.training:
            sigma = self.sigma()
            if sigma > 0:
                x = x + sigma * torch.randn_like(x)
        return self.net(x, *args)

    def extra_repr(self) -> str:
        return f"std={self.std}, anneal_steps={self.anneal_steps}"


def wrap_discriminator(
    d: nn.Module,
    source: DataSource,
    pack: int = 1,
    augment: dict[str, Any] | None = None,
    instance_noise: dict[str, Any] | None = None,
) -> tuple[nn.Module, InstanceNoiseDiscriminator | None]:
    """D's input pipeline from the recipe keys ``model.pack``, ``model.augment``, ``model.instance_noise``:
    x -> DiffAugment -> instance noise -> pack -> D (augmentation and noise act per sample, before packing).

    Returns the wrapped D and its instance-noise wrapper (None without one), whose ``clock`` the model
    builder connects to the training step."""
    if pack != 1:
        d = PackedDiscriminator(d, pack)
    noisy = None
    if instance_noise:
        settings = dict(instance_noise)
        if set(settings) - {"std", "anneal_steps"} or "std" not in settings:
            raise GanforgeError(
                f"model.instance_noise: expected {{std: S, anneal_steps: T}} (anneal_steps optional), "
                f"got {instance_noise!r}"
            )
        steps = settings.get("anneal_steps")
        d = noisy = InstanceNoiseDiscriminator(d, float(settings["std"]), int(steps) if steps is not None else None)
    if augment:
        if set(augment) != {"diffaugment"}:
            raise GanforgeError(
                f"model.augment: expected {{diffaugment: POLICY}}, e.g. diffaugment: color,translation; got {augment!r}"
            )
        if len(source.sample_shape) != 3:
            raise GanforgeError(
                f"model.augment.diffaugment: data '{source.name}' is not images (sample shape "
                f"{tuple(source.sample_shape)}); DiffAugment needs (C, H, W) samples — remove model.augment"
            )
        d = DiffAugmentDiscriminator(d, augment["diffaugment"])
    return d, noisy
