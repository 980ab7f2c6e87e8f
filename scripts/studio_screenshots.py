"""Screenshots of the studio for the documentation (docs/studio/*.png), one per view, from real short runs.

    heavy env PYTHONPATH=src python3 scripts/studio_screenshots.py [--only 1d,images,series,columns]

Each view trains a shipped recipe briefly under the studio, opens the page in Debian's headless Chromium
(driven by playwright, no browser download) and saves the page once training has finished.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "studio"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def shoot(browser: Any, recipe: str, overrides: list[str], name: str, tmp: Path, wait_js: str) -> None:
    """Train ``recipe`` under the studio in a helper thread (the browser is driven from this one), wait
    until ``wait_js`` holds on the page, pause, screenshot, then finish the run."""
    from ganforge.studio.session import train_in_studio

    box: dict[str, Any] = {}
    ready, done = threading.Event(), threading.Event()

    def train() -> None:
        try:
            train_in_studio(recipe, overrides, tmp / name, keep_serving=False, show_progress=False,
                            on_ready=lambda s: (box.__setitem__("server", s), ready.set()))
        finally:
            done.set()
            ready.set()

    threading.Thread(target=train, daemon=True).start()
    ready.wait(120)
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.goto(box["server"].url)
    end = time.monotonic() + 600  # polled from here: the page's CSP forbids evaluating strings inside it
    while not page.evaluate(wait_js) and time.monotonic() < end:
        time.sleep(0.2)
    if not done.is_set():
        box["server"].controller.submit({"action": "pause"})
    time.sleep(0.8)
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / f"{name}.png"))
    print(f"wrote {DOCS / name}.png", flush=True)
    if not done.is_set():
        box["server"].controller.submit({"action": "finish"})
    done.wait(600)
    page.close()


def write_mixed_table(path: Path, n: int = 3000) -> None:
    """A small people table: an integer, a skewed number that depends on it, and two categorical columns."""
    rng = np.random.default_rng(0)
    age = rng.integers(18, 80, n)
    income = np.round(rng.lognormal(9.8 + 0.012 * (age - 18), 0.35), 2)
    city = rng.choice(["paris", "lyon", "nice", "lille"], n, p=[0.4, 0.3, 0.2, 0.1])
    member = np.where(rng.random(n) < 0.25 + 0.5 * (income > np.median(income)), "yes", "no")
    rows = (f"{a},{i},{c},{m}" for a, i, c, m in zip(age, income, city, member, strict=True))
    path.write_text("age,income,city,member\n" + "\n".join(rows) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="1d,images,series,columns")
    args = parser.parse_args()
    torch.set_num_threads(1)
    from playwright.sync_api import sync_playwright

    wanted = set(args.only.split(","))
    with tempfile.TemporaryDirectory() as tmp_name, sync_playwright() as p:
        tmp = Path(tmp_name)
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS, headless=True)
        if "1d" in wanted:
            shoot(browser, "normal", ["train.steps=100000"], "normal-1d", tmp,
                  "window.studio.lastFrame && window.studio.lastFrame.step >= 1500")
        if "images" in wanted:
            # the default recipe (conditional DCGAN, one row per digit); 30 snapshots over its 3000 steps
            shoot(browser, "digits-cgan", ["train.snapshot_every=100", "eval.n=500"], "digits-images", tmp,
                  "window.studio.snapshots.length >= 29")
        if "series" in wanted:
            shoot(browser, "sines-rcgan", ["train.steps=100000", "train.log_every=20"], "sines-series", tmp,
                  "window.studio.lastFrame && window.studio.lastFrame.step >= 300")
        if "columns" in wanted:
            # a CSV of mixed columns, as users bring one: it trains the `table` recipe (the table GAN, WGAN-GP);
            # an all-numeric CSV would train the points GAN instead
            path = tmp / "people.csv"
            write_mixed_table(path)
            shoot(browser, str(path), ["train.steps=100000"], "table-columns", tmp,
                  "window.studio.lastFrame && window.studio.lastFrame.step >= 1500")
        browser.close()


if __name__ == "__main__":
    main()
