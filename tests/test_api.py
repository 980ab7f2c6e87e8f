"""The Python API with networks written the way the course notes write them."""

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
