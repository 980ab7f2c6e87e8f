"""Crash safety with real processes: ``python -m ganforge resume RUN`` is killed with SIGKILL at random
moments (during start-up, training steps and checkpoint writes), resumed each time, and must end
bit-for-bit equal to an uninterrupted ``ganforge resume`` of the same fresh run folder, with zero
unreadable checkpoints after any kill.

Baseline beside it: plain PyTorch checkpointing, ``torch.save(state, "last.pt")`` written in place, killed
the same number of times; it counts how often the file left behind cannot be loaded.

    python benchmarks/kill_resume.py               # 25 kills, 400 steps
    python benchmarks/kill_resume.py --kills 40
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import safetensors.torch
import torch

from ganforge.api import build_config
from ganforge.data.registry import source_from_config
from ganforge.runs import write_run_files
from ganforge.training import metrics_log
from ganforge.training.checkpoint import CHECKPOINTS_DIR, MODEL_FILE, STATE_FILE, list_checkpoints, load_checkpoint


def settings(steps: int) -> list[str]:
    return [
        "seed=11",
        f"train.steps={steps}",
        "train.batch_size=32",
        "train.log_every=5",
        "train.checkpoint_every=5",
        "train.keep_checkpoints=3",
        "train.ema=0.99",
        "train.lr_decay=linear",
        "model.generator.hidden=[32]",
        "model.discriminator.hidden=[32]",
        "eval.n=500",
    ]


def new_run(path: Path, steps: int) -> None:
    config = build_config("ring8", settings(steps))
    write_run_files(path, config, source_from_config(config.data))


def life(run: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ganforge", "resume", str(run), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def unreadable(run: Path) -> int:
    root = run / CHECKPOINTS_DIR
    if not root.is_dir():
        return 0
    valid = {c.path.name for c in list_checkpoints(run)}
    bad = 0
    for entry in root.iterdir():
        if entry.name.startswith("step-"):
            try:
                if entry.name not in valid:
                    raise ValueError(entry.name)
                load_checkpoint(entry)
            except Exception:  # noqa: BLE001
                bad += 1
    return bad


def final_state(run: Path) -> dict:
    folder = list_checkpoints(run)[-1].path
    return {
        name: {k: t.numpy().tobytes() for k, t in safetensors.torch.load_file(folder / name).items()}
        for name in (MODEL_FILE, STATE_FILE)
    }


def records(run: Path) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "time"} for r in metrics_log.read(run / "metrics.jsonl")]


def ours(kills: int, steps: int, rng: random.Random, tmp: Path) -> dict:
    reference = tmp / "reference"
    new_run(reference, steps)
    t0 = time.perf_counter()
    assert life(reference).wait() == 0, "the uninterrupted run failed"
    full = time.perf_counter() - t0
    t0 = time.perf_counter()
    probe = tmp / "probe"
    new_run(probe, 1)
    life(probe).wait()
    startup = time.perf_counter() - t0  # start-up + 1 step + final report: the cost of a life that trains nothing

    run = tmp / "killed"
    new_run(run, steps)
    landed = lives = mid_save = bad_after = 0
    t_killed = time.perf_counter()
    while landed < kills:
        proc = life(run)
        lives += 1
        time.sleep(rng.uniform(0, startup + (full - startup) / (0.6 * kills)))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            landed += 1
        proc.wait()
        mid_save += any((run / CHECKPOINTS_DIR).glob(".tmp-*"))
        bad_after += unreadable(run)
        metrics_log.read(run / "metrics.jsonl")
        if proc.returncode == 0:
            break
    code = life(run).wait()
    return {
        "kills": landed,
        "lives": lives + 1,
        "mid_save": mid_save,
        "unreadable": bad_after + unreadable(run),
        "identical": code == 0 and final_state(run) == final_state(reference) and records(run) == records(reference),
        "reference_s": full,
        "killed_total_s": time.perf_counter() - t_killed,
        "final_step": list_checkpoints(run)[-1].step,
    }


def _naive_writer(path: str) -> None:
    torch.set_num_threads(1)
    state = {f"w{i}": torch.randn(512, 512) for i in range(16)}  # 16 MiB, like a mid-size GAN + Adam
    while True:
        torch.save(state, path)


def baseline(kills: int, rng: random.Random, tmp: Path) -> dict:
    path = tmp / "last.pt"
    ctx = multiprocessing.get_context("fork")
    bad = missing = 0
    for _ in range(kills):
        proc = ctx.Process(target=_naive_writer, args=(str(path),))
        proc.start()
        time.sleep(rng.uniform(0.05, 0.5))
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
        if not path.exists():
            missing += 1
            continue
        try:
            torch.load(path, weights_only=True)
        except Exception:  # noqa: BLE001
            bad += 1
    return {"kills": kills, "unreadable": bad, "missing": missing}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=25)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        got = ours(args.kills, args.steps, rng, Path(tmp))
        base = baseline(args.kills, rng, Path(tmp))
    load = os.getloadavg()[0]
    print(f"SIGKILL at random moments, then resume ({args.steps} steps, checkpoint every 5; load {load:.1f})")
    print(f"{'writer':<44} {'kills':>6} {'unreadable after a kill':>24} {'final == uninterrupted':>23}")
    print(
        f"{'ganforge (safetensors+JSON, tmp dir + rename)':<44} {got['kills']:>6} {got['unreadable']:>24} "
        f"{str(got['identical']):>23}"
    )
    print(f"{'plain torch.save(state, last.pt) in place':<44} {base['kills']:>6} {base['unreadable']:>24} {'n/a':>23}")
    print(
        f"ganforge: {got['lives']} processes, {got['mid_save']} kills left a half-written checkpoint folder, "
        f"final step {got['final_step']}; uninterrupted run {got['reference_s']:.1f} s, killed run "
        f"{got['killed_total_s']:.1f} s in total"
    )
    if got["kills"] < args.kills:  # a kill drawn after the run's end does not land: not a failure
        print(f"{got['kills']} of the {args.kills} kills drawn landed before the run finished")
    return 0 if got["identical"] and got["unreadable"] == 0 and got["kills"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
