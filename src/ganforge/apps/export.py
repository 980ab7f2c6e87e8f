"""Take a trained generator into other software: ONNX (``.onnx``) or a ``torch.export`` program (``.pt2``).

What is exported is the run's *sampling* function, ``x = to_data(G(z[, label]))``: the sampling generator
(the EMA copy when the run kept one) in eval mode, followed by the run's data scaler, so the exported
model returns samples in the data's own units (pixels in [0, 1], the user's columns, ...). Inputs:

* ``z``: latents of shape ``(N, *noise_shape)`` drawn from the run's prior (recorded in the file's
  metadata: ``noise`` is ``normal`` (standard normal) or ``uniform`` (on [-1, 1], or [0, 1] for TimeGAN),
  as ``run.gan.sample_latents`` draws them); a sequence model trained on one draw per sequence
  (``noise_per: sequence``, e.g. sines-rcgan) reads only ``z[:, 0]`` and holds it over the T steps, so ``z``
  drawn independently at every step still gives the model's own samples (metadata ``noise_per``);
* ``label`` (conditional generators only): class indices ``(N,)`` int64; for a run trained on one sub-folder
  per class, the metadata's ``class_names`` names them (label ``k`` is ``class_names[k]``).

The batch size ``N`` is dynamic. Only generators whose sampling is a plain forward pass can be exported:
one that draws random numbers inside its forward pass (StyleGAN's per-pixel noise, LAPGAN's per-level
noise), that maps images to images (SRGAN, CycleGAN) or that draws what a sentence says (text-to-image) is
refused with a one-line error.

After writing, the file is loaded back and run on the same fresh latents as PyTorch; the maximum absolute
difference is returned (and printed by ``ganforge export``), and a difference above
``tolerance * (1 + max |x|)`` is an error.
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ganforge.errors import GanforgeError
from ganforge.fileio import replaced_on_success
from ganforge.programs import quiet_torch
from ganforge.runs import Run, load

FORMATS = {".onnx": "onnx", ".pt2": "torch.export"}
CHECK_SAMPLES = 256
TRACE_SAMPLES = 8
TOLERANCE = 1e-4
ONNX_OPSET = 18


class SamplingModule(nn.Module):
    """``forward(z[, label]) -> samples in data units``: the GAN's ``generate`` in eval mode, then the data
    scaler's inverse map ``x / scale + shift``."""

    def __init__(self, run: Run) -> None:
        super().__init__()
        self.gan = run.gan.eval()
        scaler = run.scaler
        self.register_buffer("shift", scaler.shift.detach().float().clone())
        self.register_buffer("scale", scaler.scale.detach().float().clone())
        self.conditional = run.gan.num_classes is not None
        # RCGAN / TimeGAN with noise_per: sequence were trained on one draw held over every step; a caller drawing
        # z (N, T, nz) step by step (the README's standard_normal) would feed noise the model never saw
        self.held_over_time = getattr(run.gan, "noise_per", "step") == "sequence"

    def forward(self, z: Tensor, label: Tensor | None = None) -> Tensor:
        if self.held_over_time:
            z = z[:, :1].expand(-1, z.shape[1], -1)  # the first step's draw, held: the prior the model learned
        out = self.gan.generate(z, label)
        return out / self.scale + self.shift


@dataclass
class ExportResult:
    path: Path
    format: str
    inputs: dict[str, list[Any]]
    output_shape: list[Any]
    max_abs_error: float
    checked_samples: int
    metadata: dict[str, Any]

    def describe(self) -> str:
        ins = ", ".join(f"{k} {tuple(v)}" for k, v in self.inputs.items())
        return (
            f"wrote {self.path} ({self.format}): inputs {ins} -> samples {tuple(self.output_shape)} in data units; "
            f"max abs error vs PyTorch on {self.checked_samples} samples: {self.max_abs_error:.3g}"
        )


def export_format(output: Path) -> str:
    fmt = FORMATS.get(output.suffix.lower())
    if fmt is None:
        raise GanforgeError(f"-o {output}: unknown export format '{output.suffix}'; use a .onnx or .pt2 file name")
    return fmt


def _inputs(module: SamplingModule, run: Run, n: int, seed: int) -> tuple[Tensor, ...]:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        z = run.gan.sample_latents(n).detach().float().cpu()
        if not module.conditional:
            return (z,)
        assert run.gan.num_classes is not None
        label = torch.arange(n, dtype=torch.long) % run.gan.num_classes
        return (z, label)


