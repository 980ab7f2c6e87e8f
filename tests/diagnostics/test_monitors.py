"""Monitors fire on constructed failing runs and stay silent on healthy ones."""

import math
from types import SimpleNamespace

import torch
from torch import nn

from ganforge.data.base import Batch, DataSource
from ganforge.data.scaling import Scaler
from ganforge.data.toy import grid25
from ganforge.diagnostics.monitors import (
    DuplicateMonitor,
    FeatureDiversityMonitor,
    InstabilityMonitor,
    ModeCoverageMonitor,
    VanishingGradientMonitor,
    default_monitors,
    feature_diversity,
)
from ganforge.objectives import get_objective


class FakeGAN(nn.Module):
    """Stands in for a GAN: ``sample(n)`` returns what ``make(n)`` gives (in model units)."""

    def __init__(self, make, objective: str = "nonsaturating") -> None:  # noqa: ANN001
        super().__init__()
        self.generator = nn.Linear(2, 2)
        self.discriminator = nn.Linear(2, 1)
        self.make = make
        self.objective = get_objective(objective)

    def sample(self, n: int) -> torch.Tensor:
        return self.make(n)


def _trainer(gan: nn.Module, source: DataSource | None = None, steps: int = 1000) -> SimpleNamespace:
    source = source or grid25()
    source.fit_scaler("linear")
    return SimpleNamespace(gan=gan, source=source, train_cfg=SimpleNamespace(steps=steps))


def _feed(monitor, trainer, records):  # noqa: ANN001, ANN202
    found = []
    for record in records:
        extra = monitor.on_log(trainer, record) or {}
        found += extra.get("findings", [])
    return found


def _real_sampler(source: DataSource):  # noqa: ANN202
    counter = iter(range(10**6))
    return lambda n: source.scaler.to_model(source.real(n, seed=next(counter)).x)


# --- vanishing gradients ---------------------------------------------------------------------------------
def _vanishing_records(norms, d_fake):  # noqa: ANN001, ANN202
    pairs = enumerate(zip(norms, d_fake, strict=True))
    return [{"step": 50 * (i + 1), "grad_norm_g": n, "d_fake": d} for i, (n, d) in pairs]


def test_vanishing_gradient_monitor_fires_on_minimax_with_a_winning_discriminator() -> None:
    trainer = _trainer(FakeGAN(lambda n: torch.zeros(n, 2), "minimax"))
    records = _vanishing_records([1.0, 0.5, 1e-3, 1e-4, 1e-4, 1e-5], [0.3, 0.1, 0.01, 0.001, 0.001, 0.001])
    found = _feed(VanishingGradientMonitor(), trainer, records)
    assert len(found) == 1 and found[0]["kind"] == "vanishing_gradients"
    assert "nonsaturating" in found[0]["remedy"] and found[0]["step"] == 250


def test_vanishing_gradient_monitor_silent_when_gradient_stays_strong() -> None:
    trainer = _trainer(FakeGAN(lambda n: torch.zeros(n, 2), "nonsaturating"))
    records = _vanishing_records([1.0, 2.0, 3.0, 3.5, 4.0, 4.2], [0.3, 0.1, 0.01, 0.001, 0.001, 0.001])
    assert _feed(VanishingGradientMonitor(), trainer, records) == []
    wasserstein = _trainer(FakeGAN(lambda n: torch.zeros(n, 2), "wasserstein"))
    assert _feed(VanishingGradientMonitor(), wasserstein, _vanishing_records([1, 1e-6, 1e-6, 1e-6], [0] * 4)) == []


# --- mode coverage -----------------------------------------------------------------------------------------
def test_mode_monitor_fires_on_collapse_and_reports_the_histogram() -> None:
    source = grid25()
    source.fit_scaler("linear")
    means = source.mixture.means[:3]
    collapsed = FakeGAN(lambda n: source.scaler.to_model(means[torch.arange(n) % 3] + 0.01 * torch.randn(n, 2)))
    trainer = _trainer(collapsed, source)
    monitor = ModeCoverageMonitor(every=100, n=600, warmup=0.3)
    records = [{"step": s} for s in range(100, 1001, 100)]
    found = _feed(monitor, trainer, records)
    assert len(found) == 1 and "3/25 modes" in found[0]["message"]
    assert found[0]["step"] == 400  # first two checks after the warm-up (patience 2)
    assert records[-1]["modes/histogram"][:3] == [200, 200, 200]


