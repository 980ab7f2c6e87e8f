"""TableGAN: trains on a DataFrame, samples tables of the input's shape, honours conditions, repeats
bit-for-bit with a seed; the copula and independent baselines keep values legal."""

import numpy as np
import pandas as pd
import pytest
import torch

import ganforge as gf
from ganforge.data.tables import table_source
from ganforge.errors import GanforgeError
from ganforge.evaluation.tables import out_of_range_rate, quality_report
from ganforge.gans.table_baselines import GaussianCopula, IndependentColumns

SMALL = {"noise_dim": 8, "generator": (32,), "discriminator": (32,), "pack": 5}


def people(n: int = 150, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], n, p=[0.3, 0.7])
    height = np.round(np.where(sex == "M", 178, 165) + rng.normal(0, 6, n), 1)
    return pd.DataFrame(
        {"sex": sex, "height": height, "shoe": rng.integers(35, 47, n), "city": rng.choice(list("abc"), n)}
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("tablegan") / "run"
    return gf.train(gf.TableGAN(**SMALL), data=people(), steps=30, batch_size=50, out=out, show_progress=False)


def test_samples_are_a_table_like_the_input(trained) -> None:
    frame = trained.sample(rows=80)
    assert isinstance(frame, pd.DataFrame) and len(frame) == 80
    assert list(frame.columns) == ["sex", "height", "shoe", "city"]
    assert out_of_range_rate(frame, trained.gan.transformer) == 0.0
    assert pd.api.types.is_integer_dtype(frame["shoe"])


def test_no_sampled_row_copies_a_training_row(trained) -> None:
    from ganforge.evaluation.tables import exact_copies

    source = trained.source
    assert source is not None
    frame = trained.sample(rows=300)
    assert exact_copies(frame, source.frame, source.transformer) == 0


def test_a_dataframe_run_loads_with_an_unbuilt_tablegan(trained) -> None:
    again = gf.load(trained.path, gan=gf.TableGAN(**SMALL))
    torch.manual_seed(1)
    frame = again.sample(rows=10)
    assert list(frame.columns) == ["sex", "height", "shoe", "city"]
    with pytest.raises(GanforgeError, match="in-memory pandas DataFrame"):
        gf.load(trained.path, gan=gf.TableGAN(**SMALL)).real_data()


def test_conditional_rows_honour_the_condition(trained) -> None:
    frame = trained.sample(rows=60, where="sex=F")
    assert len(frame) == 60 and (frame["sex"] == "F").all()
    both = trained.sample(rows=20, where="sex=M,city=b")
    assert ((both["sex"] == "M") & (both["city"] == "b")).all()


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("nope=1", "no column named 'nope'"),
        ("height=170", "numeric column"),
        ("sex=X", "never occurs"),
        ("sex", "COLUMN=VALUE"),
    ],
)
def test_bad_conditions_are_one_line_errors(trained, where, message) -> None:
    with pytest.raises(GanforgeError, match=message):
        trained.sample(rows=5, where=where)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: r.sample(0), r"^sample\(n\): give a positive whole number of rows, got 0"),  # gave 1000 rows
        (lambda r: r.sample(rows=2.5), r"^sample\(rows\): give a positive whole number of rows, got 2.5"),  # 2 rows
        (lambda r: r.sample(rows="4"), r"^sample\(rows\): .* got '4'"),  # was taken
        (lambda r: r.sample(rows=True), r"^sample\(rows\): .* got True"),
        (lambda r: r.sample(5, rows=7), r"^sample\(5, rows=7\): two different counts; give one of n and rows"),
        (lambda r: r.sample(5, label=1), r"^sample\(label=1\): a table run has no class labels; .* where="),
        (lambda r: r.sample(row=5), r"^sample\(row=...\): a table run takes no such argument \(did you mean 'rows'"),
        (lambda r: r.sample(5, reject=0.01), r"^--reject / reject= / sample.discriminator_rejection: table runs"),
        (lambda r: r.gan.sample_table(2.5), r"^--rows / rows=2.5: give a positive whole number of rows"),
        (lambda r: r.gan.sample_table("4"), r"^--rows / rows='4': give a positive whole number of rows"),
    ],
)
def test_table_counts_labels_and_keywords_are_checked_like_other_runs(trained, call, message) -> None:  # noqa: ANN001
    """A table run gave 1000 rows for ``sample(0)``, 2 for ``rows=2.5``, took ``rows="4"``, let ``rows`` silently
    win over a different ``n`` and ignored ``label=``; ``row=5`` was a TypeError. Other runs refuse all of these."""
    with pytest.raises(GanforgeError, match=message):
        call(trained)


