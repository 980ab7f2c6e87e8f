"""SIGINT (Ctrl-C) and SIGTERM (a scheduler's stop): the run finishes its current step, writes a final
checkpoint, exits with code 130 and one line, and ``ganforge resume`` continues exactly.

The training process is the real ``ganforge resume`` command (``ganforge.cli.main``) in a process forked
from the test (torch and ganforge already imported), signalled at a random moment after it started
logging. ``checkpoint_every`` is larger than the run, so the only checkpoint before the end is the one
the signal handler wrote.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from pathlib import Path

import pytest
import safetensors.torch
import torch._dynamo  # noqa: F401 - the first optimizer imports it lazily (seconds): do it once, before forking

import ganforge.report.summary  # noqa: F401 - imported by every process; load it before forking
from ganforge.api import build_config
from ganforge.data.registry import source_from_config
from ganforge.gans.registry import build_model
from ganforge.runs import write_run_files
from ganforge.training import metrics_log
from ganforge.training.checkpoint import CHECKPOINTS_DIR, MODEL_FILE, STATE_FILE, list_checkpoints

STEPS = 1500  # long enough that the signal (<= 0.3 s after the first log) lands mid-run on an idle machine
SETTINGS = [
    "seed=5",
    f"train.steps={STEPS}",
    "train.batch_size=32",
    "train.log_every=5",
    "train.checkpoint_every=100000",
    "train.ema=0.9",
    "train.lr_decay=cosine",
    "model.generator.hidden=[16]",
    "model.discriminator.hidden=[16]",
    "monitors.mode_collapse=false",
]


def _cli_resume(run: str) -> None:
    """The child: ``ganforge resume RUN --quiet`` with the final report stubbed (it runs after the end)."""
    from types import SimpleNamespace

    import ganforge.report.summary as summary
    from ganforge.cli import main

    summary.finish_run = lambda trainer, path, seconds, **_: SimpleNamespace(path=path, step=trainer.step, summary={})
    main(["resume", run, "--quiet"])


def _new_run(path: Path) -> None:
    config = build_config("ring8", SETTINGS)
    source = source_from_config(config.data)
    build_model(config.model, source)
    write_run_files(path, config, source)


def _start(run: Path) -> multiprocessing.Process:
    proc = multiprocessing.get_context("fork").Process(target=_cli_resume, args=(str(run),))
    proc.start()
    return proc


def _state(run: Path) -> dict[str, dict[str, tuple]]:
    folder = list_checkpoints(run)[-1].path
    out = {}
    for name in (MODEL_FILE, STATE_FILE):
        tensors = safetensors.torch.load_file(folder / name)
        out[name] = {k: (str(t.dtype), tuple(t.shape), t.numpy().tobytes()) for k, t in tensors.items()}
    return out


def _records(run: Path) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "time"} for r in metrics_log.read(run / "metrics.jsonl")]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("signals") / "reference"
    _new_run(run)
    proc = _start(run)
    proc.join(300)
    assert proc.exitcode == 0
    return run


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals and fork")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_writes_a_final_checkpoint_and_resume_continues_exactly(
    tmp_path: Path, reference: Path, signum: int, capfd: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    _new_run(run)
    proc = _start(run)
    deadline = time.monotonic() + 120
    while not metrics_log.read(run / "metrics.jsonl") and time.monotonic() < deadline:
        time.sleep(0.01)  # the signal handlers are in place once the first record is logged
    time.sleep(random.Random(signum).uniform(0.0, 0.3))
    os.kill(proc.pid, signum)
    proc.join(120)

    assert proc.exitcode == 130
    err = capfd.readouterr().err
    assert f"interrupted: stopped by signal {int(signum)} at step " in err and "error" not in err
    assert "Traceback" not in err
    (saved,) = list_checkpoints(run)  # the signal's checkpoint is the only one
    assert 0 < saved.step < STEPS, "the signal arrived after the run ended; make STEPS larger"
    assert f"checkpoint written to {saved.path}" in err.replace("\n", "")
    assert max(r["step"] for r in metrics_log.read(run / "metrics.jsonl")) <= saved.step
    assert not any((run / CHECKPOINTS_DIR).glob(".tmp-*"))

    proc = _start(run)
    proc.join(300)
    assert proc.exitcode == 0
    assert f"from checkpoint step {saved.step}" in capfd.readouterr().err
    assert _state(run) == _state(reference)
    assert _records(run) == _records(reference)
