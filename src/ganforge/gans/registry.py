"""Registries that turn a recipe's ``model`` section into a GAN.

``model.type`` names a model builder (``@register_model``); inside it, ``generator``/``discriminator``
sections name network builders (``@register_network``) and ``penalties`` name discriminator penalties
(``@register_penalty``). Modules of ``ganforge.gans`` are imported on first lookup.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from ganforge.data.base import DataSource
from ganforge.errors import GanforgeError
from ganforge.gans.base import GANModel
from ganforge.registry import Registry, size_settings

MODELS = Registry("model type", "ganforge.gans")
NETWORKS = Registry("network type", "ganforge.gans")
PENALTIES = Registry("penalty", "ganforge.gans")


def register_model(name: str) -> Callable[[Callable[..., GANModel]], Callable[..., GANModel]]:
    """Decorator for ``fn(source, **settings) -> GANModel``."""
    return MODELS.register(name)


def register_network(name: str) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator for ``fn(role, noise_dim, sample_shape, num_classes, **settings) -> nn.Module``;
    ``role`` is ``"generator"`` or ``"discriminator"``."""
    return NETWORKS.register(name)


def register_penalty(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator for ``fn(**settings) -> Penalty``."""
    return PENALTIES.register(name)


def split_type(spec: Any, where: str, key: str = "type") -> tuple[str, dict[str, Any]]:
    """(type name, remaining settings) of a ``{type: name, ...}`` section."""
    if isinstance(spec, str):
        return spec, {}
    if not isinstance(spec, dict) or key not in spec:
        raise GanforgeError(f"{where}: expected a mapping with a '{key}' key, got {spec!r}")
    settings = dict(spec)
    return str(settings.pop(key)), settings


def build_network(
    spec: Any, where: str, role: str, noise_dim: int, sample_shape: tuple[int, ...], num_classes: int | None
) -> nn.Module:
    """Build the network described by ``spec`` for ``role`` and the data's sample shape.

    The network is first built on PyTorch's ``meta`` device (shapes only, no memory) and its parameter
    bytes compared with the memory available: a width of 10**9 is refused in one line naming the
    settings, instead of the kernel's out-of-memory killer ending the process (Linux overcommits, so
    such allocations do not fail, they get the process killed when touched)."""
    name, settings = split_type(spec, where)
    context = {"role": role, "noise_dim": noise_dim, "sample_shape": sample_shape, "num_classes": num_classes}
    check_network_memory(name, settings, where, context)
    return NETWORKS.build(name, settings, where, **context)


def check_network_memory(name: str, settings: dict[str, Any], where: str, context: dict[str, Any]) -> None:
    """Refuse a network whose parameters alone would take more than half the available memory (see
    :func:`build_network`). A factory that cannot build on ``meta`` is left to the real build."""
    available = available_memory()
    if available is None:
        return
    NETWORKS.get(name)  # the plug-in scan first: a module imported under "meta" would keep meta module constants
    try:
        with torch.device("meta"), _SkipInitOnMeta():
            net = NETWORKS.build(name, settings, where, **context)
        needed = sum(p.numel() * p.element_size() for p in net.parameters())
    except GanforgeError:
        raise
    except Exception:  # noqa: BLE001 - the meta build is only a pre-check; the real build reports
        return
    if needed > available // 2:
        sizes = size_settings(where, settings)
        raise GanforgeError(
            f"{where}: network '{name}' would need {needed / 2**30:.1f} GiB of parameters, more than half of the "
            f"{available / 2**30:.1f} GiB available; lower its sizes ({sizes or 'its widths'})"
        )


class _SkipInitOnMeta(TorchFunctionMode):
    """Weight initialisation on ``meta`` tensors returns them untouched (each initialiser keeps its input's
    shape). Only shapes count for the memory check, and these ops on a meta tensor run PyTorch's Python
    reference kernels, whose first use imports ``torch._dynamo``: about 0.7 s of every command that loads a
    DCGAN or conditional run. Spectral norm is not applied on meta at all (``nets.conv.apply_spectral_norm``,
    ``nets.conditioning.ProjectionHead``): its power iteration calls more ops than an initialiser does."""

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        initialises = (getattr(func, "__module__", None) == "torch.nn.init"
                       or func is torch.Tensor.normal_)
        first = args[0] if args else kwargs.get("tensor")
        if initialises and isinstance(first, torch.Tensor) and first.is_meta:
            return first
        return func(*args, **kwargs)


def available_memory() -> int | None:
    """Bytes of memory available to new allocations (Linux ``MemAvailable``), or None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def penalty_settings(spec: Any) -> dict[str, Any]:
    """A penalty's settings as a mapping: a bare number (``gp: 0.1``) is its weight."""
    return spec if isinstance(spec, dict) else {"weight": spec}


def build_penalties(specs: dict[str, Any] | None) -> list[Any]:
    """``{name: weight}`` or ``{name: {weight: w, every: k, ...}}`` -> penalty objects."""
    return [
        PENALTIES.build(name, penalty_settings(spec), f"model.penalties.{name}") for name, spec in (specs or {}).items()
    ]


def build_model(spec: dict[str, Any], source: DataSource) -> GANModel:
    """The GAN a recipe's ``model`` section describes, sized for ``source``."""
    name, settings = split_type(spec, "model")
    return MODELS.build(name, settings, "model", source=source)
