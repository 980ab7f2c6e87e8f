""".npz archives for the anomaly commands: the one array of samples is found beside 1-D labels; an archive
with several sample arrays is a one-line error that says what to save."""

from pathlib import Path

import numpy as np
import pytest

from ganforge.apps.anomaly.inputs import read_samples
from ganforge.errors import GanforgeError


@pytest.mark.parametrize(("shape", "kind"), [((7, 3), "table"), ((7, 5, 2), "sequence"), ((7, 1, 8, 8), "image")])
def test_samples_beside_labels_are_read_by_their_shape(tmp_path: Path, shape: tuple[int, ...], kind: str) -> None:
    np.savez(tmp_path / "xy.npz", x=np.ones(shape, np.float32), y=np.arange(7))
    samples = read_samples(tmp_path / "xy.npz")
    assert samples.x.shape == shape and samples.kind == kind and samples.names[-1] == "6"


def test_two_sample_arrays_are_a_clear_error(tmp_path: Path) -> None:
    np.savez(tmp_path / "two.npz", train=np.ones((4, 3)), test=np.ones((4, 3)))
    with pytest.raises(GanforgeError, match="holds arrays train, test; the anomaly commands read one array"):
        read_samples(tmp_path / "two.npz")


def test_a_damaged_archive_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bad.npz").write_bytes(b"not a zip archive")
    with pytest.raises(GanforgeError, match="bad.npz: not a readable .npz file"):
        read_samples(tmp_path / "bad.npz")
