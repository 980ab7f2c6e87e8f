"""Putting the studio together: train with the page attached, or follow a run folder.

The studio's controller reaches the trainer as an ordinary callback: :func:`studio_callbacks` is a
registered callback factory that returns the active controller (none outside a studio session). Its order
puts it after every other callback, so the order of callbacks (and of their states in checkpoints) is the
same with and without the studio, plus the studio's at the end.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ganforge.config import RunConfig
from ganforge.data.base import DataSource
from ganforge.studio.controller import StudioController
from ganforge.studio.hub import EventHub
from ganforge.studio.server import StudioServer, warn_if_exposed
from ganforge.studio.watcher import RunWatcher
from ganforge.training.callbacks import Callback, register_callbacks

_ACTIVE: list[StudioController] = []


@register_callbacks(order=1000)  # last: after every callback a run has without the studio
def studio_callbacks(config: RunConfig, source: DataSource, run_dir: Path | None) -> list[Callback]:
    """The studio controller of the session training now (none outside ``ganforge studio``)."""
    return list(_ACTIVE)


@contextlib.contextmanager
def attached(controller: StudioController) -> Iterator[StudioController]:
    _ACTIVE.append(controller)
    try:
        yield controller
    finally:
        _ACTIVE.remove(controller)


def snapshot_every(config: RunConfig, pictures: int = 40) -> int:
    """A snapshot interval giving about ``pictures`` fixed-noise grids over the run, on logging steps."""
    log = config.train.log_every
    return max(log, math.ceil(config.train.steps / pictures / log) * log)


def serve_forever(server: StudioServer, stop_when: Any = None) -> None:
    """Keep serving until Ctrl+C (or ``stop_when()`` is true)."""
    try:
        while stop_when is None or not stop_when():
            time.sleep(0.25)
    except KeyboardInterrupt:
        pass


def train_in_studio(
    recipe: str | Path | RunConfig | None,
    overrides: list[str] | None = None,
    out: str | Path | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    paused: bool = False,
    every: int = 10,
    max_fps: float = 6.0,
    budget: float = 0.05,
    keep_serving: bool = True,
    show_progress: bool = True,
    on_ready: Any = None,
) -> Any:
    """Train ``recipe`` with the studio page served at the printed address; returns the finished run.

    With ``keep_serving`` the page stays up after training until Ctrl+C."""
    from ganforge.api import build_config, fresh_run_dir, train

    config = build_config(recipe, overrides)
    if config.train.snapshot_every == 0:
        config.train.snapshot_every = snapshot_every(config)
    path = fresh_run_dir(out, config.name)  # a taken --out is refused before the address is printed
    hub = EventHub()
    controller = StudioController(hub, every=every, max_fps=max_fps, paused=paused, budget=budget)
    warn_if_exposed(host)
    server = StudioServer(hub, path, controller, host, port).start()
    print(f"studio: {server.url}  (training {config.name} into {path}; Ctrl+C stops)", file=sys.stderr, flush=True)
    watcher = RunWatcher(hub, path, frames=False, announce=False)
    watcher.start()
    if on_ready is not None:
        on_ready(server)
    try:
        with attached(controller):
            run = train(config, out=path, show_progress=show_progress)
        watcher.poll()
        if keep_serving:
            print(f"studio: training finished; still serving {server.url} (Ctrl+C stops)", file=sys.stderr,
                  flush=True)
            serve_forever(server)
        return run
    finally:
        watcher.stop()
        server.stop()


def attach_studio(run_dir: str | Path, *, host: str = "127.0.0.1", port: int = 0, on_ready: Any = None,
                  stop_when: Any = None) -> None:
    """Serve the studio page for an existing run folder (being trained elsewhere, or finished)."""
    from ganforge.runs import check_run_dir

    path = check_run_dir(run_dir)
    hub = EventHub()
    warn_if_exposed(host)
    server = StudioServer(hub, path, None, host, port).start()
    watcher = RunWatcher(hub, path, frames=True, announce=True)
    watcher.start()
    print(f"studio: {server.url}  (following {path}; Ctrl+C stops)", file=sys.stderr, flush=True)
    if on_ready is not None:
        on_ready(server)
    try:
        serve_forever(server, stop_when)
    finally:
        watcher.stop()
        server.stop()
