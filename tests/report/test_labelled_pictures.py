"""Pictures a reader can read: headers on translation / super-resolution grids, class labels on conditional
grids, the 2-D legend outside the data, and the t-SNE / PCA plots in the colours and names of every other
plot."""

from pathlib import Path

import matplotlib.figure
import numpy as np
import pytest
import torch

from ganforge.report.image_pictures import grid_array, labelled_grid, stack_pictures
from ganforge.report.plots import GENERATED_COLOR, REAL_COLOR, plot_real_vs_fake


def test_labelled_grid_keeps_the_tiles_pixel_exact_and_adds_margins() -> None:
    images = torch.rand(6, 1, 8, 8)
    plain = grid_array(images, 3)
    picture = labelled_grid(images, 3, column_labels=["low-res", "bicubic", "x4"], row_labels=["0", "1"])
    array = np.asarray(picture)
    assert picture.height > plain.shape[0] and picture.width > plain.shape[1]
    top, left = array.shape[0] - plain.shape[0], array.shape[1] - plain.shape[1]
    assert np.array_equal(array[top:, left:], plain)  # labels sit around the tiles, never over them
    assert (array[:top] < 128).any() and (array[top:, :left] < 128).any()  # some text was drawn
    stacked = stack_pictures([picture, labelled_grid(images, 3, title="from B")])
    assert stacked.height > picture.height


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[matplotlib.figure.Figure]:
    figures: list[matplotlib.figure.Figure] = []
    original = matplotlib.figure.Figure.savefig

    def keep(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        self.canvas.draw()
        figures.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", keep)
    return figures


def test_scatter_legend_sits_above_the_data(tmp_path: Path, captured) -> None:
    grid = torch.tensor([[x, y] for x in range(-4, 5, 2) for y in range(-4, 5, 2)], dtype=torch.float32)
    real = grid.repeat(40, 1) + 0.05 * torch.randn(1000, 2)
    plot_real_vs_fake(real, real + 0.1, tmp_path / "p.png", "grid25", names=["temp_c", "rain_mm"])
    ax = captured[-1].axes[0]
    legend = ax.get_legend().get_window_extent()
    assert legend.y0 >= ax.get_window_extent().y1 - 1  # above the axes: covers no mode
    assert ax.get_xlabel() == "temp_c" and ax.get_ylabel() == "rain_mm"
    names = [t.get_text() for t in ax.get_legend().get_texts()]
    assert names == ["real", "generated"]


def test_embedding_plots_use_the_shared_names_and_colours(tmp_path: Path, captured) -> None:
    from matplotlib.colors import to_rgba

    from ganforge.evaluation.sequences import embedding_plot

    real, fake = torch.rand(30, 6, 2), torch.rand(30, 6, 2)
    embedding_plot(real, fake, tmp_path / "pca.png", "pca")
    ax = captured[-1].axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["real", "generated"]
    colours = [tuple(c.get_facecolor()[0][:3]) for c in ax.collections]
    assert colours == [to_rgba(REAL_COLOR)[:3], to_rgba(GENERATED_COLOR)[:3]]
