"""The end-of-run evaluation: progress lines, cost in proportion to the run, --no-eval (issue 16)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import ganforge as gf
from ganforge.report.end_eval import expected_seconds, should_evaluate

TINY = ["model.generator.width=4", "model.discriminator.width=4", "train.batch_size=8", "train.snapshot_every=0"]


def test_auto_mode_skips_expensive_evaluations_of_short_runs_only() -> None:
    assert should_evaluate(None, "points", 0.1)[0]
    assert not should_evaluate(None, "images", 2.0, n=2000)[0]
    assert should_evaluate(None, "images", 26.0, n=2000)[0]  # the default job (26 s of training) evaluates
    assert should_evaluate(None, "sequences", expected_seconds("sequences", 1000))[0]
    assert should_evaluate(None, "table", 20.0)[0]  # a default table run (1,000 steps, ~20 s) shows its quality
    assert should_evaluate(True, "images", 0.1)[0]
    assert not should_evaluate(False, "points", 1e6)[0]
    # the cost follows eval.metrics: stacked digits' 26 000-sample modes/KL cost what 80 s of training does
    assert should_evaluate(None, "images", 40.0, n=26_000, metrics=["modes"])[0]
    assert not should_evaluate(None, "images", 40.0, n=26_000, metrics=["modes", "fid"])[0]
    assert expected_seconds("images", 1000, ["modes"]) < expected_seconds("images", 1000, ["fid"]) < expected_seconds(
        "images", 1000, ["fid", "kid"]
    ) == expected_seconds("images", 1000)


def test_a_five_step_image_run_does_not_evaluate_unless_asked(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run = gf.train("digits-cgan", steps=5, out=tmp_path / "short", overrides=TINY)
    assert "less than its images evaluation would take" in run.summary["evaluation"]["skipped"]
    assert capsys.readouterr().err.count("less than its images evaluation would take") == 1  # Python sees why
    ask = [*TINY, "eval.enabled=true", "eval.n=64"]
    asked = gf.train("digits-cgan", steps=5, out=tmp_path / "asked", overrides=ask)
    assert "fid" in asked.summary["evaluation"]
    err = capsys.readouterr().err
    assert "evaluating up to 64 samples (images metrics)..." in err and "evaluated in" in err


def test_no_eval_on_train_and_resume(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ganforge.cli import app

    runner = CliRunner()
    out = tmp_path / "r"
    result = runner.invoke(app, ["train", "ring8", "--set", "train.steps=30", "--no-eval", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "evaluation skipped: eval.enabled is false" in result.output
    assert "evaluation:\n  skipped: the reason is printed above" in result.output
    assert json.loads((out / "summary.json").read_text())["evaluation"] == {
        "skipped": "eval.enabled is false (--no-eval)"
    }
    result = runner.invoke(app, ["resume", str(out), "--steps", "40"])
    assert result.exit_code == 0 and "skipped: eval.enabled is false" in result.output  # the run's config says false
    evaluated = tmp_path / "e"
    assert runner.invoke(app, ["train", "ring8", "--set", "train.steps=30", "-o", str(evaluated)]).exit_code == 0
    result = runner.invoke(app, ["resume", str(evaluated), "--steps", "40", "--no-eval"])
    # the evaluation of step 30 is kept (report/summary.py kept_evaluation), said to be of that step
    assert result.exit_code == 0 and "whose evaluation was skipped: eval.enabled is false" in result.output
    # an interrupted run resumed to its own train.steps with --no-eval (no --steps, so config.yaml is not
    # rewritten): it was evaluated all the same
    cut = tmp_path / "cut"
    sets = ["--set", "train.steps=30", "--set", "train.checkpoint_every=10"]
    assert runner.invoke(app, ["train", "ring8", *sets, "--no-eval", "-o", str(cut)]).exit_code == 0
    shutil.rmtree(cut / "checkpoints" / "step-00000030")
    (cut / "summary.json").unlink()
    (cut / "config.yaml").write_text((cut / "config.yaml").read_text().replace("enabled: false", "enabled: null"))
    result = runner.invoke(app, ["resume", str(cut), "--no-eval"])
    assert result.exit_code == 0, result.output
    skipped = {"skipped": "eval.enabled is false (--no-eval)"}
    assert json.loads((cut / "summary.json").read_text())["evaluation"] == skipped


@pytest.mark.parametrize("command", ["train", "resume"])
def test_a_skipped_evaluation_is_said_once(tmp_path: Path, run_cli, command: str) -> None:
    """`ganforge train digits-dcgan --steps 3` printed "evaluation skipped: <why>" on stderr and then, under
    "evaluation:", "  skipped: <the same sentence>"; train and resume now point to the line above, and a
    finished run's summary (or --quiet, where no progress line is printed) gives the reason under "evaluation:"."""
    run = tmp_path / "r"
    code, out, err = run_cli("train", "digits-dcgan", "--steps", "3", "-o", run, *(f"--set={s}" for s in TINY))
    if command == "resume":
        code, out, err = run_cli("resume", run, "--steps", "4")
    assert code == 0, err
    reason = "less than its images evaluation would take"
    assert (out + err).count(reason) == 1 and "evaluation:\n  skipped: the reason is printed above" in out
    code, out, err = run_cli("resume", run)  # already finished: its summary, the reason with it
    assert code == 0 and (out + err).count(reason) == 1 and "evaluation:\n  skipped: the run trained " in out
    code, out, err = run_cli("train", "digits-dcgan", "--steps", "3", "-q", "-o", tmp_path / "q",
                             *(f"--set={s}" for s in TINY))
    assert code == 0 and (out + err).count(reason) == 1 and "evaluation:\n  skipped: the run trained " in out


