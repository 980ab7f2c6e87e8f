"""The CLI's first impression: fast, clean help; `ganforge config`; finished runs; Ctrl-C; torchrun ranks."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import ganforge as gf

COMMANDS = ["", "train", "resume", "sample", "eval", "recipes", "config", "diagnose", "fid", "translate", "upscale",
            "report", "studio", "export"]


def test_help_imports_no_torch_and_shows_no_type_artifacts() -> None:
    script = (
        "import sys\nfrom ganforge.cli import main\nfor c in sys.argv[1:]:\n"
        "    try:\n        main(([c] if c else []) + ['--help'])\n    except SystemExit:\n        pass\n"
        "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')\n"
    )
    out = subprocess.run([sys.executable, "-c", script, *COMMANDS], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.rstrip().endswith("NO-TORCH")
    for artifact in ("<bool>", "<list[str]>", "Traceback"):
        assert artifact not in out.stdout
    assert "--set data.columns=[temp_c,rain_mm]" in " ".join(out.stdout.split())
    assert "-q, --quiet       no progress line" in out.stdout  # resume --quiet has help too
    assert out.stdout.count("-q, --quiet") >= 2


def test_lazy_package_attributes() -> None:
    assert gf.GAN.__name__ == "GAN" and callable(gf.train) and callable(gf.data.normal)
    assert {"GAN", "train", "load", "data"} <= set(dir(gf))
    with pytest.raises(AttributeError):
        gf.no_such_name  # noqa: B018


def test_recipe_descriptions_use_no_seed_jargon(run_cli) -> None:
    out = run_cli("recipes")[1]
    assert "Seed 0" not in out and "seed 0" not in out


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> gf.Run:
    config = {"name": "r", "data": {"source": "ring8"}, "train": {"steps": 4, "batch_size": 16, "log_every": 2},
              "eval": {"n": 64}}
    return gf.train(config, out=tmp_path_factory.mktemp("r") / "run", show_progress=False)


def test_resume_of_a_finished_run_says_so_and_does_not_reevaluate(finished: gf.Run, run_cli) -> None:
    before = (finished.path / "summary.json").stat().st_mtime_ns
    code, out, err = run_cli("resume", finished.path, "-q")
    assert code == 0 and "already finished" in err and "--steps N" in err
    assert "run folder:" in out
    assert (finished.path / "summary.json").stat().st_mtime_ns == before


def test_torchrun_ranks_other_than_zero_print_no_summary(finished: gf.Run, capsys, monkeypatch) -> None:
    from ganforge.cli import _print_summary

    summary = json.loads((finished.path / "summary.json").read_text())
    monkeypatch.setenv("RANK", "1")
    _print_summary(finished.path, summary)
    assert capsys.readouterr().out == ""
    monkeypatch.setenv("RANK", "0")
    _print_summary(finished.path, summary)
    assert capsys.readouterr().out.count("run folder:") == 1


def test_ctrl_c_is_reported_as_interrupted_not_error(monkeypatch, run_cli, tmp_path: Path) -> None:
    import ganforge.api
    from ganforge.training.trainer import TrainingInterrupted

    def stopped(*args: object, **kwargs: object) -> None:
        raise TrainingInterrupted("stopped by signal 2 at step 5; checkpoint written to x; continue with `resume`")

    monkeypatch.setattr(ganforge.api, "train", stopped)
    code, _, err = run_cli("train", "ring8", "--out", tmp_path / "r")
    assert code == 130 and err.startswith("interrupted: stopped by signal 2") and "error" not in err


def test_eval_agrees_with_the_end_of_run_summary_or_says_why(finished: gf.Run, run_cli) -> None:
    code, out, err = run_cli("eval", finished.path)
    assert code == 0, err
    assert "same numbers as the end-of-run summary" in out
    assert "real floor" in out.splitlines()[1] and "w1_real" not in out  # floors sit in their column
    code, out, _ = run_cli("eval", finished.path, "-n", "32", "--seed", "3")
    assert "differs from the end-of-run summary because: n 32 here, 64 in the summary; seed 3 here, 0" in out
    summary = json.loads((finished.path / "summary.json").read_text())["evaluation"]
    assert summary["seed"] == 0 and summary["w1_real"] > 0


def test_eval_says_nothing_about_agreement_when_the_summary_has_no_numbers() -> None:
    from ganforge.cli import summary_agreement

    assert summary_agreement({"skipped": "the run trained 5 s"}, {"fid": 3.0, "seed": 0}, 100, False) == ""
    assert "seed 1 here" in summary_agreement({"fid": 2.0, "seed": 0}, {"fid": 3.0, "seed": 1}, 100, False)
    # no metric in common (eval --metrics kid on a summary of fid): "same numbers" said nothing true
    assert summary_agreement({"fid": 2.0, "seed": 0}, {"kid": 0.1, "seed": 0}, 100, False) == ""
    assert summary_agreement({"fid": 2.0, "seed": 0}, {"fid": 2.0, "seed": 0}, 100, False).startswith("same numbers")


def test_sample_best_without_one_names_a_metric_this_kind_of_run_reports(finished: gf.Run, run_cli, tmp_path) -> None:
    code, _, err = run_cli("sample", finished.path, "--best", "-n", "3", "-o", tmp_path / "s.csv")
    assert code == 2 and "eval.best=w1" in err  # points report w1, not fid (the hint used to say fid for all)
    code, _, err = run_cli("sample", tmp_path / "missing", "--best", "-n", "3", "-o", tmp_path / "s.csv")
    assert code == 2 and "does not exist" in err
