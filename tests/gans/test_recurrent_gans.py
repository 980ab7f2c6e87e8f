"""Recurrent network builders (rnn / lstm / gru) and RCGAN: shapes, conditioning, variable lengths,
TensorFlow-style initialisation, and a training step through the generic trainer."""

from __future__ import annotations

import math

import pytest
import torch

from ganforge.api import build_config
from ganforge.data.base import Batch
from ganforge.data.sequences import SequenceSource, sines
from ganforge.errors import GanforgeError
from ganforge.gans.recurrent_gans import CONDITION_BANK, RCGAN, tensorflow_init_
from ganforge.gans.registry import NETWORKS, build_model, build_network
from ganforge.nets.recurrent import RecurrentNet
from ganforge.training.seeding import seed_everything
from ganforge.training.trainer import Trainer

SHAPE = (7, 3)  # T, F


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
def test_generator_and_discriminator_shapes(cell: str, layers: int) -> None:
    torch.manual_seed(0)
    g = build_network({"type": cell, "hidden": 5, "num_layers": layers}, "g", "generator", 4, SHAPE, None)
    d = build_network({"type": cell, "hidden": 5, "num_layers": layers}, "d", "discriminator", 4, SHAPE, None)
    x = g(torch.randn(6, 7, 4)).detach()
    assert x.shape == (6, 7, 3)
    assert float(x.min()) >= 0 and float(x.max()) <= 1  # default sigmoid output, data min-max scaled to match
    assert d(x).shape == (6, 7)  # one logit per step (RCGAN)
    assert g.net.rnn.num_layers == layers and type(g.net.rnn).__name__ == cell.upper()


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_bidirectional_and_per_sequence_discriminators(cell: str) -> None:
    d = build_network(
        {"type": cell, "hidden": 4, "bidirectional": True, "per_step": False}, "d", "discriminator", 2, SHAPE, None
    )
    assert d(torch.randn(5, 7, 3)).shape == (5,)
    assert d.net.feature_dim == 8
    with pytest.raises(GanforgeError, match="bidirectional"):
        build_network({"type": cell, "bidirectional": True}, "g", "generator", 2, SHAPE, None)


def test_recurrent_networks_refuse_non_sequence_data() -> None:
    with pytest.raises(GanforgeError, match="sequence data"):
        build_network("gru", "model.generator", "generator", 2, (5,), None)


def test_unknown_setting_is_a_one_line_error() -> None:
    with pytest.raises(GanforgeError, match="hidden"):
        build_network({"type": "lstm", "hiden": 3}, "model.generator", "generator", 2, SHAPE, None)
    assert {"rnn", "lstm", "gru"} <= set(NETWORKS.names())


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_tensorflow_initialisation(cell: str) -> None:
    torch.manual_seed(0)
    net = tensorflow_init_(RecurrentNet(3, 4, 2, cell=cell, num_layers=2)).requires_grad_(False)
    h = 4
    for layer in (0, 1):
        w_ih = getattr(net.rnn, f"weight_ih_l{layer}")
        fan_in = w_ih.shape[1] + h
        gates = w_ih.shape[0] if cell != "gru" else 2 * h
        assert float(w_ih[:gates].abs().max()) <= math.sqrt(6 / (fan_in + gates)) + 1e-7
        bias = getattr(net.rnn, f"bias_ih_l{layer}")
        assert float(getattr(net.rnn, f"bias_hh_l{layer}").abs().sum()) == 0
        if cell == "gru":  # TF's GRUCell: gate biases 1, candidate 0
            assert torch.equal(bias[: 2 * h], torch.ones(2 * h)) and float(bias[2 * h :].abs().sum()) == 0
        elif cell == "lstm":  # TF's forget_bias = 1 on the forget gate (torch order i, f, g, o)
            assert torch.equal(bias[h : 2 * h], torch.ones(h)) and float(bias[:h].abs().sum()) == 0
        else:
            assert float(bias.abs().sum()) == 0
    assert float(net.head.bias.abs().sum()) == 0


