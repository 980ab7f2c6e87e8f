"""The studio's training side without a browser: frames, pause, single updates, live settings in
metrics.jsonl; the run-folder watcher (tailing, truncation, frames from checkpoints); CLI errors."""

from __future__ import annotations

import json
import queue
from pathlib import Path
from typing import Any

import pytest
import torch
from typer.testing import CliRunner

import ganforge as gf
from ganforge.cli import COMMANDS, app
from ganforge.errors import GanforgeError
from ganforge.studio.controller import StudioController
from ganforge.studio.hub import EventHub
from ganforge.studio.watcher import RunWatcher
from ganforge.training.metrics_log import MetricsLog, read


def _events(client: queue.Queue, timeout: float = 0.05) -> list[tuple[str, Any]]:
    out = []
    while True:
        try:
            message = client.get(timeout=timeout)
        except queue.Empty:
            return out
        if message is None:
            return out
        head, data = message.decode().split("\n")[:2]
        out.append((head[len("event: "):], json.loads(data[len("data: "):])))


def test_controls_and_live_settings_reach_metrics(tmp_path: Path, live_studio: Any, waiter: Any) -> None:
    studio = live_studio("ring8", ["train.steps=100000", "train.log_every=20"], tmp_path / "run", paused=True)
    controller = studio.controller
    waiter(lambda: controller.trainer is not None and controller.frames >= 1)
    client = controller.hub.subscribe()
    init = [p for e, p in _events(client) if e == "init"][0]
    assert init["view"] == "lowdim" and init["probability"] and init["controls"]["single_steps"]
    assert controller.trainer.step == 0  # started paused
    heat = controller.maker.frame(0)["heat"]
    controller.submit({"action": "d_step"})
    frame = waiter(lambda: next((p for e, p in _events(client) if e == "frame"), None))
    assert frame["heat"] != heat and controller.trainer.step == 0

    for bad, message in [
        ({"action": "set", "objective": "nope"}, "objective must be one of"),
        ({"action": "set", "lr": {"generator": -1}}, "must be a number in"),
        ({"action": "set", "lr": {"critic": 0.1}}, "no optimizer phase 'critic'"),
        ({"action": "set", "n_critic": 0}, "n_critic must be an integer"),
        ({"action": "explode"}, "a control needs an 'action'"),
    ]:
        with pytest.raises(GanforgeError, match=message):
            controller.submit(bad)
    controller.submit({"action": "set", "lr": {"generator": 0.0005}, "objective": "hinge", "n_critic": 2})
    controller.submit({"action": "step"})  # one step, then paused again
    waiter(lambda: controller.trainer.step == 1 and controller.paused)
    assert controller.trainer.gan.objective.name == "hinge" and controller.trainer.gan.n_critic == 2
    controller.submit({"action": "play"})
    record = waiter(lambda: next((r for r in read(studio.out / "metrics.jsonl") if r.get("studio")), None))
    assert record["studio"]["objective"] == "hinge" and record["studio"]["n_critic"] == 2
    assert [c["what"] for c in record["studio"]["changes"]] == ["d_step", "lr.generator", "objective", "n_critic"]
    # the change says D's new scale, so a page following the run later draws hinge scores as scores
    assert record["studio"]["changes"][2]["probability"] is False
    # the linear decay continues from the rate set live
    assert record["lr"]["generator"] == pytest.approx(0.0005, rel=2e-3)
    controller.submit({"action": "pause"})
    waiter(lambda: controller.paused)
    step = controller.trainer.step
    waiter(lambda: any(e == "status" and p["paused"] for e, p in _events(client)))
    assert controller.trainer.step == step
    run = studio.finish()
    assert run.summary["steps"] == step + 1  # "finish" ends after one more step
    assert (run.path / "report.html").is_file() and (run.path / "summary.json").is_file()


def test_watcher_tails_metrics_and_survives_a_truncation(tmp_path: Path) -> None:
    hub = EventHub()
    client = hub.subscribe()
    (tmp_path / "config.yaml").write_text("name: x\n")
    watcher = RunWatcher(hub, tmp_path, frames=False, announce=False)
    log = MetricsLog(tmp_path / "metrics.jsonl")
    log.append({"step": 10, "loss_d": 1.0})
    with open(tmp_path / "metrics.jsonl", "ab") as f:
        f.write(b'{"step": 20, "loss_d"')  # a line being written
    watcher.poll()
    assert [(e, p["step"]) for e, p in _events(client)] == [("record", 10)]
    with open(tmp_path / "metrics.jsonl", "ab") as f:
        f.write(b': 0.5, "d_fake": "NaN"}\n')
    watcher.poll()
    got = _events(client)
    assert got[0][0] == "record" and got[0][1]["step"] == 20 and got[0][1]["d_fake"] == "NaN"
    (tmp_path / "metrics.jsonl").write_text('{"step": 5}\n')  # a resume truncated it
    watcher.poll()
    assert [e for e, _ in _events(client)] == ["reset", "record"]
    (tmp_path / "samples").mkdir()
    (tmp_path / "samples" / "step-00000100.png").write_bytes(b"png")
    watcher.poll()
    assert _events(client) == [("snapshot", {"step": 100, "url": "/run/samples/step-00000100.png"})]


