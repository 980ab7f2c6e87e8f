"""Hostile input everywhere a user hands us something: random and truncated configs (YAML text, ``--set``
values), data files (csv / npy / npz / IDX / images / CIFAR pickles / sequences), run folders and
checkpoints, fed to the loaders and the CLI by hypothesis.

The contract under test: every input either works or fails with a :class:`GanforgeError` — one line,
exit code 2 from the CLI, no traceback — and a command that fails writes nothing into an existing run.
A malicious pickle never runs. The number of inputs tried per loader is counted (``COUNTS``) and printed;
``benchmarks/hostile_inputs.py`` runs this file with more examples and prints the table.
"""

from __future__ import annotations

import collections
import gzip
import hashlib
import io
import json
import os
import pickle
import struct
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ganforge as gf
from ganforge.cli import main
from ganforge.config import RunConfig, _known_keys, apply_overrides, parse_config
from ganforge.data.registry import build_source
from ganforge.errors import GanforgeError
from ganforge.fileio import read_state_dict
from ganforge.recipes import recipe_names, recipe_text
from ganforge.training.checkpoint import _record_checksum, list_checkpoints, load_checkpoint

EXAMPLES = int(os.environ.get("GANFORGE_HOSTILE_EXAMPLES", "30"))
COUNTS: collections.Counter[str] = collections.Counter()
OUTCOMES: collections.Counter[str] = collections.Counter()
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,  # capsys is drained before every example
    ],
)


@pytest.fixture(scope="module", autouse=True)
def _report_counts() -> Iterator[None]:
    yield
    total = sum(COUNTS.values())
    lines = [f"{name:<28} {COUNTS[name]:>6} inputs  ({OUTCOMES[name + ':ok']} loaded, "
             f"{OUTCOMES[name + ':error']} refused)" for name in sorted(COUNTS)]
    print("\nhostile inputs tried:\n" + "\n".join(lines) + f"\n{'total':<28} {total:>6}")
    out = os.environ.get("GANFORGE_HOSTILE_COUNTS")
    if out:
        Path(out).write_text(json.dumps({"counts": dict(COUNTS), "outcomes": dict(OUTCOMES)}))


@pytest.fixture(autouse=True)
def _no_final_report(monkeypatch: pytest.MonkeyPatch) -> None:
    import ganforge.report.summary as summary

    monkeypatch.setattr(
        summary, "finish_run",
        lambda trainer, path, seconds, **_: SimpleNamespace(path=path, step=trainer.step, summary={}),
    )


def attempt(name: str, fn: Callable[[], Any]) -> str:
    """Run one input through a loader: it loads, or it raises a one-line GanforgeError. Anything else
    propagates and fails the test (hypothesis then shrinks the input and shows it)."""
    COUNTS[name] += 1
    try:
        fn()
    except GanforgeError as err:
        message = str(err)
        assert message and "\n" not in message and "Traceback" not in message
        OUTCOMES[name + ":error"] += 1
        return "error"
    OUTCOMES[name + ":ok"] += 1
    return "ok"


def cli(name: str, args: list[str], capsys: pytest.CaptureFixture[str]) -> int:
    """The CLI in-process: exit 0, or exit 2 with exactly one ``error:`` line on stderr (130 for signals)."""
    COUNTS[name] += 1
    capsys.readouterr()
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0) if not isinstance(exc.code, str) else 2
    err = capsys.readouterr().err
    if code == 0:
        OUTCOMES[name + ":ok"] += 1
    else:
        assert code == 2, f"{args}: exit code {code}\n{err}"
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines and lines[-1].startswith("error: "), err
        assert "Traceback" not in err
        OUTCOMES[name + ":error"] += 1
    return code


# --- mutations ---------------------------------------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn, valid: bytes) -> bytes:
    """``valid`` truncated, with bytes flipped, with a chunk removed or inserted, or random bytes."""
    kind = draw(st.sampled_from(["truncate", "flip", "splice", "insert", "random", "same"]))
    n = len(valid)
    if kind == "truncate":
        return valid[: draw(st.integers(0, max(0, n - 1)))]
    if kind == "flip":
        data = bytearray(valid)
        for _ in range(draw(st.integers(1, 4))):
            if data:
                i = draw(st.integers(0, len(data) - 1))
                data[i] = draw(st.integers(0, 255))
        return bytes(data)
    if kind == "splice":
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, n))
        return valid[:i] + valid[j:]
    if kind == "insert":
        i = draw(st.integers(0, n))
        return valid[:i] + draw(st.binary(max_size=32)) + valid[i:]
    if kind == "random":
        return draw(st.binary(max_size=512))
    return valid


