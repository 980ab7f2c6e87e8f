"""The Python API with networks written the way the course notes write them."""

import json

import pytest
import torch
from torch import nn

import ganforge as gf


def test_notes_style_networks_train_and_reload(tmp_path) -> None:
    torch.manual_seed(0)
    generator = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid())  # seed 000
    discriminator = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid())
    run = gf.train(gf.GAN(generator, discriminator, noise_dim=5, objective="nonsaturating"),
                   data=gf.data.uniform(), steps=200, out=tmp_path / "u", show_progress=False)
    x = gf.load(run.path).sample(1000)
    assert x.shape == (1000, 1)
    assert x.min() >= 0.0 and x.max() <= 1.0  # a sigmoid generator on data in [0, 1]
    assert (run.path / "summary.json").is_file() and (run.path / "plots" / "real_vs_generated.png").is_file()


def test_python_runs_need_their_networks_in_a_new_session(tmp_path) -> None:
    torch.manual_seed(0)
    gan = gf.GAN(nn.Linear(1, 1), nn.Sequential(nn.Linear(1, 1), nn.Sigmoid()), noise_dim=1)
    run = gf.train(gan, data=gf.data.normal(10, 1), steps=20, out=tmp_path / "p", show_progress=False)
    gf.runs._IN_PROCESS_MODELS.clear()
    try:
        gf.load(run.path)
    except gf.GanforgeError as exc:
        assert "ganforge.load(path, gan=" in str(exc)
    fresh = gf.GAN(nn.Linear(1, 1), nn.Sequential(nn.Linear(1, 1), nn.Sigmoid()), noise_dim=1)
    loaded = gf.load(run.path, gan=fresh)
    assert torch.equal(loaded.gan.generator.weight, gan.generator.weight)


def test_dimension_mismatch_is_caught_before_anything_is_written(tmp_path) -> None:
    gan = gf.GAN(nn.Linear(1, 2), nn.Linear(2, 1), noise_dim=1)
    try:
        gf.train(gan, data=gf.data.normal(10, 1), steps=5, out=tmp_path / "bad", show_progress=False)
    except gf.GanforgeError as exc:
        assert "samples of shape (2,)" in str(exc) and "(1,)" in str(exc)
    else:
        raise AssertionError("expected a GanforgeError")
    assert not (tmp_path / "bad").exists()


def test_typed_settings_go_into_the_config_as_they_are(tmp_path) -> None:
    """``gf.train(..., ema=None)`` sets train.ema to None (it was a config error when settings became
    ``--set`` strings parsed again as YAML); floats and lists keep their types."""
    config = gf.build_config("ring8", settings={"train.ema": None, "train.steps": 7, "seed": 3})
    assert config.train.ema is None and config.train.steps == 7 and config.seed == 3
    run = gf.train("ring8", steps=4, out=tmp_path / "r", show_progress=False, ema=None, log_every=2,
                   batch_size=16)
    assert run.config.train.ema is None and run.config.train.batch_size == 16
    assert run.gan.ema_generator is None
    assert gf.build_config("digits-lapgan").train.ema == 0.99  # a recipe with EMA on: None turns it off
    assert gf.build_config("digits-lapgan", settings={"train.ema": None}).train.ema is None


def test_a_run_on_an_array_resumes_with_the_array_or_from_the_copy_it_saved(tmp_path) -> None:
    import numpy as np

    arr = np.random.default_rng(0).normal(10, 1, (200, 1)).astype("float32")
    torch.manual_seed(0)
    gan = gf.GAN(nn.Linear(1, 1), nn.Sequential(nn.Linear(1, 8), nn.ReLU(), nn.Linear(8, 1)), noise_dim=1)
    gf.train(gan, data=arr, steps=20, out=tmp_path / "a", show_progress=False, checkpoint_every=10)
    assert gf.resume(tmp_path / "a", steps=30, gan=gan, data=arr, show_progress=False).step == 30
    assert gf.resume(tmp_path / "a", steps=40, gan=gan, show_progress=False).step == 40  # reads data.npy
    import shutil

    shutil.copytree(tmp_path / "a", tmp_path / "copy")  # a copied run reads its own data.npy, not the original's
    assert gf.load(tmp_path / "copy").config.data["path"] == str((tmp_path / "copy" / "data.npy").resolve())
    shutil.rmtree(tmp_path / "a")
    assert gf.resume(tmp_path / "copy", steps=50, gan=gan, show_progress=False).step == 50