def test_mode_monitor_silent_on_real_samples() -> None:
    source = grid25()
    trainer = _trainer(FakeGAN(_real_sampler(source)), source)
    assert _feed(ModeCoverageMonitor(every=100, n=2500), trainer, [{"step": s} for s in range(100, 1001, 100)]) == []


# --- instability -------------------------------------------------------------------------------------------
def _healthy_records(n: int = 60, seed: int = 0) -> list[dict]:
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n):
        noise = torch.randn(4, generator=g)
        out.append({
            "step": 50 * (i + 1),
            "loss_d": 1.30 + 0.05 * float(noise[0]),
            "loss_g": 0.80 + 0.10 * float(noise[1]),
            "grad_norm_d": 0.8 * math.exp(0.3 * float(noise[2])),
            "grad_norm_g": 0.3 * math.exp(0.3 * float(noise[3])),
        })
    return out


def test_instability_monitor_silent_on_healthy_training() -> None:
    trainer = _trainer(FakeGAN(lambda n: torch.zeros(n, 2)), steps=3000)
    assert _feed(InstabilityMonitor(), trainer, _healthy_records()) == []


def _causes(found) -> set[str]:  # noqa: ANN001
    return {f["message"].split("(")[1].split(")")[0] for f in found}


def test_instability_monitor_fires_on_exploding_gradients_then_resolves() -> None:
    trainer = _trainer(FakeGAN(lambda n: torch.zeros(n, 2)), steps=3000)
    records = _healthy_records()
    for r in records[30:33]:
        r["grad_norm_d"] *= 1e4
    monitor = InstabilityMonitor()
    found = _feed(monitor, trainer, records[:33])
    assert _causes(found) == {"exploding_gradients"} and found[0]["step"] == records[31]["step"]
    extra = monitor.on_log(trainer, records[34])
    assert extra and extra["resolved"][0]["kind"] == "instability:exploding_gradients"


def test_instability_monitor_fires_on_oscillating_and_diverging_losses() -> None:
    trainer = _trainer(FakeGAN(lambda n: torch.zeros(n, 2)), steps=3000)
    records = _healthy_records()
    for i, r in enumerate(records[30:], start=30):
        r["loss_d"] = 0.05 if i % 2 else 4.0  # D alternately wins and loses outright
    assert _causes(_feed(InstabilityMonitor(), trainer, records)) == {"oscillating_losses"}
    records = _healthy_records()
    for i, r in enumerate(records[20:], start=20):
        r["loss_g"] = 0.8 * 1.15 ** (i - 19)  # G's loss runs away
    assert "diverging_losses" in _causes(_feed(InstabilityMonitor(), trainer, records))


def test_instability_monitor_fires_on_exploding_weights_and_non_finite_values() -> None:
    gan = FakeGAN(lambda n: torch.zeros(n, 2))
    trainer = _trainer(gan, steps=3000)
    monitor = InstabilityMonitor()
    records = _healthy_records(10)
    _feed(monitor, trainer, records[:5])
    with torch.no_grad():
        gan.discriminator.weight.mul_(50)
        gan.discriminator.bias.mul_(50)
    found = _feed(monitor, trainer, records[5:8])
    assert _causes(found) == {"exploding_weights"} and "discriminator" in found[0]["message"]
    found = _feed(monitor, trainer, [{**records[8], "gp": float("nan")}])
    assert _causes(found) == {"non_finite"} and "gp" in found[0]["message"]


def test_undefined_measurements_are_not_instability() -> None:
    """A short healthy run that covers no mode yet logs ``modes/kl`` = NaN (KL of an empty histogram is
    undefined); that said "instability (non_finite)" before. A NaN loss still does."""
    trainer = _trainer(FakeGAN(lambda n: torch.zeros(n, 2)), steps=3000)
    records = [{**r, "modes/kl": float("nan"), "modes/modes": 0.0} for r in _healthy_records(10)]
    assert _feed(InstabilityMonitor(), trainer, records) == []
    found = _feed(InstabilityMonitor(), trainer, [{**records[0], "loss_d": float("nan")}])
    assert _causes(found) == {"non_finite"} and "loss_d" in found[0]["message"] and "kl" not in found[0]["message"]


