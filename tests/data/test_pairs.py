"""Paired data: A/B folders matched by name, side-by-side AB pictures, .npz; aligned crops and flips;
the built-in pairs; bad pairs -> one-line errors."""

import numpy as np
import pytest
import torch
from PIL import Image

from ganforge.data.builtin_pairs import (
    SCENE_CLASSES,
    edges2digits,
    edges2photos,
    gray2color,
    labels2scenes,
    labels_from_coded,
)
from ganforge.data.pairs import ImagePairSource, jitter_load_size, pair_source, pairs, pairs_line
from ganforge.errors import GanforgeError


def _save(path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _random_rgb(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    return (rng.random((h, w, 3)) * 255).astype(np.uint8)


def test_ab_folders_are_matched_by_name(tmp_path) -> None:
    rng = np.random.default_rng(0)
    for name in ("b", "a", "c"):
        img = _random_rgb(rng, 32, 32)
        _save(tmp_path / "A" / f"{name}.png", img)
        _save(tmp_path / "B" / f"{name}.jpg" if name == "c" else tmp_path / "B" / f"{name}.png", 255 - img)
    src = pairs(str(tmp_path), size=32, jitter=False, flip=False)
    assert src.kind == "paired-images" and len(src) == 3 and src.info["layout"] == "A/B folders"
    assert src.sample_shape == (3, 32, 32) and src.info["shape_b"] == [3, 32, 32]
    png = [0, 1]  # a.png and b.png (sorted names); c's B side is a lossy JPEG
    torch.testing.assert_close(src.x_b[png], 1 - src.x[png], atol=1.5 / 255, rtol=0)
    swapped = pairs(str(tmp_path), size=32, jitter=False, flip=False, direction="b2a")
    torch.testing.assert_close(swapped.x, src.x_b)


def test_side_by_side_pictures_split_in_halves_and_split_folders(tmp_path) -> None:
    rng = np.random.default_rng(1)
    for split, count in (("train", 3), ("val", 2)):
        for i in range(count):
            left = _random_rgb(rng, 32, 32)
            gray = left.mean(axis=2).astype(np.uint8)
            _save(tmp_path / split / f"{i}.png", np.concatenate([left, np.repeat(gray[..., None], 3, 2)], 1))
    train = pairs(str(tmp_path), size=32, jitter=False, grayscale_b=True)
    test = pairs(str(tmp_path), size=32, jitter=False, split="test", grayscale_b=True)
    assert (len(train), len(test)) == (3, 2) and train.info["layout"] == "side-by-side AB"
    assert "val/" in test.info["split"] and train.x.shape[1] == 3 and train.x_b.shape[1] == 1
    assert float((train.x.mean(1, keepdim=True) - train.x_b).abs().max()) < 0.01  # B = mean of A's channels
    with pytest.raises(GanforgeError, match="has no val/ folder"):
        pairs(str(tmp_path / "train"), size=32, split="val")
    _save(tmp_path / "test" / "0.png", np.concatenate([left, np.repeat(gray[..., None], 3, 2)], 1))
    test, val = (pairs(str(tmp_path), size=32, jitter=False, split=s, grayscale_b=True) for s in ("test", "val"))
    assert (len(test), len(val)) == (1, 2) and "test/" in test.info["split"] and "val/" in val.info["split"]



def test_a_folder_of_plain_pictures_is_not_cut_into_pairs(tmp_path) -> None:
    rng = np.random.default_rng(4)
    for i in range(3):  # square photos: each would have become a left strip (A) and a right strip (B)
        _save(tmp_path / f"{i}.png", _random_rgb(rng, 32, 32))
    with pytest.raises(GanforgeError, match=r"0.png is 32x32 pixels, not a side-by-side AB picture"):
        pairs(str(tmp_path), size=32)


def test_npz_pairs_with_two_arrays(tmp_path) -> None:
    rng = np.random.default_rng(2)
    a = (rng.random((5, 32, 32)) * 255).astype(np.uint8)
    np.savez(tmp_path / "p.npz", edges=a, photos=np.stack([255 - a] * 3, axis=-1))
    src = pairs(str(tmp_path / "p.npz"), size=32, jitter=False)
    assert len(src) == 5 and src.x.shape[1] == 1 and src.x_b.shape[1] == 3
    torch.testing.assert_close(src.x_b[:, :1], 1 - src.x, atol=1e-6, rtol=0)
    np.savez(tmp_path / "three.npz", a1=a, a2=a, a3=a)
    with pytest.raises(GanforgeError, match="a_key and data.b_key"):
        pairs(str(tmp_path / "three.npz"), size=32)
    np.savez(tmp_path / "short.npz", a=a, b=a[:3])
    with pytest.raises(GanforgeError, match="must pair image for image"):
        pairs(str(tmp_path / "short.npz"), size=32)


def test_bad_pairs_are_one_line_errors(tmp_path) -> None:
    rng = np.random.default_rng(3)
    for name in ("x1", "x2", "only_a"):
        _save(tmp_path / "u" / "A" / f"{name}.png", _random_rgb(rng, 32, 32))
    for name in ("x1", "x2", "only_b"):
        _save(tmp_path / "u" / "B" / f"{name}.png", _random_rgb(rng, 32, 32))
    with pytest.raises(GanforgeError, match=r"unmatched names.*only_a.*only_b") as exc:
        pairs(str(tmp_path / "u"), size=32)
    assert "\n" not in str(exc.value)
    _save(tmp_path / "s" / "A" / "p.png", _random_rgb(rng, 32, 32))
    _save(tmp_path / "s" / "B" / "p.png", _random_rgb(rng, 40, 32))
    with pytest.raises(GanforgeError, match="must have the same size"):
        pairs(str(tmp_path / "s"), size=32)
    _save(tmp_path / "e" / "A" / "p.png", _random_rgb(rng, 32, 32))
    (tmp_path / "e" / "B").mkdir()
    with pytest.raises(GanforgeError, match="holds no pictures"):
        pairs(str(tmp_path / "e"), size=32)
    _save(tmp_path / "odd" / "p.png", _random_rgb(rng, 32, 33))
    with pytest.raises(GanforgeError, match="even width"):
        pairs(str(tmp_path / "odd"), size=32)
    with pytest.raises(GanforgeError, match="does not exist"):
        pairs(str(tmp_path / "nowhere"), size=32)
    with pytest.raises(GanforgeError, match="one side is empty"):
        pair_source(torch.rand(2, 1, 8, 8), torch.empty(0, 1, 8, 8), name="t")


def test_two_pictures_of_one_name_on_one_side_are_refused(tmp_path) -> None:
    rng = np.random.default_rng(5)
    for side in ("A", "B"):
        _save(tmp_path / side / "img00.png", _random_rgb(rng, 16, 16))
    _save(tmp_path / "A" / "img00.jpg", _random_rgb(rng, 16, 16))  # one of them used to be dropped silently
    with pytest.raises(GanforgeError, match=r"A' holds both img00.jpg and img00.png, one name") as exc:
        pairs(str(tmp_path), size=16)
    assert "\n" not in str(exc.value)


def test_hidden_files_are_skipped_on_both_sides(tmp_path) -> None:
    rng = np.random.default_rng(6)
    for side in ("A", "B"):
        _save(tmp_path / side / "p.png", _random_rgb(rng, 16, 16))
    (tmp_path / "A" / "._p.png").write_bytes(b"\x00\x05\x16\x07 mac resource fork")
    assert len(pairs(str(tmp_path), size=16, jitter=False)) == 1


def test_a_damaged_npz_is_not_called_pickled_and_one_array_is_singular(tmp_path) -> None:
    (tmp_path / "g.npz").write_bytes(b"PK garbage")
    with pytest.raises(GanforgeError, match=r"not a readable .npz file \(no NumPy archive") as exc:
        pairs(str(tmp_path / "g.npz"), size=16)
    assert "pickle" not in str(exc.value)
    np.savez(tmp_path / "one.npz", edges=np.zeros((2, 16, 16), np.uint8))
    with pytest.raises(GanforgeError, match=r"holds 1 array \(edges\)"):
        pairs(str(tmp_path / "one.npz"), size=16)


def test_the_pairs_line_says_how_pictures_were_cropped_and_resized(tmp_path) -> None:
    rng = np.random.default_rng(7)
    for i in range(2):
        for side in ("A", "B"):
            _save(tmp_path / "small" / side / f"{i}.png", _random_rgb(rng, 40, 48))  # 48 wide, 40 high
            _save(tmp_path / "wide" / side / f"{i}.png", _random_rgb(rng, 50, 70))
    small = pairs(str(tmp_path / "small"), size=32)  # load 36: 40x40 squares reduced, random 32 crops
    line = pairs_line(small)
    assert line.startswith("pairs: 2 pairs (A/B folders) stored at 48x40 -> 2 of 2 centre-cropped to squares")
    assert "17 % of the longer side cut" in line and "reduced to 36x36" in line and "random 32x32 crops" in line
    assert "\n" not in line and small.info["stored_sizes"] == ["48x40"]
    wide = pairs_line(pairs(str(tmp_path / "wide"), size=64))  # 50x50 squares enlarged to 72
    assert "29 % of the longer side cut" in wide and "enlarged to 72x72" in wide
    big = pairs_line(pairs(str(tmp_path / "small"), size=256, flip=False))
    assert "enlarged 7.2x to 286x286" in big and "random 256x256 crops" in big and "mirrors" not in big
    exact = pairs_line(pairs(str(tmp_path / "small"), size=40, jitter=False))
    assert "resized" not in exact and "enlarged" not in exact and "reduced" not in exact and "-> 2 of 2" in exact
    assert pairs_line(pair_source(torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8), name="builtin")) == ""


def test_random_crops_and_flips_keep_a_and_b_aligned() -> None:
    torch.manual_seed(0)
    a = torch.rand(6, 1, 36, 36)
    src = pair_source(a, torch.cat([a, 1 - a, a.flip(-2)], dim=1), name="t", size=32, jitter=True, flip=True)
    src.fit_scaler("tanh")
    rng = torch.Generator().manual_seed(0)
    seen_offsets, flips = set(), 0
    for _ in range(20):
        batch = src.batch(6, rng)
        x, y = src.scaler.to_data(batch.x), src.scaler.to_data(batch.y)
        assert x.shape == (6, 1, 32, 32) and y.shape == (6, 3, 32, 32)
        torch.testing.assert_close(y[:, :1], x)
        torch.testing.assert_close(y[:, 1:2], 1 - x)
        for crop in x:  # find where each crop came from, and whether it was mirrored
            for k in range(6):
                for flipped in (False, True):
                    full = a[k, 0].flip(-1) if flipped else a[k, 0]
                    for t in range(5):
                        for c in range(5):
                            if torch.equal(full[t : t + 32, c : c + 32], crop[0]):
                                seen_offsets.add((t, c))
                                flips += flipped
    assert len(seen_offsets) > 10 and 0 < flips < 120  # random crops and about half mirrored
    held = src.real(6)
    torch.testing.assert_close(
        held.x, a[:, :, 2:34, 2:34][torch.randperm(6, generator=torch.Generator().manual_seed(12345))]
    )


def test_state_dict_replays_the_same_batches() -> None:
    a = torch.rand(10, 1, 36, 36)
    src = pair_source(a, a, name="t", size=32, jitter=True, flip=True)
    src.fit_scaler("tanh")
    rng = torch.Generator().manual_seed(3)
    src.batch(4, rng)
    state, rng_state = src.state_dict(), rng.get_state()
    first = src.batch(8, rng)
    src.load_state_dict(state)
    rng.set_state(rng_state)
    torch.testing.assert_close(src.batch(8, rng).x, first.x)


def test_jitter_load_size_scales_the_papers_286() -> None:
    assert [jitter_load_size(s) for s in (32, 64, 128, 256)] == [36, 72, 143, 286]


def test_edges2digits_uses_the_classifier_split_with_labels() -> None:
    train, test = edges2digits(split="train"), edges2digits(split="test")
    assert (len(train), len(test)) == (1347, 450)
    assert train.x.shape == (1347, 1, 32, 32) and train.x_b.shape == (1347, 1, 32, 32)
    assert set(train.x.unique().tolist()) <= {0.0, 1.0} and 0.03 < float(train.x.mean()) < 0.2
    a, b, labels, maps = test.heldout(10)
    assert labels is not None and maps is None and len(labels) == 10


def test_edges2digits_validation_digits_come_out_of_training_only() -> None:
    train, val = edges2digits(val_fraction=0.1), edges2digits(split="val", val_fraction=0.1)
    test = edges2digits(split="test", val_fraction=0.1)
    assert (len(train), len(val), len(test)) == (1212, 135, 450)  # 1,347 training digits, the test 450 untouched
    assert val.y is not None and set(val.y.tolist()) == set(range(10))  # stratified: every class
    rows = {tuple(im.flatten().tolist()) for im in train.x_b}
    assert not any(tuple(im.flatten().tolist()) in rows for im in val.x_b)
    with pytest.raises(GanforgeError, match=r"data.val_fraction=0.0: give a share in \[0.01, 0.5\]"):
        edges2digits(split="val")



def test_photo_pairs_and_scenes() -> None:
    edges, color = edges2photos(count=12), gray2color(count=12, split="test")
    assert edges.x.shape == (12, 1, 32, 32) and edges.x_b.shape == (12, 3, 32, 32)
    luma = (color.x_b * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    torch.testing.assert_close(color.x, luma)
    assert edges.info["holdout"] == color.info["holdout"] == "tiles"  # test tiles across every photograph
    strip = edges2photos(count=12, split="test", holdout="strip")
    assert strip.info["holdout"] == "strip" and not torch.equal(strip.x_b, edges2photos(count=12, split="test").x_b)
    scenes = labels2scenes(count=40, size=32)
    assert scenes.x.shape == (40, 3, 32, 32) and scenes.label_maps is not None
    assert torch.equal(labels_from_coded(scenes.x), scenes.label_maps)
    assert set(scenes.label_maps.unique().tolist()) == set(range(len(SCENE_CLASSES)))
    test = labels2scenes(count=40, size=32, split="test")
    val = labels2scenes(count=40, size=32, split="val")  # the split eval.best chooses on: a third stream
    assert not torch.equal(test.x_b, scenes.x_b)
    assert not torch.equal(val.x_b, scenes.x_b) and not torch.equal(val.x_b, test.x_b)
    a, b, _, maps = scenes.heldout(8)
    assert torch.equal(labels_from_coded(a), maps)


def test_scene_label_maps_follow_crops_and_flips() -> None:
    scenes = labels2scenes(count=8, size=32)
    src = ImagePairSource(**{**scenes.__dict__, "jitter": True, "flip": True, "size": 16})
    a, _, maps = src.crop_pairs(torch.arange(8), torch.Generator().manual_seed(0))
    assert maps is not None and maps.shape == (8, 16, 16)
    assert torch.equal(labels_from_coded(a), maps)
