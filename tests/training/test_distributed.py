"""Data-parallel training on this machine: 2 gloo processes against 1 process with the same global batch.

The workers (``ddp_worker.py``) are started with torchrun's environment variables, two OS processes per
launch. One ``train`` launch covers: exact agreement with a single process (plain nets, batch norm with
and without synchronization), rank-0-only run folders, and bit-for-bit resume under DDP. A second launch
checks that a failing rank stops the other instead of leaving it hanging.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import safetensors.torch
import torch
from torch import nn

from ganforge.errors import GanforgeError
from ganforge.training import distributed as D

WORKER = Path(__file__).with_name("ddp_worker.py")
TIMEOUT = 240


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(mode: str, out: Path, world: int = 2) -> tuple[list[int], list[str], float]:
    """Start ``world`` worker processes as torchrun would; return exit codes, logs and wall seconds."""
    port = _free_port()
    procs = []
    t0 = time.perf_counter()
    for rank in range(world):
        env = {
            **os.environ,
            "RANK": str(rank),
            "WORLD_SIZE": str(world),
            "LOCAL_RANK": str(rank),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
            "OMP_NUM_THREADS": "1",
        }
        log = (out / f"log-{mode}-{rank}.txt").open("w")
        procs.append(
            (subprocess.Popen([sys.executable, str(WORKER), mode, str(out)], env=env, stdout=log, stderr=log), log)
        )
    codes = []
    for proc, log in procs:
        try:
            codes.append(proc.wait(timeout=TIMEOUT))
        except subprocess.TimeoutExpired:
            for p, _ in procs:
                p.kill()
            raise
        finally:
            log.close()
    logs = [(out / f"log-{mode}-{r}.txt").read_text() for r in range(world)]
    return codes, logs, time.perf_counter() - t0


def _reference(out: Path) -> None:
    """The single-process runs, in this process (no torchrun variables: world size 1)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("ddp_worker_ref", WORKER)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    module.run_all_exact(out)


@pytest.fixture(scope="module")
def ddp_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        assert var not in os.environ, "run the tests outside torchrun"
    out = tmp_path_factory.mktemp("ddp")
    codes, logs, _ = _launch("train", out)
    assert codes == [0, 0], "\n".join(log[-3000:] for log in logs)
    _reference(out / "single")
    return out


def _max_diff(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k] - b[k]).abs().max()) for k in a)


@pytest.mark.parametrize("variant", ["plain", "sync-bn"])
def test_two_processes_match_one_process_with_the_same_global_batch(ddp_runs: Path, variant: str) -> None:
    single = torch.load(ddp_runs / "single" / f"{variant}-rank0.pt")
    ranks = [torch.load(ddp_runs / "exact" / f"{variant}-rank{r}.pt") for r in (0, 1)]
    # Every replica holds the same weights (gradients are averaged before identical optimizer steps) ...
    assert all(torch.equal(ranks[0]["weights"][k], ranks[1]["weights"][k]) for k in ranks[0]["weights"])
    # ... equal to the single process's after 12 steps, up to float rounding of the sharded sums.
    assert _max_diff(single["weights"], ranks[0]["weights"]) < 1e-5
    # Logged scalars are averaged over ranks: the global-batch values.
    for key in ("loss_d", "loss_g", "d_real", "d_fake", "grad_norm_d"):
        assert ranks[0]["record"][key] == pytest.approx(single["record"][key], abs=1e-5)


def test_unsynchronized_batch_norm_is_what_differs(ddp_runs: Path) -> None:
    """Control: without sync_batchnorm each rank normalizes by its own half batch, and the runs part."""
    single = torch.load(ddp_runs / "single" / "bn-rank0.pt")
    rank0 = torch.load(ddp_runs / "exact" / "bn-rank0.pt")
    assert _max_diff(single["weights"], rank0["weights"]) > 1e-3


def _tensors(folder: Path) -> dict[str, bytes]:
    out = {}
    for name in ("model.safetensors", "train_state.safetensors"):
        for key, t in safetensors.torch.load_file(folder / name).items():
            out[f"{name}:{key}"] = t.numpy().tobytes()
    return out


def _records(run: Path) -> list[dict]:
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "time"} for line in lines]


def test_resume_under_ddp_is_bit_for_bit(ddp_runs: Path) -> None:
    full, split = ddp_runs / "api" / "full", ddp_runs / "api" / "split"
    final = Path("checkpoints") / "step-00000016"
    expected, got = _tensors(full / final), _tensors(split / final)
    assert expected.keys() == got.keys()
    assert [k for k in expected if expected[k] != got[k]] == []
    assert _records(split) == _records(full)
    # Rank 0 alone wrote the run: one record per logged step, and every rank's own RNG streams inside.
    assert [r["step"] for r in _records(full)] == [4, 8, 12, 16]
    assert (
        expected["train_state.safetensors:ranks/0/rng/torch"] != expected["train_state.safetensors:ranks/1/rng/torch"]
    )
    assert expected["train_state.safetensors:ranks/0/rng/data"] != expected["train_state.safetensors:ranks/1/rng/data"]


