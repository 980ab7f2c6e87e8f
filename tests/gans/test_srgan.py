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
    from ganforge.evaluation.photo_features import WEIGHTS

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