def test_attach_draws_frames_from_the_runs_checkpoints(tmp_path: Path) -> None:
    run = gf.train("ring8", steps=200, out=tmp_path / "run", show_progress=False,
                   overrides=["train.checkpoint_every=100", "eval.n=300", "train.log_every=50"])
    hub = EventHub()
    client = hub.subscribe()
    watcher = RunWatcher(hub, run.path, frames=True, announce=True)
    watcher._announce()
    watcher.poll()
    events = _events(client)
    init = [p for e, p in events if e == "init"][0]
    assert init["mode"] == "attach" and init["view"] == "lowdim" and len(init["real"]) == 400
    assert init["axes"] == ["x0", "x1"]  # ring8 has no column names
    assert not init["controls"]["lr"]
    frames = [p for e, p in events if e == "frame"]
    assert [f["step"] for f in frames] == [100, 200]
    assert frames[0]["fake"] != frames[1]["fake"]
    assert [p["step"] for e, p in events if e == "record"] == [50, 100, 150, 200]
    status = [p for e, p in events if e == "status"][-1]
    assert status["finished"] and status["checkpoint"] == 200
    assert torch.is_grad_enabled()


def test_attaching_before_the_first_checkpoint_draws_frames_once_one_is_written(tmp_path: Path) -> None:
    run = gf.train("ring8", steps=100, out=tmp_path / "run", show_progress=False,
                   overrides=["train.checkpoint_every=100", "eval.n=300", "train.log_every=50"])
    (run.path / "checkpoints").rename(tmp_path / "later")  # as when `ganforge studio RUN` attaches early
    hub = EventHub()
    client = hub.subscribe()
    watcher = RunWatcher(hub, run.path, frames=True, announce=True)
    watcher._announce()
    watcher.poll()
    assert watcher.error and not [p for e, p in _events(client) if e == "frame"]
    (tmp_path / "later").rename(run.path / "checkpoints")  # the run writes its first checkpoint
    watcher.poll()
    events = _events(client)
    init = [p for e, p in events if e == "init"][-1]
    assert init["view"] == "lowdim" and len(init["real"]) == 400 and watcher.error is None
    assert [p["step"] for e, p in events if e == "frame"] == [100]  # the panel was blank for good before


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    COMMANDS.load()
    runner = CliRunner()
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.yaml").write_text("name: x\n")
    result = runner.invoke(app, ["studio", str(tmp_path / "run"), "--set", "train.steps=5"])
    assert isinstance(result.exception, GanforgeError) and "is a run folder" in str(result.exception)
    result = runner.invoke(app, ["studio", "ring8", "--port", "70000"])
    assert isinstance(result.exception, GanforgeError) and "--port 70000" in str(result.exception)
    result = runner.invoke(app, ["studio", "ring8", "--out", str(tmp_path / "run")])  # a folder that holds a run
    assert isinstance(result.exception, GanforgeError) and "already exists" in str(result.exception)
    assert "http://" not in result.output  # refused before an address was printed (and a server started)


def test_watching_does_not_change_training(tmp_path: Path, live_studio: Any) -> None:
    """Frames are drawn from fixed inputs under a forked RNG: a run with the studio attached (no control
    touched) takes exactly the steps of a plain run."""
    overrides = ["train.steps=120", "train.log_every=20", "eval.n=300"]
    plain = gf.train("ring8", out=tmp_path / "plain", show_progress=False, overrides=overrides)
    studio = live_studio("ring8", overrides, tmp_path / "watched", every=1, max_fps=1000, budget=10.0)
    studio.thread.join(120)  # to the end, untouched
    watched = studio.finish()
    assert watched.summary["steps"] == 120 and studio.controller.frames >= 120
    assert read(plain.path / "metrics.jsonl") == [
        {k: v for k, v in r.items() if k != "time"} | {"time": p["time"]}
        for r, p in zip(read(watched.path / "metrics.jsonl"), read(plain.path / "metrics.jsonl"), strict=True)
    ]
    for (name, a), (_, b) in zip(plain.gan.state_dict().items(), watched.gan.state_dict().items(), strict=True):
        assert torch.equal(a, b), name


def test_the_speed_shown_after_a_pause_counts_training_time_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import time
    from types import SimpleNamespace

    controller = StudioController(EventHub(), paused=True)
    controller.trainer = SimpleNamespace(step=40, stop_signal=None)  # type: ignore[assignment]
    monkeypatch.setattr(controller, "_publish_status", lambda: None)
    controller._rate = (time.perf_counter() - 60.0, 0)  # the last measurement, a minute (of pause) ago
    import threading

    threading.Timer(0.3, controller.commands.put, args=({"action": "play"},)).start()  # clicked while it waits
    controller._before_step()
    started, step = controller._rate
    assert step == 40 and time.perf_counter() - started < 5.0  # the next rate is measured from here, not from before