def _tmpdir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="ganforge-hostile-")


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


def _npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


small_arrays = st.sampled_from(
    [
        np.arange(12, dtype=np.float32).reshape(6, 2),
        np.ones((3,), dtype=np.float64),
        np.array([[np.nan, 1.0], [2.0, np.inf]]),
        np.zeros((2, 3, 4), dtype=np.uint8),
        np.array(["a", "b"]),
        np.array([1, 2], dtype=object),
        np.zeros((0, 2), dtype=np.float32),
        np.array(5.0),
        np.random.default_rng(0).random((4, 8, 8, 3)).astype(np.float32),
    ]
)


# --- configs -----------------------------------------------------------------------------------------------

RECIPE_TEXTS = [recipe_text(name) for name in recipe_names()]


def _small(raw: Any) -> bool:
    """Only build configs whose data and model numbers are small: a random `hidden: [10**9]` is a valid
    request for gigabytes, not a hostile input."""
    if isinstance(raw, dict) and "model" in raw and "data" in raw:
        return _small(raw["model"]) and _small(raw["data"])
    if isinstance(raw, dict):
        return all(_small(v) for v in raw.values())
    if isinstance(raw, list):
        return len(raw) <= 16 and all(_small(v) for v in raw)
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        return True
    return abs(raw) <= 512


def _build_everything(raw: dict[str, Any]) -> None:
    config = gf.build_config(raw, ["train.steps=1"])
    section = dict(config.data)
    if section.get("source") in ("mnist", "fashion-mnist", "cifar10-download"):
        return  # would download
    source = build_source(str(section.pop("source", "ring8")), section)
    from ganforge.gans.registry import build_model

    build_model(config.model, source)


@SETTINGS
@given(st.sampled_from(RECIPE_TEXTS).flatmap(lambda text: mutated(text.encode())))
def test_mutated_recipe_yaml(data: bytes) -> None:
    with _tmpdir() as tmp:
        path = Path(tmp) / "recipe.yaml"
        path.write_bytes(data)

        def load() -> None:
            config = gf.build_config(str(path))
            raw = config.model_dump(mode="json")
            if _small(raw):
                _build_everything(raw)

        attempt("config YAML (mutated recipe)", load)


@SETTINGS
@given(st.text(max_size=300))
def test_random_yaml_text(text: str) -> None:
    with _tmpdir() as tmp:
        path = Path(tmp) / "random.yml"
        path.write_bytes(text.encode("utf-8", errors="replace"))
        attempt("config YAML (random text)", lambda: gf.build_config(str(path)))


KEYS = _known_keys(RunConfig) + ["data.source", "data.noise", "model.noise_dim", "model.generator.hidden", "x.y"]
yaml_values = st.one_of(
    st.text(max_size=20),
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True).map(str),
    st.sampled_from(["[1, 2", "{a: 1}", "null", "~", "true", "[]", "{}", "'", "!!python/object:os.system", "1e999"]),
)


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(KEYS) | st.text(max_size=12), yaml_values), min_size=1, max_size=3))
def test_set_overrides(pairs: list[tuple[str, str]]) -> None:
    sets = [f"{key}={value}" for key, value in pairs]

    def load() -> None:
        raw = apply_overrides(yaml.safe_load(recipe_text("ring8")), sets)
        config = parse_config(raw)
        if _small(config.model_dump(mode="json")):
            _build_everything(config.model_dump(mode="json"))

    attempt("--set values", load)


