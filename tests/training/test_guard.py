"""The divergence guard: a NaN injected at a chosen step is caught within that step; the run rolls back
and recovers with a lower learning rate, or stops with one clear line; the last good checkpoint is intact."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch import nn

import ganforge as gf
from ganforge.config import GuardConfig
from ganforge.errors import GanforgeError
from ganforge.training import metrics_log
from ganforge.training.checkpoint import latest_checkpoint, list_checkpoints, load_checkpoint
from ganforge.training.guard import DivergenceGuard, NonFiniteStep, TrainingDiverged

NAN = float("nan")


@pytest.fixture(autouse=True)
def _no_final_report(monkeypatch: pytest.MonkeyPatch) -> None:
    import ganforge.report.summary as summary

    def finish(trainer, path, seconds, **_):  # noqa: ANN001, ANN003, ANN202, ARG001
        return SimpleNamespace(path=path, step=trainer.step, summary=trainer.finish(), trainer=trainer)

    monkeypatch.setattr(summary, "finish_run", finish)


def _gan(seed: int = 0) -> gf.GAN:
    torch.manual_seed(seed)
    g = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
    d = nn.Sequential(nn.Linear(1, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    return gf.GAN(g, d, noise_dim=2)


def _inject_loss(gan: gf.GAN, phase_name: str, at_step: int, times: int) -> list[int]:
    """Make ``phase_name``'s loss NaN at 0-based step ``at_step``, the first ``times`` times it runs."""
    original, left, seen = gan.phase_loss, [times], []

    def phase_loss(phase, batch, repeat):  # noqa: ANN001, ANN202
        loss, logs = original(phase, batch, repeat)
        if phase.name == phase_name:
            seen.append(gan._step)
            if gan._step == at_step and left[0] > 0:
                left[0] -= 1
                loss = loss * NAN
        return loss, logs

    gan.phase_loss = phase_loss
    return seen


def _train(gan: gf.GAN, out: Path, steps: int = 20, sets: tuple[str, ...] = (), **settings) -> SimpleNamespace:
    settings = {"checkpoint_every": 5, "log_every": 1, "batch_size": 16, **settings}
    # a constant lr of 2e-4 (the guard's arithmetic is checked on it), not the defaults fitted to small models
    pinned = ["train.optimizer.lr=0.0002", "train.lr_decay=none"]
    return gf.train(
        gan, data=gf.data.normal(10, 1), steps=steps, out=out, show_progress=False, overrides=[*pinned, *sets],
        **settings,
    )


def _weights(run: Path, step: int | None = None) -> dict[str, torch.Tensor]:
    info = latest_checkpoint(run) if step is None else next(c for c in list_checkpoints(run) if c.step == step)
    return load_checkpoint(info.path)[0]["model"]


def _all_finite(record: dict) -> bool:
    return all(math.isfinite(v) for v in record.values() if isinstance(v, float))


def test_nan_loss_is_caught_in_its_step_and_the_run_recovers_from_the_last_checkpoint(tmp_path: Path) -> None:
    gan = _gan()
    _inject_loss(gan, "discriminator", at_step=13, times=1)
    result = _train(gan, tmp_path / "run")

    assert result.step == 20
    events = result.summary["guard"]["events"]
    assert events == [
        {"step": 14, "what": "the discriminator loss", "rolled_back_to": 10, "attempt": 1, "lr_scale": 0.5}
    ]
    records = metrics_log.read(tmp_path / "run" / "metrics.jsonl")
    assert [r["step"] for r in records] == list(range(1, 21))  # no step twice, none missing
    assert all(_all_finite(r) for r in records)
    assert {r["lr"]["generator"] for r in records if r["step"] <= 10} == {2e-4}
    assert {r["lr"]["generator"] for r in records if r["step"] > 10} == {1e-4}
    assert all(torch.isfinite(t).all() for t in _weights(tmp_path / "run").values())
    state, _ = load_checkpoint(latest_checkpoint(tmp_path / "run").path)
    assert state["guard"]["events"] == events and state["guard"]["lr_scale"] == 0.5