def check_exportable(run: Run) -> SamplingModule:
    """The sampling module of ``run``, or a one-line error saying why its sampling cannot be exported."""
    kind = run.config.model.get("type", type(run.gan).__name__)
    if not getattr(run.gan, "samples_from_noise", True):
        # the command that does use such a run, as `ganforge sample` names it (a translator or an upscaler)
        use = "upscale RUN in.png -o out.png" if hasattr(run.gan, "upscale") else "translate RUN IN -o OUT"
        raise GanforgeError(
            f"{run.path}: a {kind} model maps images to images, it does not sample from noise, so there is no "
            f"z -> samples function to export; use it with `ganforge {use}`"
        )
    if getattr(run.gan, "reads_text", False):  # it would fail the repeatability check below, blamed on noise
        raise GanforgeError(
            f"{run.path}: a text-to-image generator draws what a sentence says, and the exported function takes "
            "only noise (and class labels); draw pictures with `ganforge sample RUN --text \"...\" -o out.png`"
        )
    if run.data_info.kind == "table":
        raise GanforgeError(
            f"{run.path}: a table model's rows are decoded into typed columns (categories drawn, values rounded "
            "to the data's decimals) outside its network; write synthetic rows with `ganforge sample RUN --rows N`"
        )
    module = SamplingModule(run).eval()
    inputs = _inputs(module, run, TRACE_SAMPLES, seed=0)
    with torch.no_grad():
        outs = []
        for seed in (1, 2):  # the same inputs under two RNG states: a plain forward pass gives the same output
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                outs.append(module(*inputs))
    if not torch.equal(outs[0], outs[1]):
        raise GanforgeError(
            f"{run.path}: the {kind} model draws random numbers inside its forward pass (e.g. per-pixel or "
            "per-level noise), so its sampling is not a plain function of z and cannot be exported"
        )
    return module


def _dynamic(module: SamplingModule) -> dict[str, Any]:
    batch = torch.export.Dim("batch", min=1, max=1 << 20)
    shapes: dict[str, Any] = {"z": {0: batch}}
    if module.conditional:
        shapes["label"] = {0: batch}
    return shapes


def _export_program(module: SamplingModule, inputs: tuple[Tensor, ...]) -> torch.export.ExportedProgram:
    try:
        with quiet_torch():
            return torch.export.export(module, inputs, dynamic_shapes=_dynamic(module), strict=False)
    except Exception as err:  # noqa: BLE001 - torch.export raises many kinds; one line for the user
        raise GanforgeError(f"this generator cannot be captured by torch.export ({_reason(err)})") from None


# ops that draw random numbers (dropout is not listed: the module is captured in eval mode, where it is a no-op)
RANDOM_OPS = ("rand", "normal", "bernoulli", "uniform", "multinomial", "poisson", "exponential", "geometric", "cauchy")


def check_no_random_ops(program: torch.export.ExportedProgram, run: Run) -> None:
    """Refuse a graph that draws random numbers (StyleGAN's per-pixel noise, LAPGAN's per-level noise): its
    output is not a function of the inputs, so the exported model cannot reproduce PyTorch's sampling."""
    found = sorted({
        _op_name(node.target)
        for node in program.graph.nodes
        if node.op == "call_function" and any(word in str(node.target).lower() for word in RANDOM_OPS)
    })
    if found:
        kind = run.config.model.get("type", type(run.gan).__name__)
        raise GanforgeError(
            f"{run.path}: the {kind} generator draws random numbers inside its forward pass ({', '.join(found)}), "
            "so its sampling is not a plain function of z and cannot be exported"
        )


def _op_name(target: Any) -> str:
    """``aten.randn.default`` -> ``randn``."""
    parts = str(target).split(".")
    return parts[1] if len(parts) > 1 and parts[0] in ("aten", "prims") else str(target)


def _reason(err: BaseException) -> str:
    """The most telling line of an exporter's long message (its first line naming an error), shortened."""
    import re

    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(err).splitlines()]
    lines = [line for line in lines if line]
    telling = [line for line in lines if "Error" in line or "error" in line or "not supported" in line]
    return ((telling or lines or [type(err).__name__])[0])[:200]