@settings(SETTINGS, max_examples=max(5, EXAMPLES // 3))
@given(pairs=st.lists(st.tuples(st.sampled_from(KEYS), yaml_values), min_size=1, max_size=2))
def test_cli_train_with_hostile_set_values(pairs: list[tuple[str, str]], capsys: pytest.CaptureFixture[str]) -> None:
    with _tmpdir() as tmp:
        sets = [a for key, value in pairs for a in ("--set", f"{key}={value}")]
        try:
            if not _small(apply_overrides(yaml.safe_load(recipe_text("ring8")), [f"{k}={v}" for k, v in pairs])):
                return
        except GanforgeError:
            pass  # the CLI must say the same in one line
        tiny = ["--set", "train.steps=2", "--set", "train.batch_size=8"]
        cli("CLI train --set", ["train", "ring8", *sets, *tiny, "--out", str(Path(tmp) / "run"), "--quiet"], capsys)


# --- numeric data files ------------------------------------------------------------------------------------

VALID_CSV = b"x,y\n1.0,2.0\n3.5,-1\n0,0.25\n"


@SETTINGS
@given(mutated(VALID_CSV) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "replace")))
def test_csv_files(data: bytes) -> None:
    with _tmpdir() as tmp:
        path = Path(tmp) / "data.csv"
        path.write_bytes(data)
        attempt("csv (file source)", lambda: build_source("file", {"path": str(path)}))
        attempt("csv (timeseries-csv)", lambda: build_source("timeseries-csv", {"path": str(path), "seq_len": 2}))


@SETTINGS
@given(small_arrays.flatmap(lambda a: mutated(_npy(a))))
def test_npy_files(data: bytes) -> None:
    with _tmpdir() as tmp:
        path = Path(tmp) / "data.npy"
        path.write_bytes(data)
        attempt("npy (file source)", lambda: build_source("file", {"path": str(path)}))
        attempt("npy (sequences-npy)", lambda: build_source("sequences-npy", {"path": str(path)}))


@SETTINGS
@given(small_arrays.flatmap(lambda a: mutated(_npz(images=a, labels=np.arange(len(a) if a.ndim else 1)))))
def test_npz_files(data: bytes) -> None:
    with _tmpdir() as tmp:
        path = Path(tmp) / "data.npz"
        path.write_bytes(data)
        attempt("npz (file source)", lambda: build_source("file", {"path": str(path), "key": "images"}))
        attempt("npz (images-npz)", lambda: build_source("images-npz", {"path": str(path), "size": 8}))
        attempt("npz (sequences-npy)", lambda: build_source("sequences-npy", {"path": str(path), "key": "images"}))


def _idx(arr: np.ndarray) -> bytes:
    code = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B, np.dtype(">f4"): 0x0D}[arr.dtype]
    return bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


IDX_VALID = [
    _idx(np.random.default_rng(1).integers(0, 255, (5, 6, 6), dtype=np.uint8)),
    _idx(np.zeros((4, 3, 3), dtype=">f4")),
    _idx(np.arange(5, dtype=np.uint8)),
]


@SETTINGS
@given(st.sampled_from(IDX_VALID).flatmap(mutated), st.booleans())
def test_idx_files(data: bytes, gzipped: bool) -> None:
    with _tmpdir() as tmp:
        images = Path(tmp) / ("images.idx.gz" if gzipped else "images.idx")
        images.write_bytes(gzip.compress(data) if gzipped else data)
        labels = Path(tmp) / "labels.idx"
        labels.write_bytes(_idx(np.arange(5, dtype=np.uint8) % 3))
        attempt("IDX images", lambda: build_source("idx", {"images": str(images), "labels": str(labels), "size": 8}))


def _png(mode: str, size: tuple[int, int]) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    image = Image.new(mode, size, color=0)
    image.save(buf, format="PNG" if mode != "CMYK" else "JPEG")
    return buf.getvalue()


IMAGES_VALID = [_png("RGB", (9, 7)), _png("L", (4, 4)), _png("RGBA", (5, 8)), _png("CMYK", (6, 6)), _png("P", (3, 3))]


@SETTINGS
@given(st.sampled_from(IMAGES_VALID).flatmap(mutated), st.sampled_from(["a.png", "b.jpg", "c.jpeg"]))
def test_image_files(data: bytes, name: str) -> None:
    with _tmpdir() as tmp:
        folder = Path(tmp) / "images"
        folder.mkdir()
        (folder / name).write_bytes(data)
        attempt("image files (image-folder)", lambda: build_source("image-folder", {"path": str(folder), "size": 8}))


