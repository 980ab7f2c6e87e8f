"""LAPGAN: per-level phases, the model's pyramid decomposition, coarse-to-fine sampling, training."""

import pytest
import torch

from ganforge.config import parse_config
from ganforge.data.images import digits
from ganforge.errors import GanforgeError
from ganforge.gans.lapgan import LAPGAN, build_lapgan
from ganforge.nets.pyramid import laplacian_pyramid, reconstruct, upsample
from ganforge.training.trainer import Trainer


@pytest.fixture(scope="module")
def source32():
    return digits(size=32)


def small(source, **kw) -> LAPGAN:
    torch.manual_seed(0)
    return build_lapgan(source, levels=3, noise_dim=8, width=8, level_width=8, level_depth=1, **kw)


def test_phases_run_coarse_to_fine_one_pair_per_level(source32) -> None:
    gan = small(source32)
    names = [p.name for p in gan.phases(0)]
    assert names == [
        "discriminator_8",
        "generator_8",
        "discriminator_16",
        "generator_16",
        "discriminator_32",
        "generator_32",
    ]
    assert [p.needs_data for p in gan.phases(0)] == [True, False] * 3
    # every phase trains exactly its level's network, and together they cover every parameter once
    params = [id(p) for phase in gan.phases(0) for p in gan.parameters_of(phase)]
    assert len(params) == len(set(params)) == len(list(gan.parameters()))


def test_sample_shapes_and_levels(source32) -> None:
    gan = small(source32)
    assert gan.sample(5).shape == (5, 1, 32, 32)
    levels = gan.sample_levels(3)
    assert [tuple(x.shape) for x in levels] == [(3, 1, 32, 32), (3, 1, 16, 16), (3, 1, 8, 8)]
    assert all(float(x.abs().max()) <= 1.0 for x in levels)


def test_real_levels_are_the_laplacian_pyramid_and_reconstruct_exactly(source32) -> None:
    gan = small(source32)
    x = source32.x[:6] * 2 - 1
    pyramid = laplacian_pyramid(x, 3)
    for k in range(3):
        residual, low = gan.real_level(x, k)
        torch.testing.assert_close(residual, pyramid[k], rtol=0, atol=1e-6)
        if k < 2:  # l_k = u(I_{k+1}) and I_k = h_k + l_k
            torch.testing.assert_close(residual + low, reconstruct(pyramid[k:]), rtol=0, atol=1e-6)
    torch.testing.assert_close(reconstruct(pyramid), x, rtol=0, atol=1e-5)


def test_sampling_adds_each_levels_residual_to_the_upsampled_coarser_image(source32) -> None:
    gan = small(source32).eval()
    for refiner in gan.generator.refiners:  # residual generators that output zero
        last = refiner.net[-1]
        torch.nn.init.zeros_(last.weight)
        torch.nn.init.zeros_(last.bias)
    z = torch.randn(4, 8)
    coarse = gan.generator.coarse(z)
    expected = upsample(upsample(coarse, (16, 16)), (32, 32)).clamp(-1, 1)
    torch.testing.assert_close(gan.generate(z), expected)


def test_training_updates_every_level_and_keeps_levels_independent(source32) -> None:
    cfg = parse_config(
        {
            "data": {"source": "digits", "size": 32},
            "model": {"type": "lapgan"},
            "train": {"steps": 2, "batch_size": 8, "log_every": 1},
        }
    )
    gan = small(source32)
    before = {n: p.detach().clone() for n, p in gan.named_parameters()}
    trainer = Trainer(gan, source32, cfg, torch.Generator().manual_seed(0), show_progress=False)
    record = trainer.fit()
    assert set(trainer.optimizers) == {p.name for p in gan.phases(0)}
    assert all(not torch.equal(before[n], p) for n, p in gan.named_parameters()), "a level did not train"
    for res in (8, 16, 32):
        assert {f"loss_d_{res}", f"loss_g_{res}", f"d_real_{res}", f"d_fake_{res}"} <= set(record)
    assert record["loss_d"] == record["loss_d_32"]  # the headline numbers are the finest level's


def test_ema_is_updated_once_per_step(source32) -> None:
    gan = small(source32)
    gan.enable_ema(0.5)
    calls = []
    gan.update_ema = lambda: calls.append(1)  # type: ignore[method-assign]
    for phase in gan.phases(0):
        gan.after_update(phase)
    assert len(calls) == 1


def test_builder_explains_bad_levels(source32) -> None:
    with pytest.raises(GanforgeError, match="coarsest level would be 4x4"):
        build_lapgan(source32, levels=4)
    with pytest.raises(GanforgeError, match="cannot be halved"):
        build_lapgan(digits(size=28), levels=4)


def test_untrained_levels_add_no_detail(source32) -> None:
    gan = small(source32).eval()  # the builder zero-initializes every refiner's output layer
    z = torch.randn(3, 8)
    coarse = gan.generator.coarse(z)
    torch.testing.assert_close(gan.generate(z), upsample(upsample(coarse, (16, 16)), (32, 32)).clamp(-1, 1))


