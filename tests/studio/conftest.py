"""A live studio session in a background thread, and a real headless Chromium (Debian's, driven by playwright).

Where a machine has no Chromium (or no playwright) the browser tests skip with the reason printed; with the
environment variable CI=true a missing browser fails them instead, so CI cannot pass by skipping.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("GANFORGE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]


def _executable() -> str | None:
    """GANFORGE_CHROMIUM when set (and only it), else Debian's /usr/bin/chromium or `chromium` on the PATH."""
    if os.environ.get("GANFORGE_CHROMIUM"):
        return CHROMIUM if Path(CHROMIUM).exists() else None
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


def _missing_browser() -> str | None:
    if _executable() is None:
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install playwright; no browser download needed)"
    return None


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    reason = _missing_browser()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {reason}")
        print(f"\nskipping browser tests: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    executable = _executable()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Screenshots land here (GANFORGE_ARTIFACTS overrides, e.g. for CI uploads)."""
    folder = Path(os.environ.get("GANFORGE_ARTIFACTS") or tmp_path_factory.mktemp("studio-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class LiveStudio:
    """``train_in_studio`` in a thread; ``url`` once the server listens; ``finish()`` ends the training."""

    def __init__(self, recipe: str, overrides: list[str], out: Path, **kwargs: Any) -> None:
        from ganforge.studio.session import train_in_studio

        self.out = out
        self.server: Any = None
        self.run: Any = None
        self.error: BaseException | None = None
        ready = threading.Event()

        def on_ready(server: Any) -> None:
            self.server = server
            ready.set()

        def target() -> None:
            try:
                self.run = train_in_studio(recipe, overrides, out, keep_serving=False, show_progress=False,
                                           on_ready=on_ready, **kwargs)
            except BaseException as err:  # noqa: BLE001 - reported by the test
                self.error = err
                ready.set()

        self.thread = threading.Thread(target=target, daemon=True)
        self.thread.start()
        assert ready.wait(60), "the studio did not start"
        if self.error is not None:
            raise self.error

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def controller(self) -> Any:
        return self.server.controller

    def finish(self, timeout: float = 120) -> Any:
        if self.thread.is_alive():
            self.controller.submit({"action": "finish"})
            self.thread.join(timeout)
        assert not self.thread.is_alive(), "training did not finish"
        if self.error is not None:
            raise self.error
        return self.run


def wait_for(fn: Any, timeout: float = 20.0, every: float = 0.05) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = fn()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout} s")


@pytest.fixture
def live_studio() -> Iterator[Any]:
    """``live_studio(recipe, overrides, out)`` starts a studio training; every one started is finished."""
    started: list[LiveStudio] = []

    def start(recipe: str, overrides: list[str], out: Path, **kwargs: Any) -> LiveStudio:
        studio = LiveStudio(recipe, overrides, out, **kwargs)
        started.append(studio)
        return studio

    yield start
    for studio in started:
        if studio.thread.is_alive():
            studio.finish()


@pytest.fixture
def waiter() -> Any:
    return wait_for
