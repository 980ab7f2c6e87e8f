"""Every shipped recipe that needs no user file builds its data and its model (settings pass the value rules).

digits-cyclegan's ``n_down: 0`` was refused by the generic ">= 1 for a positive default" rule when the
model was built, so the recipe could not train although its config parsed."""

from __future__ import annotations

import pytest

import ganforge as gf
from ganforge.data.registry import source_from_config
from ganforge.gans.registry import build_model
from ganforge.recipes import recipe_names

NEEDS_USER_FILES = {"cyclegan", "images", "mnist-idx", "pix2pix", "points", "table", "text2image", "timeseries-gru"}


@pytest.mark.parametrize("name", sorted(set(recipe_names()) - NEEDS_USER_FILES))
def test_a_shipped_recipe_builds_its_data_and_model(name: str) -> None:
    config = gf.build_config(name)
    model = build_model(config.model, source_from_config(config.data))
    assert sum(p.numel() for p in model.parameters()) > 0


def test_the_recipes_that_need_a_users_files_are_still_shipped() -> None:
    assert set(recipe_names()) >= NEEDS_USER_FILES  # a renamed one must leave this list too


def test_a_recipe_name_is_the_recipe_beside_a_folder_of_that_name(tmp_path, monkeypatch) -> None:
    from ganforge.recipes import load_recipe, resolve_recipe

    monkeypatch.chdir(tmp_path)
    (tmp_path / "edges2digits" / "checkpoints").mkdir(parents=True)  # e.g. a run trained with --out edges2digits
    (tmp_path / "ring8").mkdir()
    assert resolve_recipe("edges2digits") == load_recipe("edges2digits")
    assert resolve_recipe("ring8") == load_recipe("ring8")


@pytest.mark.parametrize("with_recipe", [None, "images"])
def test_a_run_folder_is_not_trained_on_as_a_folder_of_pictures(tmp_path, with_recipe) -> None:
    from PIL import Image

    from ganforge.errors import GanforgeError
    from ganforge.recipes import recipe_with_data_file, resolve_recipe

    run = tmp_path / "run"
    (run / "plots").mkdir(parents=True)
    (run / "config.yaml").write_text("name: run\n")
    (run / "data.json").write_text("{}")
    Image.new("RGB", (40, 30)).save(run / "plots" / "losses.png")  # what the images recipe would have read
    with pytest.raises(GanforgeError, match="is a run folder, not data to train on; `ganforge resume"):
        resolve_recipe(str(run)) if with_recipe is None else recipe_with_data_file(with_recipe, str(run))
