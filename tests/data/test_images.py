"""Image sources: built-in digits and photo patches, file loaders, and the download cache (offline)."""

from __future__ import annotations

import gzip
import io
import os
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganforge.data import image_files
from ganforge.data.base import ArraySource
from ganforge.data.image_files import (
    cifar10,
    cifar10_download,
    fashion_mnist,
    idx,
    image_folder,
    images_npz,
    mnist,
    read_idx,
)
from ganforge.data.images import digits, load_photo, photo_patches, resize_images, set_channels
from ganforge.data.registry import build_source, source_names
from ganforge.errors import GanforgeError

# ----------------------------------------------------------------------------------------- helpers


def assert_image_source(src: ArraySource, shape: tuple[int, ...]) -> None:
    assert src.kind == "images"
    assert tuple(src.x.shape[1:]) == shape and src.sample_shape == shape
    assert src.x.dtype == torch.float32
    assert float(src.x.min()) >= 0.0 and float(src.x.max()) <= 1.0
    assert src.bounds == (0.0, 1.0) and src.per_feature_scaling is False
    if src.y is not None:
        assert src.y.dtype == torch.int64 and src.y.shape == (src.x.shape[0],)


def write_idx(path: Path, arr: np.ndarray, code: int = 0x08, gz: bool = False) -> Path:
    dtype = {0x08: "u1", 0x0B: ">i2", 0x0D: ">f4"}[code]
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    data = header + arr.astype(dtype).tobytes()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def write_png(path: Path, arr: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)
    return path


