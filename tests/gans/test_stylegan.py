"""StyleGAN: truncation, style mixing (coarse layers vs fine layers), w_avg, regularizers, sampling CLI."""

import pytest
import torch

from ganforge.config import parse_config
from ganforge.data.images import digits
from ganforge.errors import GanforgeError
from ganforge.gans.stylegan import StyleGAN, build_stylegan
from ganforge.training.trainer import Trainer


@pytest.fixture(scope="module")
def source32():
    return digits(size=32)


def small(source, **kw) -> StyleGAN:
    torch.manual_seed(0)
    gan = build_stylegan(source, z_dim=8, w_dim=8, width=8, mapping_layers=2, **kw)
    with torch.no_grad():  # a non-trivial mean style and visible noise, as after training
        gan.generator.w_avg.normal_()
        for name, p in gan.generator.named_parameters():
            if name.endswith("strength"):
                p.fill_(0.5)
    return gan.eval()


def test_truncation_zero_gives_the_average_image(source32) -> None:
    gan = small(source32)
    out = gan.sample(6, truncation=0.0, noise_mode="const")
    assert out.shape == (6, 1, 32, 32)
    torch.testing.assert_close(out, out[:1].expand_as(out))  # every latent gives the same image
    g = gan.generator
    average = g.synthesis(g.w_avg.expand(1, g.num_ws, -1), noise_mode="const").clamp(-1, 1)
    torch.testing.assert_close(out[:1], average)
    varied = gan.sample(6, truncation=1.0, noise_mode="const")
    assert float(varied.std(0).mean()) > 10 * float(out.std(0).mean())


def test_truncation_pulls_towards_the_average(source32) -> None:
    gan = small(source32)
    torch.manual_seed(1)
    z = torch.randn(16, 8)
    with torch.no_grad():
        avg = gan.generate(z, truncation=0.0, noise_mode="const")
        dist = [float((gan.generate(z, truncation=p, noise_mode="const") - avg).abs().mean()) for p in (1.0, 0.5, 0.1)]
    assert dist[0] > dist[1] > dist[2]


