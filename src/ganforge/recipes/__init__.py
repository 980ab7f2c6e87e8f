"""The shipped recipes: YAML configs a user starts from (``ganforge recipes`` lists them)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ganforge.errors import GanforgeError, did_you_mean

DEFAULT_RECIPE = "digits-cgan"
FILE_RECIPE = "points"  # used for `ganforge train my_data.csv`
DATA_SUFFIXES = (".csv", ".npy", ".npz")


def _recipe_files() -> dict[str, Any]:
    folder = resources.files("ganforge.recipes")
    return {p.name[:-5]: p for p in folder.iterdir() if p.name.endswith(".yaml")}


def recipe_names() -> dict[str, str]:
    """Recipe name -> its one-line description."""
    out = {}
    for name, file in sorted(_recipe_files().items()):
        raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        out[name] = str(raw.get("description", "")).strip().split("\n")[0]
    return out


def recipe_text(name: str) -> str:
    files = _recipe_files()
    if name not in files:
        raise GanforgeError(f"unknown recipe '{name}'{did_you_mean(name, files)}; `ganforge recipes` lists them")
    return files[name].read_text(encoding="utf-8")


def load_recipe(name: str) -> dict[str, Any]:
    return yaml.safe_load(recipe_text(name))


def resolve_recipe(recipe: str | Path | None) -> dict[str, Any]:
    """Raw config for a recipe name, a YAML file, or a user data file (trained with the default GAN for
    its kind of data)."""
    from ganforge.config import read_yaml

    if recipe is None:
        return load_recipe(DEFAULT_RECIPE)
    text = str(recipe)
    suffix = Path(text).suffix.lower()
    if suffix in (".yaml", ".yml"):
        return read_yaml(text)
    if suffix in DATA_SUFFIXES:
        if not Path(text).is_file():
            raise GanforgeError(f"data file '{text}' does not exist; check the path")
        raw = load_recipe(FILE_RECIPE)
        raw["name"] = Path(text).stem
        raw["data"] = {"source": "file", "path": text}
        return raw
    if Path(text).exists() and not suffix:
        raise GanforgeError(f"'{text}' is neither a recipe nor a .yaml/.csv/.npy/.npz file")
    return load_recipe(text)


def recipe_with_data_file(recipe: str | Path, path: str | Path) -> dict[str, Any]:
    """Raw config of ``recipe`` (a name or YAML file) trained on the user's data file ``path``, as
    ``ganforge train my_series.csv --recipe timeseries-gru``: the recipe's ``data`` section keeps its
    settings (source, window length, columns...) and reads ``path``; the run is named after the file."""
    text = str(path)
    if Path(text).suffix.lower() not in DATA_SUFFIXES and not Path(text).is_dir():  # folders: image recipes
        raise GanforgeError(
            f"--recipe goes with a data file (.csv/.npy/.npz), got '{text}'; e.g. "
            "`ganforge train my_series.csv --recipe timeseries-gru`, or `ganforge train RECIPE` alone"
        )
    if not Path(text).exists():
        raise GanforgeError(f"data file '{text}' does not exist; check the path")
    raw = resolve_recipe(recipe)
    data = dict(raw.get("data") or {})
    if "path" not in data:
        raise GanforgeError(
            f"recipe '{recipe}' trains on built-in data '{data.get('source')}', not on a file; choose a recipe "
            "that reads files (one with data.path, e.g. timeseries-gru or points)"
        )
    data["path"] = text
    raw["data"] = data
    raw["name"] = Path(text).stem
    return raw
