"""Follow a run folder: new ``metrics.jsonl`` records, fixed-noise snapshots and checkpoints, as they appear.

The same code serves three cases: the studio's own training (records and snapshots only; frames come
from the training thread), a run being trained by another process (attach), and a finished run (replay:
everything already there is sent at once, and the folder is still followed in case it is resumed).

Only files inside the run folder are read: ``metrics.jsonl`` (appended line by line: only complete lines
are taken, a file that shrank was truncated by a resume and is read again from the start),
``samples/step-*.png``, ``summary.json`` and, to draw 1-D/2-D frames in attach mode, the run's own
checkpoints with the model rebuilt from its ``config.yaml`` and ``data.json``.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from ganforge.fileio import from_jsonable
from ganforge.studio.hub import EventHub

POLL_SECONDS = 0.4


class RunWatcher(threading.Thread):
    def __init__(self, hub: EventHub, run_dir: Path, *, frames: bool, announce: bool) -> None:
        super().__init__(daemon=True, name="ganforge-studio-watcher")
        self.hub = hub
        self.run_dir = Path(run_dir)
        self.frames = frames  # draw frames from checkpoints (attach / replay)
        self.announce = announce  # publish init and status (attach / replay)
        self.stop_event = threading.Event()
        self._offset = 0
        self._partial = b""
        self._snapshots: set[int] = set()
        self._checkpoint_step: int | None = None
        self._run: Any = None
        self._maker: Any = None
        self._tried_at: int | None = None  # the newest checkpoint step a failed model load was retried at
        self.last_step = 0
        self._last_status: dict[str, Any] | None = None
        self.error: str | None = None

    def stop(self) -> None:
        self.stop_event.set()

    def run(self) -> None:
        if self.announce:
            self._announce()
        while not self.stop_event.is_set():
            self.poll()
            self.stop_event.wait(POLL_SECONDS)

    def poll(self) -> None:
        """One look at the folder (also called directly by tests)."""
        self._records()
        self._new_snapshots()
        if self.frames:
            self._checkpoints()
        if self.announce:
            self._status()

    # --- pieces -------------------------------------------------------------------------------------
    def _announce(self) -> None:
        from ganforge.studio.frames import view_of

        desc = _read_json(self.run_dir / "data.json")
        init: dict[str, Any] = {"mode": "attach", "run": self.run_dir.name, "run_dir": str(self.run_dir),
                                "controls": {"single_steps": False, "objective": False, "n_critic": False,
                                             "lr": False},
                                "view": view_of(str(desc.get("kind")), list(desc.get("sample_shape") or [])),
                                "kind": desc.get("kind"), "sample_shape": desc.get("sample_shape")}
        if self.frames and init["view"] in ("lowdim", "series", "columns"):
            try:
                self._load_model()
                init.update(self._maker.init_message())
                init["mode"] = "attach"
            except Exception as err:  # noqa: BLE001 - no checkpoint yet, or a damaged one: curves still work
                self.error = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
        self.hub.publish("init", init)

    def _load_model(self) -> None:
        import torch

        from ganforge.runs import load
        from ganforge.studio.frames import N_POINTS, FrameMaker

        run = load(self.run_dir)
        source = run.real_data()
        n = 2000 if len(run.data_info.sample_shape) == 1 and run.data_info.sample_shape[0] > 2 else N_POINTS
        real = source.real(n, seed=2024).x
        self._run = run
        self._maker = FrameMaker(run.gan, run.scaler, run.data_info.kind, tuple(run.data_info.sample_shape), real,
                                 seed=run.config.seed, info=getattr(run.data_info, "info", None))
        self._checkpoint_step = None
        torch.set_grad_enabled(True)

    def _records(self) -> None:
        path = self.run_dir / "metrics.jsonl"
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return
        if size < self._offset:  # truncated by a resume: start again
            self._offset, self._partial = 0, b""
            self.hub.publish("reset", {"reason": "metrics.jsonl was truncated (the run was resumed)"})
        if size == self._offset:
            return
        with open(path, "rb") as f:
            f.seek(self._offset)
            data = f.read(size - self._offset)
        self._offset = size
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()  # an unterminated last line: wait for the rest
        for line in lines:
            text = line.decode("utf-8", errors="replace").strip().strip("\x00")
            if not text:
                continue
            try:
                record = from_jsonable(json.loads(text))
            except ValueError:
                continue
            if isinstance(record, dict):
                if isinstance(record.get("step"), (int, float)):
                    self.last_step = int(record["step"])
                self.hub.publish("record", record)

    def _new_snapshots(self) -> None:
        folder = self.run_dir / "samples"
        if not folder.is_dir():
            return
        found = []
        for p in folder.glob("step-*.png"):
            try:
                step = int(p.stem.split("-", 1)[1])
            except ValueError:
                continue
            if step not in self._snapshots:
                found.append(step)
        for step in sorted(found):
            self._snapshots.add(step)
            self.hub.publish("snapshot", {"step": step, "url": f"/run/samples/step-{step:08d}.png"})

    def _checkpoints(self) -> None:
        from ganforge.training.checkpoint import list_checkpoints, load_checkpoint

        try:
            infos = list_checkpoints(self.run_dir, verify_hashes=False)
        except Exception:  # noqa: BLE001 - a checkpoint being written right now
            return
        if self._maker is None:  # attached before the first checkpoint: load the model once one exists
            newest = infos[-1].step if infos else None
            if newest is None or newest == self._tried_at or not self.announce:
                return
            self._tried_at = newest
            self.error = None
            self._announce()  # sets the view up again, now with the model (or records why it still cannot)
            if self._maker is None:
                return
        for info in infos:
            if self._checkpoint_step is not None and info.step <= self._checkpoint_step:
                continue
            try:
                state, _ = load_checkpoint(info.path)
                self._run.gan.load_state_dict(state["model"])
            except Exception:  # noqa: BLE001 - removed or replaced while reading: take the next one
                continue
            self._checkpoint_step = info.step
            self.hub.publish("frame", self._maker.frame(info.step))

    def _status(self) -> None:
        finished = (self.run_dir / "summary.json").is_file()
        status = {"mode": "attach", "step": self.last_step, "finished": finished, "paused": False,
                  "checkpoint": self._checkpoint_step, "note": self.error}
        if status != self._last_status:  # only changes go out
            self._last_status = status
            self.hub.publish("status", status)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
