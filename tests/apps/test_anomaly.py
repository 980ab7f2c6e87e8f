"""``AnomalyDetector``: deterministic scores, thresholds from normal data only, the scikit-learn interface,
every method and input kind, save/load, and one-line errors for bad input."""

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import ganforge as gf
from ganforge.apps.anomaly import AnomalyDetector
from ganforge.errors import GanforgeError

STEPS = 150


def blobs(seed: int = 0, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Normal rows on a 2-D plane inside 6-D space; anomalies off that plane."""
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(2, 6))
    normal = rng.normal(size=(n, 2)) @ basis + 0.05 * rng.normal(size=(n, 6))
    anomalies = rng.normal(size=(40, 6)) * 2.0
    return normal.astype(np.float32), anomalies.astype(np.float32)


def test_gf_names_the_detector() -> None:
    assert gf.AnomalyDetector is AnomalyDetector


def test_scores_are_deterministic_with_a_seed() -> None:
    normal, anomalies = blobs()
    a = AnomalyDetector(steps=STEPS, seed=3).fit(normal).anomaly_score(anomalies)
    b = AnomalyDetector(steps=STEPS, seed=3).fit(normal).anomaly_score(anomalies)
    np.testing.assert_array_equal(a, b)
    det = AnomalyDetector(method="anogan", steps=50, seed=1, options={"search_steps": 20}).fit(normal)
    np.testing.assert_array_equal(det.anomaly_score(anomalies), det.anomaly_score(anomalies))


def test_anogan_scores_a_sample_the_same_alone_and_in_any_batch() -> None:
    # scikit-learn's score_samples(X)[i] must be row i's own score. Before round 18 AnoGAN's search started row i
    # from row i of a seeded (N, latent) draw, so a row scored alone started elsewhere (here scores off by up to 1 %).
    # float32 resolution (rtol 1e-6): the search runs in float64, where batch-dependent rounding stays ~1e-14.
    import torch

    normal, anomalies = blobs()
    held, _ = blobs(seed=0, n=260)
    x = np.concatenate([held, anomalies])  # 300 rows, normal and anomalous
    det = AnomalyDetector(method="anogan", steps=STEPS, seed=2).fit(normal)
    batch = det.score_samples(x)
    rows = [1, 2, 57, 150, 259, 260, 299]
    alone = np.array([det.score_samples(x[i:i + 1])[0] for i in rows])
    np.testing.assert_allclose(alone, batch[rows], rtol=1e-6)
    np.testing.assert_allclose(det.score_samples(x[::-1])[::-1], batch, rtol=1e-6)  # any position in the batch
    np.testing.assert_allclose(-det._score(x, chunk=7)[0], batch, rtol=1e-6)  # chunks of other sizes
    # every row starts from the best of the same 16 seeded codes
    model = det.model_
    starts = model.starting_codes(det._to_model(x), seed=2)
    codes = torch.randn(16, model.latent, generator=torch.Generator().manual_seed(2)).double()
    assert all(any(torch.equal(s, c) for c in codes) for s in starts)
    assert len({tuple(s.tolist()) for s in starts}) > 1  # chosen per sample, not one code for all



@pytest.mark.parametrize("check", ["check_methods_subset_invariance", "check_methods_sample_order_invariance"])
def test_anogan_passes_scikit_learns_batch_invariance_checks(check: str) -> None:
    # scikit-learn's own statement of it: a method's output on a subset / permutation of X is that of the rows
    # (both failed before round 18)
    from sklearn.utils import estimator_checks

    getattr(estimator_checks, check)("AnomalyDetector", AnomalyDetector(method="anogan", steps=50,
                                                                        options={"search_steps": 50}))

def test_anogan_search_starts_are_kept_and_checked(tmp_path: Path) -> None:
    normal, anomalies = blobs(n=60)
    det = AnomalyDetector(method="anogan", steps=20, options={"search_steps": 10, "search_starts": 4}).fit(normal)
    # the search's settings and lambda are written out, defaults too, so the saved detector scores as calibrated
    assert det.model_options_ == {"lam": 0.1, "search_steps": 10, "search_lr": 0.05, "search_starts": 4}
    loaded = AnomalyDetector.load(det.save(tmp_path / "ad"))
    assert loaded.model_.search_starts == 4
    np.testing.assert_array_equal(loaded.anomaly_score(anomalies), det.anomaly_score(anomalies))
    with pytest.raises(GanforgeError, match="search_starts 0: give at least 1") as err:
        AnomalyDetector(method="anogan", steps=5, options={"search_starts": 0}).fit(normal)
    assert "\n" not in str(err.value)


def test_threshold_is_a_quantile_of_held_out_normal_scores_only() -> None:
    normal, anomalies = blobs()
    det = AnomalyDetector(steps=STEPS, false_alarm_rate=0.1, validation_fraction=0.2).fit(normal)
    assert len(det.validation_scores_) == 40 and det.n_train_ == 160
    assert det.threshold_ == pytest.approx(np.quantile(det.validation_scores_, 0.9))
    # the held-out split is normal data the detector did not train on: no anomaly enters the threshold
    order = np.random.default_rng(0).permutation(len(normal))
    np.testing.assert_allclose(det.anomaly_score(normal[order[:40]]), det.validation_scores_, rtol=1e-6)
    # fitting never looks at labels or other data: y is ignored
    same = AnomalyDetector(steps=STEPS, false_alarm_rate=0.1, validation_fraction=0.2).fit(normal, y=np.ones(200))
    assert same.threshold_ == det.threshold_


@pytest.mark.parametrize("method", ["ganomaly", "egbad", "alad", "anogan"])
def test_every_method_separates_off_plane_points(method: str) -> None:
    normal, anomalies = blobs()
    # GANomaly's default score is its residual; its latent score (the paper's) barely sees these points (AUROC ~0.7)
    options = {"anogan": {"search_steps": 50}}.get(method)
    det = AnomalyDetector(method=method, steps=400, options=options).fit(normal)
    test_normal, _ = blobs(seed=0, n=260)
    held = test_normal[200:]
    scores = det.anomaly_score(np.concatenate([held, anomalies]))
    auc = roc_auc_score(np.r_[np.zeros(len(held)), np.ones(len(anomalies))], scores)
    assert auc > (0.9 if method == "ganomaly" else 0.75), auc


def test_scikit_learn_interface_and_pipeline() -> None:
    normal, anomalies = blobs()
    det = AnomalyDetector(steps=400, options={"score": "residual"})
    assert clone(det).get_params() == det.get_params()
    pipe = make_pipeline(StandardScaler(), det).fit(normal)
    x = np.concatenate([normal[:20], anomalies])
    pred = pipe.predict(x)
    assert set(np.unique(pred)) <= {-1, 1}
    fitted = pipe[-1]
    z = pipe[0].transform(x)
    np.testing.assert_allclose(pipe.score_samples(x), -fitted.anomaly_score(z))
    np.testing.assert_array_equal(pred == -1, fitted.decision_function(z) < 0)
    assert (pred[20:] == -1).mean() > 0.8


def test_images_get_per_pixel_residual_maps_and_sequences_a_recurrent_model(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    images = np.clip(rng.normal(0.5, 0.1, size=(60, 1, 6, 6)), 0, 1).astype(np.float32)
    det = AnomalyDetector(steps=30).fit(images)
    assert det.kind_ == "image" and det.residuals(images[:4]).shape == (4, 1, 6, 6)
    t = np.arange(16)
    windows = np.stack([np.sin(t / 3 + p)[:, None] for p in rng.uniform(0, 6, 80)]).astype(np.float32)
    seq = AnomalyDetector(steps=30).fit(windows)
    assert seq.kind_ == "sequence" and seq.model_.encoder1.recurrent
    assert seq.anomaly_score(windows[:5]).shape == (5,) and seq.residuals(windows[:5]).shape == (5, 16, 1)
    loaded = AnomalyDetector.load(seq.save(tmp_path / "seq"))
    np.testing.assert_allclose(loaded.anomaly_score(windows), seq.anomaly_score(windows), rtol=1e-6)
    assert loaded.threshold_ == seq.threshold_


def test_rows_have_per_feature_residuals() -> None:
    normal, anomalies = blobs()
    det = AnomalyDetector(steps=STEPS).fit(normal)
    assert det.residuals(anomalies).shape == anomalies.shape


@pytest.mark.parametrize(
    ("x", "match"),
    [
        (np.zeros((0, 6)), "empty"),
        (np.zeros((5, 4)), "shape"),
        (np.full((3, 6), np.nan), "NaN"),
        (np.zeros(6), "1-D"),
    ],
)
def test_bad_input_is_one_line(x: np.ndarray, match: str) -> None:
    normal, _ = blobs()
    det = AnomalyDetector(steps=20).fit(normal)
    with pytest.raises(GanforgeError, match=match) as err:
        det.anomaly_score(x)
    assert "\n" not in str(err.value)


def test_unfitted_and_wrong_settings(tmp_path: Path) -> None:
    normal, _ = blobs()
    with pytest.raises(GanforgeError, match="not fitted"):
        AnomalyDetector().predict(normal)
    with pytest.raises(GanforgeError, match="did you mean|ganomaly"):
        AnomalyDetector(method="ganomly").fit(normal)
    with pytest.raises(GanforgeError, match="too few"):
        AnomalyDetector(steps=5).fit(normal[:3])
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.yaml").write_text("seed: 0\n")
    with pytest.raises(GanforgeError, match="GAN training run, not fitted for anomaly scoring"):
        AnomalyDetector.load(tmp_path / "run")


def test_knn_score_is_the_mean_distance_to_the_nearest_training_codes(tmp_path: Path) -> None:
    import torch

    normal, anomalies = blobs()
    det = AnomalyDetector(steps=STEPS, options={"score": "knn", "neighbors": 3}).fit(normal)
    model = det.model_
    order = np.random.default_rng(0).permutation(len(normal))  # fit's split: the first 10 % are held out
    train_codes = model.encoder1(det._to_model(normal[order[20:]])).detach()
    torch.testing.assert_close(model.bank, train_codes)  # the memory holds the training samples' codes only
    codes = model.encoder1(det._to_model(anomalies)).detach()
    by_hand = np.sort(torch.cdist(codes, train_codes).numpy(), axis=1)[:, :3].mean(axis=1)
    np.testing.assert_allclose(det.anomaly_score(anomalies), by_hand, rtol=1e-5)
    # the codes' memory is saved and loaded with the weights: the loaded detector scores the same
    loaded = AnomalyDetector.load(det.save(tmp_path / "ad"))
    np.testing.assert_array_equal(loaded.anomaly_score(anomalies), det.anomaly_score(anomalies))


def test_bad_ganomaly_score_settings_are_one_line() -> None:
    normal, _ = blobs()
    with pytest.raises(GanforgeError, match="did you mean 'knn'") as err:
        AnomalyDetector(steps=5, options={"score": "kn"}).fit(normal)
    assert "\n" not in str(err.value)
    with pytest.raises(GanforgeError, match="neighbors 0"):
        AnomalyDetector(steps=5, options={"score": "knn", "neighbors": 0}).fit(normal)
    # an option of another method is named, not a TypeError from a constructor
    with pytest.raises(GanforgeError, match="anomaly method 'alad' has no option 'score'") as err:
        AnomalyDetector(method="alad", steps=5, options={"score": "knn"}).fit(normal)
    assert "\n" not in str(err.value)
    with pytest.raises(GanforgeError, match="did you mean 'neighbors'"):
        AnomalyDetector(steps=5, options={"neighbours": 3}).fit(normal)


def test_default_score_is_the_residual_and_old_files_keep_the_latent_score(tmp_path: Path) -> None:
    import json

    normal, anomalies = blobs()
    det = AnomalyDetector(steps=STEPS).fit(normal)
    assert det.model_.score_kind == "residual"
    x_units = det._to_model(anomalies)
    np.testing.assert_allclose(det.anomaly_score(anomalies),
                               (x_units - det.model_.reconstruct(x_units)[1]).abs().mean(1).detach().numpy(),
                               rtol=1e-5)
    # a detector saved before the default changed (no model_options, options None) scored with the latent score
    latent = AnomalyDetector(steps=STEPS, options={"score": "latent"}).fit(normal)
    folder = latent.save(tmp_path / "old")
    meta = json.loads((folder / "detector.json").read_text())
    del meta["model_options"]
    meta["params"]["options"] = None
    (folder / "detector.json").write_text(json.dumps(meta))
    loaded = AnomalyDetector.load(folder)
    assert loaded.model_.score_kind == "latent"
    np.testing.assert_array_equal(loaded.anomaly_score(anomalies), latent.anomaly_score(anomalies))
    # and one saved now keeps its score written out
    assert json.loads((det.save(tmp_path / "new") / "detector.json").read_text())["model_options"] == {
        "score": "residual"}


# ---------------------------------------------------------------- scikit-learn's estimator conventions


def test_methods_before_fit_raise_scikit_learns_not_fitted_error(tmp_path: Path) -> None:
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    normal, _ = blobs(n=30)
    det = AnomalyDetector(steps=10, batch_size=16)
    for method in ("predict", "decision_function", "score_samples", "anomaly_score", "residuals"):
        with pytest.raises(NotFittedError, match="not fitted") as err:
            getattr(det, method)(normal)
        assert isinstance(err.value, GanforgeError) and "\n" not in str(err.value)
    with pytest.raises(NotFittedError):
        det.save(tmp_path / "ad")
    with pytest.raises(NotFittedError):
        check_is_fitted(det)
    check_is_fitted(det.fit(normal))


@pytest.mark.parametrize(
    ("x", "match"),
    [
        (np.full((12, 6), np.nan), "NaN"),
        (np.full((12, 6), np.inf), "inf"),
        (np.zeros(6), "1-D.*Reshape your data"),
        (np.zeros((0, 6)), r"0 sample\(s\)"),
        (np.zeros((12, 0)), r"0 feature\(s\)"),
        (np.ones((12, 6)) + 1j, "Complex data not supported"),
        ([[1 + 1j] * 6] * 12, "Complex data not supported"),
        (np.array([["a"] * 6] * 12, dtype=object), "not numeric"),
    ],
)
def test_bad_input_is_a_value_error_and_a_one_line_ganforge_error(x: object, match: str) -> None:
    normal, _ = blobs(n=30)
    det = AnomalyDetector(steps=10, batch_size=16).fit(normal)
    for call in (AnomalyDetector(steps=10, batch_size=16).fit, det.predict, det.score_samples, det.decision_function):
        with pytest.raises(ValueError, match=match) as err:
            call(x)
        assert isinstance(err.value, GanforgeError) and "\n" not in str(err.value)


def test_sparse_input_is_refused_with_a_clear_value_error() -> None:
    from scipy import sparse

    normal, _ = blobs(n=30)
    with pytest.raises(ValueError, match="sparse input is not supported") as err:
        AnomalyDetector(steps=10, batch_size=16).fit(sparse.csr_matrix(normal))
    assert isinstance(err.value, GanforgeError)
    det = AnomalyDetector(steps=10, batch_size=16).fit(normal)
    with pytest.raises(GanforgeError, match="sparse"):
        det.predict(sparse.csr_array(normal))


def test_n_features_in_and_a_mismatched_feature_count() -> None:
    normal, _ = blobs(n=30)
    det = AnomalyDetector(steps=10, batch_size=16)
    assert not hasattr(det, "n_features_in_")
    assert det.fit(normal).n_features_in_ == 6
    for method in ("predict", "decision_function", "score_samples"):
        with pytest.raises(ValueError, match="X has 4 features, but AnomalyDetector is expecting 6 features as "
                                             "input") as err:
            getattr(det, method)(normal[:, :4])
        assert isinstance(err.value, GanforgeError) and "\n" not in str(err.value)
    # images: n_features_in_ counts X.shape[1] (channels) as scikit-learn does; another size names both shapes
    images = np.random.default_rng(0).uniform(size=(20, 1, 4, 4)).astype(np.float32)
    img = AnomalyDetector(steps=10, batch_size=16).fit(images)
    assert img.n_features_in_ == 1 and img.sample_shape_ == [1, 4, 4]
    with pytest.raises(ValueError, match=r"wrong sample shape \(samples of shape \(1, 5, 5\), fitted on \(1, 4, 4\)\)"):
        img.predict(np.zeros((3, 1, 5, 5), np.float32))


def test_mixin_order_and_outlier_detector_type(tmp_path: Path) -> None:
    from sklearn.base import BaseEstimator, OutlierMixin, is_outlier_detector

    mro = AnomalyDetector.__mro__
    assert mro.index(OutlierMixin) < mro.index(BaseEstimator)
    assert is_outlier_detector(AnomalyDetector())
    normal, _ = blobs(n=30)
    det = AnomalyDetector(steps=10, batch_size=16).fit(normal)
    assert AnomalyDetector.load(det.save(tmp_path / "ad")).n_features_in_ == 6


def test_dataframe_column_names_are_kept_checked_and_saved(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    normal, _ = blobs()
    frame = pd.DataFrame(normal, columns=[f"f{i}" for i in range(6)])
    det = AnomalyDetector(steps=20).fit(frame)
    assert list(det.feature_names_in_) == list(frame.columns)
    expected = det.score_samples(frame.iloc[:5])
    for other, match in ((frame.iloc[:5, ::-1], "another order"), (frame.iloc[:5].rename(columns={"f5": "g"}),
                                                                   "missing f5; unexpected g")):
        with pytest.raises(ValueError, match=match) as err:
            det.score_samples(other)
        assert isinstance(err.value, GanforgeError) and "\n" not in str(err.value)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        np.testing.assert_allclose(det.score_samples(normal[:5]), expected, rtol=1e-6)
    loaded = AnomalyDetector.load(det.save(tmp_path / "named"))
    assert list(loaded.feature_names_in_) == list(frame.columns)
    np.testing.assert_allclose(loaded.score_samples(frame.iloc[:5]), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="another order"):
        loaded.score_samples(frame.iloc[:5, ::-1])
    assert not hasattr(det.fit(normal), "feature_names_in_")  # refit on an array forgets the names


def test_grayscale_images_n_h_w_warn_under_auto_and_fit_as_images_with_kind_image(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    images = np.clip(rng.normal(0.5, 0.1, size=(60, 6, 6)), 0, 1).astype(np.float32)
    with pytest.warns(UserWarning, match="kind='image'"):
        assert AnomalyDetector(steps=5).fit(images).kind_ == "sequence"
    det = AnomalyDetector(steps=20, kind="image").fit(images)
    assert det.kind_ == "image" and det.sample_shape_ == [1, 6, 6]
    np.testing.assert_allclose(det.anomaly_score(images[:4]), det.anomaly_score(images[:4, None]), rtol=1e-6)
    assert det.residuals(images[:2]).shape == (2, 1, 6, 6)
    loaded = AnomalyDetector.load(det.save(tmp_path / "gray"))
    np.testing.assert_allclose(loaded.anomaly_score(images[:4]), det.anomaly_score(images[:4]), rtol=1e-6)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"steps": 2.5}, r"^AnomalyDetector steps=2.5: give a whole number >= 1$"),
        ({"steps": "10"}, r"steps='10': not a number \(str\); give a whole number >= 1"),
        ({"steps": True}, r"steps=True: not a number \(bool\)"),
        ({"lr": -1}, r"lr=-1: give a number > 0"),
        ({"lr": float("nan")}, r"lr=nan: give a number > 0"),
        ({"hidden": 2.5}, r"hidden=2.5: give a whole number >= 1, or None to size it from the input"),
        ({"latent": 1.5}, r"latent=1.5: give a whole number >= 1"),
        ({"batch_size": 2.5}, r"batch_size=2.5: give a whole number >= 1"),
        ({"batch_size": -3}, r"batch_size=-3: give a whole number >= 1"),
        ({"latent": -2}, r"latent=-2: give a whole number >= 1"),
        ({"seed": -1}, r"seed=-1: give a whole number in \[0, 2\*\*63\)"),
        ({"validation_fraction": "0.1"}, r"validation_fraction='0.1': not a number"),
        ({"options": "knn"}, r"options='knn': give a dict of the method's options by name"),
        # None asks for the default size; 0 used to be read as None and fit silently
        ({"latent": 0}, r"latent=0: give a whole number >= 1, or None"),
        ({"hidden": 0}, r"hidden=0: give a whole number >= 1, or None"),
        ({"batch_size": 0}, r"batch_size=0: give a whole number >= 1"),
        ({"kind": "images"}, r"kind='images': unknown kind \(did you mean 'image'\?\); give one of auto, table, image"),
    ],
)
def test_bad_parameters_are_one_line_at_fit(params: dict, match: str) -> None:
    """They were torch's or numpy's errors from deep inside fit (or, for 0 sizes, a silent default)."""
    normal, _ = blobs(n=30)
    det = AnomalyDetector(**{"steps": 5, **params})  # scikit-learn's convention: __init__ only stores
    with pytest.raises(GanforgeError, match=match) as err:
        det.fit(normal)
    assert "\n" not in str(err.value)


def test_whole_float_parameters_fit_and_save(tmp_path: Path) -> None:
    """2.0 is a whole number (range(2.0) raised in fit); an np.int64 parameter used to break save's JSON."""
    normal, _ = blobs(n=30)
    det = AnomalyDetector(steps=5.0, batch_size=np.int64(8), latent=2.0, hidden=8.0, seed=torch.tensor(1),
                          lr=np.float32(1e-3)).fit(normal)
    again = AnomalyDetector.load(det.save(tmp_path / "ad"))
    np.testing.assert_allclose(again.anomaly_score(normal), det.anomaly_score(normal), rtol=1e-5)


def test_a_file_name_given_as_data_points_to_reading_it() -> None:
    normal, _ = blobs(n=30)
    for x in ("data.csv", Path("data.csv")):
        with pytest.raises(ValueError, match=r"'data.csv' is a file name or text, not data; .*pd.read_csv\(path\).*"
                                             r"ganforge anomaly fit PATH") as err:
            AnomalyDetector(steps=5).fit(x)
        assert isinstance(err.value, GanforgeError) and "\n" not in str(err.value)
    det = AnomalyDetector(steps=5).fit(normal)
    with pytest.raises(GanforgeError, match="is a file name or text, not data"):
        det.predict("data.csv")


def test_save_onto_a_file_is_one_line(tmp_path: Path) -> None:
    normal, _ = blobs(n=30)
    det = AnomalyDetector(steps=5).fit(normal)
    (tmp_path / "existing_file").write_text("x")
    with pytest.raises(GanforgeError, match=r"existing_file' is a file; give a folder to hold detector.json") as err:
        det.save(tmp_path / "existing_file")
    assert "\n" not in str(err.value) and (tmp_path / "existing_file").read_text() == "x"
    with pytest.raises(GanforgeError, match="cannot access"):
        det.save(tmp_path / "existing_file" / "inside")
