"""Captioned data: the vocabulary, caption templates that say what the image holds, held-out pairs,
digits' measured attributes, users' captioned folders, and one-line errors."""

import numpy as np
import pytest
import torch
from PIL import Image

from ganforge.data.captions import (
    COLOURS,
    SHAPES,
    caption_attributes,
    captioned_folder,
    digit_attributes,
    digits_text,
    shapes_text,
)
from ganforge.data.vocabulary import UNK_ID, Vocabulary, tokenize
from ganforge.errors import GanforgeError


def test_vocabulary_round_trip_and_state() -> None:
    vocab = Vocabulary.from_captions(["a red circle", "A big, RED box!"])
    ids = vocab.encode("a big red box")
    assert vocab.decode(ids) == "a big red box"
    assert vocab.decode(vocab.encode_batch(["Big red-circle"])[0]) == "big red circle"
    again = Vocabulary.from_dict(vocab.to_dict())
    assert again.words == vocab.words and again.max_len == vocab.max_len == 4
    assert tokenize("Top-left: a RED disc!") == ["top", "left", "a", "red", "disc"]


def test_unknown_words_become_unk_and_are_reported_once(capsys) -> None:
    vocab = Vocabulary.from_captions(["a red circle"])
    assert vocab.encode("a purple circle") == [vocab.index["a"], UNK_ID, vocab.index["circle"]]
    assert "'purple'" in capsys.readouterr().err
    vocab.encode("a purple circle")
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("caption", ["", "   ", " , ; !"])
def test_empty_caption_is_a_one_line_error(caption) -> None:
    with pytest.raises(GanforgeError, match="empty"):
        Vocabulary.from_captions(["a red circle"]).encode(caption)


def test_shape_captions_state_the_scene_attributes() -> None:
    source = shapes_text(n=300, captions_per_image=3)
    assert source.x.shape == (300, 3, 32, 32) and source.x.min() >= 0 and source.x.max() <= 1
    for i in range(300):
        truth = source.attributes[i].numpy()
        expected = sorted(map(tuple, truth[truth[:, 0] >= 0].tolist()))
        for caption in source.captions[i]:
            read = caption_attributes(caption)
            assert sorted(map(tuple, read[read[:, 0] >= 0].tolist())) == expected, caption
    distinct = np.mean([len(set(c)) == 3 for c in source.captions])  # several templates and synonyms per image
    assert distinct > 0.9


def test_held_out_pairs_never_appear_in_training_data() -> None:
    held = {(SHAPES.index("triangle"), COLOURS.index("green")), (SHAPES.index("circle"), COLOURS.index("yellow"))}
    train = shapes_text(n=3000)
    pairs = {(int(s), int(c)) for s, c in train.attributes[..., :2].reshape(-1, 2).tolist() if s >= 0}
    assert not pairs & held and len(pairs) == 10
    for captions in train.captions:  # nor in any caption
        for caption in captions:
            read = caption_attributes(caption)
            assert not {(int(s), int(c)) for s, c in read[:, :2] if s >= 0} & held
    test = shapes_text(n=300, split="held-out")
    assert all((int(a[0, 0]), int(a[0, 1])) in held for a in test.attributes)
    with pytest.raises(GanforgeError, match="COLOUR SHAPE"):
        shapes_text(n=10, held_out=["purple triangle"])


def test_batches_carry_one_caption_of_each_image() -> None:
    source = shapes_text(n=50)
    source.fit_scaler("tanh")
    batch = source.batch(20, torch.Generator().manual_seed(0))
    assert batch.x.shape == (20, 3, 32, 32) and batch.x.min() >= -1 and batch.y.shape == (20, source.vocab.max_len)
    real = source.real(10, seed=1)
    idx, k = source.real_index(10, seed=1)
    for i in range(10):
        text = source.vocab.decode(real.y[i])
        assert text == " ".join(tokenize(source.captions[int(idx[i])][int(k[i])]))