def test_table_counts_take_numpy_integers_and_whole_floats(trained) -> None:
    assert len(trained.sample(rows=np.int64(3))) == 3
    assert len(trained.sample(4.0)) == 4
    assert len(trained.sample(2, rows=2)) == 2  # the same count twice is no conflict
    assert len(trained.gan.sample_table(torch.tensor(2))) == 2


def test_generator_learns_the_condition_loss(trained) -> None:
    import json

    records = [json.loads(line) for line in (trained.path / "metrics.jsonl").read_text().splitlines()]
    assert all(np.isfinite(r["loss_d"]) and np.isfinite(r["cond_loss"]) for r in records)


def test_seeded_fits_repeat_bit_for_bit(tmp_path) -> None:
    frames = []
    for i in range(2):
        run = gf.train(
            gf.TableGAN(**SMALL),
            data=people(),
            steps=10,
            batch_size=50,
            seed=4,
            out=tmp_path / f"r{i}",
            show_progress=False,
        )
        torch.manual_seed(0)
        frames.append(run.sample(rows=50).to_csv(index=False))
    assert frames[0] == frames[1]


def test_copula_keeps_correlation_and_independent_loses_it() -> None:
    frame = people(600)
    source = table_source(frame, "p", quiet=True)
    copula = GaussianCopula(source.transformer).fit(source.frame).sample(600, seed=1)
    independent = IndependentColumns(source.transformer).fit(source.frame).sample(600, seed=1)
    for synthetic in (copula, independent):
        assert out_of_range_rate(synthetic, source.transformer) == 0.0
        assert list(synthetic.columns) == list(frame.columns)
    trends_c = quality_report(source.frame, copula, source.transformer)["pair_trends"]
    trends_i = quality_report(source.frame, independent, source.transformer)["pair_trends"]
    assert trends_c > trends_i


def test_quantile_encoding_with_target_share_trains_samples_and_reloads(tmp_path) -> None:
    """The recipe path (data.encoding=quantile, data.target_share) trains, keeps values legal, honours a
    condition, and a reloaded run samples the same rows for the same seed (the weights live in data.json)."""
    from ganforge.data.tables import table_file

    path = tmp_path / "people.csv"
    people().to_csv(path, index=False)
    recipe = {
        "name": "people-q",
        "seed": 3,
        "data": {"source": "table", "path": str(path), "target": "sex", "encoding": "quantile", "target_share": 0.5},
        "model": {"type": "tablegan", **{k: list(v) if isinstance(v, tuple) else v for k, v in SMALL.items()}},
        "train": {"steps": 10, "batch_size": 50},
    }
    run = gf.train(recipe, out=tmp_path / "run", show_progress=False)
    source = table_file(str(path), target="sex", encoding="quantile", target_share=0.5)
    assert run.gan._column_probs is not None and run.gan._column_probs.tolist() == source.info["condition_probs"]
    torch.manual_seed(0)
    frame = run.sample(rows=100)
    assert out_of_range_rate(frame, source.transformer) == 0.0
    assert np.allclose(frame["height"], frame["height"].round(1))
    women = run.sample(rows=30, where="sex=F")
    assert (women["sex"] == "F").all()
    again = gf.load(run.path)
    assert again.gan.transformer is not None and again.gan.transformer.encoding == "quantile"
    torch.manual_seed(0)
    assert again.sample(rows=100).equals(frame)


def test_conditions_on_a_column_with_missing_values_skip_missing_cells(tmp_path) -> None:
    """`--where smoker=True` on a boolean column with gaps raised "boolean value of NA is ambiguous"."""
    from ganforge.gans.tablegan import _is_value

    assert not _is_value(pd.NA, True) and not _is_value(np.nan, "a") and _is_value(None, None)
    assert _is_value(True, True) and not _is_value(False, True) and not _is_value("a", None)
    rng = np.random.default_rng(0)
    smoker = pd.array(rng.choice([True, False, None], 40).tolist(), dtype="boolean")
    frame = pd.DataFrame({"smoker": smoker, "age": rng.normal(50, 9, 40).round(1)})
    run = gf.train(gf.TableGAN(**SMALL), data=frame, steps=3, batch_size=20, out=tmp_path / "r", show_progress=False)
    rows = run.sample(rows=30, where="smoker=True")
    assert len(rows) == 30 and rows["smoker"].eq(True).all()