def _read_events_until(response: Any, want: Any, timeout: float = 60.0) -> dict[str, Any]:
    """Read a server-sent event stream until an event for which ``want(name, payload)`` holds; its payload."""
    import time

    end, name = time.monotonic() + timeout, ""
    while time.monotonic() < end:
        line = response.fp.readline().decode()
        if not line:
            break
        if line.startswith("event: "):
            name = line[len("event: "):].strip()
        elif line.startswith("data: "):
            payload = json.loads(line[len("data: "):])
            if want(name, payload):
                return payload
    raise AssertionError("the awaited event never came")


def test_ctrl_c_while_paused_stops_at_the_shown_step_without_training(tmp_path: Path) -> None:
    """`ganforge studio --paused`, one step from the page, then SIGINT: the run stops at step 1 (the step the
    page shows), its checkpoint is that step's, and no further step was trained (the trainer looks at the
    signal only after a step, so leaving the pause and returning trained one more)."""
    import http.client
    import os
    import re
    import signal
    import subprocess
    import sys

    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "ganforge", "studio", "ring8", "--paused", "-q", "--out", str(out)],
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stderr is not None
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", proc.stderr.readline()).group(1))  # type: ignore[union-attr]
        events = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        events.request("GET", "/events")
        stream = events.getresponse()
        _read_events_until(stream, lambda e, p: e == "status" and p["paused"] and p["step"] == 0)
        control = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        control.request("POST", "/control", json.dumps({"action": "step"}), {"Content-Type": "application/json"})
        assert control.getresponse().status == 200
        shown = _read_events_until(stream, lambda e, p: e == "status" and p["paused"] and p["step"] >= 1)
        assert shown["step"] == 1
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=60)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "stopped by signal 2 at step 1;" in err and "step-00000001" in err
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step-00000001"]
    assert json.loads((out / "checkpoints" / "step-00000001" / "meta.json").read_text())["step"] == 1


def test_a_stop_signal_while_paused_at_the_start_checkpoints_step_0(tmp_path: Path, live_studio: Any,
                                                                    waiter: Any) -> None:
    """The same stop before any step: the run ends at step 0 with that checkpoint (from which it resumes)."""
    import signal

    from ganforge.training.trainer import TrainingInterrupted

    studio = live_studio("ring8", ["train.steps=100", "eval.n=300"], tmp_path / "run", paused=True)
    controller = studio.controller
    waiter(lambda: controller.trainer is not None and controller.frames >= 1)
    trainer = controller.trainer
    weights = {k: v.clone() for k, v in trainer.gan.state_dict().items()}
    trainer._handle_signal(signal.SIGINT, None)  # what Ctrl+C does in the main thread
    studio.thread.join(60)
    assert isinstance(studio.error, TrainingInterrupted) and "at step 0;" in str(studio.error)
    assert trainer.step == 0
    assert all(torch.equal(weights[k], v) for k, v in trainer.gan.state_dict().items())  # nothing trained
    assert sorted(p.name for p in (studio.out / "checkpoints").iterdir()) == ["step-00000000"]
    run = gf.resume(studio.out, show_progress=False)
    assert run.summary["steps"] == 100


def test_controls_after_training_finished_are_refused_409(tmp_path: Path, live_studio: Any) -> None:
    """A control sent once the run has finished would wait forever in a queue nobody reads: it is refused
    with the reason (409, as for a run followed from another process), not answered 200 {"ok": true}."""
    import http.client

    from ganforge.studio.server import StudioServer

    studio = live_studio("ring8", ["train.steps=40", "eval.n=300"], tmp_path / "run")
    studio.thread.join(120)
    studio.finish()
    controller = studio.controller
    server = StudioServer(EventHub(), studio.out, controller).start()  # as the CLI keeps serving after the end
    try:
        for command, status, error in [({"action": "play"}, 409, "training has finished at step 40"),
                                       ({"action": "explode"}, 400, "a control needs an 'action'")]:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            conn.request("POST", "/control", json.dumps(command), {"Content-Type": "application/json"})
            response = conn.getresponse()
            body = json.loads(response.read())
            conn.close()
            assert response.status == status and error in body.get("error", ""), (command, response.status, body)
    finally:
        server.stop()
    assert controller.commands.empty()
    with pytest.raises(GanforgeError, match="'play' was not run"):
        controller.submit({"action": "play"})


def test_the_last_trained_step_already_refuses_controls() -> None:
    """Between the last step and the end-of-run hook (final evaluation, report) nothing reads commands either."""
    from types import SimpleNamespace

    controller = StudioController(EventHub())
    controller.trainer = SimpleNamespace(step=9, train_cfg=SimpleNamespace(steps=10), optimizers={},  # type: ignore[assignment]
                                         gan=None, stop_signal=None)
    controller.submit({"action": "pause"})
    controller.trainer.step = 10  # type: ignore[union-attr]
    with pytest.raises(GanforgeError, match="training has finished at step 10"):
        controller.submit({"action": "pause"})
