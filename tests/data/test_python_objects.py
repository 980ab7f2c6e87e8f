"""Arrays, tensors and Datasets given from Python (data/python_objects.py)."""

import numpy as np
import pytest

from ganforge.data.python_objects import source_from_object
from ganforge.errors import GanforgeError


def test_out_of_range_pictures_say_their_range_and_the_likely_fix() -> None:
    """Images scaled to [-1, 1] (the notes' tanh convention) and windows of a series given as a 3-D array got only
    "image values must lie in [0, 1] (floats) or [0, 255] (integers)"."""
    tanh_scaled = np.random.default_rng(0).uniform(-1, 1, (20, 1, 8, 8)).astype(np.float32)
    with pytest.raises(GanforgeError, match=r"span \[-1, 1\].*give \(x \+ 1\) / 2"):
        source_from_object(tanh_scaled.round())
    windows = np.random.default_rng(0).normal(0, 1, (20, 12, 1)).astype(np.float32) * 2
    with pytest.raises(GanforgeError, match=r"gf\.data\.sequences\(array\)"):
        source_from_object(windows)
    assert source_from_object((tanh_scaled + 1) / 2).kind == "images"