def write_cifar(folder: Path, n: int = 4, seed: int = 0, meta: bool = True) -> dict[str, np.ndarray]:
    """Python-2-style CIFAR batches: bytes keys, uint8 (n, 3072) data, list labels (pickle protocol 2)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    written = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n).tolist()
        batch = {b"batch_label": b"x", b"labels": labels, b"data": data, b"filenames": [b"f.png"] * n}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
        written[name] = data
    if meta:
        names = [f"class{i}".encode() for i in range(10)]
        (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": names}, protocol=2))
    return written


# ------------------------------------------------------------------------------------------ shared


def test_registered_names() -> None:
    names = source_names()
    for name in ("digits", "photo-patches", "image-folder", "idx", "cifar10", "images-npz", "mnist",
                 "fashion-mnist", "cifar10-download"):
        assert name in names and names[name]


def test_resize_and_channels() -> None:
    x = torch.rand(3, 3, 20, 20)
    small = resize_images(x, 8)
    assert small.shape == (3, 3, 8, 8)
    assert torch.allclose(small.mean(dim=(2, 3)), x.mean(dim=(2, 3)), atol=0.05)  # antialiased average
    gray = set_channels(x, True)
    assert gray.shape == (3, 1, 20, 20)
    assert torch.allclose(gray[:, 0], 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2])
    assert set_channels(gray, False).shape == (3, 3, 20, 20)
    assert set_channels(torch.rand(2, 4, 5, 5), None).shape == (2, 3, 5, 5)  # alpha dropped


# ------------------------------------------------------------------------------------------ digits


def test_digits_native_and_scaler_contract() -> None:
    src = digits()
    assert_image_source(src, (1, 8, 8))
    assert len(src) == 1797 and src.num_classes == 10
    assert set(src.y.tolist()) == set(range(10))
    assert float(src.x.max()) == 1.0  # 16 / 16
    src.fit_scaler("tanh")
    batch = src.batch(64, torch.Generator().manual_seed(0))
    assert batch.x.min() >= -1.0 and batch.x.max() <= 1.0 and batch.x.min() < -0.99


@pytest.mark.parametrize("size", [16, 28, 32])
def test_digits_resized(size: int) -> None:
    native = digits()
    src = digits(size=size)
    assert_image_source(src, (1, size, size))
    assert torch.equal(src.y, native.y)
    assert abs(float(src.x.mean()) - float(native.x.mean())) < 0.03


def test_digits_class_subset_and_errors() -> None:
    src = build_source("digits", {"classes": [3, 7]})
    assert set(src.y.tolist()) == {3, 7} and src.num_classes == 10
    assert 300 < len(src) < 400
    with pytest.raises(GanforgeError, match="between 0 and 9"):
        digits(classes=[11])
    with pytest.raises(GanforgeError, match="size"):
        digits(size=2)


# ------------------------------------------------------------------------------------ photo patches


def test_photo_patches_random_content_matches_photo() -> None:
    src = photo_patches(patch_size=16, count=40, images=["camera", "coffee"], seed=1)
    assert_image_source(src, (3, 16, 16))  # mixed gray + colour -> RGB
    assert src.num_classes == 2 and src.info["classes"] == ["camera", "coffee"]
    k, (r, c) = int(src.y[0]), src.info["corners"][0]
    photo = torch.from_numpy(np.array(load_photo(src.info["classes"][k])))
    crop = photo[:, r : r + 16, c : c + 16]
    assert torch.allclose(src.x[0], crop.expand(3, -1, -1))
    again = photo_patches(patch_size=16, count=40, images=["camera", "coffee"], seed=1)
    assert torch.equal(again.x, src.x)


@pytest.mark.parametrize("name", ["china", "flower", "motorcycle"])
def test_photographs_bundled_outside_scikit_image_load_as_colour(name: str) -> None:
    photo = load_photo(name)  # scikit-learn's sample images and scikit-image's stereo pair (left view)
    assert photo.shape[0] == 3 and min(photo.shape[1:]) >= 400
    assert photo.dtype == np.float32 and 0.0 <= photo.min() < 0.1 and 0.9 < photo.max() <= 1.0
    assert float(photo.std(axis=(1, 2)).min()) > 0.05  # a photograph, not a blank or one-colour image


def test_the_photo_pair_sets_use_every_bundled_colour_photograph() -> None:
    from ganforge.data.builtin_pairs import COLOR_PHOTOS

    assert set(COLOR_PHOTOS) >= {"astronaut", "coffee", "chelsea", "rocket", "china", "flower", "motorcycle"}
    assert all(load_photo(n).shape[0] == 3 for n in COLOR_PHOTOS)


def test_photo_patches_grayscale_and_auto_channels() -> None:
    assert photo_patches(patch_size=8, count=5, images=["camera"]).x.shape[1] == 1
    assert photo_patches(patch_size=8, count=5, images=["astronaut"], grayscale=True).x.shape[1] == 1
    assert photo_patches(patch_size=8, count=5, images=["camera"], grayscale=False).x.shape[1] == 3


def test_photo_patches_train_and_test_do_not_overlap() -> None:
    kw = {"patch_size": 32, "count": 200, "images": ["camera", "astronaut"], "test_fraction": 0.25}
    train = photo_patches(split="train", **kw)
    test = photo_patches(split="test", **kw)
    width = 512  # both photos are 512 wide; the test strip starts at column 384
    assert max(c for _, c in train.info["corners"]) + 32 <= 384
    assert min(c for _, c in test.info["corners"]) >= 384
    assert max(c for _, c in test.info["corners"]) + 32 <= width


def test_photo_patches_tiles_hold_out_scattered_tiles_sharing_no_pixel() -> None:
    kw = {"patch_size": 16, "count": 400, "images": ["astronaut", "coffee"], "holdout": "tiles", "val_fraction": 0.1}
    splits = {s: photo_patches(split=s, **kw) for s in ("train", "val", "test")}

    def tiles(src) -> set[tuple[int, int, int]]:  # noqa: ANN001
        """(photo, tile row, tile column) of every patch; a patch must lie inside one 32x32 tile."""
        out = set()
        for k, (r, c) in zip(src.y.tolist(), src.info["corners"], strict=True):
            assert r // 32 == (r + 15) // 32 and c // 32 == (c + 15) // 32
            out.add((k, r // 32, c // 32))
        return out

    seen = {s: tiles(src) for s, src in splits.items()}
    every_test_tile = tiles(photo_patches(split="test", mode="grid", **{**kw, "count": 10**6}))
    assert seen["test"] <= every_test_tile and not seen["train"] & every_test_tile
    assert not seen["train"] & seen["val"] and not seen["val"] & every_test_tile
    assert len({c for _, _, c in every_test_tile}) > 8  # scattered over the width, not a strip at the right
    # the held-out tiles depend on neither the data seed nor the validation fraction
    assert tiles(photo_patches(split="test", **{**kw, "val_fraction": 0.0, "seed": 5})) <= every_test_tile
    with pytest.raises(GanforgeError, match="holdout='stripes': choose strip or tiles"):
        photo_patches(split="test", images=["camera"], holdout="stripes")


def test_photo_patches_validation_strip_sits_between_train_and_test() -> None:
    kw = {"patch_size": 32, "count": 200, "images": ["camera"], "test_fraction": 0.25, "val_fraction": 0.25}
    train, val = photo_patches(split="train", **kw), photo_patches(split="val", **kw)
    test = photo_patches(split="test", **kw)  # the test strip does not move: columns 384..512
    assert max(c for _, c in train.info["corners"]) + 32 <= 256
    assert min(c for _, c in val.info["corners"]) >= 256 and max(c for _, c in val.info["corners"]) + 32 <= 384
    torch.testing.assert_close(test.x, photo_patches(split="test", **{**kw, "val_fraction": 0.0}).x)
    with pytest.raises(GanforgeError, match="val_fraction"):
        photo_patches(split="val", images=["camera"])  # no validation strip asked for
    with pytest.raises(GanforgeError, match="val_fraction"):
        photo_patches(split="train", images=["camera"], val_fraction=0.8)


def test_photo_patches_grid_mode() -> None:
    src = photo_patches(patch_size=64, mode="grid", images=["camera"], count=10_000)
    assert len(src) == (512 // 64) ** 2
    corners = set(src.info["corners"])
    assert (0, 0) in corners and (448, 448) in corners
    capped = photo_patches(patch_size=64, mode="grid", images=["camera"], count=10)
    assert len(capped) == 10


def test_photo_patches_errors() -> None:
    with pytest.raises(GanforgeError, match="did you mean 'camera'"):
        photo_patches(images=["camra"])
    with pytest.raises(GanforgeError, match="patch_size"):
        photo_patches(patch_size=400, images=["camera"], split="test")


# ------------------------------------------------------------------------------------- image folder


def test_image_folder_with_class_subfolders(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for cls in ("zebra", "apple"):
        for i in range(3):
            write_png(tmp_path / cls / f"{i}.png", rng.integers(0, 256, (10, 14, 3), dtype=np.uint8))
    (tmp_path / "apple" / "notes.txt").write_text("ignored")
    src = build_source("image-folder", {"path": str(tmp_path), "size": 8})
    assert_image_source(src, (3, 8, 8))
    assert src.info["classes"] == ["apple", "zebra"]
    assert src.y.tolist() == [0, 0, 0, 1, 1, 1] and src.num_classes == 2


def test_image_folder_flat_gray_crop_and_limit(tmp_path: Path) -> None:
    left = np.zeros((8, 16), np.uint8)
    left[:, 12:] = 255  # white only in the right quarter, which the centre crop (cols 4..11) drops
    write_png(tmp_path / "a.png", left)
    write_png(tmp_path / "b.png", np.full((8, 8), 128, np.uint8))
    src = image_folder(str(tmp_path), size=8)
    assert_image_source(src, (1, 8, 8))
    assert src.y is None and src.num_classes is None
    assert float(src.x[0].max()) == 0.0
    assert abs(float(src.x[1].mean()) - 128 / 255) < 1e-6
    squashed = image_folder(str(tmp_path), size=8, crop=False)
    assert float(squashed.x[0].max()) > 0.5
    assert len(image_folder(str(tmp_path), size=8, limit=1)) == 1
    assert image_folder(str(tmp_path), size=8, grayscale=False).x.shape[1] == 3


def test_image_folder_rgba_and_jpeg(tmp_path: Path) -> None:
    rgba = np.zeros((6, 6, 4), np.uint8)
    rgba[..., 0] = 255
    write_png(tmp_path / "r.png", rgba)
    Image.fromarray(np.full((6, 6, 3), 200, np.uint8)).save(tmp_path / "j.jpg", quality=95)
    src = image_folder(str(tmp_path), size=6)
    assert_image_source(src, (3, 6, 6))
    assert torch.allclose(src.x[1, 0], torch.ones(6, 6))  # r.png sorts after j.jpg; red channel full


def test_image_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(GanforgeError, match="does not exist"):
        image_folder(str(tmp_path / "missing"))
    with pytest.raises(GanforgeError, match="holds no images"):
        image_folder(str(tmp_path))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.png").write_bytes(b"this is not a png")
    with pytest.raises(GanforgeError, match=r"x\.png: not a readable image") as err:
        image_folder(str(bad))
    assert "\n" not in str(err.value)
    trunc = tmp_path / "trunc"
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buf, "PNG")
    trunc.mkdir()
    (trunc / "t.png").write_bytes(buf.getvalue()[:300])
    with pytest.raises(GanforgeError, match=r"t\.png"):
        image_folder(str(trunc))
    mixed = tmp_path / "mixed"
    write_png(mixed / "loose.png", np.zeros((4, 4), np.uint8))
    write_png(mixed / "cls" / "a.png", np.zeros((4, 4), np.uint8))
    with pytest.raises(GanforgeError, match="both at its top level"):
        image_folder(str(mixed))


# ---------------------------------------------------------------------------------------------- IDX


@pytest.mark.parametrize("gz", [False, True])
def test_idx_round_trip(tmp_path: Path, gz: bool) -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (5, 6, 6), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], np.uint8)
    images_path = write_idx(tmp_path / "img.idx", pixels, gz=gz)
    labels_path = write_idx(tmp_path / "lab.idx", labels, gz=gz)
    assert np.array_equal(read_idx(images_path), pixels)
    src = idx(str(images_path), str(labels_path))
    assert_image_source(src, (1, 6, 6))
    assert torch.allclose(src.x[:, 0], torch.from_numpy(pixels).float() / 255)
    assert src.y.tolist() == labels.tolist() and src.num_classes == 6
    assert idx(str(images_path), size=12, limit=2).x.shape == (2, 1, 12, 12)


def test_idx_other_dtypes_are_big_endian(tmp_path: Path) -> None:
    values = np.array([[1, 256, 1000]], np.int16)
    assert read_idx(write_idx(tmp_path / "s.idx", values, code=0x0B)).tolist() == values.tolist()
    floats = np.array([0.5, 0.25], np.float32)
    assert read_idx(write_idx(tmp_path / "f.idx", floats, code=0x0D)).tolist() == [0.5, 0.25]


def test_idx_validation_errors(tmp_path: Path) -> None:
    good = bytes([0, 0, 8, 3]) + struct.pack(">3I", 2, 2, 2) + bytes(8)
    cases = {
        "magic.idx": (b"\x01\x02" + good[2:], "magic number"),
        "code.idx": (bytes([0, 0, 0x42, 3]) + good[4:], "type code 0x42"),
        "trunc.idx": (good[:-3], "truncated"),
        "trail.idx": (good + b"\x00", "trailing data"),
        "header.idx": (good[:9], "truncated IDX header"),
        "empty.idx": (b"", "empty"),
        "gz.idx": (gzip.compress(good)[:-6], "gzip"),
    }
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(GanforgeError, match=message) as err:
            idx(str(tmp_path / name))
        assert name in str(err.value)
    write_idx(tmp_path / "img.idx", np.zeros((3, 2, 2), np.uint8))
    write_idx(tmp_path / "lab.idx", np.zeros(4, np.uint8))
    with pytest.raises(GanforgeError, match="4 labels for 3 images"):
        idx(str(tmp_path / "img.idx"), str(tmp_path / "lab.idx"))
    with pytest.raises(GanforgeError, match="does not exist"):
        idx(str(tmp_path / "nope.idx"))


def test_idx_sizes_that_overflow_int64_are_refused(tmp_path: Path) -> None:
    """(2**31)**3 * 1 byte wraps to 0 in int64: the old check then accepted a header-only file as empty."""
    path = tmp_path / "wrap.idx"
    path.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">3I", 2**31, 2**31, 2**31))
    with pytest.raises(GanforgeError, match="more than the") as err:
        read_idx(path)
    assert "wrap.idx" in str(err.value)
    near = tmp_path / "near.idx"  # 2**32 - 1 per axis: also beyond the bound, never allocated
    near.write_bytes(bytes([0, 0, 0x0E, 2]) + struct.pack(">2I", 2**32 - 1, 2**32 - 1) + bytes(16))
    with pytest.raises(GanforgeError, match="more than the"):
        read_idx(near)


def test_idx_gzip_bomb_is_never_inflated_past_its_header(tmp_path: Path) -> None:
    import time
    import tracemalloc

    header = bytes([0, 0, 8, 3]) + struct.pack(">3I", 2, 4, 4)  # promises 32 bytes
    bomb = tmp_path / "bomb.idx.gz"
    bomb.write_bytes(gzip.compress(header + bytes(32) + bytes(300_000_000), compresslevel=1))  # 300 MB of zeros
    t0 = time.perf_counter()
    tracemalloc.start()
    with pytest.raises(GanforgeError, match="trailing data"):
        read_idx(bomb)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 10_000_000 and time.perf_counter() - t0 < 2.0
    big = tmp_path / "big.idx.gz"  # the header itself asks for 4 GiB
    big.write_bytes(gzip.compress(bytes([0, 0, 8, 3]) + struct.pack(">3I", 2**20, 64, 64) + bytes(1000)))
    with pytest.raises(GanforgeError, match="more than the"):
        read_idx(big)


# ----------------------------------------------------------------------------------------- CIFAR-10


def test_cifar10_batches(tmp_path: Path) -> None:
    written = write_cifar(tmp_path / "cifar-10-batches-py")
    train = build_source("cifar10", {"path": str(tmp_path)})  # parent folder is accepted too
    assert_image_source(train, (3, 32, 32))
    assert len(train) == 20 and train.num_classes == 10
    assert train.info["classes"][3] == "class3"
    first = written["data_batch_1"][0].reshape(3, 32, 32)
    assert torch.allclose(train.x[0], torch.from_numpy(first).float() / 255)
    test = cifar10(str(tmp_path / "cifar-10-batches-py"), split="test", size=16)
    assert test.x.shape == (4, 3, 16, 16)


def test_cifar10_refuses_code_in_pickles(tmp_path: Path) -> None:
    folder = tmp_path / "evil"
    write_cifar(folder)
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    (folder / "data_batch_1").write_bytes(pickle.dumps({b"data": Exploit()}, protocol=2))
    with pytest.raises(GanforgeError, match=r"data_batch_1: not a CIFAR-10 python batch \(refusing"):
        cifar10(str(folder))
    assert not marker.exists()


def test_cifar10_errors(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    write_cifar(folder)
    (folder / "data_batch_3").unlink()
    with pytest.raises(GanforgeError, match="lacks data_batch_3"):
        cifar10(str(folder))
    (folder / "test_batch").write_bytes(b"\x80\x02}q\x00")  # cut-off pickle
    with pytest.raises(GanforgeError, match="test_batch"):
        cifar10(str(folder), split="test")
    wrong_shape = {b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}
    (folder / "test_batch").write_bytes(pickle.dumps(wrong_shape))
    with pytest.raises(GanforgeError, match="expected uint8 \\(N, 3072\\)"):
        cifar10(str(folder), split="test")
    with pytest.raises(GanforgeError, match="no CIFAR-10 python batches"):
        cifar10(str(tmp_path))


# ---------------------------------------------------------------------------------------------- npz


@pytest.mark.parametrize(
    "shape, expected",
    [((4, 5, 5), (1, 5, 5)), ((4, 5, 5, 3), (3, 5, 5)), ((4, 3, 5, 5), (3, 5, 5)), ((4, 6, 6, 1), (1, 6, 6))],
)
def test_images_npz_layouts(tmp_path: Path, shape: tuple[int, ...], expected: tuple[int, ...]) -> None:
    arr = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    np.savez(tmp_path / "a.npz", images=arr, labels=np.array([0, 2, 1, 2]))
    src = images_npz(str(tmp_path / "a.npz"))
    assert_image_source(src, expected)
    assert src.y.tolist() == [0, 2, 1, 2] and src.num_classes == 3
    assert abs(float(src.x.mean()) - arr.mean() / 255) < 1e-5


def test_images_npz_floats_and_options(tmp_path: Path) -> None:
    arr = np.random.default_rng(0).random((3, 2, 8, 8)).astype(np.float32)
    np.savez(tmp_path / "f.npz", pics=arr)
    src = images_npz(str(tmp_path / "f.npz"), images_key="pics", layout="NCHW", size=4)
    assert src.x.shape == (3, 2, 4, 4) and src.y is None
    np.savez(tmp_path / "b.npz", images=arr * 255)
    assert torch.allclose(images_npz(str(tmp_path / "b.npz")).x, torch.from_numpy(arr), atol=1e-5)
    np.savez(tmp_path / "g.npz", images=np.zeros((2, 5, 5, 3), np.uint8))
    assert images_npz(str(tmp_path / "g.npz"), grayscale=True).x.shape == (2, 1, 5, 5)


def test_images_npz_errors(tmp_path: Path) -> None:
    np.savez(tmp_path / "k.npz", pictures=np.zeros((2, 4, 4), np.uint8))
    with pytest.raises(GanforgeError, match="no array named 'images'.*pictures"):
        images_npz(str(tmp_path / "k.npz"))
    np.savez(tmp_path / "amb.npz", images=np.zeros((2, 3, 4, 3), np.uint8))
    with pytest.raises(GanforgeError, match="channel axis"):
        images_npz(str(tmp_path / "amb.npz"))
    np.savez(tmp_path / "range.npz", images=np.full((2, 4, 4), -3.0))
    with pytest.raises(GanforgeError, match="pixel values span"):
        images_npz(str(tmp_path / "range.npz"))
    np.savez(tmp_path / "lab.npz", images=np.zeros((2, 4, 4), np.uint8), labels=np.zeros(3, np.int64))
    with pytest.raises(GanforgeError, match="one per image"):
        images_npz(str(tmp_path / "lab.npz"))
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(GanforgeError, match="junk.npz"):
        images_npz(str(tmp_path / "junk.npz"))


# ----------------------------------------------------------------------------------------- downloads


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("tests must not touch the network")

    monkeypatch.setattr(image_files.urllib.request, "urlopen", refuse)


def _write_mnist_files(folder: Path, n: int, gz: bool) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for images_name, labels_name in image_files.IDX_FILES.values():
        if not gz:
            images_name, labels_name = images_name[:-3], labels_name[:-3]
        write_idx(folder / images_name, rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), gz=gz)
        write_idx(folder / labels_name, rng.integers(0, 10, n).astype(np.uint8), gz=gz)


@pytest.mark.usefixtures("no_network")
def test_mnist_cache_hit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANFORGE_CACHE", str(tmp_path))
    _write_mnist_files(tmp_path / "mnist", 6, gz=True)
    src = mnist()
    assert_image_source(src, (1, 28, 28))
    assert len(src) == 6 and src.num_classes == 10
    assert mnist(split="test", size=32, limit=2).x.shape == (2, 1, 32, 32)
    _write_mnist_files(tmp_path / "other" / "fashion-mnist", 3, gz=False)  # extracted files work too
    fashion = fashion_mnist(cache_dir=str(tmp_path / "other"))
    assert len(fashion) == 3 and fashion.info["classes"][9] == "Ankle boot"


@pytest.mark.usefixtures("no_network")
def test_cifar10_download_cache_hit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANFORGE_CACHE", str(tmp_path))
    write_cifar(tmp_path / "cifar10" / "cifar-10-batches-py", n=2)
    assert len(cifar10_download(split="test")) == 2


def test_download_failure_is_one_line_with_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    unreachable = (tmp_path / "no-such-mirror").as_uri() + "/"
    monkeypatch.setitem(image_files.MIRRORS, "mnist", unreachable)
    monkeypatch.setitem(image_files.MIRRORS, "cifar10", unreachable)
    with pytest.raises(GanforgeError, match="could not download .*place train-images") as err:
        mnist(cache_dir=str(tmp_path / "cache"))
    assert "\n" not in str(err.value) and "cache" in str(err.value)
    with pytest.raises(GanforgeError, match="extract it into"):
        cifar10_download(cache_dir=str(tmp_path / "cache"))
    assert not list((tmp_path / "cache").rglob("*.part"))


def test_download_fills_the_cache_from_a_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real download code path, served from a local file:// mirror (no network)."""
    mirror = tmp_path / "mirror"
    _write_mnist_files(mirror, 4, gz=True)
    monkeypatch.setitem(image_files.MIRRORS, "mnist", mirror.as_uri() + "/")
    monkeypatch.setattr(image_files, "MD5", {})
    src = mnist(split="test", cache_dir=str(tmp_path / "cache"))
    assert len(src) == 4
    assert (tmp_path / "cache" / "mnist" / "t10k-images-idx3-ubyte.gz").exists()
    # a checksum mismatch is refused and nothing is cached
    monkeypatch.setattr(image_files, "MD5", {"mnist/train-images-idx3-ubyte.gz": "0" * 32})
    with pytest.raises(GanforgeError, match="checksum mismatch"):
        mnist(split="train", cache_dir=str(tmp_path / "cache"))
    assert not (tmp_path / "cache" / "mnist" / "train-images-idx3-ubyte.gz").exists()


