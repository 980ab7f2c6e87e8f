"""report/summary.py: a later `ganforge eval RUN` keeps its results in a run whose end-of-run evaluation was
skipped (summary.json, report.html, diagnose), never over a stored one unless asked, never by a broken write."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

import ganforge as gf

RunCli = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="module")
def skipped_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = {"name": "r", "data": {"source": "ring8"}, "train": {"steps": 4, "batch_size": 16, "log_every": 2},
              "eval": {"n": 64, "enabled": False}}
    return gf.train(config, out=tmp_path_factory.mktemp("r") / "run", show_progress=False).path


@pytest.fixture
def skipped(skipped_template: Path, tmp_path: Path) -> Path:
    """A finished run whose end-of-run evaluation was skipped (eval.enabled false), a fresh copy per test."""
    run = tmp_path / "run"
    shutil.copytree(skipped_template, run)
    return run


def _evaluation(run: Path) -> dict:
    return json.loads((run / "summary.json").read_text())["evaluation"]


def _strict(text: str) -> object:
    def refuse(token: str) -> None:
        raise ValueError(f"not strict JSON: {token}")

    return json.loads(text, parse_constant=refuse)


def test_eval_stores_its_results_where_the_end_of_run_evaluation_would_have(skipped: Path, run_cli: RunCli) -> None:
    assert "skipped" in _evaluation(skipped)
    assert "evaluation skipped" in (skipped / "report.html").read_text()
    code, out, _ = run_cli("diagnose", skipped)
    assert code == 0 and "not measured (evaluation skipped" in out

    code, out, err = run_cli("eval", skipped, "--json")
    assert code == 0, err
    printed = _strict(out)  # stdout is the one JSON object; the note went to stderr
    assert isinstance(printed, dict) and out.count("\n") == 1
    assert err.startswith("stored in ") and err.count("\n") == 1

    stored = _evaluation(skipped)
    steps = json.loads((skipped / "summary.json").read_text())["steps"]
    assert "skipped" not in stored and stored["seed"] == 0 and stored["step"] == steps
    assert stored["w1"] == pytest.approx(printed["w1"])  # the end-of-run format: the result, seed, step
    assert set(stored) == set(printed) - {"run"}
    _strict((skipped / "summary.json").read_text())
    page = (skipped / "report.html").read_text()
    assert "evaluation skipped" not in page and "w1" in page
    code, out, _ = run_cli("diagnose", skipped)
    assert code == 0 and "not measured" not in out and "sample quality unknown" not in out
    assert not [p.name for p in skipped.iterdir() if p.name.endswith(".tmp")]


def test_a_stored_evaluation_is_kept_unless_replace_is_given(skipped: Path, run_cli: RunCli) -> None:
    assert run_cli("eval", skipped)[0] == 0
    before = (skipped / "summary.json").read_bytes()
    code, out, err = run_cli("eval", skipped, "--seed", "3")
    assert code == 0 and "seed 3 here, 0 in the summary" in out and err == ""
    assert (skipped / "summary.json").read_bytes() == before

    code, _, err = run_cli("eval", skipped, "--seed", "3", "--replace")
    assert code == 0 and err.startswith("replaced the evaluation in ")
    assert _evaluation(skipped)["seed"] == 3


def test_best_results_are_not_stored_and_best_with_replace_is_refused(skipped: Path, run_cli: RunCli) -> None:
    code, _, err = run_cli("eval", skipped, "--best", "--replace")
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "drop one" in err
    assert "skipped" in _evaluation(skipped)


def test_a_folder_that_cannot_be_written_still_prints_the_results(
    skipped: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ganforge.fileio

    def read_only(path: object, data: bytes) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    before = (skipped / "summary.json").read_bytes()
    monkeypatch.setattr(ganforge.fileio, "atomic_write_bytes", read_only)
    code, out, err = run_cli("eval", skipped)
    assert code == 0 and "w1" in out
    assert err.startswith("note: not stored in ") and "Permission denied" in err and err.count("\n") == 1
    assert (skipped / "summary.json").read_bytes() == before


def test_a_damaged_summary_is_left_as_it_is(skipped: Path, run_cli: RunCli) -> None:
    (skipped / "summary.json").write_text('{"evaluation": {"skipped": "x"')
    code, out, err = run_cli("eval", skipped, "--json")
    assert code == 0 and isinstance(_strict(out), dict)
    assert err.startswith("note: not stored: ") and "not valid JSON" in err and err.count("\n") == 1
    assert (skipped / "summary.json").read_text() == '{"evaluation": {"skipped": "x"'


def test_nothing_is_written_while_another_process_writes_the_run(skipped: Path, run_cli: RunCli) -> None:
    before = (skipped / "summary.json").read_bytes()
    fd = os.open(skipped, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what a train or resume of this folder holds
        code, out, err = run_cli("eval", skipped)
    finally:
        os.close(fd)
    assert code == 0 and "w1" in out
    assert err.startswith("note: not stored: ") and "another ganforge process" in err and err.count("\n") == 1
    assert (skipped / "summary.json").read_bytes() == before


def test_an_unfinished_run_gets_no_summary(skipped: Path, run_cli: RunCli) -> None:
    (skipped / "summary.json").unlink()  # resume reads a summary.json as "this run finished"
    code, _, err = run_cli("eval", skipped)
    assert code == 0 and "has no summary.json" in err and not (skipped / "summary.json").exists()


def test_a_summary_of_another_step_is_not_given_this_checkpoints_numbers(skipped: Path, run_cli: RunCli) -> None:
    summary = json.loads((skipped / "summary.json").read_text())
    (skipped / "summary.json").write_text(json.dumps({**summary, "steps": summary["steps"] + 100}))
    code, _, err = run_cli("eval", skipped)
    assert code == 0 and "it describes step" in err
    assert "skipped" in _evaluation(skipped)


def test_a_resume_too_short_to_evaluate_keeps_the_earlier_evaluation_of_its_step(
    skipped: Path, run_cli: RunCli
) -> None:
    """`ganforge resume RUN --steps N` that trained too briefly to evaluate wrote {"skipped": ...} over the
    evaluation `ganforge eval` had stored: it is kept, marked as of the earlier step (never as the new step's),
    and the next `ganforge eval` replaces it with the new step's without --replace."""
    assert run_cli("eval", skipped)[0] == 0
    measured = _evaluation(skipped)
    code, out, err = run_cli("resume", skipped, "--steps", "6")  # eval.enabled false in this run's config
    assert code == 0, err
    kept = _evaluation(skipped)
    assert json.loads((skipped / "summary.json").read_text())["steps"] == 6
    assert kept["step"] == measured["step"] == 4 and kept["w1"] == measured["w1"] and "skipped" not in kept
    assert kept["outdated"].startswith("these numbers are of checkpoint step 4, measured before the run trained on "
                                       "to step 6, whose evaluation was skipped: eval.enabled is false")
    assert f"evaluation:\n  note: {kept['outdated']}\n" in out
    assert "note: these numbers are of checkpoint step 4" in (skipped / "report.html").read_text()
    code, out, _ = run_cli("diagnose", skipped)
    assert code == 0 and "(measured at checkpoint step 4, before the run trained further" in out
    code, out, err = run_cli("eval", skipped)
    assert code == 0 and "step 6 here, 4 in the summary" in out
    assert err.startswith("replaced the evaluation of step 4 in ")
    stored = _evaluation(skipped)
    assert stored["step"] == 6 and "outdated" not in stored


def test_the_summary_records_the_environment_the_numbers_came_from(skipped: Path) -> None:
    """config.yaml said `threads: null` when the count came from the machine, and no file named the numpy,
    scikit-learn or Python the run's numbers came from."""
    import platform

    import numpy as np
    import torch

    environment = json.loads((skipped / "summary.json").read_text())["environment"]
    assert environment["torch"] == torch.__version__ and environment["numpy"] == np.__version__
    assert environment["python"] == platform.python_version() and environment["threads"] >= 1
    assert environment["scikit-learn"] and environment["ganforge"]
