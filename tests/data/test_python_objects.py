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


def test_lists_and_numeric_frames_are_arrays_and_text_is_one_line() -> None:
    """A list or a numeric DataFrame/Series reached `obj.detach()` (AttributeError); a list of text, torch's
    TypeError listing its dtypes; a ragged list, NumPy's "inhomogeneous shape"."""
    import pandas as pd

    assert source_from_object([1.0, 2.0, 4.0]).sample_shape == (1,)
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4, 5, 6]})
    source = source_from_object(frame)
    assert source.kind == "points" and source.x.tolist() == [[1, 4], [2, 5], [3, 6]]
    assert source_from_object(frame["a"]).kind == "numbers"
    with pytest.raises(GanforgeError, match="columns c are not numbers; .* gf.train\\(data=df\\)"):
        source_from_object(frame.assign(c=["x", "y", "z"]))
    with pytest.raises(GanforgeError, match="expected numbers, got an array of <U1"):
        source_from_object(["a", "b"])
    with pytest.raises(GanforgeError, match="rows differ in length"):
        source_from_object([[1.0], [2.0, 3.0]])
