"""``ganforge export``: ONNX and torch.export round trips per generator kind, checked on the same noise."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ganforge.api import build_config
from ganforge.apps.export import export_run
from ganforge.data.registry import source_from_config
from ganforge.errors import GanforgeError
from ganforge.gans.registry import build_model
from ganforge.runs import Run

# recipe -> generator kind it exercises (small overrides keep the build fast)
EXPORTABLE = {
    "ring8": "mlp on points",
    "digits-dcgan": "dcgan (conv) on images",
    "digits-mlp": "mlp-image",
    "digits-cgan": "conditional dcgan (label input)",
    "sines-rcgan": "recurrent (rcgan)",
    "sines-timegan": "timegan (generator + supervisor + recovery)",
}


def _untrained_run(recipe: str, tmp_path: Path) -> Run:
    config = build_config(recipe)
    torch.manual_seed(0)
    source = source_from_config(config.data)
    gan = build_model(config.model, source)
    source.fit_scaler(gan.output_activation)
    for p in gan.parameters():  # move weights off their init so a dropped layer would show
        p.data.add_(0.05 * torch.randn_like(p))
    return Run(tmp_path, config, gan, source)


def _reference(run: Run, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """What the run's own sampling gives for these latents (and labels), in data units."""
    run.gan.eval()
    with torch.no_grad():
        label = torch.from_numpy(inputs["label"]) if "label" in inputs else None
        return run.scaler.to_data(run.gan.generate(torch.from_numpy(inputs["z"]), label)).numpy()


def _inputs(run: Run, n: int = 37) -> dict[str, np.ndarray]:
    torch.manual_seed(99)
    out = {"z": run.gan.sample_latents(n).float().numpy()}
    if run.gan.num_classes is not None:
        out["label"] = (np.arange(n) % run.gan.num_classes).astype(np.int64)
    return out


@pytest.mark.parametrize("recipe", list(EXPORTABLE))
def test_torch_export_round_trip(recipe: str, tmp_path: Path) -> None:
    run = _untrained_run(recipe, tmp_path)
    result = export_run(run, tmp_path / "g.pt2")
    assert result.max_abs_error <= 1e-5
    program = torch.export.load(tmp_path / "g.pt2")
    inputs = _inputs(run)  # a batch size the export never saw: the batch dimension is dynamic
    with torch.no_grad():
        got = program.module()(*(torch.from_numpy(v) for v in inputs.values())).numpy()
    np.testing.assert_allclose(got, _reference(run, inputs), atol=1e-5, rtol=1e-5)
    assert ("label" in result.inputs) == (run.gan.num_classes is not None)


