"""``unpaired-folders``: a user's two folders of pictures for CycleGAN, given as one folder holding ``A/`` and
``B/`` (``ganforge train DOMAINS --recipe cyclegan``) or as ``data.path_a`` / ``data.path_b``; the paper's
jitter and mirroring; refusals that name the setting to change."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganforge.data.registry import build_source
from ganforge.errors import GanforgeError


def _pictures(folder: Path, names: list[str], shape: tuple[int, ...], seed: int = 0) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for name in names:
        Image.fromarray((rng.random(shape) * 255).astype(np.uint8)).save(folder / name)
    return folder


@pytest.fixture
def domains(tmp_path: Path) -> Path:
    """domains/A: 3 gray 40x30 pictures; domains/b (lower case): 5 RGB 24x24 ones of other names."""
    _pictures(tmp_path / "domains" / "A", ["x0.png", "x1.png", "x2.png"], (30, 40))
    _pictures(tmp_path / "domains" / "b", [f"other{i}.jpg" for i in range(5)], (24, 24, 3), seed=1)
    return tmp_path / "domains"


def test_a_folder_holding_a_and_b_gives_two_domains_of_any_names_and_counts(domains: Path) -> None:
    source = build_source("unpaired-folders", {"path": str(domains), "size": 16})
    assert tuple(source.x.shape) == (3, 1, 16, 16) and tuple(source.x_b.shape) == (5, 3, 16, 16)
    assert source.info["shape_b"] == [3, 16, 16] and source.name == "domains"
    explicit = build_source("unpaired-folders", {"path_a": str(domains / "A"), "path_b": str(domains / "b"),
                                                 "size": 16, "path": "ignored"})  # the folders themselves win
    assert torch.equal(explicit.x, source.x) and torch.equal(explicit.x_b, source.x_b)


def test_jitter_serves_random_crops_and_mirrors_of_the_load_size(domains: Path) -> None:
    source = build_source("unpaired-folders", {"path": str(domains), "size": 16, "jitter": True, "flip": True})
    source.fit_scaler("tanh")
    assert source.x.shape[-1] == 18 and source.sample_shape == (1, 16, 16)  # stored at 16 x 286/256, served 16
    assert source.info["shape_b"] == [3, 16, 16]
    rng = torch.Generator().manual_seed(0)
    crops = [source.batch(4, rng) for _ in range(6)]
    assert all(b.x.shape == (4, 1, 16, 16) and b.y.shape == (4, 3, 16, 16) for b in crops)
    assert len({tuple(b.x.flatten()[:40].tolist()) for b in crops}) > 1  # not always the same crop
    real = source.real(3)
    assert real.x.shape == (3, 1, 16, 16) and source.real_b(2).x.shape == (2, 3, 16, 16)
    assert torch.equal(real.x, source.real(3).x)  # centre crops, no draws: the same every time


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"path_a": "{d}/A"}, r"^data.path_b: not set, but data.path_a is; .* --set data.path_b=FOLDER$"),
        ({}, r"^data.path_a: not set; .* --set data.path_a=FOLDER, or data.path=FOLDER holding A/ and B/"),
        ({"path_a": "{d}/A", "path_b": "{d}/b/other0.jpg"}, r"^data.path_b: '.*other0.jpg' is a file; .*path_b="),
        ({"path_a": "{d}/A", "path_b": "{d}/nowhere"}, r"^data.path_b: '.*nowhere' does not exist"),
        ({"path": "{d}/A"}, r"^data.path: '.*A' has no A/ sub-folder; .*--set data.path_a=FOLDER_A"),
        ({"path": "{d}/missing"}, r"^data.path: '.*missing' does not exist; give a folder holding A/ and B/"),
    ],
)
def test_a_missing_or_wrong_folder_names_the_setting(domains: Path, settings: dict, message: str) -> None:
    """Leaving out path_b said 'data.path_b: missing required argument (got ArgsKwargs((), {...}))', and a file
    given as data.path_b was blamed on 'data.path'."""
    given = {k: v.format(d=domains) for k, v in settings.items()}
    with pytest.raises(GanforgeError, match=message) as err:
        build_source("unpaired-folders", {**given, "size": 16})
    assert "ArgsKwargs" not in str(err.value) and "\n" not in str(err.value)


def test_unpaired_digits_validation_digits_come_out_of_training_only() -> None:
    """``val_fraction`` carves both domains' validation digits out of the training split (the test split stays the
    classifier's 450); without it the training halves are what they always were."""
    plain = build_source("unpaired-digits", {})
    train = build_source("unpaired-digits", {"val_fraction": 0.1})
    val = build_source("unpaired-digits", {"split": "val", "val_fraction": 0.1})
    test = build_source("unpaired-digits", {"split": "test", "val_fraction": 0.1})
    assert (len(plain.x) + len(plain.x_b), len(train.x) + len(train.x_b), len(val.x), len(test.x)) == (
        1347, 1212, 135, 450)
    assert torch.equal(val.y, val.y_b) and set(val.y.tolist()) == set(range(10))  # the same digits in both domains
    seen = {tuple(im.flatten().tolist()) for im in train.x}
    assert not any(tuple(im.flatten().tolist()) in seen for im in val.x)
    with pytest.raises(GanforgeError, match="data.split: input should be 'train', 'val' or 'test'"):
        build_source("unpaired-digits", {"split": "holdout"})
