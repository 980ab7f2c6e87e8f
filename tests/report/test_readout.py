"""Reading an evaluation: the metric / generated / real floor / meaning table and the sample-quality verdict
that ``ganforge diagnose`` now includes."""

from pathlib import Path

import numpy as np
import pytest
import torch

import ganforge as gf
from ganforge.commands.diagnose import format_report
from ganforge.report.readout import evaluation_text, is_measured, judge, metric_rows, quality_verdict


def _file_run(tmp_path: Path, points: np.ndarray) -> gf.Run:
    np.savetxt(tmp_path / "data.csv", points, delimiter=",", header="x,y", comments="")
    config = {"name": "f", "data": {"source": "file", "path": str(tmp_path / "data.csv")},
              "train": {"steps": 2, "batch_size": 16, "log_every": 1}, "eval": {"n": 1000}}
    return gf.train(config, out=tmp_path / "run", show_progress=False)


def _spiral(n: int, rng: np.random.Generator) -> np.ndarray:
    t = np.sqrt(rng.random(n)) * 3 * np.pi
    return np.stack([t * np.cos(t), t * np.sin(t)], 1) / 3 + rng.normal(0, 0.05, (n, 2))


def _evaluate_with(run: gf.Run, sampler) -> dict:  # noqa: ANN001
    run.sample = lambda n, label=None, **kw: torch.as_tensor(sampler(n), dtype=torch.float32)  # type: ignore[method-assign]
    torch.manual_seed(0)
    return run.evaluate()