def test_a_failed_start_on_an_array_writes_nothing_so_the_same_out_works_next(tmp_path) -> None:
    import numpy as np

    arr = np.zeros((50, 1), dtype="float32")
    try:
        gf.train(gf.GAN(nn.Linear(1, 2), nn.Linear(1, 1)), data=arr, steps=5, out=tmp_path / "x", show_progress=False)
    except gf.GanforgeError as exc:
        assert "samples of shape (2,)" in str(exc)
    else:
        raise AssertionError("expected a GanforgeError")
    assert not (tmp_path / "x").exists()  # no data.npy left to block the corrected call
    run = gf.train(gf.GAN(nn.Linear(1, 1), nn.Linear(1, 1)), data=arr, steps=5, out=tmp_path / "x", show_progress=False)
    assert run.step == 5


def test_a_python_tablegan_trains_as_the_table_recipe_and_loads_in_a_new_session(tmp_path) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"age": rng.integers(20, 80, 300), "sex": rng.choice(["F", "M"], 300)})
    run = gf.train(gf.TableGAN(), data=df, steps=20, out=tmp_path / "t", show_progress=False)
    assert run.config.train.batch_size == gf.build_config("table").train.batch_size  # a multiple of the pack
    gf.runs._IN_PROCESS_MODELS.clear()  # as in another process: no GAN object given
    rows = gf.load(run.path).sample(rows=7)
    assert list(rows.columns) == ["age", "sex"] and len(rows) == 7
    resumed = gf.resume(run.path, steps=30, gan=gf.TableGAN(), data=df, show_progress=False)
    assert resumed.step == 30
    with pytest.raises(gf.GanforgeError, match="multiple of model.pack=10"):
        gf.train(gf.TableGAN(), data=df, steps=5, batch_size=256, out=tmp_path / "u", show_progress=False)
    assert not (tmp_path / "u").exists()


def test_dir_lists_the_public_api_and_not_the_facades_own_imports() -> None:
    names = set(dir(gf))
    assert {"augment", "AnomalyDetector", "train", "TableGAN", "register_app"} <= names
    assert not names & {"importlib", "Any", "Callable", "TypeVar", "TYPE_CHECKING", "annotations"}
    assert set(gf.__all__) <= names


def test_translate_and_upscale_are_published_as_apps_with_typed_signatures() -> None:
    """docs/architecture.md says the apps are published as ``gf.<name>``; only augment and AnomalyDetector were."""
    import inspect

    from ganforge.apps.translate import translate
    from ganforge.apps.upscale import upscale

    assert gf.translate is translate and gf.upscale is upscale
    assert {"translate", "upscale"} <= set(gf.__all__) & set(dir(gf))
    for app in (gf.translate, gf.upscale):
        signature = inspect.signature(app)
        assert signature.return_annotation is not inspect.Signature.empty and inspect.getdoc(app)
        assert all(p.annotation is not inspect.Parameter.empty for p in signature.parameters.values())
        assert "out" in signature.parameters


def test_a_run_that_ends_before_its_generator_trains_says_so(tmp_path, capsys) -> None:
    tiny = ["model.encoder_steps=4", "train.batch_size=8", "model.g_width=4", "model.d_width=4", "eval.enabled=false"]
    lapgan = gf.build_config("digits-lapgan", ["train.steps=3"])
    gf.train("digits-text", overrides=[*tiny, "train.steps=3"], out=tmp_path / "short", show_progress=False)
    note = capsys.readouterr().err
    assert "note: train.steps=3 ends before the generator is trained" in note and "matching only" in note
    from ganforge.commands.diagnose import format_report  # kept in the run: diagnose said "healthy dynamics"

    summary = json.loads((tmp_path / "short" / "summary.json").read_text())
    assert "verdict: not trained yet: train.steps=3 ends before" in format_report(tmp_path / "short", [], summary)
    gf.train("digits-text", overrides=[*tiny, "train.steps=6"], out=tmp_path / "long", show_progress=False)
    assert "ends before the generator" not in capsys.readouterr().err
    assert "untrained_generator" not in json.loads((tmp_path / "long" / "summary.json").read_text())
    from ganforge.api import untrained_generator_note
    from ganforge.data.registry import source_from_config
    from ganforge.gans.registry import build_model

    assert untrained_generator_note(build_model(lapgan.model, source_from_config(lapgan.data)), 3) == ""


