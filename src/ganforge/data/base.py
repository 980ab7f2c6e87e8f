"""Where real samples come from: the two kinds of data source every loader returns.

* :class:`DistributionSource` draws fresh samples from a known distribution for every batch (toy
  numbers and points; the published mode-coverage protocols sample this way).
* :class:`ArraySource` holds a finite array (files, images, sequences, tables) and serves it in
  epoch-shuffled batches.

Both keep their samples in *data units* and a :class:`~ganforge.data.scaling.Scaler` that maps them to
the generator's range; batches come out in *model units*. Their whole position in the data stream is a
``state_dict`` so a resumed run continues with exactly the batches the uninterrupted run would have seen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

from ganforge.data.scaling import OutputRange, Scaler

DataKind = Literal[
    "numbers",
    "points",
    "images",
    "sequences",
    "table",
    "superres",
    "unpaired-images",
    "paired-images",
    "captioned-images",
]


@dataclass
class Batch:
    """One batch in model units. ``y`` holds integer class labels (or condition vectors) when present."""

    x: torch.Tensor
    y: torch.Tensor | None = None

    def to(self, device: torch.device | str) -> Batch:
        return Batch(self.x.to(device), None if self.y is None else self.y.to(device))

    def __len__(self) -> int:
        return self.x.shape[0]


@dataclass
class Mixture:
    """Known mixture components, for mode coverage: component means (K, D) and a shared std."""

    means: torch.Tensor
    std: float


@dataclass
class DataSource:
    """Common description of a data source; subclasses implement :meth:`batch` and :meth:`real`."""

    kind: DataKind
    sample_shape: tuple[int, ...]
    name: str = "data"
    num_classes: int | None = None
    mixture: Mixture | None = None
    scaler: Scaler = field(default_factory=Scaler.identity)
    info: dict[str, Any] = field(default_factory=dict)

    def fit_scaler(self, output: OutputRange) -> None:
        """Choose the scaler for a generator whose output activation is ``output``."""
        raise NotImplementedError

    def batch(self, n: int, rng: torch.Generator) -> Batch:
        """The next ``n`` real samples, in model units."""
        raise NotImplementedError

    def real(self, n: int, seed: int = 12345) -> Batch:
        """``n`` real samples in data units, for evaluation and plots (deterministic for a seed)."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        del state


@dataclass
class DistributionSource(DataSource):
    """Infinite data: ``draw(n, rng) -> (x, y)`` in data units, called afresh for each batch."""

    draw: Callable[[int, torch.Generator], tuple[torch.Tensor, torch.Tensor | None]] | None = None

    def fit_scaler(self, output: OutputRange) -> None:
        x, _ = self._draw(20_000, torch.Generator().manual_seed(0))
        self.scaler = Scaler.fit(x, output)

    def _draw(self, n: int, rng: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
        assert self.draw is not None
        return self.draw(n, rng)

    def batch(self, n: int, rng: torch.Generator) -> Batch:
        x, y = self._draw(n, rng)
        return Batch(self.scaler.to_model(x), y)

    def real(self, n: int, seed: int = 12345) -> Batch:
        x, y = self._draw(n, torch.Generator().manual_seed(seed))
        return Batch(x, y)


@dataclass
class ArraySource(DataSource):
    """Finite data in data units: ``x`` (N, *sample_shape) and optional labels ``y`` (N,).

    Batches walk a random permutation; a new permutation is drawn each epoch. ``bounds`` gives known
    value limits (images: (0, 1)) so scaling does not depend on the observed extremes, and
    ``per_feature_scaling=False`` scales all values alike (pixels).
    """

    x: torch.Tensor = field(default_factory=lambda: torch.empty(0))
    y: torch.Tensor | None = None
    bounds: tuple[float, float] | None = None
    per_feature_scaling: bool = True
    _order: torch.Tensor = field(default_factory=lambda: torch.empty(0, dtype=torch.long))
    _cursor: int = 0

    def __post_init__(self) -> None:
        self.x = self.x.float()
        self.sample_shape = tuple(self.x.shape[1:])

    def __len__(self) -> int:
        return self.x.shape[0]

    def fit_scaler(self, output: OutputRange) -> None:
        self.scaler = Scaler.fit(self.x, output, per_feature=self.per_feature_scaling, bounds=self.bounds)

    def _indices(self, n: int, rng: torch.Generator) -> torch.Tensor:
        parts = []
        while n > 0:
            if self._cursor >= self._order.numel():
                self._order = torch.randperm(len(self), generator=rng)
                self._cursor = 0
            take = min(n, self._order.numel() - self._cursor)
            parts.append(self._order[self._cursor : self._cursor + take])
            self._cursor += take
            n -= take
        return torch.cat(parts)

    def batch(self, n: int, rng: torch.Generator) -> Batch:
        idx = self._indices(n, rng)
        y = None if self.y is None else self.y[idx]
        return Batch(self.scaler.to_model(self.x[idx]), y)

    def real(self, n: int, seed: int = 12345) -> Batch:
        g = torch.Generator().manual_seed(seed)
        idx = torch.randperm(len(self), generator=g)[: min(n, len(self))]
        return Batch(self.x[idx], None if self.y is None else self.y[idx])

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"order": self._order.clone(), "cursor": torch.tensor(self._cursor)}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self._order = state["order"].clone()
        self._cursor = int(state["cursor"])