def test_instability_state_round_trips() -> None:
    trainer = _trainer(FakeGAN(lambda n: torch.zeros(n, 2)), steps=3000)
    a, b = InstabilityMonitor(), InstabilityMonitor()
    records = _healthy_records()
    for r in records[30:]:
        r["grad_norm_g"] *= 1e4
    _feed(a, trainer, records[:31])
    b.load_state_dict(a.state_dict())
    assert _feed(a, trainer, records[31:33]) == _feed(b, trainer, records[31:33]) != []


# --- duplicates and diversity ----------------------------------------------------------------------------
def test_duplicate_monitor_fires_on_repeated_samples_only() -> None:
    source = grid25()
    source.fit_scaler("linear")
    few = source.scaler.to_model(source.real(10, seed=1).x)
    repeated = FakeGAN(lambda n: few[torch.arange(n) % 10])
    records = [{"step": s} for s in (500, 1000)]
    found = _feed(DuplicateMonitor(warmup=0.0), _trainer(repeated, source), records)
    assert len(found) == 1 and found[0]["kind"] == "duplicates" and records[-1]["duplicates"] > 0.9
    healthy = _feed(DuplicateMonitor(warmup=0.0), _trainer(FakeGAN(_real_sampler(source)), source),
                    [{"step": s} for s in (500, 1000)])
    assert healthy == []