def test_a_recipe_trains_on_a_data_file_given_as_data(tmp_path) -> None:
    """gf.train("timeseries-gru", data="series.csv") said "unknown data source 'series.csv' ... (or give a path to
    a .csv file)", and data=Path(...) failed with an AttributeError: a path is now the file the recipe trains on,
    as `ganforge train series.csv --recipe timeseries-gru` does."""
    from pathlib import Path

    import numpy as np

    t = np.arange(200)
    rows = np.stack([np.sin(t / 5), np.cos(t / 7)], 1)
    np.savetxt(tmp_path / "series.csv", rows, delimiter=",", header="temp,sales", comments="")
    tiny = ["train.batch_size=8", "data.seq_len=6", "model.generator.hidden=4", "model.discriminator.hidden=4",
            "eval.enabled=false"]
    for data in (str(tmp_path / "series.csv"), Path(tmp_path / "series.csv")):
        run = gf.train("timeseries-gru", data=data, steps=2, overrides=tiny, out=tmp_path / f"r{type(data).__name__}",
                       show_progress=False)
        assert run.config.data["source"] == "timeseries-csv" and run.config.data["path"].endswith("series.csv")
    points = gf.train(data=str(tmp_path / "series.csv"), steps=2, out=tmp_path / "points", show_progress=False,
                      overrides=["eval.enabled=false"])  # no recipe: the file's own default GAN
    assert points.config.data["source"] == "file"
    moons = gf.train("ring8", data="moons", steps=2, out=tmp_path / "moons", show_progress=False,
                     overrides=["eval.enabled=false"])  # a source name is still a source name
    assert moons.config.data["source"] == "moons"


def test_a_runs_repr_is_one_line_and_bad_counts_are_one_line_errors(tmp_path) -> None:
    """repr(run) printed the whole config and summary (2,000-6,000 characters); run.sample(0) and sample(-1) reached
    torch's shape errors, sample("10") a TypeError; evaluate(metrics="w1") iterated the letters of the name."""
    from ganforge.errors import GanforgeError

    run = gf.train(gf.GAN(nn.Linear(1, 1), nn.Sequential(nn.Linear(1, 4), nn.ReLU(), nn.Linear(4, 1)), noise_dim=1),
                   data=gf.data.normal(10, 1), steps=3, out=tmp_path / "r", show_progress=False)
    text = repr(run)
    assert text.startswith("Run(path=") and "step=3" in text and len(text) < 200 and "\n" not in text
    for bad in (0, -1, "10", 2.5):
        with pytest.raises(GanforgeError, match="positive whole number of samples"):
            run.sample(bad)
    with pytest.raises(GanforgeError, match="positive whole number"):
        run.evaluate(n=-5)
    assert "w1" in run.evaluate(n=200, metrics="w1")


def test_steps_and_seed_that_are_not_whole_numbers_are_one_line_errors(tmp_path) -> None:
    from ganforge.errors import GanforgeError

    for kwargs in ({"steps": "abc"}, {"steps": 2.5}, {"seed": "1"}):
        with pytest.raises(GanforgeError, match="give a whole number"):
            gf.train("uniform", out=tmp_path / "never", show_progress=False, **kwargs)
    assert not (tmp_path / "never").exists()
    two = gf.train("uniform", steps=2.0, out=tmp_path / "two", show_progress=False, overrides=["eval.enabled=false"])
    assert two.step == 2  # a whole float (steps=1e4) is a whole number


def test_training_leaves_the_users_discriminator_a_probability_with_the_trained_weights(tmp_path) -> None:
    """gf.GAN(G, D) replaced D's final nn.Sigmoid in the user's own module, so after training the user's
    ``D(x)`` returned logits; now D keeps its sigmoid and shares the very parameters that were trained."""
    torch.manual_seed(0)
    generator = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid())
    discriminator = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid())
    start = [p.detach().clone() for p in discriminator.parameters()]
    gan = gf.GAN(generator, discriminator, noise_dim=5)
    run = gf.train(gan, data=gf.data.uniform(), steps=5, out=tmp_path / "u", show_progress=False)
    assert isinstance(discriminator[-1], nn.Sigmoid)
    scores = discriminator(torch.linspace(-20, 20, 101)[:, None])
    assert scores.min() > 0 and scores.max() < 1
    trained = dict(run.gan.discriminator.named_parameters())
    for (name, p), p0 in zip(discriminator.named_parameters(), start, strict=True):
        assert p is trained[name] and not torch.equal(p, p0)
    assert torch.equal(gf.load(run.path).gan.discriminator.state_dict()["0.weight"], discriminator[0].weight)