def test_rollback_before_the_first_checkpoint_equals_a_run_started_at_the_lower_rate(tmp_path: Path) -> None:
    """Rolled back to the in-memory start state with lr halved == a fresh run at half the lr, bit for bit."""
    gan = _gan()
    _inject_loss(gan, "generator", at_step=2, times=1)
    _train(gan, tmp_path / "guarded", steps=8, checkpoint_every=100, sets=("train.optimizer.lr=0.001",))
    _train(_gan(), tmp_path / "clean", steps=8, checkpoint_every=100, sets=("train.optimizer.lr=0.0005",))
    a, b = _weights(tmp_path / "guarded"), _weights(tmp_path / "clean")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    strip = lambda rs: [{k: v for k, v in r.items() if k != "time"} for r in rs]  # noqa: E731
    assert strip(metrics_log.read(tmp_path / "guarded" / "metrics.jsonl")) == strip(
        metrics_log.read(tmp_path / "clean" / "metrics.jsonl")
    )


@pytest.mark.parametrize("log_every", [1, 100])
def test_nan_gradient_with_a_finite_loss_is_caught(tmp_path: Path, log_every: int) -> None:
    """Caught in its own step whether or not the step logs (gradient norms are only computed when logging)."""
    gan = _gan()
    hits = [0]

    def poison(grad: torch.Tensor) -> torch.Tensor:
        if gan._step == 7 and hits[0] == 0:
            hits[0] += 1
            return grad * NAN
        return grad

    gan.generator[0].weight.register_hook(poison)
    result = _train(gan, tmp_path / "run", steps=12, log_every=log_every)
    (event,) = result.summary["guard"]["events"]
    assert event["what"] == "the generator gradient" and event["step"] == 8 and event["rolled_back_to"] == 5
    assert all(torch.isfinite(t).all() for t in _weights(tmp_path / "run").values())


