"""TimeGAN as trainer phases: stage switching, which networks each phase updates, the discriminator's
loss threshold, the loss formulas, and exact resume across a phase boundary."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from ganforge.api import build_config, resume, train
from ganforge.data.base import Batch
from ganforge.data.sequences import sines
from ganforge.errors import GanforgeError
from ganforge.gans.registry import build_model
from ganforge.gans.timegan import TimeGAN, correlation_loss, feature_correlations, moment_loss
from ganforge.training.seeding import seed_everything
from ganforge.training.trainer import Trainer

NETS = ("embedder", "recovery", "generator", "supervisor", "discriminator")


def tiny_config(steps: int, embedding: int = 2, supervised: int = 2, **model: object) -> dict:
    return {
        "name": "tiny-timegan",
        "seed": 3,
        "data": {"source": "sines", "n": 64, "seq_len": 6, "dim": 2},
        "model": {
            "type": "timegan",
            "hidden": 6,
            "num_layers": 2,
            "embedding_steps": embedding,
            "supervised_steps": supervised,
            **model,
        },
        "train": {
            "steps": steps,
            "batch_size": 16,
            "optimizer": {"name": "adam", "lr": 0.001, "betas": [0.9, 0.999]},
            "log_every": 1,
            "checkpoint_every": 3,
        },
        "eval": {"n": 32, "metrics": ["moments"], "enabled": True},
    }


def make_trainer(steps: int, **model: object) -> Trainer:
    config = build_config(tiny_config(steps, **model))
    rng = seed_everything(config.seed)
    source = sines(n=64, seq_len=6, dim=2)
    gan = build_model(config.model, source)
    trainer = Trainer(gan, source, config, rng, None, show_progress=False)
    source.fit_scaler(gan.output_activation)
    return trainer


def snapshot(gan: TimeGAN) -> dict[str, list[torch.Tensor]]:
    return {name: [p.detach().clone() for p in getattr(gan, name).parameters()] for name in NETS}


def changed(before: dict[str, list[torch.Tensor]], gan: TimeGAN) -> set[str]:
    return {
        name
        for name in NETS
        if any(not torch.equal(a, b) for a, b in zip(before[name], getattr(gan, name).parameters(), strict=True))
    }


def test_phases_switch_at_the_stage_boundaries() -> None:
    gan = TimeGAN(seq_len=6, features=2, hidden=4, num_layers=1, embedding_steps=3, supervised_steps=2)
    names = [[p.name for p in gan.phases(step)] for step in range(7)]
    assert names[:3] == [["embedding"]] * 3
    assert names[3:5] == [["supervised"]] * 2
    joint = ["generator", "embedder", "generator", "embedder", "discriminator"]
    assert names[5] == names[6] == joint
    assert [gan.stage(s) for s in (0, 2, 3, 4, 5, 10_000)] == [
        "embedding",
        "embedding",
        "supervised",
        "supervised",
        "joint",
        "joint",
    ]
    assert {p.name for p in gan.all_phases()} == {"embedding", "supervised", *joint}


def test_supervisor_has_one_layer_less_and_shapes() -> None:
    gan = TimeGAN(seq_len=7, features=3, hidden=5, num_layers=3, noise_dim=4)
    assert gan.supervisor.num_layers == 2 and gan.embedder.num_layers == 3
    z = gan.sample_latents(4)
    assert z.shape == (4, 7, 4) and float(z.min()) >= 0 and float(z.max()) <= 1  # U(0, 1) as the official code
    x = gan.generate(z).detach()
    assert x.shape == (4, 7, 3) and float(x.min()) >= 0 and float(x.max()) <= 1  # sigmoid recovery
    assert gan.discriminate(x).shape == (4, 7)
    assert gan.sample(5).shape == (5, 7, 3)


def test_trainer_creates_an_optimizer_for_every_phase_up_front() -> None:
    trainer = make_trainer(steps=6)
    assert set(trainer.optimizers) == {"embedding", "supervised", "generator", "embedder", "discriminator"}


@pytest.mark.parametrize(
    ("step", "updated"),
    [
        (0, {"embedder", "recovery"}),  # embedding pre-training: 10 sqrt(L_R) over e, r
        (2, {"supervisor"}),  # supervised: L_S over g, s — g gets no gradient from L_S (h comes from e)
        (4, set(NETS)),  # joint: g, s; then e, r; then d
    ],
)
def test_each_stage_updates_only_its_networks(step: int, updated: set[str]) -> None:
    trainer = make_trainer(steps=6)
    gan = trainer.gan
    for s in range(step):
        trainer.train_step(s, want_logs=False)
    before = snapshot(gan)
    trainer.train_step(step, want_logs=True)
    assert changed(before, gan) == updated


def test_discriminator_is_skipped_while_its_loss_is_below_the_threshold() -> None:
    trainer = make_trainer(steps=6, d_threshold=1e9)
    for s in range(4):
        trainer.train_step(s, want_logs=False)
    before = snapshot(trainer.gan)
    logs = trainer.train_step(4, want_logs=True)
    assert float(logs["d_updated"]) == 0.0
    assert changed(before, trainer.gan) == {"embedder", "recovery", "generator", "supervisor"}
    assert not trainer.optimizers["discriminator"].state  # Adam never stepped: no moments were touched


def test_moment_loss_matches_its_formula() -> None:
    real = torch.tensor([[[0.0], [1.0]], [[2.0], [3.0]]])  # per (t, f): mean 1, 2; biased sd 1, 1
    fake = torch.tensor([[[1.0], [1.0]], [[1.0], [1.0]]])  # mean 1, 1; sd 0, 0
    sd_term = (torch.sqrt(torch.tensor(1e-6)) - torch.sqrt(torch.tensor(1.0 + 1e-6))).abs()
    expected = sd_term + torch.tensor([0.0, 1.0]).mean()
    assert torch.allclose(moment_loss(fake, real), expected)


def test_feature_correlations_are_pearson_per_step() -> None:
    torch.manual_seed(0)
    x = torch.rand(200, 3, 3)
    x[:, :, 2] = 0.5 * x[:, :, 0] + 0.2 * torch.rand(200, 3)
    r = feature_correlations(x)
    for t in range(3):
        assert torch.allclose(r[t], torch.corrcoef(x[:, t].T), atol=1e-4)
    constant = torch.cat([x[:, :, :1], torch.full_like(x[:, :, :1], 0.5)], dim=-1)
    assert torch.isfinite(feature_correlations(constant)).all()


def test_correlation_loss_sees_invented_correlation() -> None:
    torch.manual_seed(0)
    real = torch.rand(512, 4, 3)  # independent features: r near 0
    coupled = real.clone()
    coupled[:, :, 1] = coupled[:, :, 0]  # r_01 = 1 at every step
    assert float(correlation_loss(real, real)) == 0.0
    # one pair of three off by 1 at every step: mean squared gap about 1/3 (r of real is not exactly 0)
    assert float(correlation_loss(coupled, real)) == pytest.approx(1 / 3, abs=0.05)
    assert float(correlation_loss(real[..., :1], real[..., :1])) == 0.0  # one feature: no pairs


def test_correlation_weight_adds_the_term_and_its_gradient() -> None:
    torch.manual_seed(0)
    x = torch.rand(8, 5, 2)
    plain = TimeGAN(seq_len=5, features=2, hidden=4, num_layers=1, embedding_steps=0, supervised_steps=0)
    weighted = copy.deepcopy(plain)
    weighted.correlation_weight = 10.0
    torch.manual_seed(1)
    loss_plain, logs_plain = plain.phase_loss(plain.phases(0)[0], Batch(x), 0)
    torch.manual_seed(1)
    loss, logs = weighted.phase_loss(weighted.phases(0)[0], Batch(x), 0)
    assert "g_loss_c" not in logs_plain and float(logs["g_loss_c"]) > 0
    assert loss is not None and loss_plain is not None
    assert float((loss - loss_plain).detach()) == pytest.approx(10 * float(logs["g_loss_c"]), rel=1e-4)


@pytest.mark.parametrize(
    ("option", "value"), [("correlation_weight", -1.0), ("discriminator_repeats", 0), ("generator_repeats", 0)]
)
def test_bad_loop_options_are_refused(option: str, value: float) -> None:
    with pytest.raises(GanforgeError, match=f"model.{option}"):
        TimeGAN(seq_len=4, features=2, hidden=3, num_layers=1, **{option: value})


def test_discriminator_repeats_add_discriminator_phases() -> None:
    gan = TimeGAN(
        seq_len=4, features=2, hidden=3, num_layers=1, embedding_steps=0, supervised_steps=0, discriminator_repeats=2
    )
    names = [p.name for p in gan.phases(0)]
    assert names == ["generator", "embedder", "generator", "embedder", "discriminator", "discriminator"]


def test_phase_losses_follow_the_official_weights() -> None:
    torch.manual_seed(0)
    gan = TimeGAN(seq_len=5, features=2, hidden=4, num_layers=1, embedding_steps=0, supervised_steps=0)
    x = torch.rand(8, 5, 2)
    loss, logs = gan.phase_loss(gan.phases(0)[0], Batch(x), 0)
    assert loss is not None
    assert set(logs) == {"loss_g", "g_loss_u", "g_loss_s", "g_loss_v"}
    # L_G = L_U + gamma L_Ue + 100 sqrt(L_S) + 100 L_V; the logs hold L_U, sqrt(L_S), L_V, so the rest is
    # gamma L_Ue = BCE(d(g(z)), 1), which must equal its value computed directly (same z: re-draw it)
    rest = logs["loss_g"] - logs["g_loss_u"] - 100 * (logs["g_loss_s"] + logs["g_loss_v"])
    z = gan._joint_batch[1]
    direct = torch.nn.functional.binary_cross_entropy_with_logits(
        gan.discriminator(gan.generator(z)), torch.ones(8, 5, 1)
    )
    assert float(rest) == pytest.approx(float(direct.detach()), rel=1e-4, abs=1e-4)
    loss_e, logs_e = gan.phase_loss(gan.phases(0)[1], None, 0)  # embedder reuses the generator's batch
    assert loss_e is not None and float(loss_e.detach()) >= 10 * float(logs_e["e_loss_t0"])
    with pytest.raises(RuntimeError):
        gan.phase_loss(gan.phases(0)[1], None, 0)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_a_bidirectional_recovery_reads_later_steps_and_the_embedder_stays_causal(bidirectional: bool) -> None:
    torch.manual_seed(0)
    gan = TimeGAN(8, 3, hidden=6, num_layers=1, recovery_bidirectional=bidirectional)
    h = torch.rand(4, 8, 6)
    later = h.clone()
    later[:, 5:] = torch.rand(4, 3, 6)  # change the latent sequence from step 5 on
    with torch.no_grad():
        early_gap = (gan.recovery(h)[:, :5] - gan.recovery(later)[:, :5]).abs().max()
        x = torch.rand(4, 8, 3)
        x_later = x.clone()
        x_later[:, 5:] = torch.rand(4, 3, 3)
        embed_gap = (gan.embedder(x)[:, :5] - gan.embedder(x_later)[:, :5]).abs().max()
    # x~_0..4 see steps 5.. only through the backward direction; h_0..4 never see them (the supervisor's
    # next-step target would leak otherwise)
    assert (float(early_gap) > 1e-4) is bidirectional
    assert float(embed_gap) == 0.0
    assert gan.recovery.rnn.bidirectional is bidirectional
    assert gan.sample(5).shape == (5, 8, 3)
    config = build_config(tiny_config(4, recovery_bidirectional=bidirectional))
    built = build_model(config.model, sines(n=64, seq_len=6, dim=2))
    assert built.recovery.rnn.bidirectional is bidirectional and not built.embedder.rnn.bidirectional


def test_ema_is_refused() -> None:
    with pytest.raises(GanforgeError, match="ema"):
        TimeGAN(seq_len=4, features=2, hidden=3, num_layers=1).enable_ema(0.99)


def test_resume_across_a_phase_boundary_equals_one_run(tmp_path: Path) -> None:
    # steps 0-1 embedding, 2-3 supervised, 4-5 joint; the first part stops at step 3 (inside supervised),
    # the resumed part crosses into joint training
    straight = train(tiny_config(6), out=tmp_path / "straight", show_progress=False)
    first = train(tiny_config(3), out=tmp_path / "split", show_progress=False)
    assert first.step == 3
    resumed = resume(tmp_path / "split", steps=6, show_progress=False)
    assert resumed.step == straight.step == 6
    a, b = straight.gan.state_dict(), resumed.gan.state_dict()
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert straight.summary["evaluation"]["mean_error"] == pytest.approx(resumed.summary["evaluation"]["mean_error"])


def test_build_rejects_non_sequence_data() -> None:
    from ganforge.data.registry import build_source

    source = build_source("ring8", {})
    with pytest.raises(GanforgeError, match="sequence"):
        build_model({"type": "timegan"}, source)
    gan = TimeGAN(seq_len=4, features=2, hidden=3, num_layers=1)
    assert copy.deepcopy(gan).seq_len == 4


def test_periodic_quick_check_keeps_the_best_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ganforge.evaluation import sequence_suite
    from ganforge.runs import load

    monkeypatch.setattr(sequence_suite, "QUICK_ITERATIONS", 5)
    config = tiny_config(6)
    config["eval"] = {"n": 32, "every": 2, "best": "min:discriminative_quick", "metrics": ["discriminative_quick"]}
    run = train(config, out=tmp_path / "run", show_progress=False)
    best = run.summary["best"]
    assert best["metric"] == "discriminative_quick" and best["step"] in (2, 4, 6)
    assert 0.0 <= best["value"] <= 0.5
    chosen = load(run.path, checkpoint=run.path / "best")
    assert chosen.step == best["step"]
    assert chosen.sample(3).shape == (3, 6, 2)


def test_shipped_recipe_keeps_the_last_checkpoint() -> None:
    # the periodic quick check picked a worse checkpoint than the last one (docs/benchmarks/sequences.md),
    # so the recipe trains without periodic checks; discriminative_quick stays available as opt-in
    from ganforge.evaluation.sequence_suite import METRICS

    config = build_config("sines-timegan")
    assert config.eval.best is None and config.eval.every == 0
    assert "discriminative_quick" not in config.eval.metrics
    assert set(config.eval.metrics) <= set(METRICS)
    opt_in = build_config("sines-timegan", ["eval.every=500", "eval.best=min:discriminative_quick"])
    assert opt_in.eval.best == "min:discriminative_quick" and opt_in.eval.every == 500
    assert config.model["type"] == "timegan" and config.train.steps == 14500
    # the settings docs/benchmarks/sequences.md measured: one noise draw per sequence, one G repeat, two D
    # repeats, feature correlations matched, 2x D lr
    model = config.model
    assert (model["noise_per"], model["noise_dim"], model["generator_repeats"]) == ("sequence", 32, 1)
    assert (model["discriminator_repeats"], model["correlation_weight"]) == (2, 100)
    assert config.optimizer_for("discriminator").lr == 0.002
