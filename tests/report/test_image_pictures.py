"""Image grids: layout, pixel values, conditional rows, and the pictures of a trained image run."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

import ganforge as gf
from ganforge.errors import GanforgeError
from ganforge.report.image_pictures import class_rows, grid_array, grid_layout, real_grid, upscale_factor
from ganforge.report.pictures import save_samples_png


def test_grid_places_tiles_row_by_row_with_borders() -> None:
    images = torch.stack([torch.full((1, 2, 2), v) for v in (0.0, 1.0, 0.2)])
    grid = grid_array(images, ncol=2, padding=1, pad_value=0.5, scale=1)
    assert grid.dtype == np.uint8 and grid.shape == (1 + 2 * 3, 1 + 2 * 3)
    assert (grid[1:3, 1:3] == 0).all()  # first tile, top left
    assert (grid[1:3, 4:6] == 255).all()  # second tile, top right
    assert (grid[4:6, 1:3] == 51).all()  # third tile starts the second row (0.2 * 255)
    assert (grid[4:6, 4:6] == 128).all()  # the empty cell stays border gray
    assert (grid[0] == 128).all() and (grid[:, 3] == 128).all()


def test_grid_enlarges_small_tiles_and_keeps_colour() -> None:
    images = torch.rand(5, 3, 8, 8) * 1.4 - 0.2  # out-of-range values are clamped, not wrapped
    grid = grid_array(images)
    k = upscale_factor(8)
    assert k == 6
    assert grid.shape == (1 + 2 * (8 * k + 1), 1 + 3 * (8 * k + 1), 3)  # ceil(sqrt(5)) = 3 columns
    tile = grid[1 : 1 + 8 * k, 1 : 1 + 8 * k].astype(int)
    expected = (images[0].clamp(0, 1) * 255 + 0.5).floor().permute(1, 2, 0).numpy().astype(int)
    assert np.array_equal(tile[::k, ::k], expected)  # nearest-neighbour enlargement
    with pytest.raises(GanforgeError, match="image grid"):
        grid_array(torch.rand(2, 2, 4, 4))


def test_conditional_layout_has_one_row_per_class() -> None:
    labels, n, ncol = grid_layout(10, None)
    assert n == 80 and ncol == 8
    assert torch.equal(labels, class_rows(10, 8))
    assert labels[:8].tolist() == [0] * 8 and labels[-8:].tolist() == [9] * 8
    assert grid_layout(10, 7, 16) == (7, 16, 4)  # a fixed label: a plain square grid
    assert grid_layout(None, None) == (None, 64, 8)


@pytest.fixture(scope="module")
def cgan_run(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    import ganforge.report.summary as summary

    original = summary.finish_run
    summary.finish_run = lambda trainer, path, seconds, **_: SimpleNamespace(path=path)
    try:
        out = tmp_path_factory.mktemp("cgan") / "run"
        gf.train(
            "digits-cgan",
            out=out,
            show_progress=False,
            overrides=["data.size=8", "model.generator.width=4", "model.discriminator.width=4", "train.steps=2",
                       "train.batch_size=16", "train.snapshot_every=0"],
        )
    finally:
        summary.finish_run = original
    return gf.load(out)


def test_real_grid_rows_hold_the_requested_classes(cgan_run) -> None:  # noqa: ANN001
    from ganforge.nets.features import load_digits_classifier

    labels = class_rows(10, 3)
    real = real_grid(cgan_run, len(labels), labels)
    assert real.shape == (30, 1, 8, 8)
    predicted = load_digits_classifier().predict(real)
    assert (predicted == labels).float().mean() >= 0.9  # real digits of the requested classes


def test_pictures_of_an_image_run(cgan_run, tmp_path: Path) -> None:  # noqa: ANN001
    from ganforge.report.pictures import save_sample_pictures

    state = torch.get_rng_state()
    files = save_sample_pictures(cgan_run, tmp_path)
    assert torch.equal(state, torch.get_rng_state())  # drawing pictures leaves the RNG alone
    assert set(files) == {"samples", "real_vs_generated"}
    with Image.open(files["samples"]) as image:
        # 8 per class, one row per class, each row's class written in a left margin
        assert image.height == 1 + 10 * 49 and image.width > 1 + 8 * 49
    assert Path(files["real_vs_generated"]).stat().st_size > 0


def test_sample_png_with_and_without_label(cgan_run, tmp_path: Path) -> None:  # noqa: ANN001
    out = save_samples_png(cgan_run, 9, tmp_path / "sevens.png", label=7)
    with Image.open(out) as image:
        assert image.width == 1 + 3 * 49 and image.height > 1 + 3 * 49  # a "class 7" title line above
    out = save_samples_png(cgan_run, 20, tmp_path / "all.png")
    with Image.open(out) as image:
        assert image.height == 1 + 10 * 49 and image.width > 1 + 2 * 49  # ceil(20 / 10) per class, labelled
    with pytest.raises(GanforgeError, match="out of range"):
        save_samples_png(cgan_run, 4, tmp_path / "x.png", label=12)
    with pytest.raises(GanforgeError, match="-n 0"):
        save_samples_png(cgan_run, 0, tmp_path / "x.png")
