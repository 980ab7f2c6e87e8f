"""The ganforge command end to end, and its one-line errors (exit code 2, no traceback)."""

import json
import subprocess
import sys

import numpy as np
import pytest

FAST = ["--set", "train.steps=30", "--set", "train.log_every=10", "--set", "train.batch_size=32", "-q"]


def ganforge(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ganforge", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_recipes_lists_one_line_each() -> None:
    out = ganforge("recipes")
    assert out.returncode == 0
    names = [line.split()[0] for line in out.stdout.splitlines()]
    assert "ring8" in names and "normal" in names and "grid25" in names


def test_a_recipe_name_prints_it_and_train_takes_steps(tmp_path, run_cli) -> None:
    """`ganforge recipes ring8` was "unexpected extra argument" and `ganforge train ring8 --steps 10` "no such
    option" (resume has --steps): the first prints the recipe as --show does, the second sets train.steps."""
    code, out, _ = run_cli("recipes", "ring8")
    assert code == 0 and out.startswith("name: ring8")
    code, _, err = run_cli("train", "ring8", "--steps", "4", "--no-eval", "-q", "-o", str(tmp_path / "r"))
    assert code == 0, err
    assert "steps: 4" in (tmp_path / "r" / "config.yaml").read_text()


def test_train_sample_eval_resume_end_to_end(tmp_path) -> None:
    run = tmp_path / "r"
    out = ganforge("train", "ring8", *FAST, "--set", "seed=3", "--out", str(run))
    assert out.returncode == 0, out.stderr
    for name in ("config.yaml", "metrics.jsonl", "summary.json", "plots/losses.png", "plots/discriminator.png",
                 "plots/real_vs_generated.png"):
        assert (run / name).is_file(), name
    assert ganforge("sample", str(run), "-n", "100", "-o", str(tmp_path / "s.csv")).returncode == 0
    assert (tmp_path / "s.csv").read_text().count("\n") == 101
    assert ganforge("sample", str(run), "-n", "50", "-o", str(tmp_path / "s.npy")).returncode == 0
    assert np.load(tmp_path / "s.npy").shape == (50, 2)
    assert ganforge("sample", str(run), "-n", "500", "-o", str(tmp_path / "s.png")).returncode == 0
    result = json.loads(ganforge("eval", str(run), "--json", "-n", "500").stdout)
    assert {"w1", "ks", "modes", "high_quality", "kl"} <= set(result)
    resumed = ganforge("resume", str(run), "--steps", "40", "-q")
    assert resumed.returncode == 0 and "from checkpoint step 30" in resumed.stderr


def test_train_a_users_csv_file(tmp_path) -> None:
    data = tmp_path / "points.csv"
    rng = np.random.default_rng(0)
    np.savetxt(data, rng.normal(5, 2, size=(300, 2)), delimiter=",", header="a,b", comments="")
    out = ganforge("train", str(data), *FAST, "--out", str(tmp_path / "run"))
    assert out.returncode == 0, out.stderr
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["evaluation"]["w1"] > 0


@pytest.mark.parametrize(
    "args,message",
    [
        (["train", "rign8"], "unknown recipe 'rign8' (did you mean 'ring8'?)"),
        (["train", "ring8", "--set", "train.stpes=3"], "did you mean 'train.steps'"),
        (["train", "ring8", "--set", "model.generator.hiden=[3]"], "did you mean 'hidden'"),
        (["train", "missing.csv"], "does not exist"),
        (["train", "empty.csv"], "is empty"),
        (["train", "nan.csv"], "non-finite value"),
        (["sample", "nowhere"], "does not exist"),
        (["train", "ring8", "--set", "train.steps=abc"], "train.steps"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, args, message) -> None:
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "nan.csv").write_text("1,2\nnan,3\n")
    out = ganforge(*args, cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert message in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_existing_run_folder_is_never_overwritten(tmp_path) -> None:
    run = tmp_path / "r"
    run.mkdir()
    (run / "keep.txt").write_text("mine")
    out = ganforge("train", "ring8", *FAST, "--out", str(run))
    assert out.returncode == 2 and "already exists" in out.stderr
    assert (run / "keep.txt").read_text() == "mine"


def test_a_mistake_under_torchrun_is_said_by_rank_0_only(monkeypatch, capsys) -> None:  # noqa: ANN001
    """Every rank printed the same `error:` line, two of them run together on one line."""
    from ganforge.cli import main

    for rank, said in (("1", ""), ("0", "error: unknown config key 'train.bogus'")):
        monkeypatch.setenv("RANK", rank)
        with pytest.raises(SystemExit) as exited:
            main(["train", "ring8", "--set", "train.bogus=1"])
        assert exited.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith(said) and (said or err == "")