def tiny_sines() -> SequenceSource:
    return sines(n=48, seq_len=6, dim=2)


def rcgan_config(**model: object) -> dict:
    return {
        "data": {"source": "sines", "n": 48, "seq_len": 6, "dim": 2},
        "model": {
            "type": "rcgan",
            "noise_dim": 3,
            "generator": {"type": "lstm", "hidden": 6},
            "discriminator": {"type": "gru", "hidden": 6, "bidirectional": True},
            **model,
        },
        "train": {"steps": 2, "batch_size": 8, "log_every": 1},
    }


def test_rcgan_trains_with_the_generic_trainer() -> None:
    config = build_config(rcgan_config(n_critic=2))
    rng = seed_everything(0)
    source = tiny_sines()
    gan = build_model(config.model, source)
    assert isinstance(gan, RCGAN) and gan.noise.shape == (6, 3)
    trainer = Trainer(gan, source, config, rng, None, show_progress=False)
    source.fit_scaler(gan.output_activation)
    d_before = [p.detach().clone() for p in gan.discriminator.parameters()]
    g_before = [p.detach().clone() for p in gan.generator.parameters()]
    logs = trainer.train_step(0, want_logs=True)
    assert {"loss_d", "loss_g", "d_real", "d_fake"} <= set(logs)
    assert all(torch.isfinite(v) for v in logs.values())
    assert any(not torch.equal(a, b) for a, b in zip(d_before, gan.discriminator.parameters(), strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(g_before, gan.generator.parameters(), strict=True))
    assert gan.sample(5).shape == (5, 6, 2)


@pytest.mark.parametrize("penalty", ["r1", "gp"])
def test_rcgan_penalty_is_added_to_the_discriminator_loss(penalty: str) -> None:
    source = tiny_sines()
    batch = Batch(source.x[:8].float())

    def d_loss(penalties: dict | None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        torch.manual_seed(0)
        gan = build_model(build_config(rcgan_config(penalties=penalties)).model, source)
        torch.manual_seed(1)
        return gan.phase_loss(gan.phases(0)[0], batch, 0)

    (loss, logs), (penalized, penalized_logs) = d_loss(None), d_loss({penalty: 10.0})
    assert penalty not in logs and float(penalized_logs[penalty]) > 0  # the gradient through the recurrent D
    assert float((penalized - loss).detach()) == pytest.approx(float(penalized_logs[penalty]), rel=1e-4)
    penalized.backward()  # double backward through the GRU works on this device


def test_rcgan_label_conditioning() -> None:
    torch.manual_seed(0)
    x = torch.rand(20, 6, 2)
    source = SequenceSource(kind="sequences", sample_shape=(6, 2), x=x, y=torch.arange(20) % 3, num_classes=3)
    gan = build_model({"type": "rcgan", "conditional": "label", "noise_dim": 2}, source)
    assert gan.num_classes == 3
    z = gan.sample_latents(4)
    a = gan.generate(z, torch.zeros(4, dtype=torch.long))
    b = gan.generate(z, torch.full((4,), 2, dtype=torch.long))
    assert a.shape == (4, 6, 2) and not torch.allclose(a, b)  # the label changes the sequence
    assert gan.sample(3, label=1).shape == (3, 6, 2)
    with pytest.raises(GanforgeError, match="out of range"):
        gan.sample(3, label=5)
    with pytest.raises(GanforgeError, match="no class labels"):
        build_model({"type": "rcgan", "conditional": True}, tiny_sines())


def test_rcgan_static_conditioning_keeps_a_bank_of_training_conditions() -> None:
    torch.manual_seed(0)
    static = torch.randn(30, 4)
    source = SequenceSource(kind="sequences", sample_shape=(6, 2), x=torch.rand(30, 6, 2), y=static)
    gan = build_model({"type": "rcgan", "conditional": "static", "noise_dim": 2}, source)
    assert gan.static_dim == 4 and gan.num_classes is None
    bank = gan.condition_bank
    assert bank.shape == (CONDITION_BANK, 4)
    assert all(any(torch.equal(row, s) for s in static) for row in bank[:20])  # drawn from the training y
    z = gan.sample_latents(3)
    a = gan.generate(z, torch.zeros(3, 4))
    b = gan.generate(z, torch.ones(3, 4))
    assert not torch.allclose(a, b)
    assert gan.sample(5).shape == (5, 6, 2)  # conditions from the bank
    assert gan.sample(2, label=torch.zeros(2, 4)).shape == (2, 6, 2)
    with pytest.raises(GanforgeError, match="static vectors"):
        gan.sample(2, label=1)
    assert "condition_bank" in gan.state_dict()  # kept with the weights, so sampling after loading works
    config = build_config({"model": {"type": "rcgan", "conditional": "static", "noise_dim": 2}})
    trainer = Trainer(
        gan,
        source,
        config.model_copy(update={"train": config.train.model_copy(update={"batch_size": 8})}),
        seed_everything(0),
        None,
        show_progress=False,
    )
    source.fit_scaler(gan.output_activation)
    assert torch.isfinite(trainer.train_step(0, want_logs=True)["loss_d"])


def test_rcgan_variable_length_sampling() -> None:
    torch.manual_seed(0)
    gan = build_model({"type": "rcgan", "noise_dim": 2, "generator": {"type": "gru", "hidden": 4}}, tiny_sines())
    lengths = torch.tensor([6, 3, 1, 4])
    x = gan.sample(4, lengths=lengths)
    assert x.shape == (4, 6, 2)
    for i, n in enumerate(lengths.tolist()):
        assert float(x[i, n:].abs().sum()) == 0  # padded steps are zero
        assert float(x[i, :n].abs().min()) > 0  # valid steps are sigmoid outputs


@pytest.mark.parametrize("model_type", ["rcgan", "timegan"])
def test_noise_per_sequence_holds_one_draw_over_time(model_type: str) -> None:
    make = rcgan_config if model_type == "rcgan" else timegan_config
    gan = build_model(build_config(make(noise_per="sequence")).model, tiny_sines())
    torch.manual_seed(0)
    z = gan.sample_latents(5)
    assert z.shape[:2] == (5, 6)
    assert torch.equal(z, z[:, :1].expand_as(z))  # the same draw at every step
    assert not torch.equal(z[0], z[1])  # but a different one per sequence
    z_step = build_model(build_config(make()).model, tiny_sines()).sample_latents(5)
    assert not torch.equal(z_step, z_step[:, :1].expand_as(z_step))  # the published default: fresh z_t per step


def timegan_config(**model: object) -> dict:
    config = rcgan_config()
    config["model"] = {"type": "timegan", "hidden": 4, "num_layers": 1, **model}
    return config


@pytest.mark.parametrize("model_type", ["rcgan", "timegan"])
def test_unknown_noise_per_is_a_one_line_error(model_type: str) -> None:
    make = rcgan_config if model_type == "rcgan" else timegan_config
    with pytest.raises(GanforgeError, match=r"model\.noise_per.*'step' or 'sequence'"):
        build_model(build_config(make(noise_per="time")).model, tiny_sines())


def test_shipped_rcgan_recipe_keeps_the_measured_settings() -> None:
    # docs/benchmarks/sequences.md: one noise draw per sequence and 5 D updates per G update took the sines
    # scores from 0.477 / 0.169 to 0.022 / 0.095; a recipe edit should come with a new measurement
    model = build_config("sines-rcgan").model
    assert (model["noise_per"], model["noise_dim"], model["n_critic"]) == ("sequence", 16, 5)
    assert build_model(model, tiny_sines()).phases(0)[0].repeats == 5
