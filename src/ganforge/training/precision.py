"""Speed settings of the training step: mixed precision, ``torch.compile`` and channels-last memory.

Config keys (``train.*``):

* ``precision: fp32 | bf16 | fp16``. ``bf16``: the phase losses run under ``torch.autocast`` with bfloat16 (CPU
  and GPU); matrix products and convolutions compute in bf16, weights and optimizer state stay fp32. On the GPU
  autocast keeps reductions and the losses' softplus in fp32; on the CPU it runs them in bf16 too, so a CPU
  run's logged losses carry bf16's ~3 significant digits (1.3828125). bf16 has fp32's exponent range, so no loss
  scaling is needed. ``fp16``: autocast with float16, GPU only; its narrow range (max 65504, smallest normal
  6e-5) needs dynamic loss scaling: the loss is multiplied by S before ``backward``, gradients are divided by S
  before the step, a step whose gradients overflow is skipped and S halved, and S doubles after 2000 clean steps
  (``torch.amp.GradScaler``; one scaler per phase, saved in checkpoints).
* ``compile: true`` compiles each trained network's ``forward`` with ``torch.compile`` (the module and
  its ``state_dict`` keys are unchanged, so checkpoints stay interchangeable with eager runs). The first
  steps pay the compile time (tens of seconds on a CPU). A discriminator under a gradient penalty stays
  eager: the penalty differentiates it twice, which compiled graphs do not support.
* ``channels_last: true`` stores 4-D weights and image batches as NHWC, the layout cuDNN and oneDNN
  convolutions prefer; it changes memory layout only, never values beyond rounding.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import torch
from torch import nn

from ganforge.config import TrainConfig
from ganforge.data.base import Batch
from ganforge.errors import GanforgeError
from ganforge.training.distributed import is_main_process

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def networks_of(gan: nn.Module) -> dict[str, nn.Module]:
    """The networks the GAN's phases train, by attribute name (each once)."""
    phases = gan.all_phases() if hasattr(gan, "all_phases") else gan.phases(0)  # type: ignore[operator]
    names = dict.fromkeys(name for phase in phases for name in phase.networks)
    return {name: getattr(gan, name) for name in names}


def compile_forward(module: nn.Module, **options: Any) -> None:
    """Compile ``module.forward`` in place with ``torch.compile`` (state_dict keys unchanged)."""
    if getattr(module, "_ganforge_compiled", False):
        return
    module.forward = torch.compile(module.forward, **options)  # type: ignore[method-assign]
    module._ganforge_compiled = True  # type: ignore[attr-defined]


def has_conv_weights(module: nn.Module) -> bool:
    return any(p.dim() == 4 for p in module.parameters())


class MixedPrecision:
    """Autocast, loss scaling, compile and channels-last for one trainer; fp32 defaults are no-ops.

    The trainer calls :meth:`prepare` once, :meth:`prepare_batch` on each real batch, runs each phase
    loss inside :meth:`autocast`, and replaces ``loss.backward()`` / ``opt.step()`` by :meth:`backward`,
    (:meth:`unscale` before reading gradients,) :meth:`step`.
    """

    def __init__(self, config: TrainConfig, device: torch.device) -> None:
        self.precision = config.precision
        self.device = device
        self.compile = config.compile
        self.channels_last = config.channels_last
        if self.precision == "fp16" and device.type != "cuda":
            raise GanforgeError(
                "train.precision=fp16 needs a CUDA GPU (fp16 kernels and loss scaling); on the CPU use bf16"
            )
        self.dtype = DTYPES.get(self.precision)
        self.scalers: dict[str, torch.amp.GradScaler] = {}
        self._unscaled: set[str] = set()

    @property
    def grads_may_overflow(self) -> bool:
        """fp16: an overflowing step is expected now and then; the scaler skips it (not a divergence)."""
        return self.precision == "fp16"

    def prepare(self, gan: nn.Module) -> None:
        """Channels-last weights for conv nets, then compile the trained networks."""
        nets = networks_of(gan)
        if self.channels_last:
            for net in nets.values():
                if has_conv_weights(net):
                    net.to(memory_format=torch.channels_last)
        if self.compile:
            # Gradient penalties (R1, WGAN-GP, ...) differentiate D twice, which compiled graphs do not
            # support (aot_autograd has no double backward): D then stays eager.
            eager = {"discriminator"} if getattr(gan, "penalties", None) else set()
            if eager & nets.keys() and is_main_process():  # a note, once: not a Python warning per rank
                print("note: train.compile: the discriminator stays eager because a gradient penalty "
                      "differentiates it twice (torch.compile does not support double backward); the generator "
                      "is compiled", file=sys.stderr, flush=True)
            for name, net in nets.items():
                if name not in eager:
                    compile_forward(net)

    def prepare_batch(self, batch: Batch | None) -> Batch | None:
        if batch is None or not self.channels_last or batch.x.dim() != 4:
            return batch
        return Batch(batch.x.contiguous(memory_format=torch.channels_last), batch.y)

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def _scaler(self, phase: str) -> torch.amp.GradScaler:
        if phase not in self.scalers:
            self.scalers[phase] = torch.amp.GradScaler(self.device.type)
        return self.scalers[phase]

    def backward(self, loss: torch.Tensor, phase: str) -> None:
        if self.precision == "fp16":
            self._scaler(phase).scale(loss).backward()
        else:
            loss.backward()

    def unscale(self, optimizer: torch.optim.Optimizer, phase: str) -> None:
        """Divide the gradients by the loss scale (fp16), so they can be read or clipped; once per step."""
        if self.precision == "fp16" and phase not in self._unscaled:
            self._scaler(phase).unscale_(optimizer)
            self._unscaled.add(phase)

    def step(self, optimizer: torch.optim.Optimizer, phase: str) -> None:
        if self.precision == "fp16":
            scaler = self._scaler(phase)
            scaler.step(optimizer)
            scaler.update()
            self._unscaled.discard(phase)
        else:
            optimizer.step()

    def state_dict(self) -> dict[str, Any]:
        return {name: scaler.state_dict() for name, scaler in self.scalers.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name, scaler_state in state.items():
            if self.precision == "fp16":
                self._scaler(name).load_state_dict(scaler_state)