def test_persistent_nan_stops_after_k_retries_with_the_last_good_checkpoint_intact(tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    _train(_gan(), reference, steps=10)

    gan = _gan()
    seen = _inject_loss(gan, "discriminator", at_step=13, times=10**9)
    with pytest.raises(TrainingDiverged) as err:
        _train(gan, tmp_path / "run", sets=("train.guard.retries=2", "train.guard.lr_factor=0.1"))
    message = str(err.value)
    assert "\n" not in message and isinstance(err.value, GanforgeError)
    assert message.startswith("training diverged at step 14: the discriminator loss is not finite")
    assert "2 rollback(s) with learning rates x0.1 each did not help" in message
    assert "the last good checkpoint (step 10) is intact" in message
    assert seen.count(13) == 3  # the first try and two retries, each caught in step 14 itself

    run = tmp_path / "run"
    assert [c.step for c in list_checkpoints(run)] == [5, 10]  # all pass their sha256 check
    good, ref = _weights(run, 5), _weights(reference, 5)
    assert all(torch.equal(good[k], ref[k]) for k in ref)  # untouched by the retries
    # the second retry went back to step 5 and rewrote step 10 at lr x0.01: finite, complete, and marked so
    state, _ = load_checkpoint(next(c for c in list_checkpoints(run) if c.step == 10).path)
    assert all(torch.isfinite(t).all() for t in state["model"].values())
    assert state["guard"]["lr_scale"] == pytest.approx(0.01)
    records = metrics_log.read(run / "metrics.jsonl")
    assert max(r["step"] for r in records) == 13 and all(_all_finite(r) for r in records)
    assert [r["step"] for r in records] == sorted({r["step"] for r in records})


def test_zero_retries_stops_at_once(tmp_path: Path) -> None:
    gan = _gan()
    seen = _inject_loss(gan, "generator", at_step=3, times=1)
    with pytest.raises(TrainingDiverged, match=r"^training diverged at step 4: the generator loss is not finite; no "):
        _train(gan, tmp_path / "run", sets=("train.guard.retries=0",))
    assert seen.count(3) == 1 and list_checkpoints(tmp_path / "run") == []
    assert "rollback" not in str(metrics_log.read(tmp_path / "run" / "metrics.jsonl"))


def test_a_real_divergence_is_rescued_by_rolling_back_further_at_a_lower_learning_rate(tmp_path: Path) -> None:
    """No injection: plain SGD at lr 20 blows up over several steps. Its weights are still finite at step 5
    but already thousands of times their initial norm: the finite blow-up check catches that before the
    poisoned checkpoint is written (before that check existed, the checkpoint of step 5 was written, the
    retry from it failed again and a second rollback was needed), the guard goes back to the start, and
    lr 20 x 0.01 trains on."""
    sets = ("train.optimizer.name=sgd", "train.optimizer.lr=20", "train.guard.lr_factor=0.01")
    result = _train(_gan(), tmp_path / "run", steps=30, sets=sets)
    events = result.summary["guard"]["events"]
    assert [(e["rolled_back_to"], e["attempt"], e["step"]) for e in events] == [(0, 1, 5)]
    assert "weights" in events[0]["what"] and events[-1]["lr_scale"] == pytest.approx(1e-2)
    records = metrics_log.read(tmp_path / "run" / "metrics.jsonl")
    assert records[0]["lr"]["generator"] == pytest.approx(20 * 1e-2)
    assert [r["step"] for r in records] == list(range(1, 31)) and all(_all_finite(r) for r in records)


# --- the guard object on its own ---------------------------------------------------------------------------


def _optimizer_with_grad(value: float) -> torch.optim.Optimizer:
    p = nn.Parameter(torch.ones(3))
    p.grad = torch.full((3,), value)
    return torch.optim.SGD([p], lr=0.1)


@pytest.mark.parametrize(
    ("loss", "grad", "what"),
    [
        (NAN, 1.0, "the d loss"),
        (math.inf, 1.0, "the d loss"),
        (1.0, NAN, "the d gradient"),
        (1.0, -math.inf, "the d gradient"),
    ],
)
@pytest.mark.parametrize("want_norm", [False, True])
def test_check_names_the_first_non_finite_value(loss: float, grad: float, what: str, want_norm: bool) -> None:
    """Every step checks gradients (a fused flag, no norm); the norm is only computed when asked for."""
    guard = DivergenceGuard(GuardConfig())
    norm = guard.watch("d", torch.tensor(loss), _optimizer_with_grad(grad), want_norm=want_norm)
    assert (norm is not None) == want_norm
    if want_norm:
        assert norm.isfinite() == math.isfinite(grad)
    with pytest.raises(NonFiniteStep) as err:
        guard.check(4)
    assert err.value.step == 4 and err.value.what == what
    guard.check(5)  # the watched values were consumed: a clean step passes


def test_check_names_the_first_failure_in_the_order_the_phases_ran() -> None:
    guard = DivergenceGuard(GuardConfig())
    guard.watch("discriminator", torch.tensor(1.0), _optimizer_with_grad(math.inf))
    guard.watch("generator", torch.tensor(NAN), _optimizer_with_grad(NAN))
    with pytest.raises(NonFiniteStep, match="the discriminator gradient"):
        guard.check(0)
    guard.watch("discriminator", torch.tensor(1.0), _optimizer_with_grad(1.0))
    guard.watch("generator", torch.tensor(2.0), _optimizer_with_grad(NAN))
    with pytest.raises(NonFiniteStep, match="the generator gradient"):
        guard.check(1)


def test_the_gradient_check_leaves_every_gradient_bit_for_bit_unchanged() -> None:
    opt = _optimizer_with_grad(1.0)
    (p,) = opt.param_groups[0]["params"]
    p.grad = torch.tensor([-0.0, 1e-45, 3e18])  # signed zero, a subnormal, a large gradient whose norm is finite
    before, version = p.grad.clone(), p.grad._version
    guard = DivergenceGuard(GuardConfig())
    norm = guard.watch("d", torch.tensor(1.0), opt, want_norm=True)
    guard.check(0)
    assert p.grad._version == version and torch.equal(p.grad.view(torch.int32), before.view(torch.int32))
    assert norm.item() == pytest.approx(3e18)


def test_gradient_checks_can_be_turned_off_but_losses_are_always_checked() -> None:
    guard = DivergenceGuard(GuardConfig(check_gradients=False))
    assert guard.watch("d", torch.tensor(1.0), _optimizer_with_grad(NAN)) is None
    guard.check(0)
    assert guard.watch("d", torch.tensor(1.0), _optimizer_with_grad(NAN), want_norm=True).isnan()
    guard.check(1)
    guard.watch("g", torch.tensor(NAN), _optimizer_with_grad(1.0))
    with pytest.raises(NonFiniteStep, match="the g loss"):
        guard.check(2)


def test_guard_settings_are_validated() -> None:
    for bad in ("train.guard.retries=-1", "train.guard.lr_factor=0", "train.guard.lr_factor=2", "train.guard.retry=1"):
        with pytest.raises(GanforgeError, match="train.guard"):
            gf.build_config("ring8", [bad])
    assert gf.build_config("ring8", ["train.guard.retries=5"]).train.guard.retries == 5


def test_fp16_gradient_overflow_is_left_to_the_grad_scaler() -> None:
    """With a gradient scaler an inf gradient only means "skip this step, lower the scale": not a divergence."""
    guard = DivergenceGuard(GuardConfig(), gradients_may_overflow=True)
    guard.watch("d", torch.tensor(1.0), _optimizer_with_grad(math.inf))
    guard.check(0)
    guard.watch("d", torch.tensor(NAN), _optimizer_with_grad(1.0))
    with pytest.raises(NonFiniteStep, match="the d loss"):
        guard.check(1)


# --- finite blow-ups: judged against the run's own history -------------------------------------------------

BLOWUPS = {  # the three reports of issue 23; each exited 0 before (W1 = 1.4e34, inf Adam state, FID 679)
    "wgan-lr-1e6": ("ring8-wgan", ["train.optimizer.lr=1e6"], "weights have norm"),
    "r1-weight-1e30": ("ring8", ["model.penalties={r1: {weight: 1e30}}"], "optimizer's state 'exp_avg_sq'"),
    "digits-mlp-lr-1e6": ("digits-mlp", ["train.optimizer.lr=1e6", "train.batch_size=32"], "weights have norm"),
}


@pytest.mark.parametrize("name", sorted(BLOWUPS))
def test_finite_blowups_stop_before_their_checkpoint(tmp_path: Path, name: str) -> None:
    recipe, sets, what = BLOWUPS[name]
    run = tmp_path / "run"
    with pytest.raises(TrainingDiverged) as err:
        gf.train(recipe, steps=200, out=run, show_progress=False,
                 overrides=[*sets, "train.checkpoint_every=5", "train.log_every=5", "eval.enabled=false"])
    message = str(err.value)
    assert "\n" not in message and message.startswith("training diverged at step ") and what in message
    stopped = int(message.split()[4].rstrip(":"))
    guard = DivergenceGuard()
    for info in list_checkpoints(run):  # every checkpoint kept is a good one, none at the blow-up step
        assert info.step < stopped
        state, _ = load_checkpoint(info.path)
        assert _finite_state(state["model"])
        for phase in state["optim"].values():
            for per_param in phase["state"].values():
                assert all(torch.isfinite(v).all() for v in per_param.values() if torch.is_tensor(v))
        assert guard is not None


def _finite_state(model: dict[str, torch.Tensor]) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in model.values() if t.is_floating_point())