def test_digit_captions_follow_measured_thickness_and_slant() -> None:
    images = torch.zeros(2, 1, 8, 8)
    images[0, 0, :, 3] = 1  # upright bar
    for r in range(8):
        images[1, 0, r, 7 - r] = 1  # leaning right: top to the right
    _, shear, _ = digit_attributes(images, torch.tensor([1, 1]))
    assert abs(shear[0]) < 1e-9 and shear[1] > 0.5
    source = digits_text(captions_per_image=2)
    flags = source.attributes[:, 0, 1:3]
    thick_words, slant_words = {"thick", "bold", "heavy"}, {"slanted", "leaning", "italic"}
    for i in range(0, 1797, 37):
        for caption in source.captions[i]:
            words = set(tokenize(caption))
            assert bool(words & thick_words) == bool(flags[i, 0]) and bool(words & slant_words) == bool(flags[i, 1])
    assert 0.4 < flags.float().mean() < 0.6


def test_captioned_folder_reads_images_and_csv(tmp_path) -> None:
    for i, colour in enumerate([(255, 0, 0), (0, 0, 255)]):
        Image.fromarray(np.full((20, 20, 3), colour, dtype=np.uint8)).save(tmp_path / f"{i}.png")
    (tmp_path / "captions.csv").write_text("file,caption\n0.png,a red square\n1.png,a blue one\n0.png,red again\n")
    source = captioned_folder(str(tmp_path), size=16)
    assert source.x.shape == (2, 3, 16, 16) and source.tokens.shape[:2] == (2, 2)
    assert source.captions[0] == ["a red square", "red again"] and "blue" in source.vocab
    (tmp_path / "bad.csv").write_text("0.png,a cat\nmissing.png,a dog\n")
    with pytest.raises(GanforgeError, match="line 2.*missing.png"):
        captioned_folder(str(tmp_path), captions="bad.csv", size=16)
    (tmp_path / "empty.csv").write_text("0.png, ...\n")
    with pytest.raises(GanforgeError, match="line 1.*empty"):
        captioned_folder(str(tmp_path), captions=str(tmp_path / "empty.csv"), size=16)
    with pytest.raises(GanforgeError, match="does not exist"):
        captioned_folder(str(tmp_path), captions="nope.csv", size=16)


def test_captions_csv_with_another_header_is_told_the_header_to_use(tmp_path) -> None:
    """`image,text` gave "line 1: image 'image' is not in FOLDER; fix the file name"."""
    Image.fromarray(np.zeros((8, 8, 3), dtype=np.uint8)).save(tmp_path / "0.png")
    (tmp_path / "captions.csv").write_text("image,text\n0.png,a dark picture\n")
    with pytest.raises(GanforgeError, match=r"line 1: 'image,text' looks like a header; the header must be "
                                            r"'file,caption' \(or leave it out\)"):
        captioned_folder(str(tmp_path), size=8)
    (tmp_path / "captions.csv").write_text("0.png,a dark picture\ngone.png,a lost one\n")  # a missing file stays so
    with pytest.raises(GanforgeError, match="line 2: image 'gone.png' is not in"):
        captioned_folder(str(tmp_path), size=8)


def test_pictures_without_a_caption_are_counted_in_one_note(tmp_path, capsys) -> None:
    """Pictures the CSV does not list were left out of training silently."""
    for i in range(4):
        Image.fromarray(np.full((8, 8, 3), 50 * i, dtype=np.uint8)).save(tmp_path / f"{i}.png")
    (tmp_path / "notes.txt").write_text("not a picture")
    (tmp_path / "captions.csv").write_text("file,caption\n0.png,a black one\n1.png,a grey one\n0.png,dark\n")
    source = captioned_folder(str(tmp_path), size=8)
    assert len(source) == 2
    err = capsys.readouterr().err
    assert err.count("note:") == 1
    assert f"note: 2 of 4 pictures in {tmp_path} have no caption in captions.csv and are left out" in err
    (tmp_path / "captions.csv").write_text("file,caption\n" + "".join(f"{i}.png,shade {i}\n" for i in range(4)))
    captioned_folder(str(tmp_path), size=8)
    assert "no caption" not in capsys.readouterr().err


def test_a_missing_image_folder_says_how_to_train_the_text2image_recipe(tmp_path) -> None:
    with pytest.raises(GanforgeError, match=r"does not exist or is not a folder; train on your captioned pictures "
                                            r"with `ganforge train FOLDER --recipe text2image --set "
                                            r"data.captions=captions.csv`"):
        captioned_folder(str(tmp_path / "images"))
