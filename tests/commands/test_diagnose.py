"""``ganforge diagnose``: the timeline of findings, their resolution, vital signs and the verdict."""

import json

from typer.testing import CliRunner

from ganforge.cli import app
from ganforge.commands.diagnose import format_report, timeline, vital_rows
from ganforge.training.metrics_log import MetricsLog


def _records() -> list[dict]:
    out = []
    for step in range(50, 1001, 50):
        out.append({"step": step, "loss_d": 1.3, "loss_g": 0.8, "d_real": 0.55, "d_fake": 0.45,
                    "grad_norm_d": 0.5, "grad_norm_g": 0.2})
    out[9]["modes/modes"] = 7  # step 500
    out[9]["findings"] = [{"step": 500, "kind": "mode_collapse", "message": "covers 7/25 modes",
                           "remedy": "pack: 4"}]
    out[11]["findings"] = [{"step": 600, "kind": "instability", "message": "instability (exploding_gradients): x",
                            "remedy": "lower lr"}]
    out[13]["resolved"] = [{"step": 700, "kind": "instability:exploding_gradients"}]
    out[19]["modes/modes"] = 9
    return out


def test_timeline_pairs_findings_with_their_resolution() -> None:
    events = timeline(_records())
    assert [(e["kind"], e["step"], e["until"]) for e in events] == [
        ("mode_collapse", 500, None),
        ("instability", 600, 700),
    ]


def test_vital_rows_are_evenly_spaced_and_carry_sample_measurements() -> None:
    rows = vital_rows(_records(), rows=5)
    assert [r["step"] for r in rows] == [200, 400, 600, 800, 1000]
    assert rows[2]["modes/modes"] == 7  # measured at step 500, carried to 600
    assert rows[-1]["modes/modes"] == 9


def test_report_explains_and_gives_verdict(tmp_path) -> None:
    text = format_report(tmp_path, _records(), {})
    assert "2 finding(s)" in text
    assert "mode_collapse (still at the end)" in text and "remedy: pack: 4" in text
    assert "instability (until step 700)" in text
    assert "verdict: still present at the end: mode_collapse" in text
    assert "modes" in text.split("vital signs")[1]
    healthy = format_report(tmp_path, [{k: v for k, v in r.items() if k not in ("findings", "resolved")}
                                       for r in _records()], {})
    assert "no problems detected" in healthy and "verdict: healthy" in healthy


def test_an_unfinished_run_is_called_so_and_a_python_run_is_resumed_from_python(tmp_path) -> None:
    """A studio run stopped at step 1 (no summary.json) was "healthy training dynamics"; a run whose networks
    were written in Python was told to `ganforge resume`, which refuses it."""
    (tmp_path / "config.yaml").write_text("name: x\nmodel: {type: gan}\n")
    text = format_report(tmp_path, [{"step": 1, "loss_d": 1.3, "loss_g": 0.7}])
    assert "verdict: unfinished: the run has no summary.json (interrupted at step 1" in text
    assert f"`ganforge resume {tmp_path} --steps N` finishes it" in text
    text = format_report(tmp_path, [{"step": 1, "loss_d": 1.3, "loss_g": 0.7}], {"evaluation": {"skipped": "x"}})
    assert f"run `ganforge eval {tmp_path}`" in text  # the run's own path, not a placeholder
    said = {"skipped": f"the run trained 0 s; `ganforge eval {tmp_path}` evaluates it"}  # as finish_run records it
    text = format_report(tmp_path, [{"step": 1, "loss_d": 1.3, "loss_g": 0.7}], {"evaluation": said})
    assert text.count("ganforge eval") == 1  # not again as "; run `ganforge eval ...`"
    (tmp_path / "config.yaml").write_text("name: x\nmodel: {type: python}\n")
    blob = {"w1": 5.0, "w1_real": 0.01}
    text = format_report(tmp_path, [{"step": 1, "loss_d": 1.3, "loss_g": 0.7}], {"evaluation": blob})
    assert "verdict: not healthy" in text and "ganforge resume " not in text
    assert f"`ganforge.resume('{tmp_path}', gan=<the same GAN>, data=<the same data>, steps=N)`" in text


def test_cli_prints_timeline_and_json(tmp_path) -> None:
    (tmp_path / "config.yaml").write_text("name: x\n")
    log = MetricsLog(tmp_path / "metrics.jsonl")
    for r in _records():
        log.append(r)
    runner = CliRunner()
    result = runner.invoke(app, ["diagnose", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "step     500  mode_collapse" in result.output
    result = runner.invoke(app, ["diagnose", str(tmp_path), "--json"])
    assert [f["kind"] for f in json.loads(result.output)["findings"]] == ["mode_collapse", "instability"]
    missing = runner.invoke(app, ["diagnose", str(tmp_path / "nope")])
    assert missing.exit_code != 0


def test_raw_critic_scores_are_labelled_as_scores(tmp_path) -> None:
    from ganforge.commands.diagnose import outputs_are_probabilities

    text = format_report(tmp_path, _records(), {}, probability=False)
    assert "score(x)" in text.split("vital signs")[1] and "D(x)" not in text.split("vital signs")[1]
    (tmp_path / "config.yaml").write_text("name: x\nmodel: {type: gan, objective: hinge}\n")
    assert not outputs_are_probabilities(tmp_path)
    (tmp_path / "config.yaml").write_text("name: x\nmodel: {type: gan, objective: nonsaturating}\n")
    assert outputs_are_probabilities(tmp_path)