def blob_images(n: int, seed: int) -> torch.Tensor:
    """(n, 1, 8, 8) images of one Gaussian blob at a random place: varied, cheap, in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randint(1, 7, (n, 2), generator=g)
    ys, xs = torch.meshgrid(torch.arange(8), torch.arange(8), indexing="ij")
    d2 = (ys[None] - centres[:, :1, None]) ** 2 + (xs[None] - centres[:, 1:, None]) ** 2
    return torch.exp(-d2.float() / 3.0).unsqueeze(1)


def _image_trainer(gan: nn.Module) -> SimpleNamespace:
    source = SimpleNamespace(
        sample_shape=(1, 8, 8), scaler=Scaler.identity(), real=lambda n, seed=0: Batch(blob_images(n, seed))
    )
    return SimpleNamespace(gan=gan, source=source, train_cfg=SimpleNamespace(steps=1000))


def test_diversity_monitor_fires_when_images_collapse() -> None:
    one = blob_images(1, seed=5)
    trainer = _image_trainer(FakeGAN(lambda n: one.repeat(n, 1, 1, 1) + 0.01 * torch.randn(n, 1, 8, 8)))
    records = [{"step": s} for s in (500, 1000)]
    found = _feed(FeatureDiversityMonitor(n=64, warmup=0.0), trainer, records)
    assert len(found) == 1 and found[0]["kind"] == "low_diversity" and records[-1]["diversity"] < 0.3


def test_diversity_monitor_silent_on_real_images_and_skips_points() -> None:
    counter = iter(range(100))
    trainer = _image_trainer(FakeGAN(lambda n: blob_images(n, seed=100 + next(counter))))
    records = [{"step": s} for s in (500, 1000)]
    assert _feed(FeatureDiversityMonitor(n=64, warmup=0.0), trainer, records) == []
    assert 0.8 < records[-1]["diversity"] < 1.25
    points = _trainer(FakeGAN(lambda n: torch.zeros(n, 2)))
    assert FeatureDiversityMonitor().on_log(points, {"step": 500}) is None


def test_feature_diversity_is_mean_pairwise_distance() -> None:
    f = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    assert feature_diversity(f) == 5.0


def test_findings_of_two_monitors_in_one_record_are_merged() -> None:
    trainer = _trainer(FakeGAN(lambda n: torch.zeros(n, 2), "minimax"), steps=3000)
    record = {"step": 50, "findings": [{"kind": "earlier"}], "grad_norm_g": 1.0, "d_fake": 0.5}
    monitor = VanishingGradientMonitor(patience=1)
    monitor.on_log(trainer, record)
    record.update(monitor.on_log(trainer, {**record, "step": 100, "grad_norm_g": 1e-6, "d_fake": 0.001}) or {})
    assert [f["kind"] for f in record["findings"]] == ["earlier", "vanishing_gradients"]


def test_default_monitors_lists_all_and_can_turn_one_off() -> None:
    kinds = {type(m).__name__ for m in default_monitors({})}
    assert {"InstabilityMonitor", "DuplicateMonitor", "FeatureDiversityMonitor"} <= kinds
    assert "DuplicateMonitor" not in {type(m).__name__ for m in default_monitors({"duplicates": False})}


# --- audit fixes: absolute BCE bound, step-0 weights, healthy peak, off-data samples, runnable remedies ------
def test_a_bce_discriminator_loss_far_above_its_sane_range_is_instability_from_the_first_log() -> None:
    """ring8 with lr 1.0 logged loss_d = 7e3 at step 100 and got no instability finding (the relative checks
    need a history); a BCE J_D above 10 means D is confidently wrong and is reported at once."""
    records = _healthy_records(3)
    records[0]["loss_d"] = 7.0e3
    found = _feed(InstabilityMonitor(), _trainer(FakeGAN(lambda n: torch.zeros(n, 2)), steps=900), records)
    assert _causes(found) == {"confidently_wrong_d"} and found[0]["step"] == records[0]["step"]
    assert "train.optimizer.lr" in found[0]["remedy"]
    suffixed = [{**r, "loss_d_16": 25.0} for r in _healthy_records(2)]  # one of several discriminators
    assert _causes(_feed(InstabilityMonitor(), _trainer(FakeGAN(lambda n: torch.zeros(n, 2))), suffixed)) == {
        "confidently_wrong_d"
    }
    # a critic's loss has no such scale, and a healthy BCE D (up to ~2 in shipped recipes) stays silent
    wgan = _trainer(FakeGAN(lambda n: torch.zeros(n, 2), "wasserstein"), steps=900)
    assert _feed(InstabilityMonitor(), wgan, [{**r, "loss_d": 7.0e3} for r in _healthy_records(3)]) == []
    sane = [{**r, "loss_d": 2.4} for r in _healthy_records(3)]
    assert _feed(InstabilityMonitor(), _trainer(FakeGAN(lambda n: torch.zeros(n, 2))), sane) == []


def _grow_weights(gan: nn.Module, factor: float) -> None:
    with torch.no_grad():
        for p in gan.discriminator.parameters():
            p.mul_(factor)


def test_exploding_weights_compare_with_step_0_not_the_first_check() -> None:
    """With lr 1.0 the weights were 19-33x their initial norm by the first log, which became the baseline."""
    gan = FakeGAN(lambda n: torch.zeros(n, 2))
    trainer = _trainer(gan, steps=900)
    monitor = InstabilityMonitor()
    monitor.on_start(trainer)  # step 0
    _grow_weights(gan, 20.0)  # already grown when the first record is logged
    found = _feed(monitor, trainer, _healthy_records(2))
    assert _causes(found) == {"exploding_weights"} and "20x its norm at step 0" in found[0]["message"]


def test_exploding_weights_reuse_the_guards_step_0_norms() -> None:
    from ganforge.training.guard import weight_norms

    gan = FakeGAN(lambda n: torch.zeros(n, 2))
    params = {"discriminator": list(gan.discriminator.parameters()), "generator": list(gan.generator.parameters())}
    trainer = _trainer(gan, steps=900)
    trainer.guard = SimpleNamespace(weight_norm0=weight_norms(params))
    trainer._params = params
    _grow_weights(gan, 30.0)
    found = _feed(InstabilityMonitor(), trainer, _healthy_records(2))  # never started: the guard's baseline
    assert _causes(found) == {"exploding_weights"} and "discriminator" in found[0]["message"]


def test_a_gradient_peak_from_a_blow_up_does_not_make_later_norms_vanish() -> None:
    """After a blow-up, G's norm 0.9 against a 'peak' of 9.5e4 set by the blow-up was reported as vanishing
    gradients with the remedy to weaken D; norms logged while instability holds are left out of the peak."""
    gan = FakeGAN(lambda n: torch.zeros(n, 2))
    vanishing, instability = VanishingGradientMonitor(), InstabilityMonitor()
    trainer = _trainer(gan, steps=3000)
    trainer.callbacks = [vanishing, instability]
    records = _healthy_records(20)
    for r in records:
        r.update(grad_norm_g=1.0, d_fake=0.3)
    for r in records[5:8]:  # blow-up
        r.update(loss_d=5e4, grad_norm_d=6.8e5, grad_norm_g=9.5e4, d_fake=0.01)
    for r in records[8:]:  # D wins afterwards, G's gradient as large as it was when healthy
        r.update(grad_norm_g=0.9, d_fake=0.01)
    found = []
    for r in records:
        for monitor in trainer.callbacks:
            found += (monitor.on_log(trainer, r) or {}).get("findings", [])
    assert "vanishing_gradients" not in {f["kind"] for f in found}
    assert "confidently_wrong_d" in _causes([f for f in found if f["kind"] == "instability"])
    # a real collapse after the blow-up is still found, against the healthy peak
    for r in records[14:]:
        r["grad_norm_g"] = 1e-3
    vanishing, instability = VanishingGradientMonitor(), InstabilityMonitor()
    trainer.callbacks = [vanishing, instability]
    found = []
    for r in records:
        for monitor in trainer.callbacks:
            found += (monitor.on_log(trainer, r) or {}).get("findings", [])
    late = [f for f in found if f["kind"] == "vanishing_gradients"]
    assert len(late) == 1 and "healthy peak 1.00e+00" in late[0]["message"]


def test_samples_off_the_data_are_not_reported_as_mode_collapse() -> None:
    """grid25-wgangp at 3000 steps: 19 % high-quality samples, 23/25 modes -> 'mode collapse' with the remedy
    to use WGAN-GP; it is samples not yet on the data."""
    source = grid25()
    source.fit_scaler("linear")
    means = source.mixture.means

    def off_data(n: int) -> torch.Tensor:  # 20 % on 20 modes, the rest between modes
        on = means[torch.arange(n) % 20] + 0.01 * torch.randn(n, 2)
        between = means[torch.arange(n) % 25] + 0.5 * (means[1] - means[0]) * torch.tensor([1.0, 1.0])
        keep = (torch.arange(n) % 5 == 0).unsqueeze(1)
        return source.scaler.to_model(torch.where(keep, on, between))

    found = _feed(ModeCoverageMonitor(every=100, n=1000, warmup=0.0), _trainer(FakeGAN(off_data), source),
                  [{"step": s} for s in (100, 200)])
    assert len(found) == 1 and found[0]["message"].startswith("samples not yet on the data")
    assert "within 3 std of a mode" in found[0]["message"] and "train longer" in found[0]["remedy"]
    assert "WGAN" not in found[0]["remedy"]


def test_mode_collapse_lists_only_modes_that_hold_samples() -> None:
    source = grid25()
    source.fit_scaler("linear")
    two = source.mixture.means[[4, 7]]
    collapsed = FakeGAN(lambda n: source.scaler.to_model(two[torch.arange(n) % 2] + 0.01 * torch.randn(n, 2)))
    found = _feed(ModeCoverageMonitor(every=100, n=600, warmup=0.0), _trainer(collapsed, source),
                  [{"step": s} for s in (100, 200)])
    assert len(found) == 1 and "modes 4, 7 hold 100%" in found[0]["message"]  # not "modes 4, 7, 0"
    assert "within 3 std of a mode" in found[0]["message"]


def test_every_remedy_names_config_keys_that_a_recipe_accepts() -> None:
    """Remedies are written as ``--set KEY=VALUE`` a user can paste ("pack: 4", "spectral_norm on D" were not)."""
    import re
    from pathlib import Path

    import ganforge.diagnostics.monitors as monitors
    from ganforge.config import apply_overrides, parse_config
    from ganforge.recipes import load_recipe

    text = Path(monitors.__file__).read_text()
    settings = {s.rstrip(",") for s in re.findall(r"--set '?([a-z0-9_.]+=[^\s)';\"]+)", text)}
    keys = {s.split("=")[0] for s in settings}
    assert {"model.pack", "model.objective", "model.penalties.r1.weight", "model.discriminator.spectral_norm",
            "model.discriminator.minibatch_std", "train.optimizer.lr"} <= keys
    for setting in settings:
        key, _, value = setting.partition("=")
        value = {"...": "2"}.get(value, value)
        recipe = "ring8-wgan" if "gp" in key else "digits-dcgan" if "augment" in key else "ring8"
        parse_config(apply_overrides(load_recipe(recipe), [f"{key}={value}"]), recipe)
    assert not re.search(r"pack: \d|use objective:|spectral_norm on D|\bminibatch_std in D", text)
