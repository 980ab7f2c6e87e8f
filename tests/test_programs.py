"""No code runs from a feature-network file or a run folder (ganforge/programs.py).

Every poisoned archive here carries a real payload: a pickle whose ``__reduce__`` calls ``exec`` to write a
marker file. Plain ``torch.export.load`` runs it (checked below, so the tests would fail without the
inspection); every ganforge path that reads such a file must refuse it in one line and never create the
marker.
"""

from __future__ import annotations

import contextlib
import io
import json
import operator
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch import nn

import ganforge as gf
from ganforge.errors import GanforgeError
from ganforge.programs import archive_kind, check_export_archive, check_program_graph, load_exported_program


class _Payload:
    """Unpickling this writes ``marker``: the stand-in for any code an attacker would run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., object], tuple[str]]:
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


def _pickled(obj: object) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _export(path: Path, size: int = 8) -> nn.Module:
    net = nn.Sequential(nn.Flatten(), nn.Linear(size * size, 5)).eval()
    batch = torch.export.Dim("batch")
    program = torch.export.export(net, (torch.rand(4, 1, size, size),), dynamic_shapes=({0: batch},))
    torch.export.save(program, str(path))
    return net


def _rewrite(src: Path, dst: Path, change: Callable[[dict[str, bytes]], dict[str, bytes]]) -> Path:
    with zipfile.ZipFile(src) as a:
        prefix = a.namelist()[0].split("/")[0] + "/"
        members = {i.filename[len(prefix):]: a.read(i) for i in a.infolist()}
    with zipfile.ZipFile(dst, "w") as b:
        for name, data in change(members).items():
            b.writestr(prefix + name, data)
    return dst


def _legacy_weights(marker: Path) -> Callable[[dict[str, bytes]], dict[str, bytes]]:
    """A legacy ``data/weights/model.pt`` member: torch unpickles it, retrying with weights_only=False."""
    return lambda m: {**m, "data/weights/model.pt": _pickled({"w": _Payload(marker)})}


def _use_pickle(marker: Path) -> Callable[[dict[str, bytes]], dict[str, bytes]]:
    """A weight marked ``use_pickle``: torch loads it with weights_only=False directly."""

    def change(m: dict[str, bytes]) -> dict[str, bytes]:
        record = json.loads(m["data/weights/model_weights_config.json"])
        first = next(iter(record["config"].values()))
        first["use_pickle"] = True
        m["data/weights/model_weights_config.json"] = json.dumps(record).encode()
        m["data/weights/" + first["path_name"]] = _pickled(_Payload(marker))
        return m

    return change


def _sample_inputs(marker: Path) -> Callable[[dict[str, bytes]], dict[str, bytes]]:
    """Poisoned example inputs: torch tries weights_only=True, then falls back to False."""
    return lambda m: {**m, "data/sample_inputs/model.pt": _pickled((_Payload(marker),))}


POISONS = {"legacy-weights": _legacy_weights, "use-pickle": _use_pickle, "sample-inputs": _sample_inputs}


@pytest.fixture()
def marker(tmp_path: Path) -> Path:
    return tmp_path / "PWNED"


@pytest.mark.parametrize("poison", sorted(POISONS))
def test_plain_torch_export_load_runs_the_payload_and_ganforge_refuses_it(
    poison: str, tmp_path: Path, marker: Path
) -> None:
    good = tmp_path / "good.pt2"
    _export(good)
    evil = _rewrite(good, tmp_path / f"{poison}.pt2", POISONS[poison](marker))
    with contextlib.suppress(Exception):  # it may even load (sample inputs): the payload has run either way
        torch.export.load(str(evil))
    assert marker.exists(), "the poisoned archive no longer runs its payload in torch; the test proves nothing"
    marker.unlink()
    assert archive_kind(evil) == "export"
    with pytest.raises(GanforgeError, match="refused to load") as err:
        check_export_archive(evil)
    assert "\n" not in str(err.value)
    with pytest.raises(GanforgeError):
        load_exported_program(evil, trust_code=True)  # trusted or not: pickles in an archive are refused
    assert not marker.exists()
    check_export_archive(good)  # a plain torch.export.save archive passes


def test_unknown_and_duplicate_members_are_refused(tmp_path: Path) -> None:
    good = tmp_path / "good.pt2"
    _export(good)
    so = _rewrite(good, tmp_path / "aoti.pt2", lambda m: {**m, "data/aotinductor/model/x.so": b"\x7fELF"})
    with pytest.raises(GanforgeError, match="aotinductor"):
        check_export_archive(so)
    dup = tmp_path / "dup.pt2"
    with zipfile.ZipFile(good) as a, zipfile.ZipFile(dup, "w") as b:
        for info in a.infolist():
            b.writestr(info, a.read(info))
        first = a.infolist()[-1]
        with pytest.warns(UserWarning, match="Duplicate"):
            b.writestr(first.filename, b"other")
    with pytest.raises(GanforgeError, match="twice"):
        check_export_archive(dup)


def test_graph_check_refuses_calls_outside_torch_operators() -> None:
    graph = torch.fx.Graph()
    x = graph.placeholder("x")
    y = graph.call_function(torch.ops.aten.relu.default, (x,))
    z = graph.call_function(operator.getitem, ((y, y), 0))
    graph.output(z)
    check_program_graph(SimpleNamespace(graph_module=torch.fx.GraphModule(nn.Module(), graph)), "ok.pt2")
    bad = torch.fx.Graph()
    x = bad.placeholder("x")
    bad.output(bad.call_function(os.system, ("true",)))
    with pytest.raises(GanforgeError, match="system"):
        check_program_graph(SimpleNamespace(graph_module=torch.fx.GraphModule(nn.Module(), bad)), "bad.pt2")


# ------------------------------------------------------------------------------------------------
# Through the CLI: eval --features, fid --features, a run folder's config, train --set, generator.pt2




@pytest.fixture(scope="module")
def image_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "digits"
    gf.train("digits-mlp", steps=2, out=out, show_progress=False, overrides=["eval.enabled=false"])
    return out


def _one_line_exit_2(code: int, out: str, err: str) -> str:
    assert code == 2, err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def test_eval_and_fid_refuse_poisoned_and_untrusted_feature_files(
    image_run: Path, tmp_path: Path, marker: Path, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    good = tmp_path / "mine.pt2"
    _export(good, size=8)
    evil = _rewrite(good, tmp_path / "evil.pt2", _legacy_weights(marker))
    for extra in ([], ["--trust-code"]):
        line = _one_line_exit_2(*run_cli("eval", image_run, "--features", evil, "-n", "20", *extra))
        assert "refused to load" in line
    line = _one_line_exit_2(*run_cli("eval", image_run, "--features", good, "-n", "20"))
    assert "--trust-code" in line  # a program needs the explicit opt-in
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{not json")
    line = _one_line_exit_2(*run_cli("eval", image_run, "--features", bad, "-n", "20"))
    assert "bad.safetensors" in line  # not "skipped" in a table with exit 0
    images = tmp_path / "a.npy"
    import numpy as np

    np.save(images, np.random.default_rng(0).random((12, 8, 8)).astype(np.float32))
    line = _one_line_exit_2(*run_cli("fid", images, images, "--features", evil))
    assert "refused to load" in line
    line = _one_line_exit_2(*run_cli("fid", images, images, "--features", good))
    assert "--trust-code" in line
    code, _, err = run_cli("fid", images, images, "--features", good, "--trust-code", "--json")
    assert code == 0, err
    assert not marker.exists()


def test_a_run_folder_never_grants_trust(
    image_run: Path, tmp_path: Path, marker: Path, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    import shutil

    import yaml

    good = tmp_path / "mine.pt2"
    _export(good, size=28)
    evil = _rewrite(good, tmp_path / "evil.pt2", _legacy_weights(marker))
    run = tmp_path / "handed-over"
    shutil.copytree(image_run, run)
    config = yaml.safe_load((run / "config.yaml").read_text())
    for features in (evil, good):
        config["eval"].update(features=str(features), trust_code=True)  # the folder claims trust
        (run / "config.yaml").write_text(yaml.safe_dump(config))
        line = _one_line_exit_2(*run_cli("eval", run, "-n", "20"))
        assert ("refused to load" if features == evil else "--trust-code") in line
    code, _, err = run_cli("eval", run, "-n", "20", "--metrics", "fid", "--trust-code")  # the user trusts it
    assert code == 0, err
    out = tmp_path / "trained"
    line = _one_line_exit_2(*run_cli(
        "train", "digits-mlp", "-o", out, "-q", "--set", "train.steps=2", "--set", "eval.enabled=true",
        "--set", "eval.n=20", "--set", f"eval.features={evil}", "--set", "eval.trust_code=true",
    ))
    assert "refused to load" in line
    assert not marker.exists()


def test_a_python_api_runs_generator_pt2_is_inspected(
    tmp_path: Path, marker: Path, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    from ganforge.runs import _IN_PROCESS_MODELS

    torch.manual_seed(0)
    g = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    d = nn.Sequential(nn.Linear(1, 8), nn.ReLU(), nn.Linear(8, 1))
    run = gf.train(gf.GAN(g, d, noise_dim=2), data=gf.data.normal(0, 1), steps=2, out=tmp_path / "py",
                   show_progress=False)
    _IN_PROCESS_MODELS.pop(str(run.path.resolve()), None)  # a new process: only the files remain
    code, _, err = run_cli("sample", run.path, "-n", "5", "-o", tmp_path / "ok.csv")
    assert code == 0, err  # ganforge's own export passes the inspection and the graph check
    program = run.path / "generator.pt2"
    clean = program.read_bytes()
    for poison in POISONS.values():
        program.write_bytes(clean)
        _rewrite(program, tmp_path / "evil.pt2", poison(marker))
        (tmp_path / "evil.pt2").replace(program)
        line = _one_line_exit_2(*run_cli("sample", run.path, "-n", "5", "-o", tmp_path / "s.csv"))
        assert "refused to load" in line
    assert not marker.exists()
