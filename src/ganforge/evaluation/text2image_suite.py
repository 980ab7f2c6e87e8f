"""Does the picture match the sentence? The evaluator of text-to-image runs (``captioned-images`` data).

* **Attribute accuracy** (shapes scenes): the shipped attribute reader (``nets/shapes_classifier.py``)
  reads every quadrant of images generated for real captions; a sample counts as right when every stated
  object has its shape, colour and size in its stated quadrant and no other quadrant holds an object. Seen
  combinations use captions of training-split scenes; held-out ones captions of scenes with a held-out
  shape-colour pair. The same reader on the real images of those captions is the ceiling beside it.
* **R-precision** (AttnGAN, Xu et al. 2018, sec. 5): for each generated image, its true caption and 99
  captions of other images are ranked by the cosine similarity of the run's own matching encoders
  (DAMSM image and sentence vectors); R-precision is the share of images whose true caption ranks first
  (R = 1). Computed on real images too, as the ceiling of those encoders. Captions of other images that
  state the same content (same objects and attributes) are not mismatches and are not drawn, and the 99 are
  distinct captions; data with fewer than 99 such captions per image (a folder captioned with a handful of
  sentences) gets no R-precision, with the reason under ``skipped``: ranked among fewer it is another metric.
* **FID on shape features**: Frechet distance of the reader's 256-d quadrant features of generated vs real
  scenes (float64), beside the floor of real vs real.
* **Encoder swap and binding accuracy** (shapes scenes; a diagnostic of the matching encoders, not of
  the generator): for fresh real one-object scenes, the share whose image vector is closer (cosine) to its
  true caption than to the same caption with one attribute changed; for two-object scenes, than to the
  caption with an attribute exchanged between the objects. The generator reads the sentence vector and its
  DAMSM term can only push what the encoders tell apart; R-precision over random mismatches rarely tests a
  one-word difference or a binding.
* **Digit attributes** (``digits-text``): the shipped digits classifier (99.8 % on real test digits at
  16x16) reads the class; thickness and slant are measured on the generated image as the captions measured
  them (ink and shear of the pixel mass, ``data.captions.digit_attributes``) and compared with the medians
  of the real images of the stated class at the same size. The same reader on the real images is the ceiling
  (below 1: the captions were measured on the 8x8 originals, the reader at the model's size).
* **Diversity within a caption** (shapes scenes): the root-mean-square pixel distance (data units) between
  two samples of the same caption, averaged over pairs, beside the same distance between two real scenes of
  the same caption's attributes (the data's own jitter of position, size, colour and background). A
  generator that ignores its noise draws the same picture for every sample and scores near 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ganforge.errors import GanforgeError
from ganforge.evaluation.suite import register_evaluator

if TYPE_CHECKING:
    from ganforge.runs import Run

R_CANDIDATES = 100  # the true caption and 99 mismatched ones, as AttnGAN


def scene_keys(attributes: torch.Tensor | None, n: int) -> torch.Tensor:
    """One integer per image naming what its captions state (the sorted objects of a shapes scene, a digit's
    class, thickness and slant), so two captions of the same content compare equal; ``arange`` without
    attributes (users' captions: only token-identical captions are the same)."""
    if attributes is None:
        return torch.arange(n)
    codes = (attributes[..., 0] + 1) * 1000 + (attributes[..., 1] + 1) * 100 + (attributes[..., 2] + 1) * 10
    codes = (codes + attributes[..., 3] + 1).sort(dim=1).values  # object order does not matter
    return codes[:, 0] * 100_000 + codes[:, 1]


def mismatched_captions(
    tokens: torch.Tensor, pool: torch.Tensor, seed: int = 0, keys: torch.Tensor | None = None,
    pool_keys: torch.Tensor | None = None,
) -> tuple[torch.Tensor | None, int]:
    """For each of the true captions ``tokens`` (N, L), the indices into ``pool`` (M, L) of the 99 mismatched
    captions AttnGAN's R-precision ranks it against: captions of other images, drawn at random (``seed``), each
    a distinct caption, none identical to the true one or stating the same content (equal ``keys``/``pool_keys``):
    such a caption describes the image as well, and with exact captions many scenes share their content.

    Returns ``(indices (N, 99), 99)``, or ``(None, k)`` when some image has only ``k`` < 99 such captions in the
    pool: the true caption would then be ranked among ``k + 1``, not 100 (a set of 3 captions scored 1 against a
    real floor of 1, "ranked first among 100"), and chance would be 1 / (k + 1), not 1 / 100."""
    wanted = R_CANDIDATES - 1
    _, caption_id = torch.unique(pool, dim=0, return_inverse=True)
    g = torch.Generator().manual_seed(seed)
    chosen = []
    for i in range(len(tokens)):
        order = torch.randperm(len(pool), generator=g)
        for draw in (order[: 4 * R_CANDIDATES], order):  # the first draws nearly always hold 99; else the pool
            keep = ~(pool[draw] == tokens[i]).all(1)
            if keys is not None and pool_keys is not None:
                keep &= pool_keys[draw] != keys[i]
            first = np.unique(caption_id[draw[keep]].numpy(), return_index=True)[1]  # one of each distinct caption
            idx = draw[keep][torch.from_numpy(np.sort(first))][:wanted]
            if len(idx) == wanted:
                break
        if len(idx) < wanted:
            return None, len(idx)
        chosen.append(idx)
    return (torch.stack(chosen) if chosen else torch.empty(0, wanted, dtype=torch.long)), wanted


@torch.no_grad()
def r_precision_of(gan: Any, images: torch.Tensor, tokens: torch.Tensor, pool: torch.Tensor,
                   mismatched: torch.Tensor) -> float:
    """AttnGAN's R-precision of ``images`` (model units) for their ``tokens`` (N, L): the share whose true
    caption the run's matching encoders rank above every one of its ``mismatched`` captions (N, 99), indices into
    ``pool`` (M, L) from :func:`mismatched_captions`."""
    from ganforge.nets.text import r_precision

    gan.eval()
    v = torch.cat([gan.image_encoder(images[i : i + 512]) for i in range(0, len(images), 512)])
    e_true = gan.text_encoder(tokens)
    e_pool = torch.cat([gan.text_encoder(pool[i : i + 2048]) for i in range(0, len(pool), 2048)])
    hits = [r_precision(v[i : i + 256], e_true[i : i + 256], e_pool[mismatched[i : i + 256]])
            for i in range(0, len(images), 256)]  # (256, 99, D) candidate vectors at a time
    return float(torch.cat(hits).mean())


def r_precision_skipped(available: int) -> str:
    """Why R-precision was not measured when an image has only ``available`` distinct mismatched captions."""
    return (
        f"r_precision: a caption has only {available} different captions to be ranked against, and R-precision "
        f"ranks the true one among {R_CANDIDATES} (AttnGAN: 1 true + {R_CANDIDATES - 1} mismatched); it needs "
        f"{R_CANDIDATES} or more different captions"
    )


def attribute_scores(images: torch.Tensor, attributes: torch.Tensor, reader: Any = None) -> dict[str, float]:
    """Share of images (data units) whose every attribute, and each attribute, matches ``attributes``;
    ``all_one_object`` / ``all_two_objects``: the ``all`` share among captions stating one / two objects
    (two objects also test binding: each attribute on its own object). Binding, among captions of two
    objects that differ in shape (colour, size): ``two_objects_<attribute>_right``, both objects have their
    own value; ``two_objects_<attribute>_exchanged``, each has the other's (a generator that draws the
    values but not which object has which scores about as often exchanged as right; the rest are drawn
    with one value for both, or a third)."""
    from ganforge.data.captions import ATTRIBUTES
    from ganforge.nets.shapes_classifier import load_shapes_classifier, score_scenes

    reader = reader or load_shapes_classifier()
    read = reader.read(images)
    scores = score_scenes(read, attributes)
    out = {k: float(v.float().mean()) for k, v in scores.items()}
    two = attributes[:, 1, 0] >= 0
    for key, rows in (("all_one_object", ~two), ("all_two_objects", two)):
        if rows.any():
            out[key] = float(scores["all"][rows].float().mean())
    for k, attribute in enumerate(ATTRIBUTES[:3]):
        rows = two & (attributes[:, 0, k] != attributes[:, 1, k])
        if rows.any():
            exchanged = attributes.clone()
            exchanged[:, 0, k], exchanged[:, 1, k] = attributes[:, 1, k], attributes[:, 0, k]
            out[f"two_objects_{attribute}_right"] = float(scores[attribute][rows].float().mean())
            swapped = score_scenes(read, exchanged)[attribute]
            out[f"two_objects_{attribute}_exchanged"] = float(swapped[rows].float().mean())
    return out


def shape_fid(reader: Any, real: torch.Tensor, fake: torch.Tensor) -> float:
    from ganforge.evaluation.image_metrics import frechet_distance

    return frechet_distance(reader.features(real).double().numpy(), reader.features(fake).double().numpy())


SWAP_SCENES = 500  # one-object scenes per attribute of the encoder swap accuracy (a share's sd <= 0.022)


@torch.no_grad()
def encoder_swap_accuracy(run: Run, n: int = SWAP_SCENES, seed: int = 5) -> dict[str, float]:
    """How well the run's DAMSM encoders tell a caption from a near miss, on fresh real training-split
    scenes (data seed ``seed``): the share of images whose vector is more similar (cosine) to the true
    caption than to the near miss. ``encoder_swap_<attribute>``: ``n`` one-object scenes, the attribute
    changed to another value (drawn uniformly). ``encoder_binding_<attribute>``: two-object scenes whose
    objects differ in the attribute, the two values exchanged (the red circle and green square become a
    green circle and red square). Both captions of a pair are drawn from the same generator state.
    ``discriminator_swap_<attribute>`` / ``discriminator_binding_<attribute>``: on the same images and
    captions, the share the run's discriminator scores higher with the true caption: whether D can teach
    the generator that attribute or that binding."""
    from ganforge.data.captions import (
        ATTRIBUTE_VALUES,
        ATTRIBUTES,
        DEFAULT_HELD_OUT,
        parse_held_out,
        render_scenes,
        sample_scenes,
    )

    rng = np.random.default_rng(seed)
    held = parse_held_out(list(run.config.data.get("held_out", DEFAULT_HELD_OUT)))
    single = sample_scenes(n, rng, held, "train", max_objects=1)
    pairs = sample_scenes(4 * n, rng, held, "train", max_objects=2)
    pairs = pairs[pairs[:, 1, 0] >= 0]
    out = {}
    for k, attribute in enumerate(ATTRIBUTES):
        values = len(ATTRIBUTE_VALUES[attribute])
        changed = single.copy()
        changed[:, 0, k] = (changed[:, 0, k] + 1 + rng.integers(0, values - 1, n)) % values
        shares = _closer_share(run, single, changed, render_scenes(single, rng), seed)
        out[f"encoder_swap_{attribute}"], out[f"discriminator_swap_{attribute}"] = shares
    for k, attribute in enumerate(ATTRIBUTES[:3]):  # positions are distinct: exchanging them changes nothing
        scenes = pairs[pairs[:, 0, k] != pairs[:, 1, k]][:n]
        exchanged = scenes.copy()
        exchanged[:, 0, k], exchanged[:, 1, k] = scenes[:, 1, k], scenes[:, 0, k]
        shares = _closer_share(run, scenes, exchanged, render_scenes(scenes, rng), seed)
        out[f"encoder_binding_{attribute}"], out[f"discriminator_binding_{attribute}"] = shares
    return out


def _closer_share(
    run: Run, scenes: np.ndarray, near_miss: np.ndarray, images: torch.Tensor, seed: int
) -> tuple[float, float]:
    """Share of ``images`` (data units) closer to a caption of ``scenes`` than to one of ``near_miss`` (DAMSM
    encoders), and share the discriminator scores higher with the true caption than with the near miss."""
    from ganforge.data.captions import scene_caption
    from ganforge.nets.text import similarity

    gan = run.gan
    gan.eval()
    x = run.scaler.to_model(images)
    v = gan.image_encoder(x)
    true = [scene_caption(s, np.random.default_rng([seed, i])) for i, s in enumerate(scenes)]
    wrong = [scene_caption(s, np.random.default_rng([seed, i])) for i, s in enumerate(near_miss)]
    t_true, t_wrong = gan.tokens(true), gan.tokens(wrong)
    e_true, e_wrong = gan.encode_text(t_true), gan.encode_text(t_wrong)
    encoder = float((similarity(v, e_true).diagonal() > similarity(v, e_wrong).diagonal()).float().mean())
    return encoder, float((gan.discriminate(x, t_true) > gan.discriminate(x, t_wrong)).float().mean())


DIVERSITY_CAPTIONS, DIVERSITY_SAMPLES = 200, 4


@torch.no_grad()
def caption_diversity(run: Run, tokens: torch.Tensor, attributes: torch.Tensor, seed: int = 11) -> dict[str, float]:
    """Mean RMS pixel distance between the ``DIVERSITY_SAMPLES`` samples drawn for each of the first
    ``DIVERSITY_CAPTIONS`` captions (``diversity``), and between as many real renderings of each caption's
    scene (``diversity_real``): sqrt(mean_pixels (a - b)^2), averaged over every pair of the same caption."""
    from ganforge.data.captions import render_scenes

    k, m = min(DIVERSITY_CAPTIONS, len(tokens)), DIVERSITY_SAMPLES
    fake = run.sample(k * m, label=tokens[:k].repeat_interleave(m, dim=0))
    scenes = attributes[:k].repeat_interleave(m, dim=0).numpy()
    real = render_scenes(scenes, np.random.default_rng(seed))

    def mean_pair_distance(images: torch.Tensor) -> float:
        groups = images.reshape(k, m, -1).double()
        d = torch.cdist(groups, groups) / groups.shape[-1] ** 0.5  # (k, m, m) RMS distances
        return float(d.sum() / (k * m * (m - 1)))

    return {"diversity": mean_pair_distance(fake), "diversity_real": mean_pair_distance(real)}


@torch.no_grad()
def digit_attribute_scores(images: torch.Tensor, attributes: torch.Tensor, real: torch.Tensor,
                           real_labels: torch.Tensor) -> dict[str, float]:
    """Shares of digit images (N, 1, H, W) in [0, 1] whose class, thickness, slant, and all three, match
    ``attributes`` (N, 2, 4) of ``digits-text`` (object 0: class, thick, slanted): thick / slanted = ink /
    shear above the median of the ``real`` images (same size) of the stated class."""
    from ganforge.data.captions import digit_attributes
    from ganforge.nets.features import load_digits_classifier

    stated = attributes[:, 0, :3]
    ink_real, shear_real, _ = digit_attributes(real, real_labels)
    ink, shear, _ = digit_attributes(images, stated[:, 0])
    labels = real_labels.numpy()
    medians = np.array([[np.median(ink_real[labels == k]), np.median(shear_real[labels == k])] for k in range(10)])
    wanted = stated[:, 0].numpy()
    thick = torch.from_numpy(ink > medians[wanted, 0]).long()
    slanted = torch.from_numpy(shear > medians[wanted, 1]).long()
    right = {
        "class": load_digits_classifier().predict(images) == stated[:, 0],
        "thickness": thick == stated[:, 1],
        "slant": slanted == stated[:, 2],
    }
    right["all"] = right["class"] & right["thickness"] & right["slant"]
    return {k: float(v.float().mean()) for k, v in right.items()}


def held_out_source(run: Run, n: int) -> Any:
    """Real scenes of the run's held-out shape-colour pairs (data seed 7)."""
    from ganforge.data.registry import source_from_config

    settings = {**run.config.data, "split": "held-out", "n": n, "seed": 7}
    return source_from_config(settings)


def other_scenes(idx: torch.Tensor, total: int, seed: int = 99) -> torch.Tensor:
    """Indices of as many real scenes as ``idx`` holds (fewer when too few are left), none of them in ``idx``:
    the FID floor compares the reference with *other* real scenes. Two independent draws shared 115 of 1,000
    scenes at the shapes recipe's eval.n and all of them at n = 8,000 (the floor of a set against itself)."""
    rest = torch.ones(total, dtype=torch.bool)
    rest[idx] = False
    pool = torch.nonzero(rest).flatten()
    order = torch.randperm(len(pool), generator=torch.Generator().manual_seed(seed))
    return pool[order[: len(idx)]]


@register_evaluator("captioned-images")
def evaluate_text2image(run: Run, n: int, metrics: list[str]) -> dict[str, Any]:
    """R-precision for every captioned run; attribute accuracy and FID on shape features for shapes."""
    source = run.real_data()
    tokens = getattr(source, "tokens", None)
    if tokens is None or not hasattr(run.gan, "text_encoder"):
        raise GanforgeError("this run has no text encoder or captions to evaluate; it is not a text2image run")
    idx, k = source.real_index(n, seed=2024)  # type: ignore[attr-defined]
    real, caps = source.x[idx], tokens[idx, k]
    fake = run.sample(len(idx), label=caps)
    pool = tokens[:, 0]
    all_keys = scene_keys(getattr(source, "attributes", None), len(tokens))
    to_model = run.scaler.to_model
    same = {"keys": all_keys[idx], "pool_keys": all_keys}
    mismatched, available = mismatched_captions(caps, pool, **same)
    report: dict[str, Any] = {"n_fake": len(idx)}
    if mismatched is None:  # too few captions for the protocol's 100 candidates: no number rather than a wrong one
        report["skipped"] = r_precision_skipped(available)
    else:
        report["r_precision"] = r_precision_of(run.gan, to_model(fake), caps, pool, mismatched)
        report["r_precision_real"] = r_precision_of(run.gan, to_model(real), caps, pool, mismatched)
    if source.info.get("captions") == "shapes":
        from ganforge.nets.shapes_classifier import load_shapes_classifier

        reader = load_shapes_classifier()
        attrs = source.attributes[idx]  # type: ignore[attr-defined]
        seen, seen_real = attribute_scores(fake, attrs, reader), attribute_scores(real, attrs, reader)
        report.update({"all_attributes_seen": seen["all"], "all_attributes_seen_real": seen_real["all"]})
        parts = ("shape", "colour", "size", "position", "no_extra", "all_one_object", "all_two_objects")
        parts += tuple(k for k in seen if k.startswith("two_objects_"))
        report.update({f"{a}_seen": seen[a] for a in parts if a in seen})
        held = held_out_source(run, len(idx))
        held_fake = run.sample(len(held), label=held.tokens[:, 0])
        report["all_attributes_held_out"] = attribute_scores(held_fake, held.attributes, reader)["all"]
        report["all_attributes_held_out_real"] = attribute_scores(held.x, held.attributes, reader)["all"]
        other = source.x[other_scenes(idx, len(source.x))]
        report["fid_shapes"] = shape_fid(reader, real, fake)
        report["fid_shapes_floor"] = shape_fid(reader, real, other)
        report.update(encoder_swap_accuracy(run))
        report.update(caption_diversity(run, caps, attrs))
    if source.info.get("captions") == "digits":
        attrs = source.attributes[idx]  # type: ignore[attr-defined]
        every, labels = source.x, source.attributes[:, 0, 0]  # type: ignore[attr-defined]
        fake_scores = digit_attribute_scores(fake, attrs, every, labels)
        real_scores = digit_attribute_scores(real, attrs, every, labels)
        report.update({f"digit_{k}": v for k, v in fake_scores.items()})
        report.update({f"digit_{k}_real": v for k, v in real_scores.items()})
    if metrics:
        unknown = [m for m in metrics if m not in report]
        if unknown and unknown[0].startswith("r_precision") and report.get("skipped"):
            raise GanforgeError(f"metric '{unknown[0]}' cannot be measured on this run: {report['skipped']}")
        if unknown:
            raise GanforgeError(f"metric '{unknown[0]}' does not apply to this run; available: {', '.join(report)}")
        report = {"n_fake": report["n_fake"], **{m: report[m] for m in metrics}}
    return report