def _block_outputs(gan: StyleGAN, **kw) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Image after every synthesis block (4x4 ToRGB, then 8, 16, 32) and the final image."""
    g = gan.generator
    seen: list[torch.Tensor] = []
    hooks = [b.register_forward_hook(lambda m, i, o: seen.append(o[1].detach())) for b in g.blocks]
    try:
        out = g(**kw)
    finally:
        for h in hooks:
            h.remove()
    return seen, out


def test_style_mixing_keeps_coarse_layers_of_the_first_latent_and_fine_of_the_second(source32) -> None:
    gan = small(source32)
    g = gan.generator
    assert g.num_ws == 8  # 32x32: 4x4 (ws 0, 1), 8x8 (1, 2, 3), 16x16 (3, 4, 5), 32x32 (5, 6, 7)
    torch.manual_seed(2)
    z1, z2 = torch.randn(4, 8), torch.randn(4, 8)
    pure1, img1 = _block_outputs(gan, z=z1, noise_mode="const")
    pure2, img2 = _block_outputs(gan, z=z2, noise_mode="const")
    mixed, img = _block_outputs(gan, z=z1, mix_z=z2, crossover=4, noise_mode="const")
    # layers 0..3 (everything up to the 8x8 image) come from z1 alone: identical to z1's image there
    torch.testing.assert_close(mixed[0], pure1[0])
    assert not torch.allclose(mixed[0], pure2[0])
    # finer layers read z2's styles: the 16x16 and 32x32 images differ from both pure images
    assert not torch.allclose(mixed[-1], pure1[-1]) and not torch.allclose(mixed[-1], pure2[-1])
    # the detail the fine layers add (final minus upsampled 8x8) follows z2's styles more than z1's
    from ganforge.nets.layers import upsample2x

    def detail(images: list[torch.Tensor]) -> torch.Tensor:
        return images[-1] - upsample2x(upsample2x(images[0]))

    d_mix, d1, d2 = detail(mixed), detail(pure1), detail(pure2)
    assert float((d_mix - d2).abs().mean()) < float((d_mix - d1).abs().mean())
    # crossover at the ends gives the pure images
    torch.testing.assert_close(g(z1, mix_z=z2, crossover=g.num_ws, noise_mode="const"), img1)
    torch.testing.assert_close(g(z1, mix_z=z2, crossover=0, noise_mode="const"), img2)


def test_style_mix_grid_layout(source32) -> None:
    gan = small(source32)
    grid = gan.style_mix_grid(2, 3, crossover=4)
    assert grid.shape == (12, 1, 32, 32)
    assert float(grid[0].abs().max()) == 0.0  # blank corner


def test_training_tracks_w_avg_mixes_styles_and_regularizes(source32) -> None:
    cfg = parse_config(
        {
            "data": {"source": "digits", "size": 32},
            "model": {"type": "stylegan"},
            "train": {"steps": 2, "batch_size": 4, "log_every": 1},
        }
    )
    torch.manual_seed(0)
    gan = build_stylegan(
        source32, z_dim=8, w_dim=8, width=8, mapping_layers=2, path_length=2.0, pl_every=1, r1_every=1, style_mixing=1.0
    )
    mixes = []
    import ganforge.gans.stylegan as module

    original = module.mix_styles
    module.mix_styles = lambda a, b, c: (mixes.append(c), original(a, b, c))[1]  # type: ignore[assignment]
    try:
        trainer = Trainer(gan, source32, cfg, torch.Generator().manual_seed(0), show_progress=False)
        record = trainer.fit()
    finally:
        module.mix_styles = original
    assert float(gan.generator.w_avg.abs().sum()) > 0  # the mean style moved off its zero start
    assert float(gan.pl_mean) > 0
    assert {"r1", "path_length", "pl_penalty", "loss_d", "loss_g"} <= set(record)
    assert mixes and all(1 <= c < gan.generator.num_ws for c in mixes)


def test_generate_rejects_unknown_options_and_builder_rejects_odd_sizes(source32) -> None:
    gan = small(source32)
    with pytest.raises(GanforgeError, match="truncation"):
        gan.sample(2, truncate=0.5)
    with pytest.raises(GanforgeError, match="power-of-two"):
        build_stylegan(digits(size=28))


def test_sample_command_passes_truncation_and_mixing(tmp_path, source32) -> None:
    import numpy as np

    import ganforge as gf
    from ganforge.cli import main

    config = {
        "name": "sg",
        "data": {"source": "digits", "size": 16},
        "model": {"type": "stylegan", "width": 8, "z_dim": 8, "w_dim": 8, "mapping_layers": 2},
        "train": {"steps": 2, "batch_size": 4, "log_every": 1},
        "eval": {"n": 40},
        "monitors": {"duplicates": False, "diversity": False},
    }
    run = gf.train(config, out=tmp_path / "run", show_progress=False)
    for flags, name in ((["--truncation", "0"], "t0.npy"), (["--truncation", "1", "--mix-styles"], "mix.npy")):
        main(["sample", str(run.path), "-n", "6", "-o", str(tmp_path / name), *flags])
    main(["sample", str(run.path), "-n", "4", "-o", str(tmp_path / "grid.png"), "--truncation", "0.7", "--mix-styles"])
    assert (tmp_path / "grid.png").stat().st_size > 0
    t0, mixed = np.load(tmp_path / "t0.npy"), np.load(tmp_path / "mix.npy")
    assert t0.shape == mixed.shape == (6, 1, 16, 16)
    assert t0.std(0).mean() < mixed.std(0).mean()


@pytest.mark.parametrize("psi", [float("nan"), float("inf"), float("-inf")])
def test_a_truncation_that_is_not_a_number_is_refused_not_drawn_as_nan_images(source32, psi) -> None:
    gan = small(source32)
    with pytest.raises(GanforgeError, match="--truncation .*: give a finite number"):
        gan.sample(2, truncation=psi)