def test_quoted_conditions_can_hold_commas() -> None:
    """`--where "city=Paris, FR"` split at the comma; a quoted value keeps it."""
    from ganforge.gans.tablegan import parse_where

    assert parse_where('city="Paris, FR",sex=F') == [("city", "Paris, FR"), ("sex", "F")]
    assert parse_where("city='Paris, FR'") == [("city", "Paris, FR")]
    assert parse_where("country=Côte d'Ivoire") == [("country", "Côte d'Ivoire")]
    with pytest.raises(GanforgeError, match="quote a value holding a comma"):
        parse_where("city=Paris, FR")
    with pytest.raises(GanforgeError, match="not closed"):
        parse_where('city="Paris, FR')


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"generator": 16}, "TableGAN(generator=16): give the hidden layers' widths as a list, e.g. generator=(256, "
         "256) (generator=(16,) for one layer)"),
        ({"generator": (0,)}, "TableGAN(generator=(0,)): item 0 is 0; give each hidden layer's width"),
        ({"discriminator": (32, 2.5)}, "TableGAN(discriminator=(32, 2.5)): item 1 is 2.5"),
        ({"gp": -1}, "TableGAN(gp=-1): give a finite number >= 0"),
        ({"pack": 2.5}, "TableGAN(pack=2.5): give a whole number >= 1 (rows per discriminator input"),
        ({"pack": 0}, "TableGAN(pack=0): give a whole number >= 1 (rows per discriminator input"),
        ({"n_critic": 0}, "TableGAN(n_critic=0): give a whole number >= 1"),
        ({"noise_dim": "8"}, "TableGAN(noise_dim='8'): give a whole number >= 1"),
        ({"tau": 0}, "TableGAN(tau=0): give a finite number > 0 (the Gumbel-softmax temperature"),
        ({"table": "x"}, "TableGAN(table='x'): give the table's fitted TableTransformer"),
        ({"table": {"columns": {}}}, "TableGAN(table={...}): the dict is not a TableTransformer's to_dict()"),
    ],
)
def test_bad_settings_are_refused_one_at_a_time_naming_the_argument(settings, message: str) -> None:  # noqa: ANN001
    """These trained silently (gp=-1, pack=2.5), failed in iter() or at the first step, blamed a run's
    data.json for the table argument, or lumped pack, n_critic, noise_dim and tau together."""
    with pytest.raises(GanforgeError) as err:
        gf.TableGAN(**{**SMALL, **settings})
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value) and "data.json" not in str(err.value)


def test_whole_float_settings_are_taken_and_recorded_as_ints() -> None:
    gan = gf.TableGAN(noise_dim=8.0, generator=(16.0,), discriminator=[16], pack=5.0)
    assert gan.config_section() == {
        "type": "tablegan", "noise_dim": 8, "generator": [16], "discriminator": [16], "pack": 5, "gp": 10.0,
        "tau": 0.2, "cond_weight": 1.0, "n_critic": 1,
    }


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_infinite_numbers_are_refused_when_the_table_is_prepared(tmp_path, value: float) -> None:
    """inf was encoded as a number: training diverged, or finished and the evaluation failed."""
    frame = people(20)
    frame["height"] = frame["height"].astype(float)
    frame.loc[3, "height"] = value
    with pytest.raises(GanforgeError, match=rf"column 'height' holds {value} \(row 4 below the header\); .* no inf"):
        gf.TableGAN(**SMALL).prepare_data(frame)
    frame.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(GanforgeError, match=rf"^t: column 'height' holds {value} \(row 4 below the header\)"):
        gf.TableGAN(**SMALL).prepare_data(str(tmp_path / "t.csv"))


def test_missing_numbers_are_still_accepted() -> None:
    frame = people(20)
    frame.loc[3, "height"] = np.nan
    assert gf.TableGAN(**SMALL).prepare_data(frame).sample_shape[0] > 0


def test_a_csv_path_may_be_a_pathlib_path(tmp_path) -> None:
    people(60).to_csv(tmp_path / "tab.csv", index=False)
    source = gf.TableGAN(**SMALL).prepare_data(tmp_path / "tab.csv")
    assert source.name == "tab"
    run = gf.train(gf.TableGAN(**SMALL), data=tmp_path / "tab.csv", steps=2, batch_size=10, out=tmp_path / "run",
                   show_progress=False)
    assert len(run.sample(rows=5)) == 5