def test_a_failing_rank_stops_the_others(tmp_path: Path) -> None:
    codes, logs, seconds = _launch("fail", tmp_path)
    assert "injected failure on rank 1" in logs[1]
    assert codes[0] != 0 and codes[1] != 0  # rank 0 gets an error from its collective, it does not hang
    assert seconds < TIMEOUT


@pytest.mark.slow
def test_torchrun_runs_the_ganforge_command(tmp_path: Path) -> None:
    """`torchrun --nproc_per_node 2 -m ganforge train ring8` end to end (evaluation and plots on rank 0)."""
    run = tmp_path / "run"
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "ganforge", "train", "ring8", "-o", str(run), "-q",
        "--set", "train.steps=20", "--set", "train.log_every=10", "--set", "train.batch_size=64",
        "--set", "model.generator.hidden=[32]", "--set", "model.discriminator.hidden=[32]",
        "--set", "monitors.mode_collapse=false",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert [r["step"] for r in _records(run)] == [10, 20]
    assert (run / "summary.json").is_file() and (run / "checkpoints" / "step-00000020").is_dir()
    assert json.loads((run / "summary.json").read_text())["steps"] == 20


# --- in-process units ----------------------------------------------------------------------------------
def test_without_torchrun_everything_is_single_process() -> None:
    assert D.world_from_env() == (0, 1, 0)
    assert not D.is_distributed() and D.is_main_process()
    assert D.from_main(lambda: 7) == 7
    t = torch.ones(3)
    D.all_reduce_mean([t])
    assert torch.equal(t, torch.ones(3))


def test_a_world_size_without_rendezvous_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    with pytest.raises(GanforgeError, match="MASTER_ADDR is not set; launch with `torchrun"):
        D.ensure_process_group(torch.device("cpu"))


def test_buckets_respect_size_and_dtype() -> None:
    ts = [torch.zeros(10), torch.zeros(10), torch.zeros(30), torch.zeros(5, dtype=torch.float64), torch.zeros(1)]
    sizes = [[t.numel() for t in b] for b in D._buckets(ts, limit=80)]
    assert sizes == [[10, 10], [30], [5], [1]]


def test_rank_seeds_are_distinct_and_reproducible() -> None:
    seeds = {D.derive_seed(0, r, s, k) for r in range(4) for s in ("torch", "data") for k in (0, 8)}
    assert len(seeds) == 16
    assert D.derive_seed(3, 1, "torch") == D.derive_seed(3, 1, "torch")


def test_sync_batchnorm_conversion_keeps_parameters_and_matches_batchnorm_alone() -> None:
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Sequential(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2)))
    params = list(net.parameters())
    x = torch.randn(6, 3)
    expected = net[1](net[0](x))
    D.convert_sync_batchnorm(net, torch.device("cpu"))
    assert isinstance(net[1], D.CrossRankBatchNorm) and isinstance(net[2][1], D.CrossRankBatchNorm)
    assert all(a is b for a, b in zip(params, net.parameters(), strict=True))
    # Without a process group it is ordinary batch norm.
    assert torch.allclose(net[1](net[0](x)), expected, atol=1e-6)


def test_resuming_with_another_process_count_says_the_run_will_not_repeat(capsys: pytest.CaptureFixture[str]) -> None:
    """A 2-process checkpoint resumed by one process (and one resumed by two) changed the result silently."""
    from ganforge.config import parse_config
    from ganforge.training.distributed import RankGroup

    group = RankGroup(parse_config({}), torch.device("cpu"))  # a single process
    state = {"rng": {}, "data": {}, "ranks": [{"rng": {}}, {"rng": {}}]}
    assert group.localize_state(state, 50) is state
    assert "note: resuming a 2-process run with 1 process: " in capsys.readouterr().err
    group.localize_state({"rng": {}, "data": {}}, 50)  # its own kind of run: nothing to say
    assert capsys.readouterr().err == ""


def test_a_lost_peer_is_one_line_under_torchrun_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A killed rank left the others with a 55-line gloo traceback (and a tiny dist_timeout, 200 lines)."""
    import torch.distributed as dist

    from ganforge.training.distributed import peer_failure

    reset = RuntimeError("[../third_party/gloo/gloo/transport/tcp/pair.cc:534] Connection reset by peer")
    assert peer_failure(reset) is None  # a single process: not a torchrun failure
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    for exc in (reset, dist.DistNetworkError("The client socket has timed out after 1ms")):
        error = peer_failure(exc)
        assert error is not None and "torchrun processes lost each other" in str(error) and "\n" not in str(error)
    assert peer_failure(RuntimeError("mat1 and mat2 shapes cannot be multiplied")) is None  # a bug stays loud
