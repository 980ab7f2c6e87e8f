"""The tables that ship offline: each loads through the registry with its stated size, target and kinds."""

import pytest

from ganforge.data.registry import build_source, source_names
from ganforge.data.table_datasets import SHIPPED_TABLES, sdgym_simulated
from ganforge.errors import GanforgeError

EXPECTED = {  # registry name -> (rows, target, kind of the target column)
    "breast-cancer-table": (569, "target", "categorical"),
    "wine-table": (178, "target", "categorical"),
    "diabetes-table": (442, "target", "integer"),
    "digits-binarized": (1797, "label", "categorical"),
    "penguins-table": (344, "species", "categorical"),
}


def test_every_shipped_table_is_registered_with_its_description() -> None:
    names = source_names()
    assert set(EXPECTED) == set(SHIPPED_TABLES)
    for key, table in SHIPPED_TABLES.items():
        assert names[key] and table.doc.startswith(names[key].rstrip(".").rstrip("…"))


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_shipped_table_loads_with_its_rows_target_and_kinds(key: str) -> None:
    rows, target, target_kind = EXPECTED[key]
    source = build_source(key, {"validation": 0.1, "holdout": 0.2, "split_seed": 3})
    counts = source.info["rows"]
    assert counts["train"] + counts["validation"] + counts["holdout"] == rows
    assert abs(counts["holdout"] - 0.2 * rows) <= 1
    assert source.target == target
    kinds = {c.name: c.kind for c in source.transformer.columns}
    assert kinds[target] == target_kind
    if key == "digits-binarized":
        assert set(kinds.values()) == {"categorical"}


def test_shipped_table_settings_are_checked() -> None:
    with pytest.raises(GanforgeError, match="target_share"):
        build_source("wine-table", {"target_share": 1.5})
    with pytest.raises(GanforgeError, match="colour"):
        build_source("wine-table", {"colour": "red"})


def test_sdgym_simulated_is_the_seeded_procedure() -> None:
    train, test = sdgym_simulated("ring", num_samples=400)
    again, _ = sdgym_simulated("ring", num_samples=400)
    assert train.shape == test.shape == (400, 2)
    assert (train == again).all()
    radius = (train**2).sum(axis=1) ** 0.5
    assert abs(float(radius.mean()) - 1.0) < 0.1
    with pytest.raises(GanforgeError, match="choose one of"):
        sdgym_simulated("spiral")
