"""One writer per run folder (training/run_lock.py): a second train/resume is refused in one line while a
writer lives, readers are not, and a writer killed with SIGKILL blocks nobody."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ganforge.training.checkpoint import latest_checkpoint
from ganforge.training.run_lock import hold_run_lock, holds_run_lock, release_run_lock

SRC = Path(__file__).resolve().parents[2] / "src"
ENV = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}




def _refused(code: int, out: str, err: str) -> None:
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "being written by another ganforge process" in lines[0], err


def _tree(run: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(run)): (p.read_bytes(), p.stat().st_mtime_ns) for p in run.rglob("*") if p.is_file()}


def test_the_lock_is_reentrant_in_one_process_and_released(tmp_path: Path) -> None:
    hold_run_lock(tmp_path / "r", "train")
    hold_run_lock(tmp_path / "r", "resume")  # the CLI's resume, then api.resume inside it
    release_run_lock(tmp_path / "r")
    assert holds_run_lock(tmp_path / "r")
    release_run_lock(tmp_path / "r")
    assert not holds_run_lock(tmp_path / "r")
    assert not (tmp_path / "r").exists()  # the lock made the folder and nothing was written: no trace
    (tmp_path / "kept").mkdir()
    hold_run_lock(tmp_path / "kept", "train")
    release_run_lock(tmp_path / "kept")
    assert list((tmp_path / "kept").iterdir()) == []  # a folder the user made stays; no lock file to go stale


def test_a_train_into_a_folder_another_process_holds_is_refused(
    tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    run = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from ganforge.training.run_lock import hold_run_lock; "
         f"hold_run_lock({str(run)!r}, 'train'); print('held', flush=True); time.sleep(120)"],
        env=ENV, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        # the folder is still empty (the other train has not written yet): the emptiness check alone passes
        _refused(*run_cli("train", "ring8", "-o", run, "-q", "--set", "train.steps=2"))
        assert list(run.iterdir()) == []
    finally:
        holder.kill()
        holder.wait()
    code, _, err = run_cli("train", "ring8", "-o", run, "-q", "--no-eval", "--set", "train.steps=2")
    assert code == 0, err  # the holder died: its lock went with it


def test_two_trains_into_one_folder_one_wins(tmp_path: Path) -> None:
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "ganforge", "train", "ring8", "-o", str(run), "-q", "--no-eval",
           "--set", "train.steps=40", "--set", "train.log_every=1"]
    procs = [subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 41))  # one writer's log, no interleaved duplicates


def test_resume_during_a_train_is_refused_and_readers_are_not(
    tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    run = tmp_path / "run"
    writer = subprocess.Popen(
        [sys.executable, "-m", "ganforge", "train", "ring8", "-o", str(run), "-q", "--no-eval",
         "--set", "train.steps=1000000", "--set", "train.checkpoint_every=25"],
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 240
        while latest_checkpoint(run) is None:
            assert writer.poll() is None and time.monotonic() < deadline, "the training never checkpointed"
            time.sleep(0.2)
        _refused(*run_cli("resume", run, "-q", "--steps", "2000000"))
        _refused(*run_cli("report", run))  # the writer rewrites report.html when it ends
        code, _, err = run_cli("sample", run, "-n", "5", "-o", tmp_path / "s.csv")
        assert code == 0, err  # readers need no lock
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    info = latest_checkpoint(run)
    assert info is not None
    code, _, err = run_cli("resume", run, "-q", "--no-eval", "--steps", info.step + 2)
    assert code == 0, err  # the killed writer left no lock behind