@pytest.mark.parametrize(
    "recipe", [pytest.param(r, marks=pytest.mark.slow) if r.startswith("sines") else r for r in EXPORTABLE]
)
def test_onnx_round_trip(recipe: str, tmp_path: Path) -> None:
    import onnx
    import onnxruntime

    run = _untrained_run(recipe, tmp_path)
    result = export_run(run, tmp_path / "g.onnx")
    assert result.max_abs_error <= 1e-4
    meta = {p.key: json.loads(p.value) for p in onnx.load(str(tmp_path / "g.onnx")).metadata_props}
    assert meta["num_classes"] == run.gan.num_classes and meta["output"] == "samples in data units"
    session = onnxruntime.InferenceSession(str(tmp_path / "g.onnx"), providers=["CPUExecutionProvider"])
    inputs = _inputs(run)
    assert [i.name for i in session.get_inputs()] == list(inputs)
    got = session.run(None, inputs)[0]
    np.testing.assert_allclose(got, _reference(run, inputs), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize(
    ("recipe", "why"),
    [("digits-stylegan", "draws random numbers"), ("digits-lapgan", "draws random numbers"),
     ("photos-srgan", "maps images to images.*ganforge upscale"), ("digits-text", "draws what a sentence says")],
)
def test_generators_that_are_not_a_plain_forward_pass_are_refused(recipe: str, why: str, tmp_path: Path) -> None:
    run = _untrained_run(recipe, tmp_path)
    with pytest.raises(GanforgeError, match=why):
        export_run(run, tmp_path / "g.pt2")
    assert not (tmp_path / "g.pt2").exists()


@pytest.mark.slow
def test_cli_exports_a_trained_run_and_prints_the_error(tmp_path: Path) -> None:
    import ganforge as gf

    run = gf.train("ring8", steps=100, out=tmp_path / "run", show_progress=False, overrides=["eval.n=300"])
    env = {"PYTHONPATH": str(Path(gf.__file__).parents[1]), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "ganforge", "export", str(run.path), "-o"]
    done = subprocess.run([*cmd, str(tmp_path / "g.onnx")], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "max abs error vs PyTorch on 256 samples:" in done.stdout
    assert done.stdout.count("\n") == 1 and not done.stderr.strip()  # one line, exporter chatter silenced
    bad = subprocess.run([*cmd, str(tmp_path / "g.zip")], capture_output=True, text=True, env=env, timeout=300)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and bad.stderr.count("\n") == 1


def test_the_readmes_snippet_runs_an_exported_generator_as_written(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    import re

    import ganforge as gf
    from ganforge.apps.export import export_run

    run = gf.train("ring8", steps=20, out=tmp_path / "run", show_progress=False, overrides=["eval.enabled=false"])
    monkeypatch.chdir(tmp_path)
    export_run(run, tmp_path / "g.onnx")
    export_run(run, tmp_path / "g.pt2")
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Using an exported generator elsewhere") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - the README's own code
    assert tuple(namespace["samples"].shape) == (100, 2) and namespace["meta"]["noise"] == "normal"


def test_a_sequence_model_with_one_draw_per_sequence_reads_z_as_it_was_trained(tmp_path: Path) -> None:
    run = _untrained_run("sines-rcgan", tmp_path)  # noise_per: sequence
    result = export_run(run, tmp_path / "g.pt2")
    assert result.metadata["noise_per"].startswith("sequence")
    torch.manual_seed(3)
    z = torch.randn(5, *result.metadata["noise_shape"])  # drawn step by step, as the README's snippet does
    with torch.no_grad():
        got = torch.export.load(tmp_path / "g.pt2").module()(z).numpy()
    held = z[:, :1].expand_as(z).contiguous().numpy()  # what the model was trained on: one draw, every step
    np.testing.assert_allclose(got, _reference(run, {"z": held}), atol=1e-5, rtol=1e-5)


def _class_folders_run(tmp_path: Path, conditional: bool = True) -> Run:
    """An untrained run (conditional by default) on two class sub-folders of tiny pictures (cat, dog)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for name in ("cat", "dog"):
        (tmp_path / "classes" / name).mkdir(parents=True)
        for i in range(3):
            picture = (rng.random((8, 8, 3)) * 255).astype(np.uint8)
            Image.fromarray(picture).save(tmp_path / "classes" / name / f"{i}.png")
    config = build_config(str(tmp_path / "classes"), ["model.generator.width=4", "model.discriminator.width=4",
                                                      "data.size=8", f"model.conditional={str(conditional).lower()}"])
    source = source_from_config(config.data)
    gan = build_model(config.model, source)
    source.fit_scaler(gan.output_activation)
    return Run(tmp_path / "run", config, gan, source)


def test_class_names_of_a_class_folders_run_are_in_both_formats_metadata(tmp_path: Path) -> None:
    import onnx

    run = _class_folders_run(tmp_path)
    assert run.class_names == ["cat", "dog"]
    export_run(run, tmp_path / "g.pt2")
    extra = {"ganforge.json": ""}
    torch.export.load(tmp_path / "g.pt2", extra_files=extra)
    assert json.loads(extra["ganforge.json"])["class_names"] == ["cat", "dog"]
    export_run(run, tmp_path / "g.onnx")
    meta = {p.key: json.loads(p.value) for p in onnx.load(str(tmp_path / "g.onnx")).metadata_props}
    assert meta["class_names"] == ["cat", "dog"] and meta["num_classes"] == 2


def test_an_unconditional_run_has_no_class_names_in_the_metadata(tmp_path: Path) -> None:
    run = _class_folders_run(tmp_path, conditional=False)  # the exported function takes no labels to name
    assert run.class_names == ["cat", "dog"] and run.gan.num_classes is None
    assert "class_names" not in export_run(run, tmp_path / "g.pt2").metadata


@pytest.mark.parametrize("suffix", [".onnx", ".pt2"])
def test_an_output_that_is_a_folder_is_refused_before_exporting(suffix: str, tmp_path: Path, run_cli) -> None:
    import ganforge as gf

    run = gf.train("ring8", steps=2, out=tmp_path / "r", show_progress=False, overrides=["eval.enabled=false"])
    folder = tmp_path / f"d{suffix}"
    (folder / "kept.txt").parent.mkdir()
    (folder / "kept.txt").write_text("mine", encoding="utf-8")
    code, _, err = run_cli("export", run.path, "-o", folder)
    assert code == 2 and err.count("\n") == 1 and f"-o {folder}: is a folder; give a file name" in err
    assert "tmp" not in err.replace(str(tmp_path), "")  # the output is named, not a temporary file
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["r", folder.name])  # nothing left behind
    assert [p.name for p in folder.iterdir()] == ["kept.txt"]


@pytest.mark.parametrize("suffix", [".onnx", ".pt2"])
def test_a_failed_export_leaves_no_temporary_file_and_keeps_the_old_output(suffix: str, tmp_path: Path) -> None:
    run = _untrained_run("ring8", tmp_path)
    (tmp_path / "out").mkdir()
    output = tmp_path / "out" / f"g{suffix}"
    output.write_bytes(b"the export that worked yesterday")
    with pytest.raises(GanforgeError, match="not faithful, so it was not written"):
        export_run(run, output, tolerance=-1.0)  # every export fails its check against PyTorch
    assert output.read_bytes() == b"the export that worked yesterday"
    assert [p.name for p in output.parent.iterdir()] == [output.name]  # no temporary file left behind


def test_a_translation_run_points_to_translate(tmp_path: Path) -> None:
    run = _untrained_run("digits-cyclegan", tmp_path)
    with pytest.raises(GanforgeError, match=r"use it with `ganforge translate RUN IN -o OUT`"):
        export_run(run, tmp_path / "g.pt2")
