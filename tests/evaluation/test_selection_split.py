"""Which split the evaluations during training read, and when ``eval.best`` has nothing but the test to choose on."""

from __future__ import annotations

from pathlib import Path

from ganforge.evaluation.selection_split import best_choice_problem, training_split


def _folders(root: Path, *names: str) -> str:
    for name in names:
        (root / name).mkdir(parents=True)
    return str(root)


def test_builtin_sets_have_a_validation_split_only_where_one_is_held_out() -> None:
    assert training_split({"source": "labels2scenes"}) == "val"
    for source in ("edges2digits", "unpaired-digits", "edges2photos", "gray2color", "sr-patches"):
        assert training_split({"source": source}) == "test"
        assert training_split({"source": source, "val_fraction": 0.1}) == "val"
        assert best_choice_problem({"source": source, "val_fraction": 0.1}) is None
        assert "--set data.val_fraction=0.1" in (best_choice_problem({"source": source}) or "")


def test_pairs_folders_need_val_beside_test(tmp_path: Path) -> None:
    both = {"source": "pairs", "path": _folders(tmp_path / "a", "train", "val", "test")}
    val_only = {"source": "pairs", "path": _folders(tmp_path / "b", "train", "val")}  # val/ is its test split
    no_split = {"source": "pairs", "path": _folders(tmp_path / "c", "A", "B")}  # evaluated on its training pairs
    test_no_train = {"source": "pairs", "path": _folders(tmp_path / "d", "A", "B", "test")}  # still a test split
    assert training_split(test_no_train) == "test" and best_choice_problem(test_no_train) is not None
    assert training_split(both) == "val" and best_choice_problem(both) is None
    assert training_split(val_only) == "test"
    assert "a val/ beside train/ and test/" in (best_choice_problem(val_only) or "")
    assert training_split(no_split) == "test" and best_choice_problem(no_split) is None


def test_data_without_a_test_split_may_choose_as_image_runs_do() -> None:
    for data in ({"source": "digits"}, {"source": "sr-folder", "path": "x"}, {"source": "unpaired-folders"}, {}):
        assert best_choice_problem(data) is None and training_split(data) == "test"