def test_a_dataloaders_batch_size_is_the_runs_unless_batch_size_is_given(tmp_path, capsys) -> None:
    """The recipe's train.batch_size silently replaced the loader's batch_size."""
    x = torch.rand(200, 1)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x), batch_size=32, shuffle=True)

    def gan() -> gf.GAN:
        return gf.GAN(nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 1)), nn.Linear(1, 1), noise_dim=5)

    run = gf.train(gan(), data=loader, steps=2, out=tmp_path / "a", show_progress=False)
    assert run.config.train.batch_size == 32
    assert "batch_size" not in capsys.readouterr().err
    run = gf.train(gan(), data=loader, steps=2, out=tmp_path / "b", show_progress=False, batch_size=16)
    assert run.config.train.batch_size == 16
    err = capsys.readouterr().err
    assert err.count("note: training uses train.batch_size=16 as you set it, not the DataLoader's batch_size=32") == 1
    run = gf.train(gan(), data=loader, steps=2, out=tmp_path / "c", show_progress=False,
                   overrides=["train.batch_size=8"])
    assert run.config.train.batch_size == 8 and "train.batch_size=8 as you set it" in capsys.readouterr().err


def test_data_without_a_recipe_trains_the_default_for_its_kind(tmp_path) -> None:
    """gf.train(data=x) with no recipe took the package default, digits-cgan, and failed with "model.conditional:
    data 'array' has no labels to condition on" for points, unlabelled pictures and gf.data.normal(10, 1) alike.
    It now trains the kind's default, as `ganforge train FILE` does: `points` fitted to the rows, or `images`
    (conditional when the data is labelled), a DataFrame as a table; a DataSource made in Python is recorded
    so resume rebuilds it."""
    import numpy as np

    off = ["eval.enabled=false"]
    points = gf.train(data=np.random.default_rng(0).normal(size=(300, 2)), steps=2, out=tmp_path / "p",
                      overrides=off, show_progress=False)
    assert points.config.model["penalties"] == {"r1": {"weight": 0.01, "every": 8}}  # fitted as the points recipe
    assert points.sample(3).shape == (3, 2)
    pictures = np.random.default_rng(0).integers(0, 256, size=(40, 8, 8), dtype=np.uint8)
    images = gf.train(data=pictures, steps=2, out=tmp_path / "i", overrides=off, show_progress=False)
    assert images.config.model["generator"]["type"] == "dcgan" and not images.config.model.get("conditional")
    labelled = torch.utils.data.TensorDataset(torch.as_tensor(pictures), torch.arange(40) % 2)
    conditional = gf.train(data=labelled, steps=2, out=tmp_path / "c", overrides=off, show_progress=False)
    assert conditional.config.model["conditional"] is True and conditional.sample(2, label=1).shape == (2, 1, 8, 8)
    import pandas as pd

    frame = pd.DataFrame({"size": np.arange(40.0) % 7, "kind": ["a", "b"] * 20})
    table = gf.train(data=frame, steps=2, out=tmp_path / "t", show_progress=False)  # a table, as `train table.csv`
    assert isinstance(table.gan, gf.TableGAN) and list(table.sample(rows=3).columns) == ["size", "kind"]
    normal = gf.train(data=gf.data.normal(10, 1), steps=2, out=tmp_path / "n", overrides=off, show_progress=False)
    assert normal.config.data == {"source": "normal", "mean": 10, "std": 1, "dim": 1}
    ring = gf.train(data=gf.data.ring8(modes=4, radius=3.0), steps=2, out=tmp_path / "g", overrides=off,
                    show_progress=False)  # settings a source's info lacks are recorded from the call
    assert ring.config.data == {"source": "ring8", "modes": 4, "radius": 3.0, "std": 0.01, "endpoint": False}
    assert float(gf.resume(ring, steps=4, show_progress=False).real_data().real(200).x.norm(dim=1).mean()) > 2.9
    assert gf.resume(tmp_path / "n", steps=4, show_progress=False).step == 4


def test_data_or_a_stray_value_as_the_first_argument_is_a_one_line_error(tmp_path) -> None:
    """gf.train(x) read the array as a recipe path and raised pathlib's "File name too long"; recipe= went into
    the train section as "unknown config key 'train.recipe'"."""
    import numpy as np

    from ganforge.errors import GanforgeError

    x = np.zeros((10, 2))
    with pytest.raises(GanforgeError, match=r"first argument is the recipe or GAN, got data \(a ndarray\); "
                                            r"gf.train\(data=x\)"):
        gf.train(x, out=tmp_path / "never")
    with pytest.raises(GanforgeError, match="give the data as data="):
        gf.train(torch.zeros(10, 2), x, out=tmp_path / "never")
    with pytest.raises(GanforgeError, match="a recipe name, a YAML path, .* got int '3'"):
        gf.train(3, out=tmp_path / "never")
    with pytest.raises(GanforgeError, match=r"the recipe is the first argument, gf.train\('ring8', data"):
        gf.train(data=x, recipe="ring8", out=tmp_path / "never")
    assert not (tmp_path / "never").exists()


