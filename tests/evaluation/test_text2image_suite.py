"""R-precision's candidate captions: other images' captions that state the same content are not mismatches;
the encoder swap accuracy credits exactly the attributes the matching encoders read."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from ganforge.data.captions import COLOURS, RGB, SYNONYMS, render_scenes
from ganforge.evaluation.text2image_suite import (
    caption_diversity,
    digit_attribute_scores,
    encoder_swap_accuracy,
    scene_keys,
)


def test_scene_keys_name_content_not_object_order() -> None:
    a = torch.tensor([[[0, 0, 1, 0], [1, 2, 0, 3]]])
    swapped = a.flip(1)
    other = torch.tensor([[[0, 0, 1, 0], [1, 2, 0, 2]]])
    single = torch.tensor([[[0, 0, 1, 0], [-1, -1, -1, -1]]])
    keys = scene_keys(torch.cat([a, swapped, other, single]), 4)
    assert keys[0] == keys[1] and len(set(keys.tolist())) == 3
    assert scene_keys(None, 3).tolist() == [0, 1, 2]


class ColourOracle:
    """Encoders that see colour only: an image's vector is its brightest colour (dark background), a
    caption's is the colour its colour word names; every other attribute leaves both unchanged."""

    def eval(self) -> None:
        pass

    def image_encoder(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(2)
        brightest = flat.sum(1).argmax(1)
        return flat[torch.arange(len(x)), :, brightest] - 0.05

    def tokens(self, captions: list[str]) -> list[str]:
        return captions

    def encode_text(self, captions: list[str]) -> torch.Tensor:
        def colour(caption: str) -> str:
            return next(c for c in COLOURS if any(f" {w} " in f" {caption} " for w in SYNONYMS[c]))

        return torch.tensor([RGB[colour(c)] for c in captions]) - 0.05

    def discriminate(self, x: torch.Tensor, captions: list[str]) -> torch.Tensor:
        """A discriminator with the same eyes: minus the distance between the image's and caption's colour."""
        return -(self.image_encoder(x) - self.encode_text(captions)).norm(dim=1)


def test_encoder_swap_accuracy_credits_exactly_the_attributes_the_encoders_read() -> None:
    """A colour-only, bag-of-words oracle: right on every colour change, blind to every other change and to
    which object has which colour (its two captions of an exchanged pair name the same colours)."""
    run = SimpleNamespace(
        gan=ColourOracle(), config=SimpleNamespace(data={}), scaler=SimpleNamespace(to_model=lambda x: x)
    )
    scores = encoder_swap_accuracy(run, n=60)
    assert scores["encoder_swap_colour"] == 1.0
    assert scores["encoder_swap_shape"] == scores["encoder_swap_size"] == scores["encoder_swap_position"] == 0.0
    assert scores["encoder_binding_colour"] == scores["encoder_binding_shape"] == 0.0
    assert scores["discriminator_swap_colour"] == 1.0 and scores["discriminator_swap_shape"] == 0.0
    assert scores["discriminator_binding_colour"] == 0.0


def test_attribute_scores_split_by_object_count_and_catch_exchanged_colours() -> None:
    import numpy as np

    from ganforge.data.captions import render_scenes, sample_scenes
    from ganforge.evaluation.text2image_suite import attribute_scores

    rng = np.random.default_rng(0)
    scenes = sample_scenes(200, rng, set(), "train", max_objects=2)
    images = render_scenes(scenes, rng)
    right = attribute_scores(images, torch.from_numpy(scenes))
    assert right["all_one_object"] >= 0.95 and right["all_two_objects"] >= 0.95
    two = (scenes[:, 1, 0] >= 0) & (scenes[:, 0, 1] != scenes[:, 1, 1])
    exchanged = scenes[two].copy()
    exchanged[:, 0, 1], exchanged[:, 1, 1] = scenes[two][:, 1, 1], scenes[two][:, 0, 1]
    wrong = attribute_scores(images[torch.from_numpy(two)], torch.from_numpy(exchanged))
    assert wrong["all_two_objects"] <= 0.05 and "all_one_object" not in wrong
    assert right["two_objects_colour_right"] >= 0.95 and right["two_objects_colour_exchanged"] <= 0.05
    assert wrong["two_objects_colour_exchanged"] >= 0.95 and wrong["two_objects_colour_right"] <= 0.05
    assert wrong["two_objects_shape_right"] >= 0.95  # only the colours were exchanged


def test_caption_diversity_is_zero_for_a_generator_that_ignores_its_noise() -> None:
    """One picture per caption, whatever the noise: diversity 0, while real renderings of the same scenes
    differ by their jitter; a generator drawing fresh real renderings scores about as the real ones."""
    attrs = torch.tensor([[[0, 0, 1, 0], [-1, -1, -1, -1]], [[2, 1, 0, 3], [1, 2, 1, 1]]])
    tokens = torch.arange(2)[:, None]  # "caption" i names scene i

    def fixed(n: int, label: torch.Tensor) -> torch.Tensor:
        return torch.cat([render_scenes(attrs[i : i + 1].numpy(), np.random.default_rng(0)) for i in label[:, 0]])

    def jittered(n: int, label: torch.Tensor) -> torch.Tensor:
        return render_scenes(attrs[label[:, 0]].numpy(), np.random.default_rng(5))

    same = caption_diversity(SimpleNamespace(sample=fixed), tokens, attrs)
    assert same["diversity"] == 0.0 and same["diversity_real"] > 0.02
    fresh = caption_diversity(SimpleNamespace(sample=jittered), tokens, attrs)
    assert abs(fresh["diversity"] - fresh["diversity_real"]) < 0.2 * fresh["diversity_real"]


def test_digit_reader_reads_real_digits_and_catches_a_wrong_thickness_or_class() -> None:
    from ganforge.data.captions import digits_text

    source = digits_text()
    idx = torch.arange(0, len(source.x), 4)
    every, labels = source.x, source.attributes[:, 0, 0]
    real = digit_attribute_scores(source.x[idx], source.attributes[idx], every, labels)
    assert min(real.values()) > 0.98
    flipped = source.attributes[idx].clone()
    flipped[:, 0, 1] = 1 - flipped[:, 0, 1]  # every caption now states the other thickness
    wrong = digit_attribute_scores(source.x[idx], flipped, every, labels)
    assert wrong["thickness"] < 0.02 and wrong["all"] < 0.02 and wrong["class"] == real["class"]
    other_class = source.attributes[idx].clone()
    other_class[:, 0, 0] = (other_class[:, 0, 0] + 1) % 10
    assert digit_attribute_scores(source.x[idx], other_class, every, labels)["class"] < 0.02


def test_r_precision_candidates_are_99_distinct_mismatches_or_none() -> None:
    """With 3 distinct captions the table said "true caption ranked first among 100" and scored 1 against a real
    floor of 1: the true caption was ranked among 2 others, repeated."""
    from ganforge.evaluation.text2image_suite import R_CANDIDATES, mismatched_captions, r_precision_skipped

    few = torch.tensor([[2, 3, 0], [2, 4, 0], [2, 5, 0]]).repeat(40, 1)  # 120 captions, 3 distinct
    chosen, available = mismatched_captions(few[:5], few, keys=torch.arange(5), pool_keys=torch.arange(120))
    assert chosen is None and available == 2
    reason = r_precision_skipped(available)
    assert reason.startswith("r_precision: a caption has only 2 different captions") and "among 100" in reason
    pool = torch.stack([torch.tensor([2, 3 + i % 150, 7 + i % 2]) for i in range(600)])  # 300 distinct, each twice
    chosen, available = mismatched_captions(pool[:20], pool, keys=torch.arange(20), pool_keys=torch.arange(600))
    assert available == R_CANDIDATES - 1 and chosen is not None and chosen.shape == (20, 99)
    for i, row in enumerate(chosen):
        captions = {tuple(pool[j].tolist()) for j in row}
        assert len(captions) == 99 and tuple(pool[i].tolist()) not in captions  # distinct, none the true one


def test_r_precision_is_left_out_with_its_reason_on_a_handful_of_captions(tmp_path) -> None:
    from PIL import Image

    import ganforge as gf
    from ganforge.errors import GanforgeError

    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray((rng.random((8, 8, 3)) * 255).astype(np.uint8)).save(tmp_path / f"{i}.png")
    (tmp_path / "captions.csv").write_text("file,caption\n" + "".join(f"{i}.png,a {i % 3} thing\n" for i in range(12)))
    config = {"name": "c", "data": {"source": "captioned-folder", "path": str(tmp_path), "size": 8},
              "model": {"type": "text2image", "g_width": 4, "d_width": 4, "encoder_width": 4, "text_hidden": 8,
                        "embed_dim": 4, "noise_dim": 4, "encoder_steps": 1},
              "train": {"steps": 2, "batch_size": 4}, "eval": {"enabled": False}}
    run = gf.train(config, out=tmp_path / "run", show_progress=False)
    report = run.evaluate(12)
    assert "r_precision" not in report and report["skipped"].startswith("r_precision: a caption has only 2 different")
    with pytest.raises(GanforgeError, match="metric 'r_precision' cannot be measured on this run: r_precision: "):
        run.evaluate(12, ["r_precision"])


def test_the_fid_floor_compares_the_reference_with_other_scenes() -> None:
    """Two independent draws shared 115 of 1,000 scenes (all of them at n = 8,000), so the floor compared a set
    partly with itself: 39.2 where disjoint scenes give 50.5."""
    import torch

    from ganforge.evaluation.text2image_suite import other_scenes

    idx = torch.randperm(100, generator=torch.Generator().manual_seed(0))[:30]
    other = other_scenes(idx, 100)
    assert len(other) == 30 and not set(other.tolist()) & set(idx.tolist())
    assert len(other_scenes(torch.arange(20), 30)) == 10  # fewer left than asked: all of them, still disjoint
