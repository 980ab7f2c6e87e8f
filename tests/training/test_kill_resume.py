"""Crash safety for real: a training process is killed with SIGKILL at >= 20 random moments, resumed each
time, and must end with exactly the weights, optimizer/RNG state and metrics of an uninterrupted run,
with zero unreadable checkpoints at any point.

Each life of the run is a real process running ``ganforge.api.resume`` (the code behind ``ganforge
resume``) on the same run folder. It is forked from the test process, which has already imported torch
and ganforge (as PyTorch's DataLoader forks its workers), so a life starts in milliseconds instead of
seconds and 20+ kills fit in a fast test. ``benchmarks/kill_resume.py`` does the same with fresh
``python -m ganforge resume`` processes. The final report (plots, evaluation) is stubbed: it runs after
the last checkpoint and cannot change what is compared.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import runpy
import time
from pathlib import Path

import pytest
import safetensors.torch
import torch._dynamo  # noqa: F401 - the first optimizer imports it lazily (seconds): do it once, before forking

import ganforge.report.summary  # noqa: F401 - imported by every life; load it before forking
from ganforge.api import build_config
from ganforge.data.registry import source_from_config
from ganforge.gans.registry import build_model
from ganforge.runs import write_run_files
from ganforge.training import metrics_log
from ganforge.training.checkpoint import (
    CHECKPOINTS_DIR,
    MODEL_FILE,
    STATE_FILE,
    checkpoint_dir_name,
    list_checkpoints,
    load_checkpoint,
)

KILLS = 20
STEPS = 300
SETTINGS = [
    "seed=3",
    f"train.steps={STEPS}",
    "train.batch_size=32",
    "train.log_every=5",
    "train.checkpoint_every=5",
    "train.keep_checkpoints=2",
    "train.ema=0.9",
    "train.lr_decay=linear",
    "train.lr_final=0.2",
    "model.generator.hidden=[16]",
    "model.discriminator.hidden=[16]",
    "monitors.mode_collapse=false",
]

WORKER = """
import torch
torch.set_num_threads(1)
from types import SimpleNamespace
import ganforge.report.summary as summary
summary.finish_run = lambda trainer, path, seconds, **_: SimpleNamespace(path=path, step=trainer.step, summary={})
from ganforge.api import resume
resume(RUN, show_progress=False)
"""


def _new_run(path: Path) -> None:
    """A run folder as ``ganforge train`` leaves it before its first step: config.yaml and data.json. Building
    the model here also loads every registry in this process, so the forked lives do not import anything."""
    config = build_config("ring8", SETTINGS)
    source = source_from_config(config.data)
    build_model(config.model, source)
    write_run_files(path, config, source)


def _life(script: Path, run: Path) -> multiprocessing.Process:
    proc = multiprocessing.get_context("fork").Process(
        target=runpy.run_path, args=(str(script),), kwargs={"init_globals": {"RUN": str(run)}}
    )
    proc.start()
    return proc


def _unreadable(run: Path) -> list[str]:
    """Every ``step-*`` folder that is not a complete checkpoint that loads and passes its hashes."""
    root = run / CHECKPOINTS_DIR
    if not root.is_dir():
        return []
    valid = {c.path.name for c in list_checkpoints(run)}
    bad = []
    for entry in root.iterdir():
        if not entry.name.startswith("step-"):
            continue
        try:
            if entry.name not in valid:
                raise ValueError("not listed as valid")
            load_checkpoint(entry)
        except Exception as err:  # noqa: BLE001 - any failure to load counts
            bad.append(f"{entry.name}: {err}")
    return bad


def _final_state(run: Path) -> dict[str, dict[str, tuple]]:
    folder = run / CHECKPOINTS_DIR / checkpoint_dir_name(STEPS)
    out = {}
    for name in (MODEL_FILE, STATE_FILE):
        tensors = safetensors.torch.load_file(folder / name)
        out[name] = {k: (str(t.dtype), tuple(t.shape), t.numpy().tobytes()) for k, t in tensors.items()}
    return out


def _records(run: Path) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "time"} for r in metrics_log.read(run / "metrics.jsonl")]


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL and fork are POSIX")
def test_sigkill_at_random_moments_then_resume_equals_the_uninterrupted_run(tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)

    reference = tmp_path / "reference"
    _new_run(reference)
    t0 = time.perf_counter()
    proc = _life(script, reference)
    proc.join(120)
    full = time.perf_counter() - t0
    assert proc.exitcode == 0, "the uninterrupted reference run failed"

    run = tmp_path / "killed"
    _new_run(run)
    rng = random.Random(20240607)
    kills, lives, mid_save, steps_at_kill = 0, 0, 0, []
    last_step = 0
    while kills < KILLS:
        proc = _life(script, run)
        lives += 1
        # expected progress per life ~ full/20 minus start-up, so 20 kills never finish the run
        time.sleep(rng.uniform(0.0, full / 10))
        if proc.is_alive():
            proc.kill()  # SIGKILL: no handler, no cleanup
            kills += 1
        proc.join(60)
        assert _unreadable(run) == [], f"after life {lives}: unreadable checkpoints"
        metrics_log.read(run / "metrics.jsonl")  # a torn last line is tolerated, nothing else may be damaged
        mid_save += any((run / CHECKPOINTS_DIR).glob(".tmp-*"))
        valid = list_checkpoints(run)
        step = valid[-1].step if valid else 0
        assert step >= last_step, "a kill lost a checkpoint that had been completed"
        last_step = step
        steps_at_kill.append(step)
        if proc.exitcode == 0:  # finished before the kill landed: start again from scratch to keep killing
            assert step == STEPS
            break
    assert kills >= KILLS, f"only {kills} kills landed ({lives} lives, checkpoint steps {steps_at_kill})"

    proc = _life(script, run)  # the last life runs to the end
    proc.join(120)
    assert proc.exitcode == 0
    assert _unreadable(run) == []
    assert _final_state(run) == _final_state(reference), "resumed weights/state differ from the uninterrupted run"
    assert _records(run) == _records(reference)
    print(
        f"\nkill/resume: {kills} SIGKILLs over {lives} lives, {mid_save} left a half-written checkpoint, "
        f"checkpoint steps at the kills {steps_at_kill}, reference run {full:.2f}s"
    )
