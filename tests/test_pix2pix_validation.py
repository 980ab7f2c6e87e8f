"""The Pix2Pix benchmark's validation split and raw-vs-EMA report (benchmarks/pix2pix.py): the pairs it
scores on in ``--validation`` mode are training pairs the rows never train on, and never test pairs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from pix2pix import HELDOUT, PHOTO_VALIDATION, split_validation, summarize, validation_pairs  # noqa: E402

from ganforge.data.pairs import pair_source  # noqa: E402


def _numbered(n: int):
    """Pairs whose pixels carry their index, so a pair can be traced through the split."""
    a = (torch.arange(n, dtype=torch.float32) / n).view(n, 1, 1, 1).expand(n, 1, 4, 4)
    maps = torch.arange(n).view(n, 1, 1).expand(n, 4, 4)
    return pair_source(a, 1 - a.expand(n, 3, 4, 4), name="t", labels=torch.arange(n), label_maps=maps)


def test_validation_pairs_are_a_disjoint_quarter_of_the_training_pairs() -> None:
    source = _numbered(40)
    train, val = split_validation(source)
    assert (len(train), len(val)) == (30, 10)
    train_ids, val_ids = set(train.y.tolist()), set(val.y.tolist())
    assert not train_ids & val_ids and train_ids | val_ids == set(range(40))
    for part in (train, val):  # A, B, labels and label maps stay together
        ids = part.y
        torch.testing.assert_close(part.x[:, 0, 0, 0], ids.float() / 40)
        torch.testing.assert_close(part.x_b[:, 0, 0, 0], 1 - ids.float() / 40)
        assert torch.equal(part.label_maps[:, 0, 0], ids)
    again_train, again_val = split_validation(source)
    assert torch.equal(again_val.y, val.y) and torch.equal(again_train.y, train.y)  # fixed carving
    assert len(source) == 40  # the source itself is left whole


def test_validation_is_capped_at_the_heldout_size() -> None:
    _, val = split_validation(_numbered(4 * HELDOUT + 40))
    assert len(val) == HELDOUT


def test_training_on_the_rest_draws_no_validation_pair() -> None:
    train, val = split_validation(_numbered(40))
    train.fit_scaler("tanh")
    seen = set()
    for _ in range(20):
        batch = train.batch(8, torch.Generator().manual_seed(len(seen)))
        seen |= set(torch.round(train.scaler.to_data(batch.x)[:, 0, 0, 0] * 40).long().tolist())
    assert seen and not seen & set(val.y.tolist())


def test_photo_sets_validate_on_their_own_tiles() -> None:
    """The photo sets score validation on the validation tiles, and the rows then train without them (the
    tiles themselves are tested disjoint in tests/data/test_images.py)."""
    from ganforge.api import build_config
    from ganforge.data.registry import source_from_config

    val = validation_pairs("edges2photos")
    assert len(val) == HELDOUT and val.info["split"] == "val" and val.info["holdout"] == "tiles"
    train = source_from_config(build_config("edges2photos", PHOTO_VALIDATION).data)  # what the rows train on
    assert train.info["split"] == "train" and train.info["val_fraction"] == 0.2 and len(train) == 2000


def test_report_of_raw_scores_reads_the_raw_generator() -> None:
    runs = [
        {
            "row": "L1",
            "seed": 0,
            "fid": 5.0,
            "psnr": 30.0,
            "ssim": 0.8,
            "l1": 0.1,
            "steps": 10,
            "cpu_seconds": 1,
            "raw": {"fid": 50.0, "psnr": 29.0, "ssim": 0.7, "l1": 0.2},
        },
        {
            "row": "L1 + cGAN",
            "seed": 0,
            "fid": 4.0,
            "psnr": 29.0,
            "ssim": 0.7,
            "l1": 0.1,
            "steps": 8,
            "cpu_seconds": 1,
            "raw": {"fid": 60.0, "psnr": 28.0, "ssim": 0.6, "l1": 0.2},
        },
    ]
    assert "fid: L1 + cGAN 4.000 vs L1 5.000 (holds" in summarize("gray2color", runs)
    assert "fid: L1 + cGAN 60.000 vs L1 50.000 (fails" in summarize("gray2color", runs, raw=True)
    assert "no raw-generator scores" in summarize(
        "gray2color", [{k: v for k, v in runs[0].items() if k != "raw"}], raw=True
    )


def test_choose_ema_takes_the_lowest_geometric_mean_fid_with_raw_from_the_same_runs() -> None:
    from pix2pix import choose_ema

    candidates = {
        "0.999": [{"fid": 10.0, "raw": {"fid": 400.0}}, {"fid": 1000.0, "raw": {"fid": 100.0}}],  # gm 100
        "0.99": [{"fid": 20.0, "raw": {"fid": 400.0}}, {"fid": 200.0, "raw": {"fid": 100.0}}],  # gm 63.2
    }
    best, means = choose_ema(candidates)
    assert best == "0.99"
    assert means["0.999"] == pytest.approx(100.0) and means["0.99"] == pytest.approx(4000**0.5)
    assert means["raw"] == pytest.approx(200.0)  # (400 * 100 * 400 * 100) ** (1/4): every run's raw generator
    candidates["0.99"][1]["fid"] = 20000.0  # gm 632
    assert choose_ema(candidates)[0] == "0.999"
    candidates["0.999"][1]["fid"] = 40000.0  # gm 632
    assert choose_ema(candidates)[0] == "raw"


def test_batch_stats_diagnostic_uses_the_test_batch_and_leaves_the_model_as_it_was() -> None:
    from pix2pix import batch_stats_scores

    from ganforge.gans.pix2pix import build_pix2pix

    torch.manual_seed(0)
    source = pair_source(torch.rand(40, 1, 32, 32), torch.rand(40, 3, 32, 32), name="gray2color")
    source.fit_scaler("tanh")
    gan = build_pix2pix(source, width=4, d_width=4)
    gan.enable_ema(0.9)
    norms = [m for m in gan.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for m in norms:  # running statistics far from any batch's: the two modes must then differ
        m.running_mean.fill_(3.0)
        m.running_var.fill_(1e-4)
    state = {k: v.clone() for k, v in gan.state_dict().items()}
    a, b = source.x, source.x_b
    scores = batch_stats_scores(gan, source, a, b, "gray2color", None, None)
    assert set(scores) == {"ema", "raw"} and {"psnr", "l1"} <= set(scores["raw"])
    running = source.scaler.to_data(gan.translate(source.scaler.to_model(a))).clamp(0, 1)
    assert abs(float((running - b).abs().mean()) - scores["ema"]["l1"]) > 0.05
    for key, value in gan.state_dict().items():  # running statistics untouched (momentum 0 meanwhile)
        assert torch.equal(value, state[key]), key
    assert "eval" not in vars(gan) and gan.sample_with_ema and all(m.momentum == 0.1 for m in norms)
