"""ganforge: train, diagnose, evaluate and use generative adversarial networks on PyTorch.

import ganforge as gf
run = gf.train("ring8")                         # a shipped recipe
run = gf.train(gf.GAN(G, D, noise_dim=1), data=gf.data.normal(10, 1), steps=3000)
x = gf.load(run.path).sample(1000)              # samples in the data's own units

The names below are imported on first use (PEP 562), so ``import ganforge.cli`` (and ``ganforge --help``)
does not pay for importing torch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ganforge.registry import Registry

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY: dict[str, str] = {
    "GAN": "ganforge.gans.vanilla",
    "GANModel": "ganforge.gans.base",
    "GanforgeError": "ganforge.errors",
    "Phase": "ganforge.gans.base",
    "Run": "ganforge.runs",
    "RunConfig": "ganforge.config",
    "TableGAN": "ganforge.gans.tablegan",
    "build_config": "ganforge.api",
    "load": "ganforge.runs",
    "resume": "ganforge.api",
    "train": "ganforge.api",
}
_SUBMODULES = ("data", "nets", "objectives", "training")

_T = TypeVar("_T")
APPS = Registry("app", "ganforge.apps")
"""Names that ``ganforge.apps`` modules publish as ``gf.<name>`` (``gf.augment``, ``gf.AnomalyDetector``,
``gf.translate``, ``gf.upscale``): the apps layer sits above this facade, so it is reached through this registry,
loaded on the first lookup."""


def register_app(name: str | None = None) -> Callable[[_T], _T]:
    """Decorator for an app's public function or class: reachable as ``gf.<name>`` (default its ``__name__``)."""
    return APPS.register(*([name] if name else []))

if TYPE_CHECKING:
    from ganforge import data, nets, objectives, training
    from ganforge.api import build_config, resume, train
    from ganforge.config import RunConfig
    from ganforge.errors import GanforgeError
    from ganforge.gans.base import GANModel, Phase
    from ganforge.gans.tablegan import TableGAN
    from ganforge.gans.vanilla import GAN
    from ganforge.runs import Run, load


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"ganforge.{name}")
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if not name.startswith("_") and name in APPS:
        return APPS.get(name)
    raise AttributeError(f"module 'ganforge' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public API (what ``__all__`` lists, plus the apps' names), not this module's own imports."""
    return sorted({*__all__, "__version__", *APPS.keys()})


__all__ = [
    "AnomalyDetector",
    "augment",
    "build_config",
    "data",
    "GAN",
    "GanforgeError",
    "GANModel",
    "load",
    "nets",
    "objectives",
    "Phase",
    "register_app",
    "resume",
    "Run",
    "RunConfig",
    "TableGAN",
    "train",
    "training",
    "translate",
    "upscale",
]
