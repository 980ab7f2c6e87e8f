"""``ganforge fid A B``: folders and .npz archives, the noise floor beside the number, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganforge.data.images import digits_images
from ganforge.evaluation.image_metrics import compute_features, frechet_distance
from ganforge.nets.features import INCEPTION_ENV, load_digits_classifier


@pytest.fixture(scope="module")
def halves() -> tuple[np.ndarray, np.ndarray]:
    images, _ = digits_images()
    perm = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    x = (images[perm, 0].numpy() * 255).round().astype(np.uint8)  # (N, 8, 8), like a saved picture
    return x[:1000], x[1000:1500]


def test_npz_vs_npz_json_matches_the_formula(
    tmp_path: Path,
    halves: tuple[np.ndarray, np.ndarray],
    run_cli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(INCEPTION_ENV, raising=False)
    a, b = halves
    np.savez(tmp_path / "a.npz", images=a)  # (N, H, W)
    np.savez(tmp_path / "b.npz", images=b[:, None])  # (N, C, H, W)
    code, out, err = run_cli("fid", str(tmp_path / "a.npz"), str(tmp_path / "b.npz"), "--json")
    assert code == 0, err
    result = json.loads(out)
    net = load_digits_classifier()
    fa = compute_features(net, torch.from_numpy(a[:, None] / 255.0).float())
    fb = compute_features(net, torch.from_numpy(b[:, None] / 255.0).float())
    assert result["fid"] == pytest.approx(frechet_distance(fa, fb), rel=1e-9)
    assert result["features"] == "digits" and result["n_real"] == 1000 and result["n_fake"] == 500
    assert result["noise_floor_n"] == 500 and result["fid_noise_floor"] > 0
    assert result["a"] == str(tmp_path / "a.npz") and result["reference"] == str(tmp_path / "a.npz")
    # real vs real sits near the floor; real vs noise is far above it
    noise = np.random.default_rng(0).integers(0, 256, size=(500, 8, 8), dtype=np.uint8)
    np.savez(tmp_path / "noise.npz", images=noise)
    code, out, _ = run_cli("fid", str(tmp_path / "a.npz"), str(tmp_path / "noise.npz"), "--json")
    far = json.loads(out)
    assert result["fid_matched"] < 2 * result["fid_noise_floor"] < far["fid_matched"] / 20


def test_folder_of_pngs_and_plain_output(
    tmp_path: Path, halves: tuple[np.ndarray, np.ndarray], run_cli
) -> None:
    a, b = halves
    for name, stack in (("a", a[:300]), ("b", b[:100])):
        folder = tmp_path / name
        folder.mkdir()
        for i, image in enumerate(stack):
            Image.fromarray(image, mode="L").save(folder / f"{i:04d}.png")
    np.savez(tmp_path / "b.npz", images=b[:100])
    code, out, err = run_cli("fid", str(tmp_path / "a"), str(tmp_path / "b"), "--features", "digits")
    assert code == 0, err
    assert out.startswith("FID ") and "noise floor" in out and "100 images each" in out
    assert "digits features; A: 300 images" in out and "B: 100 images" in out
    _, folder_json, _ = run_cli("fid", str(tmp_path / "a"), str(tmp_path / "b"), "--json")
    _, npz_json, _ = run_cli("fid", str(tmp_path / "a"), str(tmp_path / "b.npz"), "--json")
    assert json.loads(folder_json)["fid"] == pytest.approx(json.loads(npz_json)["fid"], rel=1e-9)  # same pixels


def test_mistakes_are_one_line_errors(
    tmp_path: Path,
    halves: tuple[np.ndarray, np.ndarray],
    run_cli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(INCEPTION_ENV, raising=False)
    a, _ = halves
    np.savez(tmp_path / "gray.npz", images=a[:50])
    np.savez(tmp_path / "rgb.npz", images=np.stack([a[:50], a[:50], 255 - a[:50]], axis=1))  # colour
    np.savez(tmp_path / "other.npz", pictures=a[:50], more=a[:5])
    cases = [
        (["fid", str(tmp_path / "missing"), str(tmp_path / "gray.npz")], "does not exist"),
        (["fid", str(tmp_path / "gray.npz"), str(tmp_path / "rgb.npz")], "1-channel"),
        (["fid", str(tmp_path / "gray.npz"), str(tmp_path / "other.npz")], "no array named 'images'"),
        (["fid", str(tmp_path / "rgb.npz"), str(tmp_path / "rgb.npz"), "--features", "inception"], INCEPTION_ENV),
        (["fid", str(tmp_path / "gray.npz"), str(tmp_path / "gray.npz"), "--features", "vgg"], "unknown feature"),
    ]
    for args, message in cases:
        code, _, err = run_cli(*args)
        assert code == 2, args
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


def test_per_class_adds_intra_fid_from_class_folders_and_npz_labels(tmp_path: Path, run_cli) -> None:
    """Class sub-folders (A) against a .npz with labels (B), matched by name: with B's true labels intra-FID sits
    near its per-class floor; with B's labels moved to the next digit FID is unchanged and intra-FID jumps."""
    images, labels = digits_images()
    perm = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    x = (images[perm, 0].numpy() * 255).round().astype(np.uint8)
    y = labels[perm].numpy()
    for i in range(800):
        folder = tmp_path / "a" / str(int(y[i]))
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(x[i], mode="L").save(folder / f"{i:04d}.png")
    np.savez(tmp_path / "b.npz", images=x[800:1400], labels=y[800:1400])
    np.savez(tmp_path / "wrong.npz", images=x[800:1400], labels=(y[800:1400] + 1) % 10)
    code, out, err = run_cli("fid", str(tmp_path / "a"), str(tmp_path / "b.npz"), "--per-class", "--json")
    assert code == 0, err
    right = json.loads(out)
    _, out, _ = run_cli("fid", str(tmp_path / "a"), str(tmp_path / "wrong.npz"), "--per-class", "--json")
    wrong = json.loads(out)
    assert right["n_intra_fid_classes"] == 10
    assert right["intra_fid_matched"] < 2 * right["intra_fid_noise_floor"]
    assert wrong["fid"] == pytest.approx(right["fid"], rel=1e-9)
    assert wrong["intra_fid"] > 5 * right["intra_fid"]
    code, out, err = run_cli("fid", str(tmp_path / "a"), str(tmp_path / "b.npz"), "--per-class")
    assert code == 0, err
    assert "intra-FID " in out and "over 10 classes" in out and "per-class noise floor" in out
    assert right["intra_fid_left_out"] == {} and "left out" not in out
    # B without 9s and with five 8s: both classes are named as left out, and why
    keep = np.flatnonzero(y[800:1400] != 9)
    eights = keep[y[800:1400][keep] == 8]
    keep = np.setdiff1d(keep, eights[5:])
    np.savez(tmp_path / "part.npz", images=x[800:1400][keep], labels=y[800:1400][keep])
    code, out, err = run_cli("fid", str(tmp_path / "a"), str(tmp_path / "part.npz"), "--per-class", "--json")
    part = json.loads(out)
    a_eights = int((y[:800] == 8).sum())
    assert part["n_intra_fid_classes"] == 8
    assert part["intra_fid_left_out"] == {"8": f"{a_eights} in A, 5 in B", "9": "only in A"}
    code, out, err = run_cli("fid", str(tmp_path / "a"), str(tmp_path / "part.npz"), "--per-class")
    assert code == 0, err
    assert f"classes left out of intra-FID: 8 ({a_eights} in A, 5 in B); 9 (only in A)" in out


