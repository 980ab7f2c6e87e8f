"""EMA warm-up and the end-of-run choice between the EMA and the raw generator (issue 16)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import ganforge as gf
from ganforge.evaluation.ema_choice import choose_sampling_generator, sliced_w1
from ganforge.gans.base import EMA_RAMPUP


def test_ema_decay_ramps_with_the_step() -> None:
    gan = gf.GAN(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1), noise_dim=2)
    gan.enable_ema(0.999)
    assert gan.current_ema_decay() == 0.999  # outside the trainer: the configured decay
    gan.ema_step = 0
    assert gan.current_ema_decay() < 1e-5  # the first update copies the generator
    gan.ema_step = 599
    half_life = EMA_RAMPUP * 600
    assert gan.current_ema_decay() == pytest.approx(0.5 ** (1 / half_life))
    gan.ema_step = 100_000
    assert gan.current_ema_decay() == 0.999


def test_sliced_w1_is_zero_for_equal_samples_and_grows_with_a_shift() -> None:
    x = torch.randn(500, 3, generator=torch.Generator().manual_seed(0))
    assert sliced_w1(x, x) == 0.0
    assert sliced_w1(x, x + 1.0) > sliced_w1(x, x + 0.1) > 0


@pytest.fixture(scope="module")
def short_ema_run(tmp_path_factory: pytest.TempPathFactory) -> gf.Run:
    out = tmp_path_factory.mktemp("ema") / "run"
    return gf.train("ring8", steps=600, out=out, show_progress=False, overrides=["train.ema=0.999"])


def test_short_run_with_slow_ema_does_not_sample_its_random_start(short_ema_run: gf.Run) -> None:
    choice = short_ema_run.summary["sampling_generator"]
    assert choice["used"] in ("ema", "raw") and choice["n"] == 2000
    # without the warm-up the EMA held 0.999 ** 600 = 55 % of its random start; now it tracks G
    assert choice["ema"] <= 1.5 * choice["raw"], choice
    x = gf.load(short_ema_run.path).sample(2500)
    radius = x.norm(dim=1)
    assert ((radius - 1.0).abs() < 0.15).float().mean() > 0.5  # on the ring, not a square of noise


def test_an_ema_worse_than_the_raw_generator_is_not_used(short_ema_run: gf.Run, tmp_path: Path) -> None:
    run = gf.load(short_ema_run.path)
    with torch.no_grad():
        for p in run.gan.ema_generator.parameters():
            p.normal_(0, 1)
    choice = choose_sampling_generator(run.gan, run.real_data())
    assert choice is not None and choice["used"] == "raw" and choice["ema"] > choice["raw"]
    assert run.gan.sampling_generator() is run.gan.generator
    summary_path = Path(short_ema_run.path) / "summary.json"
    summary = json.loads(summary_path.read_text())
    summary["sampling_generator"] = choice
    summary_path.write_text(json.dumps(summary))
    loaded = gf.load(short_ema_run.path)
    assert loaded.gan.sampling_generator() is loaded.gan.generator


def test_a_generator_never_updated_is_not_sampled_twice_to_compare_it_with_its_copy(monkeypatch) -> None:
    from torch import nn

    from ganforge.data.toy import ring8
    from ganforge.evaluation import ema_choice
    from ganforge.gans.vanilla import GAN

    source = ring8()
    gan = GAN(nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2)),
              nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1)), noise_dim=2)
    gan.enable_ema(0.999)  # a copy of the generator, as at step 0
    source.fit_scaler(gan.output_activation)

    def no_sampling(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("identical weights score the same; nothing should be sampled")

    monkeypatch.setattr(gan, "sample", no_sampling)
    record = ema_choice.choose_sampling_generator(gan, source)
    assert record is not None and record["used"] == "ema" and gan.sample_with_ema
    with torch.no_grad():
        next(iter(gan.generator.parameters())).add_(0.1)  # one update apart: they are compared again
    monkeypatch.undo()
    assert set(ema_choice.choose_sampling_generator(gan, source)) >= {"ema", "raw"}
