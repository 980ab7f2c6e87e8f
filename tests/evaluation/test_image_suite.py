"""The image evaluator: numbers with their noise floors, feature choice, conditional accuracy, modes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import ganforge as gf
from ganforge.data.images import digits_images
from ganforge.data.registry import build_source
from ganforge.errors import GanforgeError
from ganforge.evaluation.image_metrics import compute_features, frechet_distance, precision_recall_density_coverage
from ganforge.evaluation.image_suite import (
    ChannelwiseDigits,
    image_report,
    parse_metrics,
    resolve_feature_spec,
)
from ganforge.evaluation.stacked import stacked_digits
from ganforge.nets.conv import DCGANDiscriminator, DCGANGenerator
from ganforge.nets.features import INCEPTION_ENV, DigitsClassifier, load_digits_classifier


@pytest.fixture(scope="module")
def digits() -> tuple[torch.Tensor, torch.Tensor]:
    return digits_images()


@pytest.fixture(scope="module")
def classifier() -> DigitsClassifier:
    return load_digits_classifier()


def test_channelwise_digits_features_and_joint_logits(classifier: DigitsClassifier) -> None:
    images, modes = stacked_digits(64, seed=1)
    net = ChannelwiseDigits(classifier, 3)
    feats = net(images)
    assert feats.shape == (64, 192)
    for c in range(3):  # channel c's block is the digits features of that channel
        torch.testing.assert_close(feats[:, 64 * c : 64 * (c + 1)], classifier(images[:, c : c + 1]))
    joint = net.logits(images)
    assert joint.shape == (64, 1000)
    torch.testing.assert_close(joint.exp().sum(1), torch.ones(64, dtype=joint.dtype))
    per_channel = [classifier.predict(images[:, c : c + 1]) for c in range(3)]
    expected = 100 * per_channel[0] + 10 * per_channel[1] + per_channel[2]
    assert torch.equal(joint.argmax(1), expected)
    assert (joint.argmax(1) == modes).double().mean() > 0.95  # the classifier reads stacked digits too


def test_fid_and_floor_are_the_formula_on_shared_features(digits: tuple[torch.Tensor, torch.Tensor]) -> None:
    images, _ = digits
    real, fake = images[:1000], images[1000:1400]
    report = image_report(real, fake, ["fid", "prdc"], "digits", reference="digits[:1000]")
    net = load_digits_classifier()
    real_f, fake_f = compute_features(net, real), compute_features(net, fake)
    assert report["fid"] == pytest.approx(frechet_distance(real_f, fake_f), rel=1e-12)
    floors, matched, prdc_floors, prdc_matched = [], [], [], []
    for split in range(10):  # the floors average ten random half-splits of the real set (PRDC: the first three)
        perm = torch.randperm(1000, generator=torch.Generator().manual_seed(split))
        a, b = perm[:400], perm[400:800]
        fake_m = fake_f[torch.randperm(400, generator=torch.Generator().manual_seed(split))]  # B at random, per split
        floors.append(frechet_distance(real_f[a], real_f[b]))
        matched.append(frechet_distance(real_f[a], fake_m))
        if split < 3:
            prdc_floors.append(precision_recall_density_coverage(real_f[a], real_f[b], 5))
            prdc_matched.append(precision_recall_density_coverage(real_f[a], fake_m, 5))
    assert report["noise_floor_n"] == 400
    assert report["fid_noise_floor"] == pytest.approx(np.mean(floors), rel=1e-12)
    assert report["fid_noise_floor_std"] == pytest.approx(np.std(floors), rel=1e-9)
    assert report["fid_matched"] == pytest.approx(np.mean(matched), rel=1e-12)
    prdc = precision_recall_density_coverage(real_f, fake_f, 5)
    assert {k: report[k] for k in prdc} == pytest.approx(prdc)
    for suffix, per_split in (("real", prdc_floors), ("matched", prdc_matched)):
        mean = {k: np.mean([s[k] for s in per_split]) for k in prdc}
        assert {k: report[f"{k}_{suffix}"] for k in prdc} == pytest.approx(mean)
    assert report["features"] == "digits" and report["n_real"] == 1000 and report["n_fake"] == 400
    assert report["reference"] == "digits[:1000]" and report["prdc_k"] == 5


def test_real_vs_real_sits_at_the_floor_and_noise_far_above(digits: tuple[torch.Tensor, torch.Tensor]) -> None:
    images, _ = digits
    perm = torch.randperm(len(images), generator=torch.Generator().manual_seed(1))
    real, held_out = images[perm[:1200]], images[perm[1200:]]  # random: the file is ordered by writer
    noise = torch.rand(len(held_out), 1, 8, 8, generator=torch.Generator().manual_seed(0))
    good = image_report(real, held_out, ["fid", "kid"])
    bad = image_report(real, noise, ["fid", "kid"])
    assert good["fid_matched"] < 2 * good["fid_noise_floor"]
    assert bad["fid"] > 30 * max(good["fid"], good["fid_noise_floor"])
    assert bad["kid"] > 30 * max(good["kid"], good["kid_noise_floor"], good["kid_std"])
    assert good["kid_std"] >= 0 and good["kid_subsets"] == 100


def test_matched_prdc_sits_at_its_floor_for_real_images_and_below_it_off_the_data(
    digits: tuple[torch.Tensor, torch.Tensor],
) -> None:
    """``<name>_matched`` is measured on the floor's splits and sizes: held-out real digits score what the floor
    does, blurred ones (a generator off the data) fall below it."""
    images, _ = digits
    perm = torch.randperm(len(images), generator=torch.Generator().manual_seed(1))
    real, held_out = images[perm[:1200]], images[perm[1200:]]
    good = image_report(real, held_out, ["prdc"])
    assert good["noise_floor_n"] == len(held_out)
    for name in ("precision", "recall", "coverage"):
        assert abs(good[f"{name}_matched"] - good[f"{name}_real"]) < 0.03
    blurred = torch.nn.functional.avg_pool2d(held_out, 3, stride=1, padding=1, count_include_pad=False)
    off = image_report(real, blurred, ["prdc"])
    assert off["precision_matched"] < good["precision_matched"] - 0.1
    assert off["recall_matched"] < 0.1 < good["recall_matched"] - 0.8


def test_the_floor_size_twin_draws_b_at_random_not_its_first_images(digits: tuple[torch.Tensor, torch.Tensor]) -> None:
    """`ganforge fid A A` on a folder read in class order gave "B at that size: 319.9" against a floor of 59: the
    first m images of B held only the first classes. Sorting B by class must not move fid_matched off the floor."""
    images, labels = digits
    real = images[:1200]
    by_class = real[torch.argsort(labels[:1200], stable=True)]
    report = image_report(real, by_class, ["fid"])
    assert report["fid_matched"] < 2 * report["fid_noise_floor"]


def test_inception_score_and_its_real_reference(digits: tuple[torch.Tensor, torch.Tensor]) -> None:
    images, _ = digits
    ones = images[digits[1] == 1][:100]
    report = image_report(images[:500], ones, ["is"])
    assert report["is_real"] > 8.0  # ten balanced, confidently classified classes: close to 10
    assert report["is"] < 1.6  # one class only: close to 1
    assert "fid" not in report and "noise_floor_n" not in report


def test_conditional_accuracy_reads_the_requested_label(
    digits: tuple[torch.Tensor, torch.Tensor], classifier: DigitsClassifier
) -> None:
    images, labels = digits
    right = image_report(
        images, images[:300], ["acc"], real_labels=labels, fake_labels=labels[:300], classifier=classifier
    )
    wrong = image_report(images, images[:300], ["acc"], fake_labels=(labels[:300] + 1) % 10, classifier=classifier)
    assert right["conditional_accuracy"] > 0.97 and right["conditional_accuracy_real"] > 0.97
    assert wrong["conditional_accuracy"] < 0.05 and "conditional_accuracy_real" not in wrong
    assert right["classifier"] == "digits"
    with pytest.raises(GanforgeError, match="conditional"):
        image_report(images, images[:300], ["conditional_accuracy"])


def test_intra_fid_on_digits_sees_labels_the_images_do_not_match(digits: tuple[torch.Tensor, torch.Tensor]) -> None:
    """Real digits as the generated set: with their own labels intra-FID sits by its floor; with every label moved
    to the next digit the pooled FID is unchanged and intra-FID jumps."""
    images, labels = digits
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))  # the set is stored by writer
    real, real_y = images[order[:1000]], labels[order[:1000]]
    fake, fake_y = images[order[1000:1500]], labels[order[1000:1500]]
    right = image_report(real, fake, ["fid", "intra_fid"], real_labels=real_y, fake_labels=fake_y)
    wrong = image_report(real, fake, ["fid", "intra-fid"], real_labels=real_y, fake_labels=(fake_y + 1) % 10)
    assert right["n_intra_fid_classes"] == 10
    assert right["intra_fid_matched"] < 2 * right["intra_fid_noise_floor"]
    assert wrong["fid"] == right["fid"]
    assert wrong["intra_fid"] > 5 * right["intra_fid"]
    with pytest.raises(GanforgeError, match="conditional"):
        image_report(real, fake, ["intra_fid"])


def test_modes_and_kl_of_collapsed_and_real_stacked_digits() -> None:
    real, _ = stacked_digits(2000, seed=5)
    collapsed = real[:1].repeat(2000, 1, 1, 1)
    report = image_report(real, collapsed, ["modes"])
    assert report["modes"] == 1 and report["kl"] == pytest.approx(math.log(1000))
    # 2000 uniform draws over 1000 modes hit 1000 (1 - e^-2) = 865 of them on average
    assert 820 < report["modes_real"] < 910 and report["kl_real"] < 0.5
    with pytest.raises(GanforgeError, match="3-channel"):
        image_report(real[:, :1], real[:10, :1], ["modes"])


def test_parse_metrics_aliases_and_unknown_names() -> None:
    assert parse_metrics(["fid", "precision", "recall", "kl", "FID"]) == ["fid", "prdc", "modes"]
    with pytest.raises(GanforgeError, match="did you mean 'fid'"):
        parse_metrics(["fdi"])


def test_feature_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(INCEPTION_ENV, raising=False)
    assert isinstance(resolve_feature_spec("auto", 1, "digits"), DigitsClassifier)
    assert isinstance(resolve_feature_spec("auto", 3, "stacked-digits"), ChannelwiseDigits)
    assert isinstance(resolve_feature_spec("digits", 3), ChannelwiseDigits)
    from ganforge.nets.photo_features import PhotoEvalFeatures

    # no Inception weights: the shipped offline photo features, labelled as such
    assert resolve_feature_spec("auto", 3, "photo-patches").name == "photo-offline"
    assert isinstance(resolve_feature_spec("auto", 1, "my-faces"), PhotoEvalFeatures)
    assert resolve_feature_spec("auto", 3, "photo-patches")(torch.rand(2, 3, 16, 16)).shape == (2, 64)
    with pytest.raises(GanforgeError, match=INCEPTION_ENV):
        resolve_feature_spec("auto", 4, "rgba-things")
    monkeypatch.setenv(INCEPTION_ENV, str(tmp_path / "missing.pth"))  # set, but no such file
    with pytest.raises(GanforgeError, match="no feature network"):
        resolve_feature_spec("auto", 3, "photo-patches")
    mine = nn.Sequential(nn.Flatten(), nn.Linear(64, 5)).eval()
    batch = torch.export.Dim("batch")
    program = torch.export.export(mine, (torch.rand(4, 1, 8, 8),), dynamic_shapes=({0: batch},))
    torch.export.save(program, str(tmp_path / "mine.pt2"))
    with pytest.raises(GanforgeError, match="--trust-code"):  # a program: only with the explicit opt-in
        resolve_feature_spec(str(tmp_path / "mine.pt2"), 1)
    net = resolve_feature_spec(str(tmp_path / "mine.pt2"), 1, trust_code=True)
    x = torch.rand(7, 1, 8, 8)
    torch.testing.assert_close(net(x), mine(x))
    report = image_report(torch.rand(40, 1, 8, 8), torch.rand(20, 1, 8, 8), ["fid"], net)
    assert report["features"] == "mine"
    with pytest.raises(GanforgeError, match="logits"):
        image_report(torch.rand(40, 1, 8, 8), torch.rand(20, 1, 8, 8), ["is"], net)
    (tmp_path / "junk.pth").write_bytes(b"not weights")
    with pytest.raises(GanforgeError, match="junk.pth"):
        resolve_feature_spec(str(tmp_path / "junk.pth"), 3)
    with pytest.raises(GanforgeError, match="unknown feature network"):
        resolve_feature_spec("vgg", 3)


# ------------------------------------------------------------------------------------------------
# The evaluator on trained runs


def _tiny_gan(num_classes: int | None, channels: int = 1) -> gf.GAN:
    torch.manual_seed(0)
    g = DCGANGenerator(noise_dim=8, channels=channels, resolution=8, width=8, num_classes=num_classes)
    d = DCGANDiscriminator(channels=channels, resolution=8, width=8, num_classes=num_classes)
    return gf.GAN(g, d, noise_dim=8, num_classes=num_classes)


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory: pytest.TempPathFactory) -> gf.Run:
    out = tmp_path_factory.mktemp("runs") / "cgan"
    source = build_source("digits", {})
    return gf.train(
        _tiny_gan(10),
        data=source,
        steps=6,
        out=out,
        show_progress=False,
        batch_size=32,
        overrides=["eval.n=120", "eval.enabled=true"],
    )


def test_run_summary_has_image_metrics_with_floors(conditional_run: gf.Run) -> None:
    evaluation = conditional_run.summary["evaluation"]
    for key in (
        "fid",
        "fid_noise_floor",
        "kid",
        "kid_noise_floor",
        "is",
        "is_real",
        "precision",
        "coverage_real",
        "conditional_accuracy",
        "conditional_accuracy_real",
    ):
        assert isinstance(evaluation[key], float), key
    assert "intra_fid" not in evaluation  # 120 images: no digit has 10 generated and 20 real, so it is left out
    assert evaluation["features"] == "digits" and evaluation["n_fake"] == 120 and evaluation["n_real"] == 120
    assert evaluation["reference"] == "'digits' data: 120 real images (of its 1797 training images, seed 2024)"
    assert evaluation["noise_floor_n"] == 60
    assert evaluation["conditional_accuracy_real"] > 0.95  # the classifier on real labelled digits
    assert evaluation["fid"] > evaluation["fid_noise_floor"]  # 6 steps of training: far from the data


def test_a_conditional_run_gets_intra_fid_by_default_when_its_classes_have_the_images(conditional_run: gf.Run) -> None:
    run = gf.load(conditional_run.path)
    report = run.evaluate(400)
    assert report["n_intra_fid_classes"] == 10
    assert report["intra_fid"] > report["intra_fid_noise_floor"] > 0  # 6 steps of training
    with pytest.raises(GanforgeError, match="more images per class"):
        run.evaluate(60, ["intra_fid"])  # named, it must be computed or say why not


def test_evaluate_named_metrics_on_a_loaded_run(conditional_run: gf.Run) -> None:
    run = gf.load(conditional_run.path)
    torch.manual_seed(0)
    report = run.evaluate(100, ["fid", "acc"])
    assert {"fid", "fid_noise_floor", "conditional_accuracy", "features", "reference"} <= set(report)
    assert "kid" not in report and "precision" not in report
    with pytest.raises(GanforgeError, match="stacked-digits"):
        run.evaluate(100, ["modes"])


def test_unavailable_features_skip_defaults_but_fail_named_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(INCEPTION_ENV, raising=False)
    source = build_source("photo-patches", {"patch_size": 8, "count": 64})
    run = gf.train(
        _tiny_gan(None, channels=3),
        data=source,
        steps=2,
        out=tmp_path / "photo",
        show_progress=False,
        batch_size=16,
        overrides=["eval.n=32", "eval.enabled=true"],
    )
    evaluation = run.summary["evaluation"]
    # RGB without Inception weights: FID/KID/PRDC on the offline photo features, labelled; no IS (no logits)
    assert evaluation["features"] == "photo-offline" and "fid" in evaluation and "is" not in evaluation
    monkeypatch.setenv(INCEPTION_ENV, str(tmp_path / "missing.pth"))  # asked for Inception, file missing
    assert INCEPTION_ENV in run.evaluate(32)["skipped"]
    with pytest.raises(GanforgeError, match=INCEPTION_ENV):
        run.evaluate(32, ["fid"])
    with pytest.raises(GanforgeError, match="unconditional"):
        run.evaluate(32, ["conditional_accuracy"])


def test_eval_command_json(conditional_run: gf.Run, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from ganforge.cli import main

    main(["eval", str(conditional_run.path), "--metrics", "fid,kid,is,prdc,acc", "--n", "100", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert result["step"] == 6 and result["n_fake"] == 100 and result["features"] == "digits"
    for key in (
        "fid",
        "fid_noise_floor",
        "kid",
        "kid_noise_floor",
        "is",
        "precision",
        "coverage",
        "conditional_accuracy",
    ):
        assert isinstance(result[key], float), key
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", str(conditional_run.path), "--best"])
    assert exit_info.value.code == 2 and "eval.best" in capsys.readouterr().err
