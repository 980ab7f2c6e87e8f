"""``--size`` of the commands that read pictures: refused outside the sizes the image code handles, as one line
with exit code 2, before any picture is read (0 or a negative size reached torch's resize as a traceback)."""

from __future__ import annotations

import numpy as np
import pytest

from ganforge.cli import SIZE_RANGE
from ganforge.data.images import MAX_SIZE, MIN_SIZE


def test_the_cli_size_range_is_the_image_codes() -> None:
    assert SIZE_RANGE == {"min": MIN_SIZE, "max": MAX_SIZE}


@pytest.mark.parametrize("size", ["0", "-4", "2048"])
@pytest.mark.parametrize(
    "command",
    [
        ["fid", "{npz}", "{npz}"],
        ["anomaly", "fit", "{npz}", "--out", "{tmp}/ad"],
        ["augment", "{npz}", "-o", "{tmp}/aug.npz"],
        ["translate", "{tmp}/no-run", "{npz}", "-o", "{tmp}/out"],
    ],
)
def test_a_size_outside_the_range_is_one_line_and_exit_2(run_cli, tmp_path, command: list[str], size: str) -> None:  # noqa: ANN001
    npz = tmp_path / "pictures.npz"
    np.savez(npz, images=np.zeros((4, 16, 16), dtype=np.uint8), labels=np.arange(4))
    args = [a.format(npz=npz, tmp=tmp_path) for a in command]
    code, _, err = run_cli(*args, "--size", size)
    assert code == 2 and "--size" in err and len(err.strip().splitlines()) == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pictures.npz"]  # nothing written
