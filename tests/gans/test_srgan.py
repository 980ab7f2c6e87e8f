"""SRGAN: paired data, phases (with SRResNet pre-training), content losses, PSNR/SSIM scoring."""

import math

import pytest
import torch
from safetensors.torch import save_file

from ganforge.config import parse_config
from ganforge.data.paired import bicubic_upscale, downscale, sr_patches
from ganforge.errors import GanforgeError
from ganforge.evaluation.superres_metrics import psnr_db, sr_scores
from ganforge.gans.srgan import SRGAN, build_srgan
from ganforge.training.trainer import Trainer


@pytest.fixture(scope="module")
def pairs():
    return sr_patches(patch_size=16, scale=4, count=24, split="train")


def small(source, **kw) -> SRGAN:
    torch.manual_seed(0)
    return build_srgan(source, num_blocks=1, width=8, d_width=4, **{"features": "none", **kw})


def test_sr_patches_pairs_and_held_out_split(pairs) -> None:
    assert pairs.kind == "superres" and pairs.x.shape == (24, 3, 16, 16) and pairs.low.shape == (24, 3, 4, 4)
    torch.testing.assert_close(pairs.low, downscale(pairs.x, 4))
    from ganforge.data.images import photo_patches

    test = sr_patches(patch_size=16, scale=4, count=24, split="test")  # the held-out columns of every photo
    torch.testing.assert_close(test.x, photo_patches(patch_size=16, count=24, split="test").x)
    pairs.fit_scaler("tanh")
    batch = pairs.batch(5, torch.Generator().manual_seed(0))
    assert batch.x.shape == (5, 3, 16, 16) and batch.y.shape == (5, 3, 4, 4)
    assert float(batch.x.min()) >= -1 and float(batch.y.max()) <= 1
    with pytest.raises(GanforgeError, match="multiple of scale"):
        sr_patches(patch_size=18, scale=4)


def test_generator_shapes_and_upscale(pairs) -> None:
    gan = small(pairs)
    assert gan.scale == 4
    out = gan.upscale(torch.rand(2, 3, 5, 7) * 2 - 1, tile=None)
    assert out.shape == (2, 3, 20, 28) and float(out.abs().max()) <= 1
    with pytest.raises(GanforgeError, match="upscale"):
        gan.sample(3)
    skip = small(pairs, bicubic_skip=True)
    low = torch.rand(2, 3, 5, 7) * 2 - 1
    with torch.no_grad():
        for p in skip.generator.tail.parameters():  # a generator adding no detail leaves bicubic upsampling
            p.zero_()
    bicubic = torch.nn.functional.interpolate(low, scale_factor=4, mode="bicubic", align_corners=False)
    torch.testing.assert_close(skip.upscale(low, tile=None), bicubic.clamp(-1, 1))


def test_pretraining_runs_the_generator_alone_then_both_phases(pairs) -> None:
    gan = small(pairs, pretrain_steps=2)
    assert [p.name for p in gan.phases(0)] == ["generator"] and gan.phases(0)[0].needs_data
    assert [p.name for p in gan.phases(2)] == ["discriminator", "generator"]
    assert [p.name for p in gan.all_phases()] == ["discriminator", "generator"]
    cfg = parse_config(
        {
            "data": {"source": "sr-patches"},
            "model": {"type": "srgan"},
            "train": {"steps": 3, "batch_size": 4, "log_every": 1},
        }
    )
    d_before = [p.detach().clone() for p in gan.discriminator.parameters()]
    trainer = Trainer(gan, pairs, cfg, torch.Generator().manual_seed(0), show_progress=False)
    trainer.train_step(0, want_logs=True)
    assert all(torch.equal(a, b) for a, b in zip(d_before, gan.discriminator.parameters(), strict=True))
    trainer.step = 2
    logs = trainer.train_step(2, want_logs=True)
    assert {"loss_d", "adversarial", "content_pixel", "loss_g"} <= set(logs)
    assert not all(torch.equal(a, b) for a, b in zip(d_before, gan.discriminator.parameters(), strict=True))


def test_content_loss_options(pairs, tmp_path) -> None:
    from ganforge.nets.superres import _vgg19_layers

    with pytest.raises(GanforgeError, match="vgg_weights"):
        small(pairs, features="vgg19")
    # a (random) VGG19 state dict holding the layers up to relu1_2 is enough for that layer
    torch.manual_seed(0)
    layers = torch.nn.Sequential(*_vgg19_layers()[:4])
    path = tmp_path / "vgg19.safetensors"
    save_file({f"features.{k}": v for k, v in layers.state_dict().items()}, str(path))
    gan = small(pairs, features="vgg19", vgg_weights=str(path), feature_layer="relu1_2", feature_weight=0.5)
    hr = torch.rand(2, 3, 16, 16) * 2 - 1
    sr = hr + 0.1 * torch.randn_like(hr)
    terms = gan.content.terms(sr, hr)
    torch.testing.assert_close(gan.content(sr, hr), terms["pixel"] + 0.5 * terms["features"])
    # the feature network is not part of the model's weights (it is rebuilt from its own file)
    assert not any(k.startswith("content") for k in gan.state_dict())
    assert sum(p.numel() for p in gan.parameters()) == sum(
        p.numel() for m in (gan.generator, gan.discriminator) for p in m.parameters()
    )


def test_shipped_photo_features_are_frozen_and_offline(pairs) -> None:
    from ganforge.nets.photo_features import WEIGHTS

    if not WEIGHTS.exists():
        pytest.skip("photo feature weights not built; run scripts/train_photo_features.py")
    gan = small(pairs, features="photo")
    phi = gan.content.features
    assert all(not p.requires_grad for p in phi.parameters())
    hr = torch.rand(2, 3, 16, 16) * 2 - 1
    assert phi(hr).shape == (2, 32, 8, 8)  # relu2_2: half resolution
    sr = (hr + 0.1 * torch.randn_like(hr)).requires_grad_(True)
    gan.content(sr, hr).backward()
    assert sr.grad is not None and float(sr.grad.abs().sum()) > 0


