"""What the studio draws, per kind of run: shapes and meaning of a frame's parts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ganforge.api import build_config
from ganforge.data.registry import source_from_config
from ganforge.gans.registry import build_model
from ganforge.studio.frames import HEAT_SIZE, MANIFOLD_LINES, MANIFOLD_POINTS, FrameMaker, unpacked, view_of


def _maker(recipe: str, overrides: list[str] | None = None, n: int = 400) -> FrameMaker:
    config = build_config(recipe, overrides)
    torch.manual_seed(0)
    source = source_from_config(config.data)
    gan = build_model(config.model, source)
    source.fit_scaler(gan.output_activation)
    return FrameMaker(gan, source.scaler, source.kind, tuple(source.sample_shape), source.real(n, seed=1).x,
                      info=source.info)


@pytest.mark.parametrize(
    ("kind", "shape", "view"),
    [("points", [2], "lowdim"), ("numbers", [1], "lowdim"), ("points", [5], "columns"), ("table", [7], "columns"),
     ("sequences", [24, 5], "series"), ("images", [1, 8, 8], "images"), ("superres", [3, 32, 32], "images")],
)
def test_view_of(kind: str, shape: list[int], view: str) -> None:
    assert view_of(kind, shape) == view


def test_2d_frame_surface_arrows_and_manifold() -> None:
    maker = _maker("ring8")
    frame = maker.frame(7)
    assert frame["step"] == 7 and frame["probability"]
    fake, heat = np.array(unpacked(frame["fake"])), np.array(unpacked(frame["heat"]))
    assert fake.shape == (400, 2) and heat.shape == (HEAT_SIZE * HEAT_SIZE,)
    assert ((heat >= 0) & (heat <= 1)).all()  # D(x) as a probability
    arrows = np.array(unpacked(frame["arrows"]))
    assert arrows.shape == (60, 4) and np.abs(arrows[:, 2:]).sum() > 0
    np.testing.assert_allclose(arrows[:, :2], fake[:60], atol=1e-5)  # arrows start at generated points
    assert np.array(unpacked(frame["manifold"])).shape == (2 * MANIFOLD_LINES, MANIFOLD_POINTS, 2)
    assert unpacked(maker.frame(8)["fake"]) == unpacked(frame["fake"])  # fixed latents: same G, same points
    # the arrows point where G's loss falls: moving a point along its arrow raises D (non-saturating loss)
    gan = maker.gan
    x = maker.scaler.to_model(torch.tensor(arrows[:, :2], dtype=torch.float32))
    step = maker.scaler.scale.reshape(-1) * torch.tensor(arrows[:, 2:], dtype=torch.float32) * 1e-3
    with torch.no_grad():
        before, after = gan.discriminate(x).mean(), gan.discriminate(x + step).mean()
    assert after > before


def test_the_2d_view_names_its_axes_after_the_data_columns(tmp_path: Path) -> None:
    data = tmp_path / "heights.csv"
    rng = np.random.default_rng(0)
    rows = "\n".join(f"{a:.3f},{b:.3f}" for a, b in rng.normal([170, 70], [10, 8], size=(300, 2)))
    data.write_text("height_cm,weight_kg\n" + rows + "\n")
    config = build_config(str(data))
    source = source_from_config(config.data)
    gan = build_model(config.model, source)
    source.fit_scaler(gan.output_activation)
    maker = FrameMaker(gan, source.scaler, source.kind, (2,), source.real(400, seed=1).x, info=source.info)
    init = maker.init_message()
    assert init["axes"] == ["height_cm", "weight_kg"]
    assert init["bounds"][0][0] < 150 < 190 < init["bounds"][0][1]  # the ranges drawn are in the data's units
    unnamed = FrameMaker(gan, source.scaler, source.kind, (2,), source.real(400, seed=1).x,
                         info={"columns": ["only one"]})
    assert unnamed.init_message()["axes"] == ["x0", "x1"]  # a list that does not fit the columns is not used


def test_wasserstein_scores_are_not_probabilities() -> None:
    frame = _maker("ring8-wgan").frame(0)
    assert not frame["probability"]


def test_1d_series_and_columns_frames(tmp_path: Path) -> None:
    one = _maker("normal").frame(0)
    assert np.array(unpacked(one["heat"])).shape == (HEAT_SIZE,)
    assert np.array(unpacked(one["manifold"])).shape[2] == 2  # (z, G(z)) pairs
    series = _maker("sines-rcgan").frame(0)
    assert series["view"] == "series" and np.array(unpacked(series["fake"])).shape == (4, 24, 5)
    table = tmp_path / "table.csv"
    np.savetxt(table, np.random.default_rng(0).normal(size=(500, 3)), delimiter=",", header="a,b,c", comments="")
    maker = _maker("points", [f"data.path={table}"], n=2000)
    cols = maker.frame(0)["columns"]
    assert len(cols) == 3 and all(len(c["real"]) == len(c["fake"]) == len(c["edges"]) - 1 for c in cols)
    assert [c["name"] for c in cols] == ["a", "b", "c"]  # the CSV's header (was "column 0" ...)
    assert sum(cols[0]["real"]) == pytest.approx(1.0, abs=1e-3)



def test_a_table_shows_its_own_columns_not_its_encoding(tmp_path) -> None:  # noqa: ANN001
    import ganforge as gf
    from ganforge.studio.frames import FrameMaker

    run = gf.train("penguins-table", steps=2, out=tmp_path / "t", show_progress=False, overrides=["eval.enabled=false"])
    real = run.real_data().real(300, seed=1).x
    maker = FrameMaker(run.gan, run.scaler, "table", tuple(run.data_info.sample_shape), real, seed=0)
    columns = {c["name"].split(":")[0]: c for c in maker.frame(2)["columns"]}
    assert {"species", "island", "bill_length_mm", "sex", "year"} <= set(columns)  # was "column 0" ... "column 11"
    assert columns["species"]["name"] == "species: Adelie, Chinstrap, Gentoo"
    assert len(columns["species"]["real"]) == 3 and abs(sum(columns["species"]["real"]) - 1.0) < 1e-3
    assert len(columns["bill_length_mm"]["edges"]) == len(columns["bill_length_mm"]["fake"]) + 1
