"""A generator's sampling path saved without its Python class: ``torch.export`` of z (, y) -> sample.

Runs trained from Python with the user's own networks (``gf.train(gf.GAN(G, D, ...), data=...)``) have no
config that rebuilds those networks, so ``ganforge sample RUN`` or ``ganforge.load`` in a new process could
not sample them. At the end of training the sampling generator (the EMA or the raw one, as chosen) is
exported with a dynamic batch dimension to ``RUN/generator.pt2`` (ExportedProgram, weights included), with
the latent prior and classes in ``RUN/generator.json``. :class:`ExportedGAN` samples from that file: the
same latents, the same outputs as the original generator in eval mode. The file is inspected before it
is loaded and its graph must call PyTorch operators only (:mod:`ganforge.programs`), so a run folder
someone hands you cannot run code through it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ganforge.errors import GanforgeError
from ganforge.gans.base import GANModel, Noise
from ganforge.programs import load_exported_program, quiet_torch

PROGRAM_FILE = "generator.pt2"
SPEC_FILE = "generator.json"


class _SamplingPath(nn.Module):
    """``gan.generate(z[, y])`` in eval mode, as one module torch.export can trace."""

    def __init__(self, gan: GANModel, conditional: bool) -> None:
        super().__init__()
        self.gan = gan
        self.conditional = conditional

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.gan.generate(z, y) if self.conditional else self.gan.generate(z)


def export_generator(gan: GANModel, folder: Path) -> dict[str, Any]:
    """Export ``gan``'s sampling path into ``folder``; returns a record for summary.json (``ok`` and the
    reason when torch.export cannot trace the generator, e.g. data-dependent Python control flow)."""
    noise = getattr(gan, "noise", None)
    if not isinstance(noise, Noise) or not gan.samples_from_noise:
        return {"ok": False, "reason": "the model does not sample from a ganforge Noise prior"}
    conditional = gan.num_classes is not None
    was_training = gan.training
    gan.eval()
    try:
        z = noise.sample(4).to(next(gan.parameters()).device)
        args: tuple[Tensor, ...] = (z,)
        batch = torch.export.Dim("batch", min=1, max=1 << 20)
        shapes: dict[str, Any] = {"z": {0: batch}}
        if conditional:
            args = (z, torch.zeros(4, dtype=torch.long, device=z.device))
            shapes["y"] = {0: batch}
        with quiet_torch():
            program = torch.export.export(_SamplingPath(gan, conditional).eval(), args, dynamic_shapes=shapes)
        tmp = folder / ("tmp-" + PROGRAM_FILE)
        torch.export.save(program, tmp)
        tmp.replace(folder / PROGRAM_FILE)
    except Exception as err:  # noqa: BLE001 - any tracing failure: record it, training's result stands
        detail = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        return {"ok": False, "reason": f"torch.export failed: {detail}"}
    finally:
        gan.train(was_training)
    spec = {
        "noise_shape": list(noise.shape),
        "noise_kind": noise.kind,
        "num_classes": gan.num_classes,
        "output_activation": gan.output_activation,
    }
    (folder / SPEC_FILE).write_text(json.dumps(spec), encoding="utf-8")
    return {"ok": True, "file": PROGRAM_FILE}


class ExportedGAN(GANModel):
    """Samples from an exported sampling path; it cannot be trained (it has no discriminator)."""

    def __init__(self, program: Any, spec: dict[str, Any]) -> None:
        super().__init__()
        self._module = [program.module()]  # a list: not registered as a submodule (its weights are its own)
        self.noise = Noise(tuple(spec["noise_shape"]), spec.get("noise_kind", "normal"))
        self.num_classes = spec.get("num_classes")
        self.output_activation = spec.get("output_activation", "linear")
        self._anchor = nn.Parameter(torch.zeros(()), requires_grad=False)  # gives the model a device

    def generate(self, z: Tensor, y: Tensor | None = None, **options: Any) -> Tensor:
        if options:
            raise GanforgeError(f"this exported generator takes no sampling options ({', '.join(options)})")
        module = self._module[0]
        return module(z, y) if self.num_classes is not None else module(z)

    def sample_latents(self, n: int) -> Tensor:
        return self.noise.sample(n)

    def phases(self, step: int) -> list:
        raise GanforgeError("a generator loaded from generator.pt2 samples only; train with the original GAN")


def load_exported(folder: Path) -> ExportedGAN | None:
    """The exported generator of a run folder, or None when it has none."""
    program_file, spec_file = folder / PROGRAM_FILE, folder / SPEC_FILE
    if not program_file.is_file() or not spec_file.is_file():
        return None
    try:
        spec = json.loads(spec_file.read_text(encoding="utf-8"))
    except Exception as err:  # noqa: BLE001
        detail = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise GanforgeError(f"{spec_file}: cannot be loaded ({detail}); the run folder is damaged") from None
    # inspected before torch reads it, and its graph may call torch operators only (ganforge/programs.py)
    program = load_exported_program(program_file)
    return ExportedGAN(program, spec)