def test_psnr_and_ssim_scores() -> None:
    torch.manual_seed(0)
    ref = torch.rand(3, 1, 16, 16)
    same = sr_scores(ref, ref, border=2)
    assert same["psnr"] == pytest.approx(100.0) and same["ssim"] == pytest.approx(1.0)
    noisy = (ref + 0.05 * torch.randn_like(ref)).clamp(0, 1)
    scores = sr_scores(noisy, ref, border=0)
    expected = sum(psnr_db(float(((noisy[i] - ref[i]) ** 2).double().mean())) for i in range(3)) / 3
    assert scores["psnr"] == pytest.approx(expected, rel=1e-6)
    assert 0 < scores["ssim"] < 1
    assert psnr_db(0.01) == pytest.approx(20.0)
    assert math.isfinite(sr_scores(bicubic_upscale(downscale(ref, 4), 4), ref, border=4)["psnr"])


def test_untrained_model_is_bicubic_and_flat_regions_stay_bicubic(pairs) -> None:
    from ganforge.gans.srgan import local_contrast

    gan = small(pairs)  # defaults: bicubic skip + contrast gate, residual branch starting at zero
    assert gan.bicubic_skip and gan.contrast_gate
    low = torch.rand(2, 3, 6, 5) * 2 - 1
    bicubic = torch.nn.functional.interpolate(low, scale_factor=4, mode="bicubic", align_corners=False)
    torch.testing.assert_close(gan.upscale(low, tile=None), bicubic.clamp(-1, 1), rtol=0, atol=0)
    with torch.no_grad():  # a residual branch that adds something
        torch.nn.init.normal_(gan.generator.tail.weight, std=0.5)
        torch.nn.init.normal_(gan.generator.tail.bias, std=0.5)
    flat = torch.full((2, 3, 6, 6), 0.3)
    flat[:, :, :, 3:] = -0.2  # two flat halves: detail only next to the edge
    out = gan.upscale(flat, tile=None)
    up = torch.nn.functional.interpolate(flat, scale_factor=4, mode="bicubic", align_corners=False)
    torch.testing.assert_close(out[..., :4], up[..., :4], rtol=0, atol=0)  # far from the edge: exactly bicubic
    torch.testing.assert_close(out[..., -4:], up[..., -4:], rtol=0, atol=0)
    assert float((out - up).abs().max()) > 0.01  # near the edge the residual is not suppressed
    bound = local_contrast(low, (24, 20))  # |SR - bicubic| <= g(l), since G's output is tanh-bounded
    detail = gan.super_resolve(low).detach() - torch.nn.functional.interpolate(low, scale_factor=4, mode="bicubic")
    assert bool((detail.abs() <= bound + 1e-6).all())
    spread = torch.tensor([[[[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, -1.0, 0.0]]]])
    g = local_contrast(spread, (3, 4))  # same size: no interpolation, the 3x3 range itself
    torch.testing.assert_close(g[0, 0, 1], torch.tensor([1.0, 2.0, 2.0, 1.0]))  # windows clipped at the border
    plain = small(pairs, contrast_gate=False)
    with torch.no_grad():
        torch.nn.init.normal_(plain.generator.tail.weight, std=0.5)
    assert float((plain.upscale(flat, tile=None)[..., :4] - up[..., :4]).abs().max()) > 0


def test_gated_tiling_equals_untiled(pairs) -> None:
    gan = small(pairs).eval()
    with torch.no_grad():
        torch.nn.init.normal_(gan.generator.tail.weight, std=0.1)
    low = torch.rand(1, 3, 11, 13) * 2 - 1
    torch.testing.assert_close(gan.upscale(low, tile=3), gan.upscale(low, tile=None), rtol=0, atol=1e-5)


def test_srresnet_stage_uses_the_pixel_loss_alone(pairs) -> None:
    class Features(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * 3.0

    gan = small(pairs, pretrain_steps=5)
    gan.content.features = Features()
    batch = pairs.batch(4, torch.Generator().manual_seed(0))
    phase = gan.phases(0)[0]
    loss, logs = gan.phase_loss(phase, batch, 0)
    sr = gan.super_resolve(batch.y)
    torch.testing.assert_close(loss, torch.nn.functional.mse_loss(sr, batch.x))
    assert set(logs) == {"content_pixel", "loss_g"}
    full = small(pairs, pretrain_steps=5, pretrain_pixel_only=False)
    full.content.features = Features()
    loss_full, logs_full = full.phase_loss(full.phases(0)[0], batch, 0)
    assert "content_features" in logs_full and float(loss_full.detach()) > float(loss.detach())


def test_recipe_trains_the_generator_ten_times_faster_than_the_discriminator() -> None:
    """photos-srgan: G lr 1e-3 (chosen on the validation strip, docs/benchmarks/family.md), D lr 1e-4."""
    from ganforge.api import build_config
    from ganforge.data.registry import source_from_config
    from ganforge.gans.registry import build_model

    config = build_config("photos-srgan", ["data.count=8", "model.features=none"])
    source = source_from_config(config.data)
    gan = build_model(config.model, source)
    trainer = Trainer(gan, source, config, torch.Generator().manual_seed(0), show_progress=False)
    lrs = {name: opt.param_groups[0]["lr"] for name, opt in trainer.optimizers.items()}
    assert lrs == {"generator": pytest.approx(1e-3), "discriminator": pytest.approx(1e-4)}
