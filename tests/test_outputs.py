"""``ganforge.outputs``: one check of every output path and pictures written in their suffix's format."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganforge.errors import GanforgeError
from ganforge.outputs import names_a_folder, output_file, output_folder, save_picture


def test_output_file_refuses_folders_unknown_suffixes_and_missing_parents(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    assert output_file(tmp_path / "a.csv", (".csv",)) == tmp_path / "a.csv"
    for raw, message in (
        (f"{tmp_path}/dir", "is a folder"),
        (f"{tmp_path}/new/", "is a folder"),
        (f"{tmp_path}/a.txt", "unsupported file type '.txt'"),
        (f"{tmp_path}/a", "unsupported file type '(none)'"),
        (f"{tmp_path}/missing/a.csv", "does not exist; create it first"),
    ):
        with pytest.raises(GanforgeError) as error:
            output_file(raw, (".csv", ".npy"))
        assert message in str(error.value)


def test_output_folder_refuses_files_and_non_empty_folders(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("mine")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.png").write_text("x")
    assert output_folder(tmp_path / "new") == tmp_path / "new"
    assert output_folder(tmp_path / "full") == tmp_path / "full"
    with pytest.raises(GanforgeError, match="is a file, not a folder"):
        output_folder(tmp_path / "f.txt")
    with pytest.raises(GanforgeError, match="not empty"):
        output_folder(tmp_path / "full", empty=True)
    assert names_a_folder(f"{tmp_path}/x/") and names_a_folder(tmp_path / "full")
    assert not names_a_folder(tmp_path / "x.png")


@pytest.mark.parametrize(("suffix", "fmt"), [(".png", "PNG"), (".jpg", "JPEG"), (".jpeg", "JPEG"), (".webp", "WEBP")])
def test_save_picture_writes_the_format_its_suffix_names(tmp_path: Path, suffix: str, fmt: str) -> None:
    rgba = Image.fromarray((np.random.default_rng(0).random((8, 8, 4)) * 255).astype(np.uint8), "RGBA")
    path = save_picture(rgba, tmp_path / f"x{suffix}")
    with Image.open(path) as picture:
        assert picture.format == fmt
    assert [p.name for p in tmp_path.iterdir()] == [f"x{suffix}"]  # no temporary file left behind
    with pytest.raises(GanforgeError, match="unsupported picture type"):
        save_picture(rgba, tmp_path / "x.gifx")
