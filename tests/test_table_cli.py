"""`ganforge train table.csv` -> sample (--rows, --where) -> eval, seeded repeatability, and every bad table
input as one line with exit code 2."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

FAST = [
    "--set",
    "train.steps=20",
    "--set",
    "train.batch_size=50",
    "--set",
    "model.pack=5",
    "--set",
    "model.noise_dim=8",
    "--set",
    "model.generator=[32]",
    "--set",
    "model.discriminator=[32]",
    "--set",
    "eval.every=10",
    "--set",
    "eval.n=200",
    "--set",
    "train.log_every=10",
    "-q",
]


def ganforge(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ganforge", *args], capture_output=True, text=True, timeout=300)


def patients(n: int = 150) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    age = rng.integers(20, 90, n)
    frame = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "age": age,
            "weight": np.round(rng.normal(75, 12, n), 1),
            "sex": rng.choice(["F", "M"], n),
            "zip": rng.choice([10115, 10117, 80331, 50667, 20095, 60311, 70173, 1067, 4109, 30159, 90402, 28195], n),
            "visit": pd.date_range("2021-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "outcome": np.where(age > 55, "ill", "well"),
        }
    )
    frame.loc[::7, "weight"] = np.nan
    return frame


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tablecli")
    csv = folder / "patients.csv"
    patients().to_csv(csv, index=False)
    run = folder / "run"
    out = ganforge(
        "train",
        str(csv),
        *FAST,
        "--set",
        "data.target=outcome",
        "--set",
        "data.columns.zip=categorical",
        "--out",
        str(run),
    )
    assert out.returncode == 0, out.stderr
    return folder, csv, run, out


def test_a_mixed_csv_trains_with_the_table_recipe(table_run) -> None:
    _, _, run, out = table_run
    assert "patients: 150 rows, 7 columns" in out.stderr and "id left out" in out.stderr
    config = (run / "config.yaml").read_text()
    assert "type: tablegan" in config and "zip: categorical" in config
    assert (run / "best" / "checkpoints").is_dir() and (run / "plots" / "table_columns.png").is_file()


def test_sample_has_the_input_columns_types_and_order(table_run) -> None:
    folder, csv, run, _ = table_run
    out_csv = folder / "synthetic.csv"
    out = ganforge("sample", str(run), "--rows", "300", "-o", str(out_csv))
    assert out.returncode == 0, out.stderr
    real, synthetic = pd.read_csv(csv), pd.read_csv(out_csv)
    assert list(synthetic.columns) == list(real.columns) and len(synthetic) == 300
    assert set(synthetic["zip"]) <= set(real["zip"]) and set(synthetic["sex"]) <= {"F", "M"}
    assert pd.api.types.is_integer_dtype(synthetic["age"]) and synthetic["id"].is_unique
    assert synthetic["visit"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    women = folder / "women.csv"
    assert ganforge("sample", str(run), "--rows", "40", "--where", "sex=F", "-o", str(women)).returncode == 0
    assert (pd.read_csv(women)["sex"] == "F").all()


@pytest.mark.slow
def test_same_seed_same_csv(table_run, tmp_path) -> None:
    _, csv, _, _ = table_run
    texts = []
    for i in range(2):
        run = tmp_path / f"r{i}"
        assert ganforge("train", str(csv), *FAST, "--set", "seed=7", "--out", str(run)).returncode == 0
        assert ganforge("sample", str(run), "--rows", "100", "-o", str(tmp_path / f"s{i}.csv")).returncode == 0
        texts.append((tmp_path / f"s{i}.csv").read_text())
    assert texts[0] == texts[1]


def test_eval_prints_quality_utility_privacy_and_baselines(table_run) -> None:
    _, _, run, _ = table_run
    out = ganforge("eval", str(run))
    assert out.returncode == 0, out.stderr
    for word in ("quality", "ml_efficacy", "dcr_share", "exact_copies", "gaussian_copula", "independent", "identity"):
        assert word in out.stdout


def test_the_baselines_eval_prints_are_in_the_summary_and_the_report_too(table_run, tmp_path) -> None:
    """report.html and the end-of-run summary showed the model's numbers without the baselines beside them."""
    _, csv, _, _ = table_run
    run = tmp_path / "evaluated"
    out = ganforge("train", str(csv), *FAST, "--set", "data.target=outcome", "--set", "eval.enabled=true",
                   "--out", str(run))
    assert out.returncode == 0, out.stderr
    title = "beside: the same metrics for the baselines"
    assert title in out.stdout and "gaussian_copula" in out.stdout.split(title)[1]
    html = (run / "report.html").read_text()
    assert title in html and "gaussian_copula" in html.split(title)[1]


@pytest.mark.parametrize(
    ("csv_text", "sets", "message"),
    [
        ("", [], "is empty"),
        ("a,b\n1,x\n", [], "one row"),
        ("a,b,c\n1,,x\n2,,y\n3,,z\n", [], "column 'b' has no values"),
        (None, ["--set", "data.target=outcom"], "no column named 'outcom'"),
        (None, ["--set", "data.columns.zipcode=categorical"], "no column named 'zipcode'"),
    ],
)
def test_bad_table_inputs_are_one_line_errors(tmp_path, csv_text, sets, message) -> None:
    csv = tmp_path / "t.csv"
    if csv_text is None:
        patients().to_csv(csv, index=False)
    else:
        csv.write_text(csv_text)
    out = ganforge("train", str(csv), *FAST, *sets, "--out", str(tmp_path / "run"))
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("error: ") and message in out.stderr and out.stderr.count("\n") == 1


def test_bad_where_is_a_one_line_error(table_run) -> None:
    folder, _, run, _ = table_run
    out = ganforge("sample", str(run), "--rows", "5", "--where", "sex=X", "-o", str(folder / "x.csv"))
    assert out.returncode == 2 and "never occurs" in out.stderr and out.stderr.count("\n") == 1


def test_a_table_runs_output_errors_name_csv_only(table_run) -> None:
    """`-o x.txt` listed .npy, .npz and .png, which a table run cannot write."""
    folder, _, run, _ = table_run
    for target in ("x.txt", "out/"):
        out = ganforge("sample", str(run), "--rows", "5", "-o", str(folder / target))
        assert out.returncode == 2 and ".csv" in out.stderr, out.stderr
        assert ".npy" not in out.stderr and ".png" not in out.stderr, out.stderr