def test_per_class_reads_class_names_from_an_npz_as_augment_writes_them(tmp_path: Path, run_cli) -> None:
    """`ganforge augment folder/ -o x.npz` writes class ids and a `class_names` array (string labels, when given,
    as given): --per-class matched them to a class-folder set only as '0', '1', ... and found no shared class."""
    images, labels = digits_images()
    x = (images[:, 0].numpy() * 255).round().astype(np.uint8)
    y = labels.numpy()
    names = np.array(["zero", "one", "two"])
    keep = np.flatnonzero(y < 3)
    for i in keep[:150]:
        folder = tmp_path / "a" / str(names[y[i]])
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(x[i], mode="L").save(folder / f"{i:04d}.png")
    rest = keep[150:]
    np.savez(tmp_path / "ids.npz", images=x[rest], labels=y[rest], class_names=names)
    np.savez(tmp_path / "named.npz", images=x[rest], labels=names[y[rest]])
    results = []
    for file in ("ids.npz", "named.npz"):
        code, out, err = run_cli("fid", str(tmp_path / "a"), str(tmp_path / file), "--per-class", "--json")
        assert code == 0, err
        results.append(json.loads(out))
        assert results[-1]["n_intra_fid_classes"] == 3 and results[-1]["intra_fid_left_out"] == {}
    assert results[0]["intra_fid"] == pytest.approx(results[1]["intra_fid"], rel=1e-9)


def test_per_class_mistakes_are_one_line_errors(tmp_path: Path, halves: tuple[np.ndarray, np.ndarray], run_cli) -> None:
    a, b = halves
    np.savez(tmp_path / "plain.npz", images=a[:100])
    np.savez(tmp_path / "digits.npz", images=a[:100], labels=np.arange(100) % 10)
    np.savez(tmp_path / "letters.npz", images=b[:100], labels=np.full(100, 42))
    cases = [
        (["fid", str(tmp_path / "plain.npz"), str(tmp_path / "digits.npz"), "--per-class"], "has none"),
        (["fid", str(tmp_path / "digits.npz"), str(tmp_path / "letters.npz"), "--per-class"], "share no class"),
        (["fid", str(tmp_path / "digits.npz"), str(tmp_path / "digits.npz"), "--per-class"], "more images per class"),
    ]
    for args, message in cases:
        code, _, err = run_cli(*args)
        assert code == 2, args
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


def test_gray_saved_as_rgb_compares_with_gray_and_few_images_get_a_note(
    tmp_path: Path, halves: tuple[np.ndarray, np.ndarray], run_cli
) -> None:
    """Gray digits saved as RGB (R = G = B) were refused as 'colour'; a 5-image reference printed a floor of
    1557 without a word on what 2 images per half can mean."""
    a, b = halves
    np.savez(tmp_path / "a.npz", images=a[:300])
    np.savez(tmp_path / "b.npz", images=b[:100])
    np.savez(tmp_path / "b_rgb.npz", images=np.repeat(b[:100, :, :, None], 3, axis=3))  # (N, H, W, 3)
    code, gray, err = run_cli("fid", str(tmp_path / "a.npz"), str(tmp_path / "b.npz"), "--json")
    assert code == 0, err
    code, rgb, err = run_cli("fid", str(tmp_path / "a.npz"), str(tmp_path / "b_rgb.npz"), "--json")
    assert code == 0, err
    assert json.loads(rgb)["fid"] == json.loads(gray)["fid"] and "note:" not in err
    np.savez(tmp_path / "tiny.npz", images=a[:5])
    code, out, err = run_cli("fid", str(tmp_path / "tiny.npz"), str(tmp_path / "b.npz"))
    assert code == 0 and out.startswith("FID ")
    assert "note: the floor compares 2 images with 2" in err and "mostly sampling noise" in err
