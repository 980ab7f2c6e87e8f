"""ganforge: train, diagnose, evaluate and use generative adversarial networks on PyTorch.

import ganforge as gf
run = gf.train("ring8")                         # a shipped recipe
run = gf.train(gf.GAN(G, D, noise_dim=1), data=gf.data.normal(10, 1), steps=3000)
x = gf.load(run.path).sample(1000)              # samples in the data's own units
"""

from collections.abc import Callable
from typing import Any, TypeVar

from ganforge import data, nets, objectives, training
from ganforge.api import build_config, resume, train
from ganforge.config import RunConfig
from ganforge.errors import GanforgeError
from ganforge.gans.base import GANModel, Phase
from ganforge.gans.vanilla import GAN
from ganforge.registry import Registry
from ganforge.runs import Run, load

__version__ = "0.1.0"

_T = TypeVar("_T")
APPS = Registry("app", "ganforge.apps")
"""Names that ``ganforge.apps`` modules publish as ``gf.<name>`` (``gf.augment``, ``gf.AnomalyDetector``): the
apps layer sits above this facade, so it is reached through this registry, loaded on the first lookup."""


def register_app(name: str | None = None) -> Callable[[_T], _T]:
    """Decorator for an app's public function or class: reachable as ``gf.<name>`` (default its ``__name__``)."""
    return APPS.register(*([name] if name else []))


def __getattr__(name: str) -> Any:
    if not name.startswith("_") and name in APPS:
        return APPS.get(name)
    raise AttributeError(f"module 'ganforge' has no attribute {name!r}")


__all__ = [
    "GAN",
    "GANModel",
    "GanforgeError",
    "Phase",
    "Run",
    "RunConfig",
    "build_config",
    "data",
    "load",
    "nets",
    "objectives",
    "resume",
    "train",
    "training",
]
