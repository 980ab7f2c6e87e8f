"""``Run`` (runs.py) from Python: counts, labels and keywords of ``sample``, ``load``'s arguments, ``evaluate``'s
metrics and ``rejection_threshold``'s quantile; each wrong value is one line naming the Python argument."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ganforge as gf
from ganforge.errors import GanforgeError, whole_number

OFF = ["eval.enabled=false", "sample.discriminator_rejection=0"]
CONDITIONAL = [*OFF, "model.conditional=true"]  # 2-d points learn their labels only when asked


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):  # noqa: ANN001, ANN201
    """A class-conditional run of 2-d points in 3 classes (2 steps: what it draws does not matter here)."""
    torch.manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.randn(120, 2), torch.arange(120) % 3)
    return gf.train(data=data, steps=2, out=tmp_path_factory.mktemp("runs") / "c", overrides=CONDITIONAL,
                    show_progress=False)


@pytest.fixture(scope="module")
def plain(tmp_path_factory):  # noqa: ANN001, ANN201
    data = np.random.default_rng(0).normal(size=(120, 2))
    return gf.train(data=data, steps=2, out=tmp_path_factory.mktemp("runs") / "p", overrides=OFF,
                    show_progress=False)


def test_whole_number_is_the_one_rule_for_counts() -> None:
    for value in (5, 5.0, np.int64(5), np.float32(5.0), torch.tensor(5), torch.tensor(5.0), np.array(5)):
        assert whole_number(value) == 5, value
    for value in (2.5, True, np.bool_(True), torch.tensor(True), "5", None, [5], np.array([5]), float("nan"),
                  float("inf"), torch.tensor([5])):
        assert whole_number(value) is None, value


def test_labels_may_be_lists_arrays_and_0d_tensors(labelled) -> None:  # noqa: ANN001
    """``label=[1, 2]`` was a TypeError from ``int()``, ``np.array`` another, ``torch.tensor(2)`` an IndexError."""
    assert labelled.sample(4, label=[0, 1, 2, 1]).shape == (4, 2)
    assert labelled.sample(4, label=np.array([0, 1, 2, 1])).shape == (4, 2)
    assert labelled.sample(3, label=torch.tensor(2)).shape == (3, 2)
    assert labelled.sample(3, label="2").shape == (3, 2)  # a class number as text, as --label gives it


@pytest.mark.parametrize(
    ("label", "message"),
    [
        (3.5, r"^label=3.5: not a whole class number; give a class number 0..2"),  # was class 3
        (True, r"^label=True: not a whole class number"),  # was class 1
        (torch.tensor([1.5, 0.0, 1.0, 2.0]), r"^label= holds 1.5, not a whole class number"),  # was class 1
        ([0, 1], r"^label= gives 2 labels for 4 samples"),
        ("cat", r"^--label / label='cat': .* has no such class; its classes are 0-2"),
    ],
)
def test_non_whole_bool_and_unknown_labels_are_refused(labelled, label, message) -> None:  # noqa: ANN001
    with pytest.raises(GanforgeError, match=message):
        labelled.sample(4, label=label)


def test_a_label_for_a_run_without_classes_names_label_and_the_flag(plain) -> None:  # noqa: ANN001
    """It said "drop --label", a flag a Python user never typed."""
    with pytest.raises(GanforgeError, match=r"^--label / label='x': .* is not a class-conditional run; drop --label "
                                            r"/ label="):
        plain.sample(2, label="x")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_samples": 5}, r"^sample\(n_samples=...\): no such argument \(did you mean 'n'\?\); give the number of "
                           r"samples as n="),
        ({"num": 5}, r"^sample\(num=...\): no such argument \(did you mean 'n'\?\)"),
        ({"labl": 1}, r"^sample\(labl=...\): no such argument \(did you mean 'label'\?\)"),
        ({}, r"^sample\(\): give the number of samples as n=, e.g. run.sample\(16\)"),
        ({"rows": 5}, r"^sample\(rows=5\): rows= is for table runs; this is a points run, give the count as n"),
    ],
)
def test_a_missing_or_misspelled_count_is_one_line_with_a_suggestion(plain, kwargs, message) -> None:  # noqa: ANN001
    """They were a bare ``TypeError: sample() needs the number of samples n``; ``rows=`` was silently ignored."""
    with pytest.raises(GanforgeError, match=message):
        plain.sample(**kwargs)


def test_counts_take_numpy_and_torch_integers_and_whole_floats(plain) -> None:  # noqa: ANN001
    """``np.int64(5)``, ``torch.tensor(4)`` and ``3.0`` were refused as "not a positive whole number"."""
    assert plain.sample(np.int64(5)).shape == (5, 2)
    assert plain.sample(torch.tensor(4)).shape == (4, 2)
    assert plain.sample(3.0).shape == (3, 2)
    for bad in (2.5, "4", 0, True):
        with pytest.raises(GanforgeError, match=r"^sample\(n\): give a positive whole number of samples"):
            plain.sample(bad)


def test_load_takes_a_run_and_refuses_wrong_arguments_in_one_line(plain) -> None:  # noqa: ANN001
    """A Run reached pathlib's TypeError, ``checkpoint=20`` another, and a path given as ``gan`` failed far inside
    with ``AttributeError: 'str' object has no attribute ...``."""
    assert gf.load(plain).path == plain.path
    with pytest.raises(GanforgeError, match=r"^load\(path=None\): give the run folder as a str or pathlib.Path"):
        gf.load(None)
    with pytest.raises(GanforgeError, match=r"^load\(checkpoint=20\): give a checkpoint folder .*step-00000020"):
        gf.load(plain.path, checkpoint=20)
    with pytest.raises(GanforgeError, match=r"^load\(gan='runs/x'\): gan= takes a ganforge GAN model, not a str"):
        gf.load(plain.path, "runs/x")
    with pytest.raises(GanforgeError, match=r"^load\(trust_code='no'\): give True or False"):
        gf.load(plain.path, trust_code="no")


def test_evaluate_metrics_and_rejection_quantile_are_checked(plain) -> None:  # noqa: ANN001
    """``metrics=5`` reached "'int' object is not iterable"; ``rejection_threshold("0.1")`` a comparison's
    TypeError."""
    with pytest.raises(GanforgeError, match=r"^evaluate\(metrics=5\): give a metric name or a list of names"):
        plain.evaluate(metrics=5)
    with pytest.raises(GanforgeError, match=r"^rejection_threshold\(quantile\) '0.1': not a number"):
        plain.rejection_threshold("0.1")
    with pytest.raises(GanforgeError, match=r"^reject='0.1': not a number"):
        plain.sample(3, reject="0.1")
