"""Arrays, tensors and Datasets given from Python (data/python_objects.py)."""

import numpy as np
import pytest
import torch

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


def test_pictures_from_python_follow_the_rule_image_files_follow() -> None:
    """Float pictures above 1 were all divided by 255: scikit-learn's digits (floats 0-16) trained as nearly black
    images (max 0.0627). Arrays now go through the files' rule (images.to_unit_range)."""
    from sklearn.datasets import load_digits

    from ganforge.data.images import to_unit_range

    with pytest.raises(GanforgeError, match=r"^data: pixel values span \[0, 16\].*divide them by it"):
        source_from_object(load_digits().images)
    eight_bit = np.random.default_rng(0).uniform(0, 255, (4, 8, 8))  # 8-bit pictures stored as floats
    assert np.allclose(source_from_object(eight_bit).x[:, 0].numpy(), to_unit_range(eight_bit, "file"))
    sixteen_bit = np.full((2, 1, 4, 4), 65535, dtype=np.uint16)
    assert float(source_from_object(sixteen_bit).x.max()) == 1.0
    assert source_from_object(np.arange(3, dtype=np.uint16)).x.flatten().tolist() == [0, 1, 2]  # numbers, not pixels


class _Labelled(torch.utils.data.Dataset):
    """(point, label) pairs around one centre per class."""

    def __init__(self, labels: list) -> None:
        self.labels = labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, object]:
        return torch.full((2,), 3.0 * (i % 3)) + 0.1 * torch.randn(2), self.labels[i]


class _CondNet(torch.nn.Module):
    def __init__(self, inputs: int, outputs: int) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(3, 4)
        self.net = torch.nn.Sequential(torch.nn.Linear(inputs + 4, 16), torch.nn.ReLU(), torch.nn.Linear(16, outputs))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, self.embed(y)], dim=1))


def test_a_dataset_of_labelled_points_keeps_its_labels_and_trains_a_conditional_gan(tmp_path) -> None:
    """The points path dropped a Dataset's labels: a conditional GAN failed with "embedding(): argument 'indices'
    must be Tensor, not NoneType"."""
    import ganforge as gf

    data = _Labelled([i % 3 for i in range(60)])
    source = source_from_object(data)
    assert source.kind == "points" and source.num_classes == 3 and source.y.tolist()[:4] == [0, 1, 2, 0]
    gan = gf.GAN(_CondNet(2, 2), _CondNet(2, 1), noise_dim=2, num_classes=3)
    run = gf.train(gan, data=data, steps=2, out=tmp_path / "run", show_progress=False, batch_size=16)
    assert run.real_data().y is not None


def test_dataset_labels_must_be_whole_numbers_from_zero() -> None:
    """``int(label)`` truncated 0.9 and 1.8 to 0 and 1, merging classes silently; negative labels passed."""
    with pytest.raises(GanforgeError, match=r"item 1 has label 0\.9, not a whole number"):
        source_from_object(_Labelled([0.9 * (i % 3) for i in range(30)]))
    with pytest.raises(GanforgeError, match=r"item 0 has label -1; .*renumber them from 0"):
        source_from_object(_Labelled([-1] * 30))
    with pytest.raises(GanforgeError, match=r"a label must be one whole number"):
        source_from_object(_Labelled([torch.eye(3)[i % 3] for i in range(30)]))  # one-hot
    whole = source_from_object(_Labelled([torch.tensor(float(i % 2)) for i in range(30)]))
    assert whole.y.tolist()[:3] == [0, 1, 0] and whole.num_classes == 2


def test_a_frame_of_numbers_and_bools_is_read_as_numbers() -> None:
    """Its one array is object-typed, which read as "expected numbers, got an array of object"."""
    import pandas as pd

    source = source_from_object(pd.DataFrame({"a": [0.5, 1.5, 2.5], "b": [True, False, True]}))
    assert source.x.tolist() == [[0.5, 1.0], [1.5, 0.0], [2.5, 1.0]]