HEALTHY = {  # shipped recipes' short runs: the check must stay silent on every checkpoint and log record
    "ring8": ("ring8", 400, []),
    "ring8-wgan": ("ring8-wgan", 300, []),
    "grid25-wgangp": ("grid25-wgangp", 200, []),
    "digits-mlp": ("digits-mlp", 300, []),
}


@pytest.mark.parametrize("name", sorted(HEALTHY))
def test_healthy_short_runs_never_trip_the_blowup_checks(tmp_path: Path, name: str) -> None:
    recipe, steps, sets = HEALTHY[name]
    result = gf.train(recipe, steps=steps, out=tmp_path / "run", show_progress=False,
                      overrides=[*sets, "train.checkpoint_every=10", "train.log_every=5", "eval.enabled=false"])
    assert result.step == steps
    state, _ = load_checkpoint(latest_checkpoint(tmp_path / "run").path)
    guard = state["guard"]
    assert set(guard["weight_norm0"]) == set(state["optim"]) and guard["loss_records"] == 5
    assert "guard" not in result.summary  # no rollback either


def test_the_blowup_thresholds_are_relative_to_step_zero() -> None:
    net = nn.Linear(4, 4)
    opt = torch.optim.Adam(net.parameters())
    trainer = SimpleNamespace(step=7, run_dir=None, _params={"generator": list(net.parameters())},
                              optimizers={"generator": opt})
    guard = DivergenceGuard(GuardConfig(max_weight_growth=10))
    guard.start(SimpleNamespace(**vars(trainer), elapsed=0.0, state=lambda: {}))
    assert guard.state_blowup(trainer) is None
    with torch.no_grad():
        net.weight.mul_(1000)
    problem = guard.state_blowup(trainer)
    assert problem is not None and problem.step == 6 and problem.settles_at == 7
    assert str(problem).startswith("step 7: the generator weights have norm") and "over 10 times" in str(problem)
    with torch.no_grad():
        net.weight.div_(1000)
    opt.state[net.weight]["exp_avg_sq"] = torch.tensor([1.0, math.inf])
    assert "optimizer's state 'exp_avg_sq' holds non-finite" in str(guard.state_blowup(trainer))
    for i in range(5):
        assert guard.loss_blowup(trainer, {"loss_d": 2.0 + i, "step": i}) is None
    assert guard.loss_blowup(trainer, {"loss_d": 6e6}) is None  # 1e6 x 6 is the limit
    assert "loss_d is 7e+06" in str(guard.loss_blowup(trainer, {"loss_d": 7e6}))
