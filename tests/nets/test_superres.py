"""SRGAN nets, content loss, VGG19 weight loading and tiled upscaling."""

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

from ganforge.errors import GanforgeError
from ganforge.nets.superres import ContentLoss, SRDiscriminator, SRResNetGenerator, VGG19Features, tiled_apply


@pytest.mark.parametrize(("scale", "size"), [(2, (7, 9)), (4, (8, 8))])
def test_generator_upscales_any_size(scale: int, size: tuple[int, int]) -> None:
    torch.manual_seed(0)
    g = SRResNetGenerator(channels=3, scale=scale, num_blocks=2, width=8)
    out = g(torch.rand(2, 3, *size))
    assert out.shape == (2, 3, size[0] * scale, size[1] * scale)
    assert out.abs().max() <= 1.0
    assert SRResNetGenerator(1, 2, 1, 4, output="linear").output_activation == "linear"


def test_generator_without_batchnorm_keeps_the_parameter_names_of_its_convolutions() -> None:
    torch.manual_seed(0)
    plain, with_bn = SRResNetGenerator(3, 4, 2, 8, norm="none"), SRResNetGenerator(3, 4, 2, 8)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in plain.modules())
    conv_keys = {k for k in with_bn.state_dict() if "running" not in k and "num_batches" not in k}
    assert set(plain.state_dict()) < conv_keys  # the BN affine parameters are what is missing
    x = torch.rand(4, 3, 6, 6)
    torch.testing.assert_close(plain.train()(x[:1]), plain.eval()(x)[:1])  # no batch dependence in train mode


def test_generator_rejects_bad_arguments() -> None:
    with pytest.raises(GanforgeError, match="norm must be"):
        SRResNetGenerator(norm="instance")  # type: ignore[arg-type]
    with pytest.raises(GanforgeError, match="scale must be 2 or 4"):
        SRResNetGenerator(scale=3)  # type: ignore[arg-type]
    with pytest.raises(GanforgeError, match=r"\(N, 3, H, W\)"):
        SRResNetGenerator(num_blocks=1, width=4)(torch.rand(1, 1, 8, 8))


@pytest.mark.parametrize("size", [16, 24])
def test_discriminator_gives_one_logit_per_image(size: int) -> None:
    torch.manual_seed(0)
    d = SRDiscriminator(channels=3, width=4)
    assert d(torch.rand(3, 3, size, size)).shape == (3, 1)


def test_receptive_radius_bounds_the_impulse_response() -> None:
    torch.manual_seed(0)
    g = SRResNetGenerator(channels=1, scale=4, num_blocks=1, width=4, output="linear").eval()
    x = torch.zeros(1, 1, 24, 24, requires_grad=True)
    g(x)[0, 0, 48, 48].backward()  # output pixel of LR pixel (12, 12)
    rows, cols = torch.nonzero(x.grad[0, 0], as_tuple=True)
    reach = max((rows - 12).abs().max().item(), (cols - 12).abs().max().item())
    assert 0 < reach <= g.receptive_radius()


@pytest.mark.parametrize("scale", [2, 4])
def test_tiled_equals_untiled_with_enough_overlap(scale: int) -> None:
    torch.manual_seed(0)
    g = SRResNetGenerator(channels=3, scale=scale, num_blocks=1, width=8).eval()
    image = torch.rand(2, 3, 19, 26)
    with torch.no_grad():
        full = g(image)
        tiled = tiled_apply(g, image, tile=6, overlap=g.receptive_radius(), scale=scale)
        no_overlap = tiled_apply(g, image, tile=6, overlap=0, scale=scale)
    assert (tiled - full).abs().max().item() < 1e-5
    assert (no_overlap - full).abs().max().item() > 1e-3  # the overlap is what makes it exact


def test_tiled_apply_checks_the_scale() -> None:
    with pytest.raises(GanforgeError, match="scale"):
        tiled_apply(lambda x: F.interpolate(x, scale_factor=2), torch.rand(1, 1, 8, 8), 4, 1, scale=4)


def test_content_loss_pixel_terms_match_hand_computation() -> None:
    sr = torch.tensor([[[[0.0, 1.0], [2.0, -1.0]]]])
    hr = torch.zeros_like(sr)
    assert ContentLoss("mse")(sr, hr).item() == pytest.approx((0 + 1 + 4 + 1) / 4)
    assert ContentLoss("l1", pixel_weight=2.0)(sr, hr).item() == pytest.approx(2.0 * (0 + 1 + 2 + 1) / 4)


def test_content_loss_features_are_frozen_but_pass_gradients() -> None:
    torch.manual_seed(0)
    phi = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
    loss = ContentLoss(pixel=None, features=phi, feature_weight=0.5)
    loss.train()
    assert not phi.training and not any(p.requires_grad for p in phi.parameters())
    sr = torch.rand(2, 1, 8, 8, requires_grad=True)
    hr = torch.rand(2, 1, 8, 8)
    value = loss(sr, hr)
    assert value.item() == pytest.approx(0.5 * F.mse_loss(phi(sr), phi(hr)).item(), rel=1e-6)
    value.backward()
    assert sr.grad is not None and sr.grad.abs().sum() > 0
    terms = ContentLoss("mse", features=phi).terms(sr, hr)
    assert set(terms) == {"pixel", "features"}


def _vgg_first_block_state(seed: int) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {
        "features.0.weight": torch.randn(64, 3, 3, 3, generator=gen) * 0.1,
        "features.0.bias": torch.randn(64, generator=gen) * 0.1,
        "features.2.weight": torch.randn(64, 64, 3, 3, generator=gen) * 0.05,
        "features.2.bias": torch.randn(64, generator=gen) * 0.1,
    }


@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
def test_vgg19_features_load_a_state_dict(tmp_path: Path, suffix: str) -> None:
    state = _vgg_first_block_state(0)
    path = tmp_path / f"vgg19{suffix}"
    if suffix == ".safetensors":
        save_file(state, str(path))
    else:
        torch.save(state, path)
    vgg = VGG19Features(path, layer="relu1_2", input_range=(0.0, 1.0))
    x = torch.rand(1, 3, 8, 8)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    h = F.relu(F.conv2d((x - mean) / std, state["features.0.weight"], state["features.0.bias"], padding=1))
    expected = F.relu(F.conv2d(h, state["features.2.weight"], state["features.2.bias"], padding=1))
    assert torch.allclose(vgg(x), expected, atol=1e-5)
    assert vgg(torch.rand(1, 1, 8, 8)).shape == (1, 64, 8, 8)  # grey input is repeated to 3 channels


def test_vgg19_features_explain_missing_or_bad_files(tmp_path: Path) -> None:
    with pytest.raises(GanforgeError, match="not found"):
        VGG19Features(tmp_path / "absent.pth")
    partial = tmp_path / "partial.safetensors"
    save_file(_vgg_first_block_state(0), str(partial))
    with pytest.raises(GanforgeError, match="lack features"):
        VGG19Features(partial, layer="relu2_2")
    with pytest.raises(GanforgeError, match="unknown VGG19 layer"):
        VGG19Features(partial, layer="relu9_9")
    pickled = tmp_path / "code.pth"
    torch.save({"model": GanforgeError("not weights")}, pickled)
    with pytest.raises(GanforgeError, match="cannot read"):
        VGG19Features(pickled, layer="relu1_1")
