"""``translate`` / ``translate_folder`` and ``ganforge translate RUN in_dir -o out_dir --direction``."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import ganforge as gf
from ganforge.apps.translate import translate, translate_folder, translate_path
from ganforge.errors import GanforgeError

CONFIG = {
    "name": "cyc",
    "data": {"source": "unpaired-digits", "size": 16, "transform": "invert"},
    "model": {"type": "cyclegan", "width": 4, "num_blocks": 1, "d_width": 4, "d_layers": 2},
    "train": {"steps": 2, "batch_size": 4, "log_every": 1},
    "eval": {"n": 16},
    "monitors": {"duplicates": False, "diversity": False},
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return gf.train(CONFIG, out=tmp_path_factory.mktemp("cyc") / "run", show_progress=False)


def test_translate_matches_the_generators_in_data_units(run) -> None:
    images = torch.rand(3, 1, 16, 16)
    out = translate(run, images, "a2b")
    assert out.shape == (3, 1, 16, 16) and float(out.min()) >= 0 and float(out.max()) <= 1
    with torch.no_grad():
        expected = run.scaler.to_data(run.gan.generator["a2b"].eval()(run.scaler.to_model(images))).clamp(0, 1)
    torch.testing.assert_close(out, expected)
    assert not torch.allclose(translate(run, images, "b2a"), out)
    with pytest.raises(GanforgeError, match="a2b or b2a"):
        translate(run, images, "sideways")
    with pytest.raises(GanforgeError, match=r"\(N, 1, H, W\)"):
        translate(run, torch.rand(2, 3, 16, 16))


def test_translate_command_writes_one_png_per_picture(run, tmp_path) -> None:
    from ganforge.cli import main

    src = tmp_path / "in"
    src.mkdir()
    rng = np.random.default_rng(0)
    for name, shape in (("one", (20, 20, 3)), ("two", (16, 24))):
        Image.fromarray((rng.random(shape) * 255).astype(np.uint8)).save(src / f"{name}.png")
    (src / "notes.txt").write_text("not a picture")
    main(["translate", str(run.path), str(src), "-o", str(tmp_path / "out"), "--direction", "b2a"])
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["one.png", "two.png"]
    with Image.open(tmp_path / "out" / "one.png") as picture:
        assert picture.size == (16, 16) and picture.mode == "L"
    assert len(translate_folder(run, src, tmp_path / "big", "a2b", size=32)) == 2
    with pytest.raises(SystemExit) as exc:
        main(["translate", str(run.path), str(tmp_path / "nowhere"), "-o", str(tmp_path / "x")])
    assert exc.value.code == 2


def test_translate_never_writes_over_its_input(run, tmp_path) -> None:
    from ganforge.apps.translate import translate_file

    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(src / "a.png")
    before = (src / "a.png").read_bytes()
    with pytest.raises(GanforgeError, match="inputs are never overwritten"):
        translate_folder(run, src, src)
    with pytest.raises(GanforgeError, match="inputs are never overwritten"):
        translate_file(run, src / "a.png", src / "a.png")
    assert (src / "a.png").read_bytes() == before


def test_the_command_says_when_pictures_were_resized(run, tmp_path, capsys) -> None:  # noqa: ANN001
    from ganforge.cli import main

    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(src / "fits.png")
    Image.fromarray(np.zeros((30, 40), np.uint8)).save(src / "other.png")
    main(["translate", str(run.path), str(src), "-o", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert "1 of 2 pictures were not 16x16: centre-cropped and resized" in out and "wrote 2 pictures to" in out
    (src / "other.png").unlink()
    main(["translate", str(run.path), str(src), "-o", str(tmp_path / "out1")])
    assert f"wrote 1 picture to {tmp_path / 'out1'}" in capsys.readouterr().out  # a folder of one: not "1 pictures"


def test_two_pictures_of_one_name_are_refused_before_one_replaces_the_other(run, tmp_path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(src / "a.png")
    Image.fromarray(np.full((16, 16), 255, np.uint8)).save(src / "a.jpg")  # both would be out/a.png
    with pytest.raises(GanforgeError, match=r"'a.jpg' and 'a.png' would both be written as a.png"):
        translate_folder(run, src, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_resize_note_counts_only_the_pictures_translated(run, tmp_path) -> None:
    from ganforge.apps.translate import resize_note

    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(np.zeros((30, 40), np.uint8)).save(src / "a.png")
    (src / "old.png").mkdir()  # a folder with a picture's suffix: skipped by the translation, and by the note
    assert len(translate_folder(run, src, tmp_path / "out")) == 1
    assert resize_note(run, src).startswith("1 of 1 pictures were not 16x16")


def test_an_earlier_translation_in_the_output_folder_is_not_replaced(run, tmp_path) -> None:  # noqa: ANN001
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a", "b"):
        Image.fromarray(np.zeros((16, 16), np.uint8)).save(src / f"{name}.png")
    out = tmp_path / "out"
    translate_folder(run, src, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (out / "notes.txt").write_text("mine")
    with pytest.raises(GanforgeError, match=r"a.png and 1 more already exist\(s\)") as err:
        translate_folder(run, src, out)
    assert "\n" not in str(err.value)
    with pytest.raises(GanforgeError, match=r"b.png already exist"):
        translate_path(run, src / "b.png", out)  # one picture into the folder: the same rule
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.suffix == ".png"} == before
    assert translate_folder(run, src, tmp_path / "other") and (tmp_path / "other" / "a.png").is_file()


def _noise_pictures(folder: Path, n: int, rng: np.random.Generator) -> Path:
    """``folder`` (created, with its parents) holding ``n`` 16x16 gray noise pictures p0.png, p1.png, ..."""
    folder.mkdir(parents=True)
    for i in range(n):
        Image.fromarray((rng.random((16, 16)) * 255).astype(np.uint8)).save(folder / f"p{i}.png")
    return folder


def test_a_folder_is_translated_chunk_by_chunk_as_one_batch_would_be(run, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    import ganforge.apps.translate as module

    src = _noise_pictures(tmp_path / "in", 5, np.random.default_rng(3))
    whole = translate_folder(run, src, tmp_path / "whole")
    monkeypatch.setattr(module, "FOLDER_CHUNK", 2)  # 2 + 2 + 1 pictures
    seen = []
    real_translate = module.translate_tensor
    monkeypatch.setattr(module, "translate_tensor", lambda r, x, d: seen.append(len(x)) or real_translate(r, x, d))
    chunked = translate_folder(run, src, tmp_path / "chunked")
    assert seen == [2, 2, 1]
    for a, b in zip(whole, chunked, strict=True):  # the CycleGAN generator is deterministic: the same pixels
        assert a.name == b.name and np.array_equal(np.asarray(Image.open(a)), np.asarray(Image.open(b)))
    # a file that is not a picture stops the command before any chunk is written
    (src / "p9.png").write_bytes(b"not a png")
    with pytest.raises(GanforgeError, match=r"p9.png: not a readable image"):
        translate_folder(run, src, tmp_path / "none")
    assert not (tmp_path / "none").exists() or not any((tmp_path / "none").iterdir())


def test_a_truncated_picture_stops_the_folder_before_anything_is_written(run, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    import ganforge.apps.translate as module

    rng = np.random.default_rng(4)
    src = _noise_pictures(tmp_path / "in", 3, rng)
    Image.fromarray((rng.random((64, 64)) * 255).astype(np.uint8)).save(tmp_path / "whole.png")
    data = (tmp_path / "whole.png").read_bytes()
    (src / "zz.png").write_bytes(data[: len(data) // 2])  # its header reads; its pixels do not; sorted last
    monkeypatch.setattr(module, "FOLDER_CHUNK", 2)  # p0, p1 would be written before zz.png's chunk
    out = tmp_path / "out"
    with pytest.raises(GanforgeError, match=r"zz.png: not a readable image"):
        translate_folder(run, src, out)
    assert not out.exists()
    (src / "zz.png").unlink()
    assert len(translate_folder(run, src, out)) == 3  # the retry is not refused by partial outputs


def test_a_size_the_generator_cannot_take_is_refused_in_the_options_words(run, tmp_path) -> None:  # noqa: ANN001
    from ganforge.apps.translate import translate_file

    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(src / "a.png")
    with pytest.raises(GanforgeError, match=r"^--size 18: must be a multiple of 4 and at least 8 for this run"):
        translate_folder(run, src, tmp_path / "out", size=18)
    assert not (tmp_path / "out").exists()  # no empty folder left behind
    with pytest.raises(GanforgeError, match=r"^--size 4: must be a multiple of 4 and at least 8 .*--size 8"):
        translate_file(run, src / "a.png", tmp_path / "a.png", size=4)
    assert not (tmp_path / "a.png").exists()


def test_hidden_files_of_a_folder_are_skipped_as_training_skips_them(run, tmp_path) -> None:  # noqa: ANN001
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(src / "x.png")
    (src / "._x.png").write_bytes(b"\x00\x05\x16\x07 macOS resource fork")
    assert [p.name for p in translate_folder(run, src, tmp_path / "out")] == ["x.png"]


def test_a_folder_given_a_picture_name_as_output_is_refused(run, tmp_path) -> None:  # noqa: ANN001
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(src / "x.png")
    with pytest.raises(GanforgeError, match=r"-o .*new.png: .* is a folder, so .* folder name without a picture"):
        translate_path(run, src, tmp_path / "new.png")
    assert not (tmp_path / "new.png").exists()
    assert translate_path(run, src, f"{tmp_path / 'made.png'}/")  # an explicit folder spelling still works


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_a_folder_with_sub_folders_is_translated_as_a_mirrored_tree(run, tmp_path, capsys) -> None:  # noqa: ANN001
    """Training reads class sub-folders; translate read the top level only: nest/a/*, nest/b/* and nest/d.png
    wrote 1 picture and skipped 5 without a word, and a folder of sub-folders alone 'held no pictures'."""
    from ganforge.cli import main

    rng = np.random.default_rng(5)
    nest = tmp_path / "nest"
    _noise_pictures(nest / "a", 3, rng)
    (nest / "b").mkdir()
    Image.fromarray((rng.random((20, 24)) * 255).astype(np.uint8)).save(nest / "b" / "q.jpg")
    _noise_pictures(nest / "b" / "deep", 1, rng)
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(nest / "d.png")
    (nest / ".thumbs").mkdir()  # hidden folders and files are skipped, as training skips them
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(nest / ".thumbs" / "t.png")
    (nest / "a" / "._p0.png").write_bytes(b"\x00\x05\x16\x07 macOS resource fork")
    main(["translate", str(run.path), str(nest), "-o", str(tmp_path / "out")])
    expected = ["a/p0.png", "a/p1.png", "a/p2.png", "b/deep/p0.png", "b/q.png", "d.png"]
    assert _tree(tmp_path / "out") == expected
    assert "wrote 6 pictures" in capsys.readouterr().out
    (nest / "d.png").unlink()  # sub-folders alone: they said 'holds no pictures'
    assert len(translate_folder(run, nest, tmp_path / "only")) == 5
    with pytest.raises(GanforgeError, match=r"a/p0.png and 4 more already exist"):  # never over an earlier tree
        translate_folder(run, nest, tmp_path / "only")
    assert len(translate_folder(run, nest, nest / "translated")) == 5  # inside the input: its results are no input
    with pytest.raises(GanforgeError, match=r"translated/a/p0.png and 4 more already exist"):
        translate_folder(run, nest, nest / "translated")  # a retry reads the 5 inputs again, not its results


def test_one_name_twice_in_one_sub_folder_is_refused_and_in_two_is_not(run, tmp_path) -> None:  # noqa: ANN001
    src = tmp_path / "in"
    for folder in ("a", "b"):
        (src / folder).mkdir(parents=True)
        Image.fromarray(np.zeros((16, 16), np.uint8)).save(src / folder / "x.png")
    assert len(translate_folder(run, src, tmp_path / "out")) == 2  # a/x.png and b/x.png: two outputs
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(src / "a" / "x.jpg")
    with pytest.raises(GanforgeError, match=r"'a/x.jpg' and 'a/x.png' would both be written as a/x.png"):
        translate_folder(run, src, tmp_path / "other")
    assert not (tmp_path / "other").exists()


def test_a_file_where_a_mirrored_sub_folder_goes_is_refused_before_writing(run, tmp_path) -> None:  # noqa: ANN001
    src = tmp_path / "in"
    _noise_pictures(src, 1, np.random.default_rng(0))
    _noise_pictures(src / "sub", 1, np.random.default_rng(1))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "sub").write_text("mine")
    with pytest.raises(GanforgeError, match=r"out/sub is a file, but the translations of the input's sub/"):
        translate_folder(run, src, tmp_path / "out")
    assert _tree(tmp_path / "out") == ["sub"]


def test_gf_translate_takes_tensors_arrays_pictures_and_paths(run, tmp_path) -> None:  # noqa: ANN001
    """``gf.translate`` was missing although apps are published as ``gf.<name>``; it takes what ``gf.upscale``
    takes (plus a stack of arrays and a folder with ``out=``) and gives back the same kind."""
    assert gf.translate is translate and "translate" in dir(gf)
    rng = np.random.default_rng(6)
    images = torch.rand(2, 1, 16, 16)
    torch.testing.assert_close(gf.translate(run, images[0], "b2a"), translate(run, images, "b2a")[0])
    gray = (rng.random((20, 24)) * 255).astype(np.uint8)  # read as the command reads a file: cropped, resized
    out = gf.translate(run.path, gray, "b2a")
    assert out.shape == (16, 16) and out.dtype == np.uint8
    Image.fromarray(gray).save(tmp_path / "g.png")
    from_file = gf.translate(run, tmp_path / "g.png", "b2a")
    assert isinstance(from_file, Image.Image) and from_file.size == (16, 16) and from_file.mode == "L"
    assert np.array_equal(np.asarray(from_file), out)  # an array and its file give the same picture
    assert np.array_equal(np.asarray(gf.translate(run, Image.fromarray(gray), "b2a")), out)
    colour = rng.random((3, 16, 16, 3)).astype(np.float32)  # a stack, RGB given to a gray domain
    stack = gf.translate(run, colour, size=32)
    assert stack.shape == (3, 32, 32, 1) and stack.dtype == np.float32 and 0 <= stack.min() <= stack.max() <= 1
    written = gf.translate(run, str(tmp_path), out=tmp_path.parent / "translated_out")
    assert [p.name for p in written] == ["g.png"]
    with pytest.raises(GanforgeError, match=r"is a folder; give out='FOLDER'"):
        gf.translate(run, tmp_path)
    with pytest.raises(GanforgeError, match=r"^translate: out= writes"):
        gf.translate(run, gray, out=tmp_path / "x.png")
    with pytest.raises(GanforgeError, match=r"expected a picture array"):
        gf.translate(run, np.zeros((2, 16, 16, 5)))
    with pytest.raises(GanforgeError, match=r"^translate: size= resizes pictures"):
        gf.translate(run, images, size=32)  # a tensor is used at its own size, never silently


def test_tensors_outside_the_unit_range_and_empty_stacks_are_one_line_errors(run) -> None:
    """translate(run, NaN tensor) returned an all-NaN picture; an empty (0, H, W, C) stack reached torch.stack."""
    for bad, words in ((torch.full((1, 1, 16, 16), float("nan")), "NaN or infinite"),
                       (torch.rand(1, 1, 16, 16) * 255, r"pixel values span"),
                       (torch.zeros(0, 1, 16, 16), "holds no pictures")):
        with pytest.raises(GanforgeError, match=rf"^translate: .*{words}"):
            translate(run, bad)
    with pytest.raises(GanforgeError, match=r"^translate: the stack holds no pictures"):
        translate(run, np.zeros((0, 16, 16, 1), dtype=np.uint8))