def test_a_perfect_generator_sits_at_the_real_floor_and_a_shapeless_one_is_far(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    run = _file_run(tmp_path, _spiral(4000, rng))
    perfect = _evaluate_with(run, lambda n: _spiral(n, np.random.default_rng(1)))
    assert {"w1_real", "ks_real", "mean_error_real", "std_error_real", "floor_n"} <= set(perfect)
    assert quality_verdict(perfect)[0] == "close", quality_verdict(perfect)
    blob = _evaluate_with(run, lambda n: np.random.default_rng(2).normal(0, 1.5, (n, 2)))  # right scale, no shape
    state, sentence = quality_verdict(blob)
    assert state in ("off", "far") and "real floor" in sentence
    assert judge(blob, "w1")[0] == "far"
    text = format_report(run.path, [{"step": 1, "loss_d": 1.3, "loss_g": 0.7}], {"evaluation": blob})
    assert "verdict: not healthy" in text and "w1" in text.split("verdict")[1]
    assert f"ganforge resume {run.path} --steps N" in text  # the remedy continues this run
    healthy = format_report(run.path, [{"step": 1, "loss_d": 1.3, "loss_g": 0.7}], {"evaluation": perfect})
    assert "verdict: healthy: samples near the real-data floor" in healthy


def test_a_humped_uniform_is_not_healthy(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    np.save(tmp_path / "u.npy", rng.random((4000, 1)).astype(np.float32))
    config = {"name": "u", "data": {"source": "file", "path": str(tmp_path / "u.npy")},
              "train": {"steps": 2, "batch_size": 16, "log_every": 1}, "eval": {"n": 2000}}
    run = gf.train(config, out=tmp_path / "run", show_progress=False)
    humped = _evaluate_with(run, lambda n: np.random.default_rng(3).beta(2, 2, (n, 1)))
    assert quality_verdict(humped)[0] in ("off", "far")
    flat = _evaluate_with(run, lambda n: np.random.default_rng(3).random((n, 1)))
    assert quality_verdict(flat)[0] == "close"


def test_table_rows_pair_each_metric_with_its_floor_and_meaning() -> None:
    evaluation = {"n_fake": 500, "n_real": 500, "w1": 0.5, "w1_real": 0.05, "ks": 0.2, "ks_real": 0.03,
                  "floor_n": 500, "seed": 0, "fid": 12.0, "fid_noise_floor": 1.5, "features": "photo-offline",
                  "psnr": 30.1, "bicubic_psnr": 29.0, "skipped": "no Inception weights",
                  "feature_distance": 0.021, "bicubic_feature_distance": 0.0255}
    rows = {r[0]: r for r in metric_rows(evaluation)}
    assert rows["feature_distance"][2] == "0.0255 (bicubic)" and "LPIPS-like" in rows["feature_distance"][3]
    assert rows["w1"][1:3] == ("0.5", "0.05") and "lower is better" in rows["w1"][3]
    assert rows["psnr"][2] == "29 (bicubic)" and "fid_noise_floor" not in rows and "w1_real" not in rows
    text = evaluation_text(evaluation)
    assert text.splitlines()[0].split() == ["metric", "generated", "real", "floor", "what", "it", "means"]
    assert "generated 500, real 500, floor of 500, seed 0" in text
    assert "not Inception-v3" in text and "skipped: no Inception weights" in text
    assert quality_verdict({})[0] == "unknown"


def test_intra_fid_rows_stand_beside_their_per_class_floor() -> None:
    evaluation = {"fid": 2.0, "fid_noise_floor": 4.0, "intra_fid": 30.0, "intra_fid_matched": 36.0,
                  "intra_fid_noise_floor": 17.5, "n_intra_fid_classes": 10}
    rows = {r[0]: r for r in metric_rows(evaluation)}
    assert rows["intra_fid"][1:3] == ("30", "17.5") and "within each class" in rows["intra_fid"][3]
    assert rows["intra_fid_matched"][2] == "17.5"
    assert "intra_fid_noise_floor" not in rows and "n_intra_fid_classes" not in rows


def test_paired_translation_rows_show_fcn_scores_label_accuracy_and_their_references() -> None:
    """A Pix2Pix evaluation names its references differently: the FID floor is ``fid_floor`` and the FCN-scores
    and label accuracy sit beside the same scorer on the true targets."""
    evaluation = {"l1": 0.07, "psnr": 20.1, "fid": 13.4, "fid_floor": 2.9, "fcn_class_iou": 0.95,
                  "fcn_class_iou_real": 1.0, "fcn_texture_class_iou": 0.86, "fcn_texture_class_iou_real": 0.996,
                  "label_accuracy": 0.973, "label_accuracy_real": 0.996}
    rows = {r[0]: r for r in metric_rows(evaluation)}
    assert rows["fid"][2] == "2.9" and "fid_floor" not in rows
    assert rows["fcn_texture_class_iou"][1:3] == ("0.86", "0.996 (real scenes)")
    assert "texture segmenter" in rows["fcn_texture_class_iou"][3] and "higher is better" in rows["fcn_class_iou"][3]
    assert rows["label_accuracy"][2] == "0.996 (real digits)" and "label_accuracy_real" not in rows
    assert rows["l1"][2] == "-"


def test_translation_and_text_runs_are_judged_by_what_their_readers_find() -> None:
    """A 40-step edges2digits run (labels read 10 % of the time, against 99.6 % on real digits) and a 40-step
    shapes-text run were both called healthy: diagnose judged none of their metrics."""
    untrained = {"fid": 700.0, "fid_floor": 17.0, "label_accuracy": 0.10, "label_accuracy_real": 0.996}
    state, sentence = quality_verdict(untrained)
    assert state == "far" and "label_accuracy 0.1 (on real digits 0.996)" in sentence
    # the shipped recipe's result (docs/benchmarks/pix2pix.md): 97.3 % read right is close, whatever its FID
    assert quality_verdict({**untrained, "fid": 60.0, "label_accuracy": 0.973})[0] == "close"
    scenes = {"fcn_pixel_accuracy": 0.983, "fcn_pixel_accuracy_real": 1.0, "fid": 13.4, "fid_floor": 2.9}
    assert quality_verdict(scenes)[0] == "close"
    assert quality_verdict({**scenes, "fcn_pixel_accuracy": 0.31})[0] == "far"
    text = {"r_precision": 0.05, "r_precision_real": 1.0, "all_attributes_seen": 0.0, "all_attributes_seen_real": 0.99}
    assert quality_verdict(text)[0] == "far"
    assert quality_verdict({**text, "all_attributes_seen": 0.96})[0] == "close"
    # a baseline is not a ceiling: super-resolution below bicubic PSNR is not judged by it
    assert quality_verdict({"psnr": 20.0, "bicubic_psnr": 29.0})[0] == "unknown"


def test_precision_is_judged_at_the_floors_sample_sizes_where_the_evaluation_has_them() -> None:
    """The default digits run: precision 0.8665 against all 1,797 real digits, 0.8999 at the floor's 898 (its
    floor 0.962). The verdict reads the matched twin; an evaluation stored before the twin existed is judged
    on precision itself."""
    old = {"fid_matched": 5.655, "fid_noise_floor": 3.877, "precision": 0.8665, "precision_real": 0.962}
    assert quality_verdict(old)[0] == "off" and "precision 0.8665" in quality_verdict(old)[1]
    new = {**old, "precision_matched": 0.8999}
    state, sentence = quality_verdict(new)
    assert state == "close" and "precision_matched 0.8999 (real floor 0.962)" in sentence
    assert "precision 0.8665" not in sentence
    assert quality_verdict({**new, "precision_matched": 0.80})[0] == "off"
    rows = {r[0]: r for r in metric_rows({**new, "recall_matched": 0.92, "recall_real": 0.96})}
    assert rows["precision_matched"][2] == "0.962" and rows["recall_matched"][2] == "0.96"
    assert "floor's sample sizes" in rows["precision_matched"][3]


@pytest.mark.parametrize("value,state", [(0.06, "close"), (0.2, "off"), (0.5, "far")])
def test_judge_thresholds(value: float, state: str) -> None:
    assert judge({"w1": value, "w1_real": 0.05}, "w1")[0] == state


def test_a_skipped_evaluation_is_not_read_as_quality_without_a_floor() -> None:
    state, sentence = quality_verdict({"skipped": "eval.enabled is false (--no-eval)"})
    assert state == "unknown" and "not measured" in sentence and "ganforge eval RUN" in sentence
    assert "no real-data floor" not in sentence
    reason = "the run trained 0 s, less than its images evaluation would take (~12 s); `ganforge eval RUN` evaluates it"
    assert quality_verdict({"skipped": reason})[1].count("ganforge eval RUN") == 1  # the reason names it already


def test_a_record_that_skipped_one_metric_is_judged_on_the_others() -> None:
    """An image evaluation that left intra-FID out (too few images per class) records why under `skipped`,
    beside its measured FID; diagnose called its quality "not measured"."""
    partial = {"w1": 5.0, "w1_real": 0.01, "skipped": "intra_fid: too few images of every class"}
    assert is_measured(partial)
    state, sentence = quality_verdict(partial)
    assert state == "far" and "not measured" not in sentence


def test_a_sequence_runs_discriminative_score_is_judged_on_its_fixed_scale() -> None:
    """Sequences have no real-vs-real floor; 0.45 (a classifier tells 95 % of them) was read as 'no floor to
    compare with' and diagnose called the run healthy."""
    assert quality_verdict({"discriminative_score": 0.4477})[0] == "far"
    sentence = quality_verdict({"discriminative_score": 0.4477})[1]
    assert "close up to 0.05, far above 0.2" in sentence and "real floor" not in sentence  # eval shows no floor
    assert quality_verdict({"discriminative_score": 0.03})[0] == "close"
    assert quality_verdict({"discriminative_score": 0.1})[0] == "off"


def test_a_table_run_is_judged_beside_the_real_rows_and_independent_columns() -> None:
    """A penguins run scored 0.64 where sampling each column independently scores 0.79: diagnose called it
    healthy because tables had no floor it read."""
    comparison = {"identity": {"quality": 0.875}, "independent": {"quality": 0.789}}
    state, sentence = quality_verdict({"quality": 0.643, "comparison": comparison})
    assert state == "far" and "independent columns 0.789" in sentence
    assert quality_verdict({"quality": 0.84, "comparison": comparison})[0] == "close"
    assert quality_verdict({"quality": 0.80, "comparison": comparison})[0] == "off"
    assert quality_verdict({"quality": 0.76, "comparison": comparison})[0] == "off"  # near the free baseline


def test_metrics_without_a_reading_are_one_per_line_beside_their_floors() -> None:
    """Text-to-image metrics that have no reading in METRICS (its headline ones, R-precision and the attribute
    reader's, have one)."""
    evaluation = {"n_fake": 1000, "colour_seen": 0.006, "colour_seen_real": 0.182, "shape_seen": 0.279,
                  "fid_shapes": 18230.0, "fid_shapes_floor": 39.2, "diversity": 0.025, "seed": 0}
    lines = evaluation_text(evaluation).splitlines()
    assert lines[0].split() == ["metric", "generated", "real", "floor"]
    assert [line.split() for line in lines[1:4]] == [["colour_seen", "0.006", "0.182"], ["shape_seen", "0.279", "-"],
                                                      ["fid_shapes", "18230", "39.2"]]
    assert lines[4].split() == ["diversity", "0.025", "-"] and lines[5] == "  (generated 1000, seed 0)"


def test_a_column_without_a_value_in_any_row_is_left_out() -> None:
    """A table run's `ganforge eval` showed a "real floor" column of dashes only (its baselines are the table
    printed beside); a sequence run's the same. A column with one floor stays, dashes where a metric has none."""
    table = {"n_synthetic": 275, "quality": 0.6337, "column_shapes": 0.7328, "exact_copies": 0, "seed": 0}
    lines = evaluation_text(table).splitlines()
    assert lines[0].split() == ["metric", "generated"] and lines[1].split() == ["quality", "0.6337"]
    assert "-" not in evaluation_text(table) and lines[-1] == "  (seed 0)"
    sequences = evaluation_text({"discriminative_score": 0.1, "autocorrelation_error": 0.02, "n_fake": 100})
    assert sequences.splitlines()[0].split() == ["metric", "generated", "what", "it", "means"]
    assert sequences.splitlines()[1].split()[:3] == ["discriminative_score", "0.1", "|accuracy"]
    mixed = evaluation_text({"w1": 0.5, "w1_real": 0.05, "discriminative_score": 0.1})
    assert mixed.splitlines()[0].split()[:4] == ["metric", "generated", "real", "floor"]
    assert mixed.splitlines()[2].split()[:3] == ["discriminative_score", "0.1", "-"]


def test_numbers_of_an_earlier_checkpoint_say_so_in_eval_and_diagnose() -> None:
    """A resume too short to evaluate keeps the evaluation of the step before (report/summary.py
    kept_evaluation): the summary and diagnose must not present it as the last step's."""
    from ganforge.report.readout import OUTDATED, is_outdated

    note = "these numbers are of checkpoint step 60, measured before the run trained on to step 63, whose ..."
    evaluation = {"w1": 0.05, "w1_real": 0.04, "ks": 0.02, "ks_real": 0.02, "seed": 0, "step": 60, OUTDATED: note}
    assert is_measured(evaluation) and is_outdated(evaluation) and not is_outdated({"w1": 0.05, "step": 60})
    assert evaluation_text(evaluation).splitlines()[0] == f"  note: {note}"
    state, sentence = quality_verdict(evaluation)
    assert state == "close" and sentence.endswith("(measured at checkpoint step 60, before the run trained further; "
                                                  "`ganforge eval RUN` measures its last)")


def test_an_evaluation_on_the_training_data_says_so() -> None:
    """A pix2pix run on pairs without a test/ folder is scored on its training pairs; only --json said so."""
    evaluation = {"l1": 0.2, "psnr": 13.5, "reference": "pairs training pairs (no held-out split)"}
    text = evaluation_text(evaluation)
    assert "note: measured on the data the model trained on (pairs training pairs)" in text and "test/" in text
    held_out = evaluation_text({**evaluation, "reference": "pairs test split (test/) (12 held-out pairs)"})
    assert "the model trained on" not in held_out


def test_digits_text_attribute_scores_print_beside_their_real_reference() -> None:
    """`digits-text` evaluation printed only r_precision (scored by the encoders G trained against); the class,
    thickness and slant its digits reader measured, and their values on real digits, were in the record unshown."""
    evaluation = {"n_fake": 200, "r_precision": 0.025, "r_precision_real": 0.765, "digit_class": 0.09,
                  "digit_thickness": 0.495, "digit_slant": 0.45, "digit_all": 0.015, "digit_class_real": 1.0,
                  "digit_thickness_real": 0.98, "digit_slant_real": 0.97, "digit_all_real": 0.95}
    rows = {r[0]: r for r in metric_rows(evaluation)}
    assert list(rows) == ["r_precision", "digit_class", "digit_thickness", "digit_slant", "digit_all"]
    assert rows["digit_class"][1:3] == ("0.09", "1") and rows["digit_all"][1:3] == ("0.015", "0.95")
    assert "class, thickness and slant" in rows["digit_all"][3] and "higher is better" in rows["digit_slant"][3]
    assert "own DAMSM encoders" in rows["r_precision"][3]
    text = evaluation_text(evaluation)
    assert "digit_thickness" in text and "0.98" in text
    state, sentence = quality_verdict(evaluation)  # diagnose judges digits-text runs too (it gave no verdict)
    assert state == "far" and "digit_all 0.015" in sentence