def export_run(
    run: Run | str | Path, output: str | Path, *, tolerance: float = TOLERANCE, check_samples: int = CHECK_SAMPLES
) -> ExportResult:
    """Export ``run``'s sampling function to ``output`` (``.onnx`` or ``.pt2``), check it against PyTorch on
    ``check_samples`` fresh latents, and return what was written with the maximum absolute error."""
    output = Path(output)
    fmt = export_format(output)
    if not output.parent.exists():
        raise GanforgeError(f"-o {output}: folder '{output.parent}' does not exist; create it first")
    if output.is_dir():  # refused before the export: it used to fail at the end, naming the temporary file
        raise GanforgeError(
            f"-o {output}: is a folder; give a file name, e.g. -o {output / ('generator' + output.suffix.lower())}"
        )
    loaded = run if isinstance(run, Run) else load(run)
    if output.exists() and output.resolve().parent == loaded.path.resolve():  # e.g. the run's own generator.pt2
        raise GanforgeError(f"-o {output}: is a file of the run folder itself; export to another name or folder")
    loaded.gan.cpu()
    module = check_exportable(loaded)
    trace = _inputs(module, loaded, TRACE_SAMPLES, seed=0)
    check = _inputs(module, loaded, check_samples, seed=12345)
    with torch.no_grad():
        expected = module(*check)
    noise = getattr(getattr(loaded.gan, "noise", None), "kind", None)
    metadata = {
        "ganforge_run": str(loaded.path),
        "step": loaded.step,
        "model": str(loaded.config.model.get("type")),
        "data_kind": loaded.data_info.kind,
        "noise": noise or ("uniform [0, 1]" if type(loaded.gan).__name__ == "TimeGAN" else "see run"),
        "noise_shape": list(trace[0].shape[1:]),
        "num_classes": loaded.gan.num_classes,
        "output": "samples in data units",
    }
    if loaded.gan.num_classes is not None and loaded.class_names is not None:
        # label k is class_names[k] (the class sub-folders trained on): without it the file's labels are numbers only
        metadata["class_names"] = list(loaded.class_names)
    if module.held_over_time:
        metadata["noise_per"] = "sequence (only z[:, 0] is read; it is held over every step)"
    names = ["z", "label"][: len(trace)]
    program = _export_program(module, trace)
    check_no_random_ops(program, loaded)
    with replaced_on_success(output, keep_suffix=True) as tmp:  # renamed only once the file is checked
        if fmt == "onnx":
            got = _export_onnx(program, check, tmp, names, metadata)
        else:
            got = _export_pt2(program, check, tmp, metadata)
        error = float((got - expected).abs().max()) if expected.numel() else 0.0
        bound = tolerance * (1.0 + float(expected.abs().max()))
        if not error <= bound:
            raise GanforgeError(
                f"{output}: the exported model differs from PyTorch by up to {error:.3g} (allowed {bound:.3g}); "
                "the export is not faithful, so it was not written"
            )
    inputs = {"z": ["N", *metadata["noise_shape"]]}
    if module.conditional:
        inputs["label"] = ["N"]
    return ExportResult(output, fmt, inputs, ["N", *expected.shape[1:]], error, check_samples, metadata)


def _export_pt2(
    program: torch.export.ExportedProgram, check: tuple[Tensor, ...], tmp: Path, metadata: dict[str, Any]
) -> Tensor:
    """Write ``program`` to ``tmp`` and run it, as loaded back from the file, on ``check``."""
    torch.export.save(program, tmp, extra_files={"ganforge.json": json.dumps(metadata)})
    from ganforge.programs import load_exported_program

    reloaded = load_exported_program(tmp)  # the file as written, read the way every reader reads it
    with torch.no_grad():
        return reloaded.module()(*check)


def _export_onnx(
    program: torch.export.ExportedProgram, check: tuple[Tensor, ...], tmp: Path, names: list[str],
    metadata: dict[str, Any],
) -> Tensor:
    """Write ``program`` to ``tmp`` as ONNX with ``metadata`` and run the file with onnxruntime on ``check``."""
    try:
        import onnx
        import onnxruntime
    except ImportError:
        raise GanforgeError(
            "ONNX export needs the onnx and onnxruntime packages: pip install 'ganforge[export]'"
        ) from None
    try:
        with contextlib.redirect_stdout(io.StringIO()), quiet_torch():
            torch.onnx.export(
                program, (), str(tmp), input_names=names, output_names=["x"], opset_version=ONNX_OPSET,
                dynamo=True, external_data=False,
            )
    except Exception as err:  # noqa: BLE001 - the exporter raises many kinds; one line for the user
        raise GanforgeError(
            f"this generator cannot be exported to ONNX ({_reason(err)}); export it with -o generator.pt2 instead"
        ) from None
    model = onnx.load(str(tmp))
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, json.dumps(value)
    onnx.save(model, str(tmp))
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(tmp), options, providers=["CPUExecutionProvider"])
    feeds = {i.name: t.numpy() for i, t in zip(session.get_inputs(), check, strict=True)}
    return torch.from_numpy(session.run(None, feeds)[0])
