"""Users' numeric files: good files load; every bad one is a one-line error naming the file."""

import numpy as np
import pytest

from ganforge.data.files import load_numeric, numeric_file
from ganforge.errors import GanforgeError


def test_csv_with_header_and_column_selection(tmp_path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("a,b,c\n1,2,3\n4,5,6\n")
    assert load_numeric(path).shape == (2, 3)
    assert load_numeric(path, columns=["c", "a"]).tolist() == [[3, 1], [6, 4]]
    assert numeric_file(str(path)).kind == "points"


def test_npy_and_npz(tmp_path) -> None:
    np.save(tmp_path / "x.npy", np.arange(6.0))
    assert load_numeric(tmp_path / "x.npy").shape == (6, 1)
    np.savez(tmp_path / "x.npz", a=np.ones((3, 2)), b=np.zeros((2, 2)))
    assert load_numeric(tmp_path / "x.npz", key="a").shape == (3, 2)
    with pytest.raises(GanforgeError, match="choose one with data.key"):
        load_numeric(tmp_path / "x.npz")


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("missing.csv", None, "does not exist"),
        ("empty.csv", b"", "is empty"),
        ("header.csv", b"a,b\n", "only a header"),
        ("text.csv", b"1,2\n3,x\n", "line 2, column 'x1': 'x' is not a number"),
        ("nan.csv", b"1,2\n3,nan\n", "non-finite value"),
        ("ragged.csv", b"1,2\n3\n", "1 values where the file has 2 columns"),
        ("bin.csv", b"\xff\xfe\x00\x01", "not a readable text CSV"),
        ("bad.npy", b"not numpy", "not a readable .npy"),
        ("bad.npz", b"PK\x03\x04garbage", "not a readable .npz"),
        ("x.txt", b"1,2", "unsupported type"),
    ],
)
def test_bad_files_give_one_line_errors(tmp_path, name, content, message) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(GanforgeError, match=message) as err:
        load_numeric(path)
    assert "\n" not in str(err.value)


def test_a_csv_with_a_byte_order_mark_keeps_its_first_row(tmp_path) -> None:
    """Excel writes UTF-8 with a BOM: without a header the BOM made the first row look like text, so it was
    taken for a header and a row of data was lost; with a header the first name was '\\ufeffx'."""
    rows = [[0.5, 1.5], [2.0, 3.0], [4.0, 5.0]]
    bare = tmp_path / "bare.csv"
    bare.write_bytes(("\ufeff" + "\n".join(f"{a},{b}" for a, b in rows) + "\n").encode("utf-8"))
    assert load_numeric(bare).tolist() == rows
    named = tmp_path / "named.csv"
    named.write_bytes(("\ufeffx,y\n" + "\n".join(f"{a},{b}" for a, b in rows) + "\n").encode("utf-8"))
    assert load_numeric(named).tolist() == rows
    assert numeric_file(str(named)).info["columns"] == ["x", "y"]