def test_cifar10_download_extracts_only_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    staging = tmp_path / "staging"
    write_cifar(staging / "cifar-10-batches-py", n=2)
    (staging / "cifar-10-batches-py" / "readme.html").write_text("x")
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    with tarfile.open(mirror / image_files.CIFAR10_ARCHIVE, "w:gz") as tar:
        tar.add(staging / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    monkeypatch.setitem(image_files.MIRRORS, "cifar10", mirror.as_uri() + "/")
    monkeypatch.setattr(image_files, "MD5", {})
    src = cifar10_download(cache_dir=str(tmp_path / "cache"))
    assert len(src) == 10
    extracted = tmp_path / "cache" / "cifar10" / "cifar-10-batches-py"
    assert not (extracted / "readme.html").exists()
    assert not (tmp_path / "cache" / "cifar10" / image_files.CIFAR10_ARCHIVE).exists()


def test_pictures_on_a_scale_of_their_own_are_refused_not_read_as_near_black() -> None:
    """scikit-learn's digits (floats 0-16) were divided by 255 as 8-bit pictures: `ganforge fid` scored them
    FID 763 against the same digits stored 0-1 (17)."""
    import pytest
    from sklearn.datasets import load_digits

    from ganforge.data.images import to_unit_range
    from ganforge.errors import GanforgeError

    raw = load_digits().images[:50]
    with pytest.raises(GanforgeError, match=r"span \[0, 16\].*divide them by it"):
        to_unit_range(raw, "digits")
    assert to_unit_range(raw / 16, "digits").max() == 1.0
    assert to_unit_range(raw * 255 / 16, "digits").max() == 1.0  # 8-bit floats are still read as such
