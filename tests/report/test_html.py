"""``report.html``: self-contained (no external request), config, numbers beside floors, timeline, pictures."""

import base64
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import ganforge as gf
from ganforge.cli import COMMANDS, app
from ganforge.report.html import metric_rows, render_report, write_report
from ganforge.training.metrics_log import MetricsLog


class _Links(HTMLParser):
    """Every URL the page would load or link to (src, href, srcset, url(...) in styles)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.images: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        for key, value in attrs:
            if key in ("src", "href", "srcset", "data", "poster") and value:
                self.urls.append(value)
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        if tag == "script":
            self.scripts += 1


def _check_self_contained(text: str) -> _Links:
    links = _Links()
    links.feed(text)
    assert all(u.startswith("data:") for u in links.urls), [u[:60] for u in links.urls if not u.startswith("data:")]
    assert "url(" not in text and "@import" not in text
    assert links.scripts == 0
    return links


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory: pytest.TempPathFactory) -> gf.Run:
    out = tmp_path_factory.mktemp("report") / "ring"
    return gf.train("ring8", steps=200, out=out, show_progress=False, overrides=["eval.n=500", "train.log_every=50"])


def test_every_run_writes_a_self_contained_report(ring_run: gf.Run) -> None:
    text = (ring_run.path / "report.html").read_text(encoding="utf-8")
    links = _check_self_contained(text)
    assert len(links.images) >= 3  # losses, discriminator, real vs generated
    for src in links.images:  # each picture is a decodable PNG
        head = base64.b64decode(src.split(",", 1)[1])[:8]
        assert head == b"\x89PNG\r\n\x1a\n"
    assert "<h1>ring8</h1>" in text
    assert "objective: nonsaturating" in text  # the config
    assert "no problems detected" in text
    env = ring_run.summary["environment"]  # what the numbers depend on besides the config, as summary.json has it
    assert f"torch {env['torch']}" in text and f"{env['threads']} torch threads" in text


def test_numbers_sit_beside_their_real_data_floor(ring_run: gf.Run) -> None:
    text = (ring_run.path / "report.html").read_text(encoding="utf-8")
    row = re.search(r"<tr><td>w1</td><td class=\"num\">([^<]+)</td><td class=\"num\">([^<]+)</td>", text)
    assert row is not None
    value, floor = float(row.group(1)), float(row.group(2))
    assert value == pytest.approx(ring_run.summary["evaluation"]["w1"], rel=1e-3)
    assert 0 < floor < value  # two real samples are closer than a 200-step generator is to the data
    hq = re.search(r"<tr><td>high_quality</td><td class=\"num\">[^<]+</td><td class=\"num\">([^<]+)</td>", text)
    assert hq is not None and float(hq.group(1)) > 0.95  # real samples lie within 3 std of a mode


def test_findings_appear_in_the_timeline_and_the_cli_rewrites_the_report(ring_run: gf.Run) -> None:
    log = MetricsLog(ring_run.path / "metrics.jsonl")
    log.append({"step": 250, "findings": [{"step": 250, "kind": "mode_collapse", "message": "covers 3/8 <modes>",
                                           "remedy": "pack: 4"}]})
    log.append({"step": 300, "resolved": [{"step": 300, "kind": "mode_collapse"}]})
    COMMANDS.load()
    result = CliRunner().invoke(app, ["report", str(ring_run.path)])
    assert result.exit_code == 0, result.output
    text = (ring_run.path / "report.html").read_text(encoding="utf-8")
    assert "step 250 &middot; mode_collapse</b> (until step 300)" in text
    assert "covers 3/8 &lt;modes&gt;" in text  # escaped
    assert "remedy: pack: 4" in text


def test_image_runs_show_floors_and_snapshots_over_time(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("name: digits\n", encoding="utf-8")
    (tmp_path / "data.json").write_text(json.dumps({"name": "digits", "kind": "images", "sample_shape": [1, 8, 8]}))
    (tmp_path / "samples").mkdir()
    for step in range(0, 2001, 100):
        Image.fromarray(np.full((8, 8), step % 256, dtype=np.uint8)).save(tmp_path / "samples" / f"step-{step:08d}.png")
    evaluation = {"n_fake": 1000, "n_real": 1000, "fid": 12.5, "fid_noise_floor": 2.25, "fid_noise_floor_std": 0.5,
                  "fid_matched": 14.0, "kid": 0.01, "kid_std": 0.001, "kid_noise_floor": 0.0005,
                  "is": 7.5, "is_std": 0.2, "is_real": 9.25, "precision": 0.7, "precision_real": 0.8, "prdc_k": 5}
    (tmp_path / "summary.json").write_text(json.dumps({"name": "digits", "steps": 2000, "evaluation": evaluation}))
    write_report(tmp_path)
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    links = _check_self_contained(text)
    steps = re.findall(r"<figcaption>step (\d+)</figcaption>", text)
    assert len(steps) == 12 and steps[0] == "0" and steps[-1] == "2000"
    assert len(links.images) == 12
    rows = {r["metric"]: r for r in metric_rows(evaluation)}
    assert set(rows) == {"fid", "kid", "is", "precision"}
    assert (rows["fid"]["floor"], rows["fid"]["floor_std"], rows["fid"]["matched"]) == (2.25, 0.5, 14.0)
    assert rows["is"]["floor"] == 9.25 and rows["precision"]["floor"] == 0.8
    assert "12.5" in text and "2.25 &plusmn; 0.5" in text


def test_an_unfinished_run_still_gets_a_report(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("name: x\n", encoding="utf-8")
    text = render_report(tmp_path)
    assert "no evaluation recorded" in text
    _check_self_contained(text)


def test_a_finished_run_whose_evaluation_was_skipped_says_so_and_how_to_evaluate(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("name: x\n", encoding="utf-8")
    skipped = "shorter than its image evaluation would take"
    (tmp_path / "summary.json").write_text(json.dumps({"name": "x", "evaluation": {"skipped": skipped}}))
    text = render_report(tmp_path)
    assert f"evaluation skipped: {skipped}" in text and "ganforge eval RUN" in text
    assert "has not finished" not in text  # it had; the report used to say it had not


def test_each_number_says_what_it_means_and_counts_are_not_listed_as_metrics() -> None:
    evaluation = {"w1": 0.1, "w1_real": 0.05, "n_synthetic": 241, "n_train": 200, "eval_seconds": 0.2}
    rows = metric_rows(evaluation)
    assert [r["metric"] for r in rows] == ["w1"]


def test_the_report_carries_the_meaning_of_each_metric(ring_run: gf.Run) -> None:
    text = render_report(ring_run.path, ring_run)
    assert "earth mover&#x27;s distance to real data" in text or "earth mover's distance to real data" in text
