"""Checkpoints: exact optimizer/RNG round trips, atomicity, pruning and the no-pickle guarantee."""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from ganforge.errors import GanforgeError
from ganforge.training import checkpoint as ckpt_mod
from ganforge.training.checkpoint import (
    flatten_state,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    remove_checkpoints_after,
    save_checkpoint,
    unflatten_state,
)


def _json_trip(skeleton):
    """What the skeleton looks like after a trip through meta.json (strict JSON)."""
    return json.loads(json.dumps(skeleton, allow_nan=False))


def _tiny_state(seed: int = 0) -> dict:
    torch.manual_seed(seed)
    return {"model": nn.Linear(3, 2).state_dict(), "counter": seed}


def _steps(run: Path) -> list[int]:
    return [c.step for c in list_checkpoints(run)]


# ------------------------------------------------------------------------------------------------------
# flatten / unflatten


def test_flatten_names_and_restores_types_exactly() -> None:
    state = {
        "optim": {
            "generator": {"state": {0: {"step": torch.tensor(3.0)}, 7: {}}, "groups": [{"betas": (0.5, 0.9)}]}
        },
        "floats": [math.inf, -math.inf, math.nan, -0.0, 1e-300, 0.1],
        "scalars": (None, True, False, 0, -(2**70), "NaN", ""),
        "keys": {1: "int", "1": "str", False: "bool", None: "none", 2.5: "float"},
        "dtypes": {
            str(d): torch.arange(4).to(d) for d in (torch.float16, torch.bfloat16, torch.int64, torch.bool)
        },
        "strided": torch.arange(12.0).reshape(3, 4).t(),
        "ndarray": np.arange(6, dtype=np.uint32).reshape(2, 3),
        "odd_arrays": [np.zeros((2, 0), dtype=np.int16), np.array(2.5), np.array([1, 2], dtype=">i4")],
    }
    tensors, skeleton = flatten_state(state)
    assert "optim/generator/state/0/step" in tensors
    back = unflatten_state(tensors, _json_trip(skeleton))

    assert list(back["optim"]["generator"]["state"]) == [0, 7]
    assert back["optim"]["generator"]["groups"][0]["betas"] == (0.5, 0.9)
    f = back["floats"]
    assert f[0] == math.inf and f[1] == -math.inf and math.isnan(f[2])
    assert math.copysign(1.0, f[3]) == -1.0 and f[4:] == [1e-300, 0.1]
    assert back["scalars"] == (None, True, False, 0, -(2**70), "NaN", "")
    assert [type(v) for v in back["scalars"][:4]] == [type(None), bool, bool, int]
    assert [(type(k), v) for k, v in back["keys"].items()] == [
        (int, "int"),
        (str, "str"),
        (bool, "bool"),
        (type(None), "none"),
        (float, "float"),
    ]
    for name, t in state["dtypes"].items():
        assert back["dtypes"][name].dtype == t.dtype and torch.equal(back["dtypes"][name], t)
    assert torch.equal(back["strided"], state["strided"])
    assert back["ndarray"].dtype == np.uint32 and np.array_equal(back["ndarray"], state["ndarray"])
    for a, b in zip(state["odd_arrays"], back["odd_arrays"], strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


def test_colliding_paths_get_distinct_names() -> None:
    tensors, skeleton = flatten_state({"a": {0: torch.ones(1), "0": torch.zeros(1)}})
    assert len(tensors) == 2
    back = unflatten_state(tensors, skeleton)
    assert torch.equal(back["a"][0], torch.ones(1)) and torch.equal(back["a"]["0"], torch.zeros(1))


def test_flatten_rejects_objects_it_cannot_store() -> None:
    with pytest.raises(TypeError, match="opt/fn"):
        flatten_state({"opt": {"fn": lambda x: x}})
    with pytest.raises(ValueError, match="not stored"):
        unflatten_state({}, {"__tensor__": "missing"})


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**80), 2**80), st.floats(allow_nan=True), st.text(max_size=5)
)
_leaves = st.one_of(_scalars, st.integers(0, 4).map(lambda n: torch.arange(n, dtype=torch.float64)))
_trees = st.recursive(
    _leaves,
    lambda kids: st.one_of(
        st.lists(kids, max_size=3),
        st.lists(kids, max_size=3).map(tuple),
        st.dictionaries(st.one_of(st.integers(-5, 5), st.text(max_size=3)), kids, max_size=3),
    ),
    max_leaves=12,
)


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return (
            list(a) == list(b)
            and all(type(k) is type(k2) for k, k2 in zip(a, b, strict=True))
            and all(_same(a[k], b[k]) for k in a)
        )
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@settings(max_examples=60, deadline=None)
@given(_trees)
def test_flatten_unflatten_is_the_identity(tree) -> None:
    tensors, skeleton = flatten_state(tree)
    assert _same(tree, unflatten_state(tensors, _json_trip(skeleton)))


