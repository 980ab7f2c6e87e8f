"""Scaling between the data's own units and the range the generator can produce.

A generator that ends in ``tanh`` can only emit values in [-1, 1], one that ends in ``sigmoid`` only
[0, 1]; a linear output is happiest near zero mean and unit variance. So data is mapped into the
generator's range before training, and every sample is mapped back before a user sees it. That is what
lets N(10, 1) train with no manual preprocessing.
"""

from __future__ import annotations

from typing import Literal

import torch

from ganforge.errors import GanforgeError

OutputRange = Literal["linear", "tanh", "sigmoid"]
TARGET_RANGE: dict[str, tuple[float, float]] = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}


class Scaler:
    """An affine, invertible map ``model = (data - shift) * scale`` applied feature-wise.

    ``shift`` and ``scale`` broadcast against one sample (shape ``sample_shape`` or a prefix of ones).
    """

    def __init__(self, shift: torch.Tensor, scale: torch.Tensor) -> None:
        self.shift = shift.float()
        self.scale = scale.float()

    @classmethod
    def identity(cls) -> Scaler:
        return cls(torch.zeros(()), torch.ones(()))

    @classmethod
    def fit(
        cls,
        data: torch.Tensor,
        output: OutputRange,
        *,
        per_feature: bool = True,
        bounds: tuple[float, float] | None = None,
    ) -> Scaler:
        """Fit to ``data`` (N, *sample_shape) for a generator whose last activation is ``output``.

        linear: standardize, (x - mean) / std.  tanh / sigmoid: min-max into (-1, 1) / (0, 1).
        ``bounds`` gives known data limits (images in [0, 1]) instead of the observed min and max.
        ``per_feature=False`` uses one shift and scale for all values (images, where every pixel shares
        the same units).
        """
        scaler = cls._fit(data.float(), output, per_feature, bounds)
        with torch.no_grad():
            finite = bool(torch.isfinite(scaler.to_model(data.float())).all())
        if not finite or not bool(torch.isfinite(scaler.scale).all() and torch.isfinite(scaler.shift).all()):
            biggest = float(data.float().abs().max()) if data.numel() else 0.0
            raise GanforgeError(
                f"data: values up to {biggest:.3g} cannot be scaled into the generator's range in float32 "
                "(the scaled values overflow); rescale the data to a sensible range first"
            )
        return scaler

    @classmethod
    def _fit(
        cls, data: torch.Tensor, output: OutputRange, per_feature: bool, bounds: tuple[float, float] | None
    ) -> Scaler:
        dims = (0,) if per_feature else tuple(range(data.dim()))
        if output == "linear":
            shift = data.mean(dim=dims, keepdim=True)[0] if per_feature else data.mean()
            if data.numel() < 2 or (per_feature and data.shape[0] < 2):  # one sample: no spread, keep units
                std = torch.ones_like(shift)
            else:
                std = data.std(dim=dims, keepdim=True)[0] if per_feature else data.std()
            scale = 1.0 / torch.clamp(std, min=1e-8)
            return cls(shift, scale)
        lo_t, hi_t = TARGET_RANGE[output]
        if bounds is not None:
            lo = torch.tensor(bounds[0])
            hi = torch.tensor(bounds[1])
        elif per_feature:
            lo, hi = data.amin(dim=0), data.amax(dim=0)
        else:
            lo, hi = data.min(), data.max()
        width = torch.clamp(hi - lo, min=1e-8)
        scale = (hi_t - lo_t) / width
        shift = lo - lo_t / scale
        return cls(shift, scale)

    def to_model(self, x: torch.Tensor) -> torch.Tensor:
        """Data units -> generator units."""
        return (x - self.shift.to(x.device)) * self.scale.to(x.device)

    def to_data(self, x: torch.Tensor) -> torch.Tensor:
        """Generator units -> data units (the inverse of :meth:`to_model`)."""
        return x / self.scale.to(x.device) + self.shift.to(x.device)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"shift": self.shift.clone(), "scale": self.scale.clone()}

    @classmethod
    def from_state_dict(cls, state: dict[str, torch.Tensor]) -> Scaler:
        return cls(state["shift"], state["scale"])
