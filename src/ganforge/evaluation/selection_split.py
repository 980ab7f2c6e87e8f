"""Which held-out pictures a run's evaluation during training may read, so a best checkpoint is never chosen
on the pictures its reported numbers come from.

Pix2Pix, SRGAN and CycleGAN runs on data with a test split are evaluated on it (``ganforge eval`` and the
end of ``train``). ``eval.best`` chooses a checkpoint by the evaluations made during training; made on the
test split, the choice would be made on the numbers then reported for it (the selection criticized in
published GAN work). So a run whose data also has a **validation split**, disjoint from both, is evaluated
during training on that split, and its best checkpoint is then reported on the untouched test split:

* ``edges2digits``, ``unpaired-digits``, ``edges2photos``, ``gray2color``, ``sr-patches``: with
  ``data.val_fraction`` > 0 (that share of the training digits or tiles, or of the width left of the test
  strip, held out of training);
* ``labels2scenes``: always (validation scenes come from their own random stream, ``seed + 20_000``);
* ``pairs`` folders with both ``val/`` and ``test/`` beside ``train/`` (a folder with ``val/`` alone is
  evaluated on it, so it is that data's test split).

Data with no held-out split at all (pairs or domains without split folders, ``sr-folder``) is evaluated on its
training pictures, as an image run is; choosing there is optimistic, not a test leak, and is allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

HeldoutSplit = Literal["test", "val"]

VAL_FRACTION_SOURCES = ("edges2digits", "unpaired-digits", "edges2photos", "gray2color", "sr-patches")


def _pairs_folders(data: dict[str, Any]) -> tuple[bool, bool]:
    """(has ``test/``, has ``val/``) for a ``pairs`` folder (the evaluation reads ``test/``, else ``val/``, with or
    without ``train/``: :func:`ganforge.data.pairs.pairs`); (False, False) for a .npz."""
    root = Path(str(data.get("path", ""))).expanduser()
    if not root.is_dir():
        return False, False
    return (root / "test").is_dir(), (root / "val").is_dir()


def has_validation_split(data: dict[str, Any]) -> bool:
    """Whether the data section ``data`` (a run config's ``data:``) has a validation split apart from its test
    split, for the evaluations made during training."""
    source = str(data.get("source", ""))
    if source in VAL_FRACTION_SOURCES:
        return float(data.get("val_fraction", 0.0) or 0.0) > 0.0
    if source == "labels2scenes":
        return True
    if source == "pairs":
        return all(_pairs_folders(data))
    return False


def _reads_test_split(data: dict[str, Any]) -> bool:
    source = str(data.get("source", ""))
    if source == "pairs":
        return any(_pairs_folders(data))
    return source in VAL_FRACTION_SOURCES or source == "labels2scenes"


def training_split(data: dict[str, Any]) -> HeldoutSplit:
    """The split the evaluations during training read: ``"val"`` where there is one, else ``"test"`` (which
    for data without any held-out split means the training pictures, as the evaluators say in ``reference``)."""
    return "val" if has_validation_split(data) else "test"


def best_choice_problem(data: dict[str, Any]) -> str | None:
    """None when ``eval.best`` may choose on what the run's evaluation during training reads; else why not and
    how to give the data a validation split (for an error line after ``eval.best=METRIC:``)."""
    if not _reads_test_split(data) or has_validation_split(data):
        return None
    source = str(data.get("source", ""))
    if source == "pairs":
        how = "give the pairs folder a val/ beside train/ and test/ (pairs kept for choosing), or drop eval.best"
    else:
        how = "hold out a validation split of the training data with --set data.val_fraction=0.1, or drop eval.best"
    return (f"{source} runs are evaluated on their test split, with no validation split to choose a checkpoint "
            f"on: {how} (eval.every alone still shows the metrics)")