# ------------------------------------------------------------------------------------------------------
# optimizers and RNG resume bit for bit


def _net() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))


def _step(net: nn.Module, opt: torch.optim.Optimizer, i: int) -> None:
    g = torch.Generator().manual_seed(100 + i)
    x, y = torch.randn(16, 4, generator=g), torch.randn(16, 1, generator=g)
    opt.zero_grad()
    nn.functional.mse_loss(net(x), y).backward()
    opt.step()


OPTIMIZERS: dict[str, Callable] = {
    "adam": lambda p: torch.optim.Adam(p, lr=1e-2, betas=(0.5, 0.999)),
    "adam_amsgrad": lambda p: torch.optim.AdamW(p, lr=1e-2, amsgrad=True, weight_decay=0.1),
    "rmsprop": lambda p: torch.optim.RMSprop(p, lr=1e-3, momentum=0.9, centered=True),
    "sgd": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_resumes_bit_for_bit(tmp_path: Path, name: str) -> None:
    torch.manual_seed(0)
    net = _net()
    opt = OPTIMIZERS[name](net.parameters())
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for i in range(3):
        _step(net, opt, i)
        sched.step()
    state = {"model": net.state_dict(), "optim": {"generator": opt.state_dict()}, "sched": sched.state_dict()}
    path = save_checkpoint(tmp_path, 3, state, {"optimizer": name})
    _step(net, opt, 3)
    expected = [p.detach().clone() for p in net.parameters()]

    torch.manual_seed(1)  # a differently initialised fresh net: everything must come from the checkpoint
    fresh = _net()
    fresh_opt = OPTIMIZERS[name](fresh.parameters())
    fresh_sched = torch.optim.lr_scheduler.StepLR(fresh_opt, step_size=2, gamma=0.5)
    loaded, meta = load_checkpoint(path)
    fresh.load_state_dict(loaded["model"])
    fresh_opt.load_state_dict(loaded["optim"]["generator"])
    fresh_sched.load_state_dict(loaded["sched"])
    assert meta["user"] == {"optimizer": name} and meta["step"] == 3
    assert fresh_opt.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    assert set(loaded["optim"]["generator"]["state"]) == set(range(4))  # int keys survive
    _step(fresh, fresh_opt, 3)
    for a, b in zip(expected, fresh.parameters(), strict=True):
        assert torch.equal(a, b)


def test_adam_state_is_named_by_path(tmp_path: Path) -> None:
    net = _net()
    opt = torch.optim.Adam(net.parameters())
    _step(net, opt, 0)
    path = save_checkpoint(
        tmp_path, 1, {"model": net.state_dict(), "optim": {"generator": opt.state_dict()}}, {}
    )
    from safetensors import safe_open

    with safe_open(str(path / "train_state.safetensors"), "pt") as f:
        assert "optim/generator/state/0/exp_avg" in set(f.keys())


def test_rng_states_round_trip(tmp_path: Path) -> None:
    gen = torch.Generator().manual_seed(7)
    torch.manual_seed(3)
    random.seed(4)
    np.random.seed(5)
    np_gen = np.random.default_rng(6)
    state = {
        "model": {},
        "rng": {
            "torch": torch.get_rng_state(),
            "gen": gen.get_state(),
            "python": random.getstate(),
            "numpy_legacy": np.random.get_state(),
            "numpy": np_gen.bit_generator.state,
        },
    }
    path = save_checkpoint(tmp_path, 0, state, {})

    def draw():
        return (
            torch.rand(5).tolist(),
            torch.rand(5, generator=gen).tolist(),
            [random.random() for _ in range(5)],
            np.random.rand(5).tolist(),
            np_gen.random(5).tolist(),
        )

    first = draw()
    for _ in range(3):
        draw()  # move every stream on
    rng = load_checkpoint(path)[0]["rng"]
    torch.set_rng_state(rng["torch"])
    gen.set_state(rng["gen"])
    random.setstate(rng["python"])
    np.random.set_state(rng["numpy_legacy"])
    np_gen.bit_generator.state = rng["numpy"]
    assert draw() == first


# ------------------------------------------------------------------------------------------------------
# the checkpoint folder


def test_meta_records_step_versions_and_hashes(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path, 1000, _tiny_state(), {"best_fid": math.inf, "note": "x"})
    assert path == tmp_path / "checkpoints" / "step-00001000"
    assert sorted(p.name for p in path.iterdir()) == [
        "meta.json",
        "model.safetensors",
        "train_state.safetensors",
    ]
    raw = json.loads((path / "meta.json").read_text(), parse_constant=lambda c: pytest.fail(f"token {c}"))
    assert raw["step"] == 1000 and raw["ganforge_version"] and raw["created"]
    for name in ("model.safetensors", "train_state.safetensors"):
        data = (path / name).read_bytes()
        assert raw["files"][name] == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    info = latest_checkpoint(tmp_path)
    assert info is not None and info.step == 1000 and info.meta["user"]["best_fid"] == math.inf
    header = (path / "model.safetensors").read_bytes()
    assert header[8:9] == b"{"  # a safetensors JSON header, not a pickle stream (which starts 0x80)


def test_tied_and_non_contiguous_weights_save(tmp_path: Path) -> None:
    a, b = nn.Linear(3, 3), nn.Linear(3, 3)
    b.weight = a.weight  # tied: two names, one storage
    model = {"a.weight": a.weight, "b.weight": b.weight, "t": torch.arange(6.0).reshape(2, 3).t()}
    state, _ = load_checkpoint(save_checkpoint(tmp_path, 1, {"model": model}, {}))
    assert torch.equal(state["model"]["b.weight"], a.weight.detach())
    assert torch.equal(state["model"]["t"], model["t"])


def test_saving_the_same_step_replaces_it(tmp_path: Path) -> None:
    save_checkpoint(tmp_path, 5, _tiny_state(0), {"v": 1})
    save_checkpoint(tmp_path, 5, _tiny_state(1), {"v": 2})
    state, meta = load_checkpoint(tmp_path / "checkpoints" / "step-00000005")
    assert meta["user"] == {"v": 2} and state["counter"] == 1
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["step-00000005"]


# ------------------------------------------------------------------------------------------------------
# damaged and unfinished checkpoints


def test_truncated_file_is_skipped_and_load_points_to_previous(tmp_path: Path) -> None:
    for step in (100, 200, 300):
        save_checkpoint(tmp_path, step, _tiny_state(step), {})
    bad = tmp_path / "checkpoints" / "step-00000300" / "model.safetensors"
    bad.write_bytes(bad.read_bytes()[:-7])
    assert _steps(tmp_path) == [100, 200]
    assert latest_checkpoint(tmp_path).step == 200
    with pytest.raises(GanforgeError) as info:
        load_checkpoint(bad.parent)
    msg = str(info.value)
    assert "model.safetensors" in msg and "step-00000200" in msg and "\n" not in msg


def test_missing_meta_is_skipped(tmp_path: Path) -> None:
    save_checkpoint(tmp_path, 1, _tiny_state(), {})
    save_checkpoint(tmp_path, 2, _tiny_state(), {})
    (tmp_path / "checkpoints" / "step-00000002" / "meta.json").unlink()
    assert _steps(tmp_path) == [1]
    with pytest.raises(GanforgeError, match="meta.json is missing.*step-00000001"):
        load_checkpoint(tmp_path / "checkpoints" / "step-00000002")


def test_flipped_byte_is_caught_by_hash(tmp_path: Path) -> None:
    save_checkpoint(tmp_path, 1, _tiny_state(), {})
    path = save_checkpoint(tmp_path, 2, {**_tiny_state(), "opt": {"m": torch.ones(4)}}, {})
    for name in ("model.safetensors", "train_state.safetensors"):
        f = path / name
        data = bytearray(f.read_bytes())
        data[-1] ^= 0xFF  # same size, different content
        f.write_bytes(bytes(data))
    assert _steps(tmp_path) == [1]
    assert [c.step for c in list_checkpoints(tmp_path, verify_hashes=False)] == [1, 2]
    with pytest.raises(GanforgeError, match="sha256"):
        load_checkpoint(path)


def test_damaged_first_checkpoint_says_training_must_restart(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path, 1, _tiny_state(), {})
    (path / "model.safetensors").write_bytes((path / "model.safetensors").read_bytes()[:10])
    with pytest.raises(GanforgeError, match="no earlier valid checkpoint"):
        load_checkpoint(path)


def test_failed_save_leaves_nothing_and_keeps_latest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    save_checkpoint(tmp_path, 1, _tiny_state(), {})

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(ckpt_mod, "atomic_write_json", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(tmp_path, 2, _tiny_state(), {})
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["step-00000001"]
    assert latest_checkpoint(tmp_path).step == 1


def test_killed_save_leaves_only_a_temp_dir_that_next_save_removes(tmp_path: Path) -> None:
    save_checkpoint(tmp_path, 1, _tiny_state(), {})
    # A separate process dies hard (no cleanup, no exception handlers) right before meta.json is written.
    script = textwrap.dedent(
        f"""
        import os, torch
        from ganforge.training import checkpoint as c
        c.atomic_write_json = lambda *a, **k: os._exit(9)
        c.save_checkpoint({str(tmp_path)!r}, 2, {{"model": {{"w": torch.ones(3)}}}}, {{}})
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 9, err.decode()
    root = tmp_path / "checkpoints"
    leftovers = [p.name for p in root.iterdir() if p.name.startswith(".tmp-")]
    assert leftovers == [f".tmp-step-00000002-{proc.pid}"]
    assert (root / leftovers[0] / "model.safetensors").exists()
    assert _steps(tmp_path) == [1] and latest_checkpoint(tmp_path).step == 1

    alive = root / f".tmp-step-00000009-{os.getppid()}"  # a live process's save in progress: not touched
    alive.mkdir()
    save_checkpoint(tmp_path, 3, _tiny_state(), {})
    names = sorted(p.name for p in root.iterdir())
    assert names == [alive.name, "step-00000001", "step-00000003"]


# ------------------------------------------------------------------------------------------------------
# pruning


def test_pruning_keeps_the_newest(tmp_path: Path) -> None:
    for step in range(1, 7):
        save_checkpoint(tmp_path, step, _tiny_state(), {}, keep=3, keep_steps={2})
    assert _steps(tmp_path) == [2, 4, 5, 6]
    save_checkpoint(tmp_path, 7, _tiny_state(), {}, keep=1)
    assert _steps(tmp_path) == [7]
    with pytest.raises(GanforgeError, match="keep"):
        save_checkpoint(tmp_path, 8, _tiny_state(), {}, keep=0)


def test_pruning_never_removes_what_was_just_written(tmp_path: Path) -> None:
    for step in (10, 20, 30):
        save_checkpoint(tmp_path, step, _tiny_state(), {}, keep=2)
    # resumed from an earlier point: the newer checkpoints are not this save's to prune
    save_checkpoint(tmp_path, 15, _tiny_state(), {}, keep=1)
    assert _steps(tmp_path) == [15, 20, 30]
    assert [p.name for p in remove_checkpoints_after(tmp_path, 15)] == ["step-00000020", "step-00000030"]
    assert latest_checkpoint(tmp_path).step == 15


def test_damaged_older_checkpoints_are_pruned_too(tmp_path: Path) -> None:
    for step in (1, 2):
        save_checkpoint(tmp_path, step, _tiny_state(), {}, keep=2)
    (tmp_path / "checkpoints" / "step-00000001" / "meta.json").unlink()
    save_checkpoint(tmp_path, 3, _tiny_state(), {}, keep=2)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["step-00000002", "step-00000003"]


def test_missing_checkpoint_paths_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(GanforgeError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "nope")
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    with pytest.raises(GanforgeError, match="no complete checkpoint"):
        load_checkpoint(tmp_path / "run")


# ------------------------------------------------------------------------------------------------------
# meta.json's own checksum: the optimizer/scheduler/RNG skeleton is restored state too


def _adam_checkpoint(run: Path, step: int) -> Path:
    net = _net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.5, 0.999), eps=1e-8)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    for i in range(3):
        _step(net, opt, i)
        sched.step()
    return save_checkpoint(run, step, {"model": net.state_dict(), "optim": opt.state_dict(),
                                       "sched": sched.state_dict()})


def _edit_skeleton(node: object, key: str, change: Callable[[object], object]) -> bool:
    """Apply ``change`` to the value stored under dict key ``key`` somewhere in a skeleton."""
    if isinstance(node, dict):
        if "__dict__" in node:
            for item in node["__dict__"]:
                if item[0] == key:
                    item[1] = change(item[1])
                    return True
        return any(_edit_skeleton(v, key, change) for v in node.values())
    if isinstance(node, list):
        return any(_edit_skeleton(v, key, change) for v in node)
    return False


FLIPS = {  # one value each, as a one-bit flip or a careless hand edit would leave it
    "betas": lambda v: {"__tuple__": [0.5, 0.998]},
    "eps": lambda v: 1e-9,
    "lr": lambda v: v * 2,
    "last_epoch": lambda v: v - 1,
    "params": lambda v: {"__list__": list(reversed(v["__list__"]))},
}


@pytest.mark.parametrize("key", sorted(FLIPS))
def test_one_changed_value_in_the_skeleton_is_damage(
    tmp_path: Path, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _adam_checkpoint(tmp_path, 5)
    newest = _adam_checkpoint(tmp_path, 7)
    meta_path = newest / "meta.json"
    meta = json.loads(meta_path.read_text())
    assert _edit_skeleton(meta["skeleton"], key, FLIPS[key])
    meta_path.write_text(json.dumps(meta, indent=2))
    with pytest.raises(GanforgeError, match="checksum"):
        load_checkpoint(newest)
    capsys.readouterr()
    assert latest_checkpoint(tmp_path).step == 5  # the previous checkpoint is used...
    err = capsys.readouterr().err
    assert "step-00000007 is damaged" in err and "checksum" in err and "step-00000005" in err  # ...and it says so


def test_format_1_checkpoints_without_a_checksum_still_load(tmp_path: Path) -> None:
    path = _adam_checkpoint(tmp_path, 3)
    meta = json.loads((path / "meta.json").read_text())
    del meta["checksum"]
    meta["format_version"] = 1
    (path / "meta.json").write_text(json.dumps(meta))
    state, _ = load_checkpoint(path)
    assert state["optim"]["param_groups"][0]["betas"] == (0.5, 0.999)
    meta["format_version"] = 2  # a version-2 record must carry its checksum
    (path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(GanforgeError, match="checksum"):
        load_checkpoint(path)


def test_resuming_past_a_damaged_newest_sets_it_aside(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _adam_checkpoint(tmp_path, 5)
    newest = _adam_checkpoint(tmp_path, 7)
    weights = (newest / "model.safetensors").read_bytes()
    (newest / "meta.json").write_text("{")
    remove_checkpoints_after(tmp_path, 5)
    aside = tmp_path / "checkpoints" / "damaged-step-00000007"
    assert (aside / "model.safetensors").read_bytes() == weights  # kept: its weights are intact
    assert "set the damaged checkpoint step-00000007 aside" in capsys.readouterr().err
    assert _steps(tmp_path) == [5]


def test_the_same_state_saved_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    """Two metadata keys were written in a random order (safetensors stores them as a map), so identical runs'
    checkpoints differed in bytes and in the sha256 meta.json records."""
    state = {"model": {"w": torch.arange(6.0).reshape(2, 3), "b": torch.ones(2)}, "step_count": torch.tensor(3)}
    digests = set()
    for i in range(12):
        folder = save_checkpoint(tmp_path / f"r{i}", 1, state, {})
        digests.add(tuple(hashlib.sha256((folder / f).read_bytes()).hexdigest() for f in sorted(
            p.name for p in folder.glob("*.safetensors"))))
    assert len(digests) == 1