def test_level_every_schedules_levels_and_ema_once_per_step(source32) -> None:
    gan = small(source32, level_every=[1, 2, 4])
    names = {s: [p.name for p in gan.phases(s)] for s in range(5)}
    assert names[0] == [p.name for p in gan.all_phases()]
    assert names[1] == ["discriminator_8", "generator_8"]
    assert names[2] == ["discriminator_8", "generator_8", "discriminator_16", "generator_16"]
    assert names[4] == names[0]
    calls = []
    gan.update_ema = lambda: calls.append(1)  # type: ignore[method-assign]
    for step in range(4):
        for phase in gan.phases(step):
            gan.after_update(phase)
    assert len(calls) == 4  # after the last phase of every step, whichever level that is
    with pytest.raises(GanforgeError, match="level_every"):
        small(source32, level_every=[1, 2])
    with pytest.raises(GanforgeError, match="level_every"):
        small(source32, level_every=[1, 0, 1])


def test_spectral_norm_on_every_discriminator(source32) -> None:
    from torch.nn.utils import parametrize

    gan = small(source32, spectral_norm=True)
    for d in gan.discriminators:
        convs = [m for m in d.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
        assert convs and all(parametrize.is_parametrized(m, "weight") for m in convs)
    assert not any(parametrize.is_parametrized(m) for m in small(source32).discriminators.modules())


def test_scheduled_training_only_moves_the_levels_due(source32) -> None:
    cfg = parse_config(
        {
            "data": {"source": "digits", "size": 32},
            "model": {"type": "lapgan"},
            "train": {"steps": 1, "batch_size": 8, "log_every": 1},
        }
    )
    gan = small(source32, level_every=[1, 1, 2])
    trainer = Trainer(gan, source32, cfg, torch.Generator().manual_seed(0), show_progress=False)
    trainer.train_step(0, want_logs=False)
    level_32 = ("discriminators.0", "generator.refiners.0")
    finest = {n: p.detach().clone() for n, p in gan.named_parameters() if n.startswith(level_32)}
    coarse = {n: p.detach().clone() for n, p in gan.named_parameters() if n.startswith("generator.coarse")}
    trainer.train_step(1, want_logs=False)  # step 1: the 32x32 level is not due
    params = dict(gan.named_parameters())
    assert all(torch.equal(v, params[n]) for n, v in finest.items())
    assert not all(torch.equal(v, params[n]) for n, v in coarse.items())


def test_reconstruction_term_pulls_refiners_towards_the_true_residual(source32) -> None:
    gan = small(source32, reconstruction=1.0)
    x = source32.x[:8] * 2 - 1
    from ganforge.data.base import Batch

    names = {p.name: p for p in gan.all_phases()}
    loss_d, _ = gan.phase_loss(names["discriminator_32"], Batch(x), 0)
    fake = gan._fake.fake
    residual, _ = gan.real_level(x, 0)
    loss_g, logs = gan.phase_loss(names["generator_32"], None, 0)
    expected_l1 = (fake - residual).abs().mean()
    torch.testing.assert_close(logs["reconstruction_32"], expected_l1.detach())
    torch.testing.assert_close(loss_g - logs["loss_g_32"], expected_l1)
    # the coarsest level has no true residual to match: purely adversarial
    gan.phase_loss(names["discriminator_8"], Batch(x), 0)
    _, logs8 = gan.phase_loss(names["generator_8"], None, 0)
    assert not any(key.startswith("reconstruction") for key in logs8)
    # off by default (the paper's LAPGAN), and a negative weight is refused
    plain = small(source32)
    plain.phase_loss(names["discriminator_32"], Batch(x), 0)
    _, plain_logs = plain.phase_loss(names["generator_32"], None, 0)
    assert "reconstruction_32" not in plain_logs
    with pytest.raises(GanforgeError, match="reconstruction"):
        small(source32, reconstruction=-1.0)


def test_lazy_r1_on_every_level_and_dcgan_style_coarse_nets(source32) -> None:
    from ganforge.data.base import Batch

    gan = small(source32, penalties={"r1": {"weight": 1.0, "every": 4}}, extra_convs=1, coarse_batch_norm=False)
    coarse_d = gan.discriminators[-1]
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in coarse_d.modules())
    assert len(list(gan.generator.coarse.modules())) > len(list(small(source32).generator.coarse.modules()))
    x = source32.x[:8] * 2 - 1
    for step, due in ((0, True), (1, False), (4, True)):
        phases = gan.phases(step)
        for phase in phases:
            if phase.name.startswith("discriminator"):
                _, logs = gan.phase_loss(phase, Batch(x), 0)
                assert ("r1" in logs) is due, (step, phase.name)
            else:
                gan.phase_loss(phase, None, 0)


def test_two_folded_levels_train_and_sample(source32) -> None:
    torch.manual_seed(0)
    gan = build_lapgan(
        source32, levels=2, noise_dim=8, width=8, level_width=8, level_depth=1, level_fold=2, reconstruction=1.0
    )
    assert gan.resolution(1) == 16 and gan.generator.refiners[0].noise_resolution == 16
    cfg = parse_config(
        {
            "data": {"source": "digits", "size": 32},
            "model": {"type": "lapgan", "levels": 2, "level_every": [1, 1]},
            "train": {"steps": 2, "batch_size": 8, "log_every": 1},
        }
    )
    before = {n: p.detach().clone() for n, p in gan.named_parameters()}
    Trainer(gan, source32, cfg, torch.Generator().manual_seed(0), show_progress=False).fit()
    assert all(not torch.equal(before[n], p) for n, p in gan.named_parameters() if n.endswith("net.0.weight"))
    assert gan.sample(3).shape == (3, 1, 32, 32)