class _Payload:
    """A pickle that would create ``marker`` when loaded (it must never run)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


@st.composite
def cifar_batches(draw: st.DrawFn, marker: Path) -> bytes:
    n = draw(st.integers(0, 4))
    data = draw(
        st.sampled_from(
            [np.zeros((n, 3072), dtype=np.uint8), np.zeros((n, 100), dtype=np.uint8), np.zeros((n, 3072)), "x", None]
        )
    )
    labels = draw(st.sampled_from([list(range(n)), [11] * n, "labels", None, [0] * (n + 1)]))
    batch: Any = {b"data": data, b"labels": labels}
    if draw(st.booleans()):
        batch = {"data": data, "labels": labels, "evil": _Payload(marker)}
    elif draw(st.booleans()):
        batch = _Payload(marker)
    blob = pickle.dumps(batch, protocol=draw(st.integers(2, 5)))
    return draw(mutated(blob))


def test_cifar_pickles_never_run_code() -> None:
    with _tmpdir() as tmp:
        marker = Path(tmp) / "PWNED"

        @SETTINGS
        @given(cifar_batches(marker))
        def run(blob: bytes) -> None:
            folder = Path(tmp) / "cifar"
            folder.mkdir(exist_ok=True)
            (folder / "test_batch").write_bytes(blob)
            attempt("CIFAR pickles", lambda: build_source("cifar10", {"path": str(folder), "split": "test"}))
            assert not marker.exists(), "a pickle payload ran"

        run()
        assert not marker.exists()


def test_legacy_pt_pickles_never_run_code() -> None:
    import torch

    with _tmpdir() as tmp:
        marker = Path(tmp) / "PWNED"

        @SETTINGS
        @given(st.sampled_from(["payload", "nested", "weights"]).flatmap(
            lambda kind: mutated(_pt_bytes(kind, marker, torch))))
        def run(blob: bytes) -> None:
            path = Path(tmp) / "legacy.pt"
            path.write_bytes(blob)
            attempt("legacy .pt checkpoints", lambda: read_state_dict(path))
            assert not marker.exists(), "a pickle payload ran"

        run()


def _pt_bytes(kind: str, marker: Path, torch: Any) -> bytes:
    obj: Any = {"w": torch.ones(2)}
    if kind == "payload":
        obj = _Payload(marker)
    elif kind == "nested":
        obj = {"w": torch.ones(2), "opt": [_Payload(marker)]}
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


# --- run folders and checkpoints --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import ganforge.report.summary as summary

    original = summary.finish_run
    summary.finish_run = lambda trainer, path, seconds, **_: SimpleNamespace(path=path, step=trainer.step, summary={})
    try:
        run = tmp_path_factory.mktemp("hostile") / "run"
        sets = ["model.generator.hidden=[8]", "model.discriminator.hidden=[8]", "train.batch_size=8",
                "train.checkpoint_every=3", "train.log_every=2", "train.ema=0.5", "monitors.mode_collapse=false"]
        gf.train("ring8", steps=6, out=run, overrides=sets, show_progress=False)
    finally:
        summary.finish_run = original
    (run / "summary.json").write_text('{"name": "run"}')
    return run


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(root.rglob("*"))
    }


def _run_files(run: Path) -> list[str]:
    return sorted(str(p.relative_to(run)) for p in run.rglob("*") if p.is_file())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _json_paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _json_paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _json_paths(v, (*prefix, i))
    return out


def _set_path(node: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    node[path[0]] = _set_path(node[path[0]], path[1:], value)
    return node


@st.composite
def damage(draw: st.DrawFn, run: Path) -> tuple[str, str, bytes | None, bool]:
    """(file, how, new bytes or None for delete, refresh the checkpoint's recorded size and hash)."""
    name = draw(st.sampled_from(_run_files(run)))
    valid = (run / name).read_bytes()
    how = draw(st.sampled_from(["bytes", "json", "delete"] if name.endswith(".json") else ["bytes", "delete"]))
    if how == "delete":
        return name, how, None, False
    if how == "json":
        tree = json.loads(valid)
        path = draw(st.sampled_from(_json_paths(tree)))
        return name, how, json.dumps(_set_path(tree, path, draw(json_values))).encode(), False
    return name, how, draw(mutated(valid)), name.endswith(".safetensors") and draw(st.booleans())


def _apply(run: Path, name: str, data: bytes | None, refresh: bool) -> None:
    target = run / name
    if data is None:
        target.unlink()
        return
    target.write_bytes(data)
    if refresh:  # a consistent forgery: meta.json vouches for the damaged file
        meta_path = target.parent / "meta.json"
        meta = json.loads(meta_path.read_text())
        meta["files"][target.name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        meta["checksum"] = _record_checksum(meta)  # and meta.json vouches for itself
        meta_path.write_text(json.dumps(meta))


def test_damaged_run_folders_and_checkpoints(trained_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    @settings(SETTINGS, max_examples=max(5, EXAMPLES))
    @given(damage(trained_run), st.sampled_from(["load", "sample", "diagnose", "resume", "resume-steps"]))
    def run(change: tuple[str, str, bytes | None, bool], command: str) -> None:
        name, how, data, refresh = change
        with _tmpdir() as tmp:
            run_dir = Path(tmp) / "run"
            shutil.copytree(trained_run, run_dir)
            _apply(run_dir, name, data, refresh)
            before = _tree(run_dir)
            if command == "load":
                attempt("run folders (ganforge.load)", lambda: gf.load(run_dir))
                attempt(
                    "checkpoints (load_checkpoint)",
                    lambda: [load_checkpoint(c.path) for c in list_checkpoints(run_dir)],
                )
                assert _tree(run_dir) == before
                return
            if command == "sample":
                args = ["sample", str(run_dir), "-n", "5", "-o", str(Path(tmp) / "out.csv")]
            elif command == "diagnose":
                args = ["diagnose", str(run_dir)]
            elif command == "resume":
                args = ["resume", str(run_dir), "--quiet"]
            else:
                args = ["resume", str(run_dir), "--steps", "2", "--quiet"]  # below the newest checkpoint
            code = cli(f"run folders (CLI {command.split('-')[0]})", args, capsys)
            if code != 0:
                assert _tree(run_dir) == before, f"a failed `{' '.join(args[:1])}` wrote into the run ({name}, {how})"

    run()


CLI_WORDS = ["--steps", "-n", "--set", "--out", "-o", "--label", "--seed", "-1", "0", "abc", "1e9", "--json"]


@settings(SETTINGS, max_examples=max(5, EXAMPLES // 2))
@given(
    args=st.lists(st.text(max_size=12) | st.sampled_from(CLI_WORDS), max_size=5),
    command=st.sampled_from(["sample", "eval", "resume", "diagnose", "train", "recipes", "nonsense"]),
)
def test_cli_arguments(args: list[str], command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with _tmpdir() as tmp:
        cwd = os.getcwd()
        os.chdir(tmp)  # any file a command might write lands here
        try:
            if command == "train":  # a valid `train` of the default recipe would be a real 3000-step run
                args = [*args, "--set", "train.steps=2", "--set", "train.batch_size=8"]
            cli("CLI arguments", [command, *args], capsys)
        finally:
            os.chdir(cwd)


def test_a_crafted_checkpoint_that_vouches_for_wrong_shapes_is_refused_before_loading(trained_run: Path) -> None:
    """A forged checkpoint (valid files, matching hashes, other shapes) fails on shape, not inside torch."""
    import shutil

    import safetensors.torch
    import torch

    with _tmpdir() as tmp:
        run = Path(tmp) / "run"
        shutil.copytree(trained_run, run)
        newest = list_checkpoints(run)[-1].path
        weights = safetensors.torch.load_file(newest / "model.safetensors")
        key = sorted(weights)[0]
        weights[key] = torch.zeros(3, 3, 3)
        safetensors.torch.save_file(weights, newest / "model.safetensors")
        _apply(run, str((newest / "model.safetensors").relative_to(run)), (newest / "model.safetensors").read_bytes(),
               refresh=True)
        before = _tree(run)
        expected = rf"weights do not fit the model in config.yaml \('{key}' is \(3, 3, 3\)"
        with pytest.raises(GanforgeError, match=expected):
            gf.load(run)
        with pytest.raises(GanforgeError, match="weights do not fit"):
            gf.resume(run, steps=12, show_progress=False)
        assert _tree(run) == before  # in particular config.yaml keeps train.steps


def test_hostile_npz_zip_bomb_like_member_is_refused() -> None:
    """An .npz whose member is not an .npy (a text file in a zip) is a one-line error."""
    with _tmpdir() as tmp:
        path = Path(tmp) / "x.npz"
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("images.npy", b"not an npy at all")
        assert attempt("npz (file source)", lambda: build_source("file", {"path": str(path)})) == "error"