def test_a_run_that_fails_before_its_first_log_leaves_its_folder_as_it_was(tmp_path) -> None:
    """A network that fails at step 1 left config.yaml and data.json behind: the same out= was then refused
    ("already exists ... continue it with resume"), and that resume had nothing to continue."""

    class FailsWhileTraining(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(1, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if torch.is_grad_enabled():
                raise RuntimeError("the user's bug")
            return self.fc(x)

    with pytest.raises(RuntimeError, match="the user's bug"):
        gf.train(gf.GAN(nn.Linear(1, 1), FailsWhileTraining()), data=gf.data.normal(10, 1), steps=5,
                 out=tmp_path / "r", show_progress=False)
    assert not (tmp_path / "r").exists()
    (tmp_path / "kept").mkdir()  # a folder the user made stays, empty
    with pytest.raises(RuntimeError, match="the user's bug"):
        gf.train(gf.GAN(nn.Linear(1, 1), FailsWhileTraining()), data=gf.data.normal(10, 1), steps=5,
                 out=tmp_path / "kept", show_progress=False)
    assert (tmp_path / "kept").is_dir() and not any((tmp_path / "kept").iterdir())
    run = gf.train(gf.GAN(nn.Linear(1, 1), nn.Linear(1, 1)), data=gf.data.normal(10, 1), steps=5,
                   out=tmp_path / "r", show_progress=False)
    assert run.step == 5


def test_python_arguments_of_the_wrong_kind_are_one_line_errors(tmp_path) -> None:
    """gf.train("ring8", 5) gave an IndexError from the data reader, overrides="train.steps=3" was read letter by
    letter, out=123 reached pathlib, resume(steps=12.5) trained to step 12 and resume(run) reached pathlib."""
    from ganforge.errors import GanforgeError

    with pytest.raises(GanforgeError, match=r"second argument is the data, got 5; did you mean steps=5\?"):
        gf.train("ring8", 5)
    with pytest.raises(GanforgeError, match=r"give a list of KEY=VALUE strings, e.g. \['train.steps=3'\]"):
        gf.train("ring8", overrides="train.steps=3", out=tmp_path / "never")
    with pytest.raises(GanforgeError, match=r"give a list of KEY=VALUE"):
        gf.build_config("ring8", "train.steps=3")
    with pytest.raises(GanforgeError, match=r"out=123: give a path"):
        gf.train("ring8", out=123)
    run = gf.train("uniform", steps=2, out=tmp_path / "r", show_progress=False, overrides=["eval.enabled=false"])
    with pytest.raises(GanforgeError, match=r"steps=12.5: give a whole number"):
        gf.resume(run, steps=12.5)
    with pytest.raises(GanforgeError, match=r"evaluate='no'\): give True, False or None"):
        gf.resume(run, steps=4, evaluate="no")
    assert gf.resume(run, steps=4, show_progress=False).step == 4  # a Run names its own folder
    import numpy as np

    assert gf.resume(run, steps=5, evaluate=np.bool_(False), show_progress=False).step == 5  # numpy's False


def test_raising_steps_on_resume_says_the_decay_is_stretched(tmp_path, capsys) -> None:
    """The docs said N steps + resume + N steps equals 2N steps; with a decaying learning rate it does not (the
    first N decayed on an N-step schedule), and nothing said so."""
    from ganforge.api import stretched_schedule_note

    assert stretched_schedule_note(100, 100, "linear") == "" and stretched_schedule_note(100, 200, "none") == ""
    assert stretched_schedule_note(100, 80, "cosine").startswith("note: train.steps shrinks from 100 to 80")
    run = gf.train("ring8", steps=4, out=tmp_path / "r", overrides=["eval.enabled=false"], show_progress=False)
    assert run.config.train.lr_decay == "linear"
    capsys.readouterr()
    gf.resume(run, steps=8)
    assert "train.steps grows from 4 to 8: the linear learning-rate decay" in capsys.readouterr().err


def test_resuming_on_other_data_than_the_run_trained_on_is_refused(tmp_path) -> None:
    """gf.resume(path, gan=..., data=gf.data.normal(0, 5)) continued a run of normal(10, 1) on the other data,
    and an array in its place failed as "training state does not fit this run ('order')"."""
    import numpy as np

    from ganforge.errors import GanforgeError

    gan = gf.GAN(nn.Linear(1, 1), nn.Linear(1, 1), noise_dim=1)
    run = gf.train(gan, data=gf.data.normal(10, 1), steps=2, out=tmp_path / "n", show_progress=False)
    with pytest.raises(GanforgeError, match=r"data= is normal\(mean=0.0, std=5.0, dim=1\), but the run was trained "
                                            r"on normal\(mean=10.0, std=1.0, dim=1\); give that data again"):
        gf.resume(run, steps=4, gan=gan, data=gf.data.normal(0, 5))
    with pytest.raises(GanforgeError, match=r"data= is normal\(mean=10.0, std=1.0, dim=2\)"):
        gf.resume(run, steps=4, gan=gan, data=gf.data.normal(10, 1, dim=2))  # a setting the source's info lacks
    with pytest.raises(GanforgeError, match=r"data= is an array, but the run was trained on normal"):
        gf.resume(run, steps=4, gan=gan, data=np.zeros((50, 1)))
    assert gf.resume(run, steps=4, gan=gan, data=gf.data.normal(10, 1), show_progress=False).step == 4
    rows = np.random.default_rng(0).normal(size=(60, 1))
    on_array = gf.train(gan, data=rows, steps=2, out=tmp_path / "a", show_progress=False)
    with pytest.raises(GanforgeError, match=r"data= differs from the data the run trained on, saved in data.npy"):
        gf.resume(on_array, steps=4, gan=gan, data=rows + 1)
    assert gf.resume(on_array, steps=4, gan=gan, data=rows, show_progress=False).step == 4


def test_a_source_name_or_sequences_with_no_recipe_train_their_kinds_default(tmp_path) -> None:
    """gf.train(data="moons") and gf.train(data=gf.data.sines(...)) fell to digits-cgan's errors ("network 'dcgan'
    is for images", "no labels to condition on"); a stray number as data reached an IndexError."""
    import numpy as np

    from ganforge.errors import GanforgeError

    moons = gf.train(data="moons", steps=2, out=tmp_path / "m", show_progress=False, overrides=["eval.enabled=false"])
    assert moons.config.data["source"] == "moons" and moons.config.model["generator"]["type"] == "mlp"
    sines = gf.train(data=gf.data.sines(n=64), steps=2, out=tmp_path / "s", show_progress=False,
                     overrides=["eval.enabled=false"])
    assert sines.config.data == {"source": "sines", "n": 64, "seq_len": 24, "dim": 5, "seed": 0}
    assert gf.resume(sines, steps=3, show_progress=False).step == 3
    for bad in (np.int64(5), np.array(5.0)):
        with pytest.raises(GanforgeError, match="got the single number 5; give samples"):
            gf.train("points", data=bad, out=tmp_path / "never")
    with pytest.raises(GanforgeError, match=r"the second argument is the data, got 5$"):
        gf.train(data=5, steps=3)
    with pytest.raises(GanforgeError, match="lr_hold holds the rate before a decay"):
        gf.train("normal", out=tmp_path / "never", overrides=["train.lr_decay=none", "train.lr_hold=0.5"])


def test_labelled_points_with_no_recipe_train_a_conditional_gan(tmp_path) -> None:
    """Labelled pictures became conditional but labelled points trained one GAN of all points, so
    run.sample(label=1) said "not a class-conditional run"; a built-in mixture's mode labels stay unused."""
    from sklearn.datasets import make_blobs

    x, y = make_blobs(300, centers=3, random_state=0)
    labelled = torch.utils.data.TensorDataset(torch.tensor(x, dtype=torch.float32), torch.tensor(y))
    off = ["eval.enabled=false"]
    run = gf.train(data=labelled, steps=2, out=tmp_path / "c", overrides=off, show_progress=False)
    assert run.config.model["conditional"] is True and run.sample(4, label=2).shape == (4, 2)
    plain = gf.train(data=labelled, steps=2, out=tmp_path / "p", show_progress=False,
                     overrides=[*off, "model.conditional=false"])
    assert plain.config.model["conditional"] is False
    ring = gf.train(data=gf.data.ring8(), steps=2, out=tmp_path / "r", overrides=off, show_progress=False)
    assert not ring.config.model.get("conditional")
