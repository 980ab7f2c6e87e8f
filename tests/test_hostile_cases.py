"""The generated hostile-input cases (``benchmarks/hostile_cases.py``) on the real CLI: a fixed sample of
every group in bounded time (``python benchmarks/hostile_inputs.py --all`` runs all of them), each must end
as a one-line exit-2 answer or a correct success: no traceback, no hang, no accepted bad value, no run
folder changed by a failing command."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import hostile_cases as hc  # noqa: E402

PER_GROUP = 20
SEED = 23


@pytest.fixture(scope="module")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hc.make_run(tmp_path_factory.mktemp("hostile"))


def test_the_generator_makes_at_least_1300_cases_in_every_group() -> None:
    cases = hc.all_cases()
    groups = {c.group for c in cases}
    assert len(cases) >= 1300 and groups == {"config", "yaml", "data", "cli", "run-folder"}
    assert len({(c.group, c.name) for c in cases}) == len(cases)  # names are unique


def test_the_classifier_tells_each_outcome_apart() -> None:
    bad = hc.Case("t", "x", (), "fail")
    assert hc.classify(bad, 2, "error: one line", False, False, False) == "one-line"
    assert hc.classify(bad, 0, "", False, False, False) == "accepted"
    assert hc.classify(bad, 1, "Traceback (most recent call last):\n ...", False, False, False) == "traceback"
    assert hc.classify(bad, 2, "error: a\nerror: b", False, False, False) == "traceback"
    assert hc.classify(bad, None, "", False, True, False) == "hang"
    assert hc.classify(bad, 2, "error: one line", False, False, True) == "folder-changed"
    assert hc.classify(hc.Case("t", "x", (), "any"), 0, "", False, False, False) == "success"


def test_a_fixed_sample_of_generated_cases_is_answered_in_one_line(base_run: Path) -> None:
    cases = hc.sample_cases(hc.all_cases(), PER_GROUP, seed=SEED)
    t0 = time.perf_counter()
    results = hc.run_all(cases, base_run)
    failures = [f"{r.outcome}: {r.case.group}/{r.case.name[:80]} -> {r.tail[:200]}" for r in results
                if r.outcome in hc.FAILURES]
    assert not failures, "\n".join(failures)
    assert time.perf_counter() - t0 < 90


def test_a_sample_as_real_processes(base_run: Path) -> None:
    """The same contract for ``python -m ganforge`` processes: exit code and stderr as a user sees them."""
    picks = {"yaml": "alias-bomb-typed-key", "config": "train.optimizer.lr=nan", "run-folder":
             "summary.json:flip-early:diagnose"}
    cases = [c for c in hc.all_cases() if picks.get(c.group) == c.name]
    assert len(cases) == len(picks)
    for case in cases:
        result = hc.run_case_subprocess(case, base_run, timeout=120)
        assert result.outcome == "one-line", (case.name, result.outcome, result.tail)
