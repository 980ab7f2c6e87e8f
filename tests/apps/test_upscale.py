"""``upscale(run, image)``: tiling gives the untiled result, every input type round-trips, CLI end to end."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import ganforge as gf
from ganforge.apps.upscale import upscale
from ganforge.config import parse_config
from ganforge.data.paired import sr_patches
from ganforge.errors import GanforgeError
from ganforge.gans.srgan import build_srgan
from ganforge.runs import Run


def make_run(tmp_path: Path, grayscale: bool = False, scale: int = 4, bicubic_skip: bool = False) -> Run:
    source = sr_patches(patch_size=16, scale=scale, count=8, grayscale=grayscale)
    source.fit_scaler("tanh")
    torch.manual_seed(0)
    gan = build_srgan(source, num_blocks=1, width=8, d_width=4, features="none", bicubic_skip=bicubic_skip)
    config = parse_config({"data": {"source": "sr-patches"}, "model": {"type": "srgan"}})
    return Run(tmp_path, config, gan.eval(), source)


@pytest.mark.parametrize(
    ("size", "tile", "skip"), [((13, 21), 4, False), ((9, 9), 5, False), ((6, 17), 16, False), ((11, 14), 3, True)]
)
def test_tiled_upscaling_equals_untiled(tmp_path, size, tile, skip) -> None:
    run = make_run(tmp_path, bicubic_skip=skip)
    with torch.no_grad():  # a residual branch that adds something (it starts at zero with bicubic_skip)
        torch.nn.init.normal_(run.gan.generator.tail.weight, std=0.05)
    torch.manual_seed(1)
    image = torch.rand(3, *size)
    whole = upscale(run, image, tile=None)
    tiled = upscale(run, image, tile=tile)
    assert whole.shape == (3, size[0] * 4, size[1] * 4)
    torch.testing.assert_close(tiled, whole, rtol=0, atol=1e-5)


def test_array_pil_gray_and_alpha_inputs(tmp_path) -> None:
    run = make_run(tmp_path)
    rgb = (np.random.default_rng(0).random((7, 9, 3)) * 255).astype(np.uint8)
    out = upscale(run, rgb)
    assert out.shape == (28, 36, 3) and out.dtype == np.uint8
    gray = upscale(run, rgb[..., 0].astype(np.float32) / 255)
    assert gray.shape == (28, 36) and gray.dtype == np.float32 and gray.min() >= 0 and gray.max() <= 1
    rgba = Image.fromarray(np.dstack([rgb, np.full((7, 9), 200, np.uint8)]), "RGBA")
    big = upscale(run, rgba)
    assert big.mode == "RGBA" and big.size == (36, 28)
    assert abs(np.asarray(big)[..., 3].astype(int) - 200).max() <= 1  # alpha enlarged, not invented
    batch = upscale(run, torch.rand(2, 3, 5, 6))
    assert batch.shape == (2, 3, 20, 24)



def test_a_16_bit_gray_picture_keeps_its_tones(tmp_path) -> None:
    run = make_run(tmp_path)
    tones = np.linspace(0, 1, 7 * 9).reshape(7, 9)
    deep = Image.fromarray((tones * 65535).astype(np.uint16))  # mode I;16, as 16-bit PNGs open
    out = upscale(run, deep)
    assert out.mode == "L" and out.size == (36, 28)
    eight = np.asarray(upscale(run, Image.fromarray((tones * 255 + 0.5).astype(np.uint8))), dtype=int)
    assert np.abs(np.asarray(out, dtype=int) - eight).max() <= 2  # the same picture at 8 bits, not clipped white



def test_a_phone_photo_is_upscaled_upright(tmp_path) -> None:
    from ganforge.apps.upscale import upscale_file

    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:, :20] = 255  # stored 40 wide x 20 tall, left half white ...
    photo = Image.fromarray(stored)
    exif = photo.getexif()
    exif[0x0112] = 6  # EXIF orientation: shown turned 90 degrees clockwise (a phone held upright): top half white
    photo.save(tmp_path / "phone.jpg", exif=exif.tobytes())
    upscale_file(make_run(tmp_path, bicubic_skip=True), tmp_path / "phone.jpg", tmp_path / "big.png")
    with Image.open(tmp_path / "big.png") as out:
        assert out.size == (80, 160)  # came back 160 x 80, lying on its side
        assert np.asarray(out.convert("L"))[:70].mean() > np.asarray(out.convert("L"))[90:].mean() + 100


def test_gray_model_upscales_each_colour_channel(tmp_path) -> None:
    run = make_run(tmp_path, grayscale=True, scale=2)
    image = torch.rand(3, 6, 5)
    out = upscale(run, image)
    assert out.shape == (3, 12, 10)
    torch.testing.assert_close(out[1:2], upscale(run, image[1:2]))


def test_upscale_rejects_other_models_and_bad_images(tmp_path) -> None:
    run = make_run(tmp_path)
    with pytest.raises(GanforgeError, match="expected images"):
        upscale(run, torch.rand(2, 2, 4, 4))
    other = Run(tmp_path, run.config, object.__new__(gf.GAN), run.data_info)
    with pytest.raises(GanforgeError, match="not a super-resolution model"):
        upscale(other, torch.rand(3, 4, 4))


def test_upscale_command(tmp_path) -> None:
    from ganforge.cli import main

    config = {
        "name": "sr",
        "data": {"source": "sr-patches", "patch_size": 16, "count": 16, "scale": 2},
        "model": {"type": "srgan", "num_blocks": 1, "width": 4, "d_width": 4, "features": "none"},
        "train": {"steps": 2, "batch_size": 4, "log_every": 1},
        "eval": {"n": 8, "enabled": True},
        "monitors": {"duplicates": False, "diversity": False},
    }
    run = gf.train(config, out=tmp_path / "run", show_progress=False)
    evaluation = run.summary["evaluation"]
    assert {"psnr", "ssim", "bicubic_psnr", "bicubic_ssim", "feature_distance", "fid_photo"} <= set(evaluation)
    assert evaluation["bicubic_feature_distance"] > 0 and "LPIPS-like" in evaluation["perceptual"]
    assert (run.path / "plots" / "superres.png").is_file()
    Image.fromarray((np.random.default_rng(0).random((11, 30, 3)) * 255).astype(np.uint8)).save(tmp_path / "in.png")
    main(["upscale", str(run.path), str(tmp_path / "in.png"), "-o", str(tmp_path / "out.png"), "--tile", "8"])
    with Image.open(tmp_path / "out.png") as out:
        assert out.size == (60, 22)
    with pytest.raises(SystemExit) as exc:
        main(["upscale", str(run.path), str(tmp_path / "missing.png"), "-o", str(tmp_path / "x.png")])
    assert exc.value.code == 2


def test_a_picture_past_pillows_bomb_limit_is_one_line_exit_2(tmp_path, monkeypatch, capsys) -> None:
    """A 14000x13000 PNG gave PIL's DecompressionBombError traceback (exit 1) where translate said one line
    (exit 2); the limit is lowered here so a small picture stands for the huge one."""
    from PIL import Image as PILImage

    from ganforge.cli import main

    run = make_run(tmp_path)
    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", 1000)  # past 2x the limit Pillow raises, not warns
    Image.new("L", (100, 100)).save(tmp_path / "huge.png")
    with pytest.raises(SystemExit) as exc:
        main(["upscale", str(tmp_path), str(tmp_path / "huge.png"), "-o", str(tmp_path / "b.png")])  # refused first
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and err.startswith("error: ") and "\n" not in err and "decompression bomb" in err
    assert not (tmp_path / "b.png").exists()
    with pytest.raises(GanforgeError, match=r"huge.png: not a readable image \(Image size \(10000 pixels\)"):
        upscale(run, tmp_path / "huge.png")  # gf.upscale given its path: the same line


def test_gf_upscale_is_published_and_takes_a_path(tmp_path) -> None:
    """``gf.upscale`` was missing although apps are published as ``gf.<name>``; a path reads the picture as the
    command does and comes back as a Pillow image, or is written with ``out=``."""
    run = make_run(tmp_path)
    assert gf.upscale is upscale and "upscale" in dir(gf)
    pixels = (np.random.default_rng(2).random((7, 9, 3)) * 255).astype(np.uint8)
    Image.fromarray(pixels).save(tmp_path / "in.png")
    picture = gf.upscale(run, tmp_path / "in.png", tile=4)
    assert isinstance(picture, Image.Image) and picture.size == (36, 28)
    assert np.array_equal(np.asarray(picture), gf.upscale(run, pixels, tile=4))
    assert gf.upscale(run, str(tmp_path / "in.png"), out=tmp_path / "out.jpg") == tmp_path / "out.jpg"
    with Image.open(tmp_path / "out.jpg") as written:
        assert written.size == (36, 28)
    with pytest.raises(GanforgeError, match=r"^upscale: out= writes"):
        gf.upscale(run, pixels, out=tmp_path / "x.png")
    with pytest.raises(GanforgeError, match=r"is a folder; upscale takes one picture"):
        gf.upscale(run, tmp_path)


def test_tensors_outside_the_unit_range_and_bad_tiles_are_one_line_errors(tmp_path) -> None:
    """A 0-255 tensor came back clipped (0.34 to 1), NaN gave NaN, and tile=2.5 reached a TypeError."""
    run = make_run(tmp_path)
    for bad, words in ((torch.rand(3, 8, 8) * 255, r"pixel values span \[.*\]; a tensor is the model's input"),
                       (torch.full((3, 8, 8), float("nan")), "NaN or infinite"),
                       (torch.zeros(0, 3, 8, 8), "holds no pictures"),
                       (torch.zeros(3, 8, 8, dtype=torch.uint8), "a torch.uint8 tensor; give floats")):
        with pytest.raises(GanforgeError, match=rf"^upscale: .*{words}"):
            upscale(run, bad)
    for tile in (2.5, 0, "8"):
        with pytest.raises(GanforgeError, match=r"give a whole number of input pixels >= 1, or None"):
            upscale(run, torch.rand(3, 8, 8), tile=tile)
    assert upscale(run, torch.rand(3, 8, 8), tile=4.0).shape == (3, 32, 32)
