"""The studio's own cost: ring8 training steps per CPU second with the studio attached vs without.

    heavy env PYTHONPATH=src python3 benchmarks/studio_overhead.py            # 3 pairs x 3000 steps
    python3 benchmarks/studio_overhead.py --steps 1000 --pairs 1              # quick look

Protocol: the shipped ``ring8`` recipe (``train.steps`` set to ``--steps``), one torch thread, the same seed.
Each pair trains once plainly and once under ``ganforge studio`` (its server, event hub, run-folder watcher
and frame sampler with the default ``every=10`` steps and ``6`` frames per second), in alternating order.
While the studio trains, a page is connected: a separate process reads the ``/events`` stream (so every
frame is encoded and sent, as with a browser open; the reader's own CPU is not counted). Time is this
process's CPU time (``time.process_time``: every thread of it, so the server's and the watcher's work
count) from the first step to the last logged step, measured by a callback; evaluation and pictures at
the end are outside the window. Wall-clock steps/s are printed beside.

Between-run CPU times vary by several percent on a shared machine, so each studio run also accounts for
its own cost: the CPU time the training thread spent drawing frames (measured around each frame) plus
the CPU time of every other thread of the process (server, watcher), against the rest of the training
thread's CPU time in the same run. ``implied_ratio`` = training CPU / all CPU of that run is the ratio the
studio would show on an otherwise idle, noise-free machine.

Result: the table on stdout and ``benchmarks/results/studio_overhead.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

READER = r"""
import sys, urllib.request
frames = 0
with urllib.request.urlopen(sys.argv[1] + "events", timeout=600) as r:
    for line in r:
        if line.startswith(b"event: frame"):
            frames += 1
"""


class Window:
    """CPU and wall time from ``on_start`` to the last logged step (process and training thread)."""

    def __init__(self) -> None:
        self.cpu0 = self.wall0 = self.thread0 = 0.0
        self.cpu = self.wall = self.thread = 0.0
        self.steps = 0


def timing_callback(window: Window) -> Any:
    from ganforge.training.callbacks import Callback

    class Timer(Callback):
        def on_start(self, trainer: Any) -> None:
            window.cpu0, window.wall0, window.steps = time.process_time(), time.perf_counter(), trainer.step
            window.thread0 = time.thread_time()

        def on_log(self, trainer: Any, record: dict[str, Any]) -> None:
            if record["step"] == trainer.train_cfg.steps:
                window.cpu = time.process_time() - window.cpu0
                window.thread = time.thread_time() - window.thread0
                window.wall = time.perf_counter() - window.wall0
                window.steps = trainer.step - window.steps

    return Timer()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)

    from ganforge.api import train
    from ganforge.studio.session import train_in_studio
    from ganforge.training.callbacks import register_callbacks

    current: list[Window] = []

    @register_callbacks
    def _timer(config: Any, source: Any, run_dir: Any) -> list[Any]:
        return [timing_callback(current[-1])] if current else []

    overrides = [f"train.steps={args.steps}", "eval.n=500"]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for pair in range(args.pairs):
            order = ("plain", "studio") if pair % 2 == 0 else ("studio", "plain")
            for mode in order:
                window = Window()
                current.append(window)
                out = Path(tmp) / f"{mode}-{pair}"
                reader: list[subprocess.Popen] = []
                if mode == "plain":
                    train("ring8", out=out, overrides=overrides, show_progress=False)
                else:
                    def connect(server: Any, reader: list = reader, window: Window = window) -> None:
                        window.controller = server.controller  # type: ignore[attr-defined]
                        reader.append(subprocess.Popen([sys.executable, "-c", READER, server.url]))
                        time.sleep(1.0)  # the page is open before training starts

                    train_in_studio("ring8", overrides, out, keep_serving=False, show_progress=False,
                                    on_ready=connect)
                for p in reader:
                    p.terminate()
                    p.wait(10)
                row = {"pair": pair, "mode": mode, "steps": window.steps, "cpu_s": round(window.cpu, 3),
                       "wall_s": round(window.wall, 3), "steps_per_cpu_s": round(window.steps / window.cpu, 1),
                       "steps_per_wall_s": round(window.steps / window.wall, 1)}
                controller = getattr(window, "controller", None)
                if controller is not None:
                    # in-run accounting: the studio's CPU (frames in the training thread + every other thread
                    # of the process: server, watcher) against the training's own CPU in the same run
                    studio_cpu = controller._frame_cpu + (window.cpu - window.thread)
                    training_cpu = window.cpu - studio_cpu
                    row.update(frames=controller.frames, frame_cpu_s=round(controller._frame_cpu, 3),
                               other_threads_cpu_s=round(window.cpu - window.thread, 3),
                               studio_share=round(studio_cpu / training_cpu, 4),
                               implied_ratio=round(training_cpu / window.cpu, 4))
                rows.append(row)
                print(f"pair {pair} {mode:<6} {window.steps} steps  {window.cpu:7.2f} CPU s  "
                      f"{window.steps / window.cpu:7.1f} steps/CPU s  {window.steps / window.wall:7.1f} steps/wall s",
                      flush=True)
    implied = [r["implied_ratio"] for r in rows if "implied_ratio" in r]
    for r in rows:
        if "frames" in r:
            print(f"pair {r['pair']} studio: {r['frames']} frames, {r['frame_cpu_s']} CPU s drawing them, "
                  f"{r['other_threads_cpu_s']} CPU s in the server/watcher threads -> studio costs "
                  f"{100 * r['studio_share']:.1f}% of training CPU (ratio {r['implied_ratio']:.3f})")
    ratios = []
    for pair in range(args.pairs):
        plain = next(r for r in rows if r["pair"] == pair and r["mode"] == "plain")
        studio = next(r for r in rows if r["pair"] == pair and r["mode"] == "studio")
        ratios.append(studio["steps_per_cpu_s"] / plain["steps_per_cpu_s"])
    summary = {
        "recipe": "ring8",
        "steps": args.steps,
        "pairs": args.pairs,
        "ratio_per_pair": [round(r, 3) for r in ratios],
        "ratio_median": round(statistics.median(ratios), 3),
        "implied_ratio_median": round(statistics.median(implied), 4),
        "rows": rows,
        "machine": {"cpus": os.cpu_count(), "torch": torch.__version__, "load": os.getloadavg()},
    }
    print(f"studio / plain steps per CPU second: median {summary['ratio_median']:.3f} "
          f"(pairs: {', '.join(f'{r:.3f}' for r in ratios)}; target >= 0.9)")
    print(f"in-run accounting (training CPU / all CPU of the studio run): median {summary['implied_ratio_median']:.3f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "studio_overhead.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