def test_a_long_evaluation_prints_a_heartbeat(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    import time

    from ganforge.report import end_eval

    monkeypatch.setattr(end_eval, "HEARTBEAT_SECONDS", 0.05)
    result = end_eval.run_end_evaluation(lambda: time.sleep(0.3) or {"w1": 1.0}, True, "sequences", 0.0, 10, True)
    assert result == {"w1": 1.0}
    assert "still evaluating" in capsys.readouterr().err


def test_a_translation_run_that_trained_longer_than_its_evaluation_is_evaluated() -> None:
    """Paired and unpaired translation evaluate in 2-3 CPU-s; the 30 s guessed for them skipped the evaluation
    after runs of half a minute."""
    for kind in ("paired-images", "unpaired-images"):
        assert should_evaluate(None, kind, 20.0)[0]
        assert not should_evaluate(None, kind, 1.0)[0]


def test_a_failed_end_of_run_evaluation_is_recorded_and_the_run_still_finishes(tmp_path, capsys) -> None:
    """A folder of 5 pictures trained, then the evaluation found no noise floor (too few real images): the run
    ended with exit 2 and no summary.json, and resume failed the same way every time."""
    import numpy as np
    from PIL import Image

    import ganforge as gf

    (tmp_path / "few").mkdir()
    for i in range(5):
        pixels = np.random.default_rng(i).integers(0, 256, (16, 16), dtype=np.uint8)
        Image.fromarray(pixels, mode="L").save(tmp_path / "few" / f"{i}.png")
    run = gf.train(str(tmp_path / "few"), steps=2, out=tmp_path / "run",
                   overrides=["eval.enabled=true", "train.batch_size=4"])
    skipped = run.summary["evaluation"]["skipped"]
    assert skipped.startswith("evaluation failed: too few images for a noise floor: the real data holds 5 images")
    assert skipped.endswith(f"(the run is saved; `ganforge eval {tmp_path / 'run'}` evaluates it once that is fixed)")
    assert (tmp_path / "run" / "summary.json").is_file()
    err = capsys.readouterr().err
    assert err.count("too few images") == 1  # a Python caller sees the reason (no summary block follows)
