"""The studio page in a real headless Chromium: offline, live, controllable, and the image slider."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from ganforge.training.metrics_log import read

DOCS = Path(__file__).resolve().parents[2] / "docs" / "studio"


def _page(chromium: Any, url: str) -> tuple[Any, list[str]]:
    """A page that records every request it makes (and every page error)."""
    page = chromium.new_page(viewport={"width": 1280, "height": 860})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors  # type: ignore[attr-defined]
    page.goto(url)
    return page, requests


def _local_only(requests: list[str], url: str) -> None:
    assert requests, "the page made no request at all"
    outside = [r for r in requests if not r.startswith(url.rstrip("/"))]
    assert not outside, f"requests left {url}: {outside}"


def _keep(path: Path, name: str) -> None:
    """Copy a key screenshot into docs/studio/ (the documentation's figures) when GANFORGE_DOCS_SCREENSHOTS=1,
    so an ordinary test run leaves the checkout untouched."""
    if os.environ.get("GANFORGE_DOCS_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS / name)


def test_live_2d_training_page(
    chromium: Any, artifacts: Path, tmp_path: Path, live_studio: Any, waiter: Any
) -> None:
    wait_for = waiter
    studio = live_studio("ring8", ["train.steps=200000", "train.log_every=50", "train.lr_decay=none"], tmp_path / "run")
    try:
        page, requests = _page(chromium, studio.url)
        wait_for(lambda: page.evaluate("window.studio.frames") >= 3 and page.evaluate("window.studio.heatDraws") > 0)

        # points move while training runs
        first = page.evaluate("window.studio.lastFrame")
        wait_for(lambda: page.evaluate("window.studio.lastFrame.step") > first["step"] + 20)
        later = page.evaluate("window.studio.lastFrame")
        assert np.abs(np.array(later["fake"]) - np.array(first["fake"])).max() > 1e-4
        assert len(later["fake"]) == 400 and len(later["heat"]) == later["heat_size"] ** 2
        assert later["arrows"] and later["manifold"]
        assert page.evaluate("window.studio.init.axes") == ["x0", "x1"]
        wait_for(lambda: page.evaluate("window.studio.records.length") >= 2)
        page.wait_for_timeout(400)  # let the charts draw
        page.screenshot(path=str(artifacts / "studio-ring8-live.png"))
        _keep(artifacts / "studio-ring8-live.png", "ring8-live.png")

        # pause stops them
        page.click("#pause")
        wait_for(lambda: (page.evaluate("window.studio.status") or {}).get("paused"))
        paused = page.evaluate("window.studio.lastFrame")
        paused_step = studio.controller.trainer.step
        page.wait_for_timeout(1500)
        assert studio.controller.trainer.step == paused_step
        still = page.evaluate("window.studio.lastFrame")
        assert still["step"] == paused["step"] and still["fake"] == paused["fake"]
        assert page.inner_text("#state-label") == "paused"

        # a D step changes the heat map (and only the discriminator: the points stay)
        frames = page.evaluate("window.studio.frames")
        page.click("#d-step")
        wait_for(lambda: page.evaluate("window.studio.frames") > frames)
        after = page.evaluate("window.studio.lastFrame")
        assert np.abs(np.array(after["heat"]) - np.array(paused["heat"])).max() > 1e-5
        assert after["fake"] == paused["fake"]
        assert studio.controller.trainer.step == paused_step  # a single update is outside the step count
        page.screenshot(path=str(artifacts / "studio-ring8-after-d-step.png"))

        # a G step moves the points
        frames = page.evaluate("window.studio.frames")
        page.click("#g-step")
        wait_for(lambda: page.evaluate("window.studio.frames") > frames)
        assert page.evaluate("window.studio.lastFrame.fake") != after["fake"]

        # a live learning-rate change reaches the trainer and metrics.jsonl
        page.fill("#lr-discriminator", "0.000123")
        page.click("#apply")
        wait_for(lambda: abs(studio.controller.trainer.optimizers["discriminator"].param_groups[0]["lr"]
                             - 0.000123) < 1e-12)
        page.click("#play")
        metrics = studio.out / "metrics.jsonl"

        def changed() -> dict | None:
            return next((r for r in read(metrics) if r.get("studio")), None)

        record = wait_for(changed, timeout=30)
        assert record["lr"]["discriminator"] == pytest.approx(0.000123, rel=1e-9)
        assert record["lr"]["generator"] == pytest.approx(0.002, rel=1e-9)
        whats = [c["what"] for c in record["studio"]["changes"]]
        assert whats == ["d_step", "g_step", "lr.discriminator"]
        wait_for(lambda: page.evaluate("window.studio.changes.length") >= 3)
        assert "lr.discriminator = 0.000123" in page.inner_text("#changes")

        # only the box the user edits is sent (an untouched one may show a value the run has moved past), and a
        # box left empty is refused on the page instead of being skipped while the other one is sent
        trainer = studio.controller.trainer
        page.fill("#lr-generator", "")
        page.click("#apply")
        wait_for(lambda: "give a number" in page.inner_text("#control-msg"))
        page.fill("#lr-generator", "0.0015")
        page.evaluate("document.getElementById('lr-discriminator').value = '0.5'")  # shown, never edited
        page.click("#apply")
        wait_for(lambda: abs(trainer.optimizers["generator"].param_groups[0]["lr"] - 0.0015) < 1e-12)
        assert trainer.optimizers["discriminator"].param_groups[0]["lr"] == pytest.approx(0.000123, rel=1e-9)
        assert not page.errors  # type: ignore[attr-defined]
        _local_only(requests, studio.url)
        assert any(r.endswith("/events") for r in requests) and any(r.endswith("/static/studio.js") for r in requests)
    finally:
        run = studio.finish()
    assert (run.path / "report.html").is_file()


def _snapshot_run(folder: Path, steps: list[int]) -> None:
    """A run folder as an image run leaves it: config, data description, fixed-noise snapshots. Each
    snapshot is a digit-like grid whose width tells its step apart (checked in the browser)."""
    folder.mkdir()
    (folder / "config.yaml").write_text("name: digits-dcgan\n", encoding="utf-8")
    (folder / "data.json").write_text('{"name": "digits", "kind": "images", "sample_shape": [1, 8, 8]}')
    (folder / "samples").mkdir()
    lines = [{"step": s, "loss_d": 1.3 - s / 1000, "loss_g": 0.7 + s / 1000, "d_real": 0.6, "d_fake": 0.4}
             for s in steps if s]
    lines[1]["findings"] = [{"step": 200, "kind": "low_diversity", "message": "falling diversity: 0.31x as varied",
                             "remedy": "minibatch_std in D"}]
    lines[3]["resolved"] = [{"step": 400, "kind": "low_diversity"}]
    # an objective changed live at step 300: D's outputs are critic scores from there on
    lines[2]["studio"] = {"changes": [{"step": 300, "what": "objective", "value": "wgan", "probability": False}],
                          "objective": "wgan"}
    for line in lines[2:]:
        line["d_real"], line["d_fake"] = 4.0, -3.0
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    rng = np.random.default_rng(0)
    for i, step in enumerate(steps):
        noise = (rng.random((64, 64 + i)) * 255 * min(1.0, 0.2 + i / len(steps))).astype(np.uint8)
        Image.fromarray(noise).resize((4 * (64 + i), 256), Image.NEAREST).save(
            folder / "samples" / f"step-{step:08d}.png")


def test_image_slider_shows_the_chosen_steps_snapshot(
    chromium: Any, artifacts: Path, tmp_path: Path, waiter: Any
) -> None:
    wait_for = waiter
    from ganforge.studio.session import attach_studio

    steps = [0, 100, 200, 300, 400, 500]
    _snapshot_run(tmp_path / "run", steps)
    box: dict[str, Any] = {}
    import threading

    done = threading.Event()
    thread = threading.Thread(target=attach_studio, args=(tmp_path / "run",),
                              kwargs={"on_ready": lambda s: box.update(server=s), "stop_when": done.is_set},
                              daemon=True)
    thread.start()
    wait_for(lambda: "server" in box)
    try:
        page, requests = _page(chromium, box["server"].url)
        wait_for(lambda: page.evaluate("window.studio.snapshots.length") == len(steps))
        assert page.is_visible("#images-view") and not page.is_visible("#lowdim-view")
        assert page.evaluate("window.studio.shownSnapshot") == 500  # follows the newest
        for index in (2, 0, 4):
            page.evaluate(f"""() => {{ const s = document.getElementById('snapshot-slider');
                s.value = '{index}'; s.dispatchEvent(new Event('input')); }}""")
            wait_for(lambda index=index: page.evaluate(
                f"document.getElementById('snapshot').src.endsWith('step-{steps[index]:08d}.png')"
                " && document.getElementById('snapshot').complete"))
            assert page.evaluate("document.getElementById('snapshot').naturalWidth") == 4 * (64 + index)
            assert page.inner_text("#snapshot-step").startswith(f"step {steps[index]} ")
        # monitors' findings with their explanation and remedy, and when they cleared
        wait_for(lambda: "falling diversity" in page.inner_text("#findings"))
        text = page.inner_text("#findings")
        assert "step 200 · low_diversity (until step 400)" in text and "remedy: minibatch_std in D" in text
        assert page.evaluate("window.studio.records.length") == 5
        # the D chart starts again where the objective changed, on the critic's scale (not 0-1)
        assert page.evaluate("window.studio.dSince") == 300 and page.evaluate("window.studio.probability") is False
        wait_for(lambda: "critic scores" in page.inner_text("#d-title"))
        assert "since step 300 (objective changed)" in page.inner_text("#d-title")
        page.screenshot(path=str(artifacts / "studio-image-slider.png"))
        assert not page.errors  # type: ignore[attr-defined]
        _local_only(requests, box["server"].url)
        # the page cannot be made to read outside the run folder
        status = page.evaluate("fetch('/run/../config.yaml').then(r => r.status)")
        assert status in (403, 404)
    finally:
        done.set()
        thread.join(10)


def test_the_page_rides_out_a_dropped_stream_and_says_disconnected_when_the_studio_stops(
    chromium: Any, artifacts: Path, tmp_path: Path, live_studio: Any, waiter: Any
) -> None:
    """A stream dropped while the studio runs is reconnected (and the replayed state is not counted twice);
    once the studio process has stopped (Ctrl+C while playing) the page says "disconnected", disables its
    controls and stops retrying, instead of showing "running" at the last step while every retry is refused."""
    import signal

    wait_for = waiter
    studio = live_studio("ring8", ["train.steps=200000", "train.log_every=20", "train.lr_decay=none"],
                         tmp_path / "run")
    page, requests = _page(chromium, studio.url)
    wait_for(lambda: page.evaluate("window.studio.records.length") >= 2)
    page.click("#pause")
    wait_for(lambda: (page.evaluate("window.studio.status") or {}).get("paused"))
    hub = studio.controller.hub
    steps = "window.studio.records.map(r => r.step)"
    before = wait_for(lambda: (lambda shown: shown == [r["step"] for r in read(studio.out / "metrics.jsonl")]
                                             and shown)(page.evaluate(steps)))  # every record written so far
    for client in list(hub._clients):  # the server ends this page's stream: a brief hiccup
        client.put_nowait(None)
    wait_for(lambda: page.evaluate("window.studio.opened") == 2 and page.evaluate("window.studio.connection") == "open")
    wait_for(lambda: page.inner_text("#state-label") == "paused")
    page.wait_for_timeout(300)
    assert page.evaluate(steps) == before  # the replay starts over: each record once
    assert page.is_hidden("#connection")

    page.click("#play")
    wait_for(lambda: page.inner_text("#state-label") == "running")
    studio.controller.trainer._handle_signal(signal.SIGINT, None)  # Ctrl+C: the run stops, so does the server
    studio.thread.join(60)
    assert not studio.thread.is_alive() and "stopped by signal" in str(studio.error)
    wait_for(lambda: page.inner_text("#state-label") == "disconnected", timeout=30)
    assert page.is_visible("#connection")
    assert "disconnected — the studio process stopped" in page.inner_text("#connection")
    for button in ("play", "pause", "step", "d-step", "g-step", "finish", "apply"):
        assert page.is_disabled(f"#{button}"), button
    tries = sum(r.endswith("/events") for r in requests)
    page.wait_for_timeout(3000)
    assert sum(r.endswith("/events") for r in requests) == tries  # it stopped retrying
    page.screenshot(path=str(artifacts / "studio-disconnected.png"))
    assert not page.errors  # type: ignore[attr-defined]


def test_a_table_run_shows_its_own_objective_and_critic_chart(
    chromium: Any, artifacts: Path, tmp_path: Path, live_studio: Any, waiter: Any
) -> None:
    """A CSV of mixed columns trains the table recipe (the table GAN, WGAN-GP built in): the disabled
    objective box shows wgan-gp (not the list's first entry, minimax), and the D chart, which this model's
    records (no d_real / d_fake) could never fill, draws the critic's logged gap instead of "not logged yet"."""
    wait_for = waiter
    rng = np.random.default_rng(0)
    rows = [f"{rng.integers(18, 80)},{rng.lognormal(10, 0.5):.2f},{rng.choice(['paris', 'lyon', 'nice'])},"
            f"{rng.choice(['yes', 'no'])}" for _ in range(600)]
    data = tmp_path / "people.csv"
    data.write_text("age,income,city,member\n" + "\n".join(rows) + "\n", encoding="utf-8")
    studio = live_studio(str(data), ["train.steps=100000", "train.log_every=10", "eval.enabled=false"],
                         tmp_path / "run")
    try:
        page, _ = _page(chromium, studio.url)
        wait_for(lambda: page.evaluate("window.studio.init") is not None)
        assert page.evaluate("window.studio.init.view") == "columns"
        assert page.is_disabled("#objective")
        assert page.eval_on_selector("#objective", "s => [...s.options].map(o => o.value)") == ["wgan-gp"]
        assert page.input_value("#objective") == "wgan-gp"
        wait_for(lambda: page.evaluate("window.studio.records.length") >= 2)
        wait_for(lambda: "critic gap" in page.inner_text("#d-title"))
        assert page.evaluate("window.studio.dChart") == "gap"
        assert "wasserstein" in page.evaluate("window.studio.records[0]")
        wait_for(lambda: page.evaluate("window.studio.frames") >= 1)
        page.wait_for_timeout(400)
        assert "city: " in page.inner_text("#columns")  # the table's own columns
        page.screenshot(path=str(artifacts / "studio-table.png"))
        assert not page.errors  # type: ignore[attr-defined]
    finally:
        studio.finish()


def test_the_page_says_disconnected_after_ctrl_c_stops_the_studio_process(chromium: Any, tmp_path: Path,
                                                                          waiter: Any) -> None:
    """`ganforge studio` stopped with Ctrl+C while playing: its port refuses every reconnection. The page
    tries a few times (a hiccup would pass), then says "disconnected" and stops trying."""
    import re
    import signal
    import subprocess
    import sys

    wait_for = waiter
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "ganforge", "studio", "ring8", "-q", "--out", str(tmp_path / "run")],
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stderr is not None
        url = re.search(r"(http://127\.0\.0\.1:\d+/)", proc.stderr.readline()).group(1)  # type: ignore[union-attr]
        page, requests = _page(chromium, url)
        wait_for(lambda: page.inner_text("#state-label") == "running", timeout=60)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert page.inner_text("#state-label") in ("running", "reconnecting")
    wait_for(lambda: page.inner_text("#state-label") == "disconnected", timeout=30)
    assert "the studio process stopped" in page.inner_text("#connection")
    assert page.is_disabled("#play") and page.is_disabled("#apply")
    tries = sum(r.endswith("/events") for r in requests)
    assert tries >= 3  # it did retry before giving up
    page.wait_for_timeout(3000)
    assert sum(r.endswith("/events") for r in requests) == tries
    assert not page.errors  # type: ignore[attr-defined]
