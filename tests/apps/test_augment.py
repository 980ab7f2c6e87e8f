"""``augment``: labels and shapes kept, counts per class, reproducible, filtering, tables, bad input."""

import numpy as np
import pytest
import torch

import ganforge as gf
from ganforge.apps import augment as augment_module
from ganforge.apps.augment import augment, one_pixel_shifts
from ganforge.errors import GanforgeError


def small_digits(per_class: int = 3) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    idx = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in range(10)])
    return (x[idx] / 16).reshape(-1, 1, 8, 8).astype(np.float32), y[idx]


def test_images_keep_labels_shapes_and_range() -> None:
    x, y = small_digits()
    out = gf.augment(x, y, per_class=7, steps=60)
    assert out.x.shape == (30 + 70, 1, 8, 8) and out.y.shape == (100,)
    np.testing.assert_array_equal(out.x[:30], x)
    np.testing.assert_array_equal(out.y[:30], y)
    assert not out.synthetic[:30].any() and out.synthetic[30:].all()
    assert np.bincount(out.y[out.synthetic]).tolist() == [7] * 10
    assert out.x.min() >= 0 and out.x.max() <= 1
    xs, ys = out  # unpacks like (x, y)
    assert xs is out.x and ys is out.y


def test_reproducible_with_a_seed_and_ratio_sets_the_mix() -> None:
    x, y = small_digits()
    a = augment(x, y, ratio=2, steps=40, seed=5, include_real=False)
    b = augment(x, y, ratio=2, steps=40, seed=5, include_real=False)
    np.testing.assert_array_equal(a.x, b.x)
    assert a.x.shape[0] == 60 and a.synthetic.all()


def test_conditional_gan_learns_the_classes() -> None:
    """Quality floor: after 800 steps on 5 images per class an SVC trained on the real images labels the
    synthetic samples as their intended class most of the time (measured 0.8+)."""
    from sklearn.svm import SVC

    x, y = small_digits(5)
    out = augment(x, y, per_class=30, steps=800, include_real=False)
    clf = SVC().fit(x.reshape(len(x), -1), y)
    assert (clf.predict(out.x.reshape(len(out.x), -1)) == out.y).mean() > 0.6


def test_filtering_keeps_only_confident_samples() -> None:
    from sklearn.linear_model import LogisticRegression

    x, y = small_digits()
    out = augment(x, y, per_class=5, steps=500, filter_confidence=0.2, include_real=False, arch="mlp")
    clf = LogisticRegression(max_iter=2000).fit(x.reshape(len(x), -1), y)
    p = clf.predict_proba(out.x.reshape(len(out.x), -1))[np.arange(len(out.y)), out.y]
    assert (p >= 0.2).all()


def test_tables_balance_a_minority_class() -> None:
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(size=(60, 3)), rng.normal(size=(12, 3)) + 4].astype(np.float32)
    y = np.r_[np.zeros(60, int), np.ones(12, int)]
    out = augment(x, y, balance=True, steps=300)
    assert np.bincount(out.y).tolist() == [60, 60]
    minority = out.x[out.synthetic]
    assert minority.shape == (48, 3) and minority.mean() > 2  # near the minority class, not the majority


def test_one_pixel_shifts_move_every_image_by_one_pixel() -> None:
    x = np.random.default_rng(0).random((2, 3, 5, 6)).astype(np.float32)
    for fill in ("zero", "edge"):
        out = one_pixel_shifts(x, fill=fill)
        assert out.shape == (10, 3, 5, 6)
        np.testing.assert_array_equal(out[:2], x)
        down, up, right, left = out[2:4], out[4:6], out[6:8], out[8:10]
        np.testing.assert_array_equal(down[:, :, 1:], x[:, :, :-1])
        np.testing.assert_array_equal(up[:, :, :-1], x[:, :, 1:])
        np.testing.assert_array_equal(right[:, :, :, 1:], x[:, :, :, :-1])
        np.testing.assert_array_equal(left[:, :, :, :-1], x[:, :, :, 1:])
        vacated = down[:, :, 0], up[:, :, -1], right[:, :, :, 0], left[:, :, :, -1]
        kept = x[:, :, 0], x[:, :, -1], x[:, :, :, 0], x[:, :, :, -1]
        for v, k in zip(vacated, kept, strict=True):
            np.testing.assert_array_equal(v, 0 * k if fill == "zero" else k)


def test_expand_trains_the_gan_on_the_shifts_and_counts_follow_the_real_images(monkeypatch) -> None:  # noqa: ANN001
    seen = {}
    train = augment_module.train_conditional_gan

    def spy(x, y, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        seen["x"], seen["y"] = x, y
        return train(x, y, *args, **kwargs)

    monkeypatch.setattr(augment_module, "train_conditional_gan", spy)
    x, y = small_digits()
    out = augment(x, y, ratio=2, steps=5, expand="shifts", include_real=False)
    assert seen["x"].shape == (150, 1, 8, 8) and np.bincount(seen["y"]).tolist() == [15] * 10
    np.testing.assert_allclose(seen["x"][30:60] * 0.5 + 0.5, one_pixel_shifts(x)[30:60], atol=1e-6)
    assert np.bincount(out.y).tolist() == [6] * 10  # 2 per real image, not per shifted copy


@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 16, 16), (3, 32, 32)])
def test_conv_networks_fit_every_power_of_two_side(shape: tuple[int, ...]) -> None:
    import torch

    from ganforge.apps.augment import ConvCondDiscriminator, ConvCondGenerator

    g, d = ConvCondGenerator(8, 3, shape), ConvCondDiscriminator(shape, 3, 32)
    labels = torch.tensor([0, 1, 2, 1])
    fake = g(torch.randn(4, 8), labels)
    assert fake.shape == (4, int(np.prod(shape))) and fake.abs().max() <= 1
    assert d(fake.view(4, *shape), labels).shape == (4,)
    out = augment(np.random.default_rng(0).random((6, *shape), dtype=np.float32), np.arange(6) % 3, per_class=2,
                  steps=3, arch="conv", include_real=False)
    assert out.x.shape == (6, *shape)


def test_ema_window_is_at_most_a_quarter_of_a_short_run() -> None:
    """decay = min(ema, 1 - 4 / steps): the 0.999 default would leave 0.999^40 = 96 % of a 40-step average on
    the initial weights; the cap leaves e^-4 at most."""
    x, y = small_digits()
    xs = (x - 0.5) / 0.5
    _, info = augment_module.train_conditional_gan(xs, y, 10, steps=40, arch="mlp")
    assert info["ema"] == pytest.approx(0.9)
    _, info = augment_module.train_conditional_gan(xs, y, 10, steps=40, ema=0.5, arch="mlp")
    assert info["ema"] == 0.5
    _, info = augment_module.train_conditional_gan(xs, y, 10, steps=4, arch="mlp")
    assert info["ema"] == 0.0  # the raw generator
    assert augment_module.DEFAULT_EMA == 0.999 and 1 - 4 / augment_module.DEFAULT_STEPS >= 0.999  # uncapped


def test_lecam_keeps_d_outputs_on_real_and_fake_closer_and_off_changes_nothing() -> None:
    """LeCam penalises D(x) above the fake anchor and D(G(z)) below the real one, so D cannot push the two
    apart without bound on a few images; weight 0 must train exactly the default GAN."""
    x, y = small_digits()
    xs = (x - 0.5) / 0.5
    g0, plain = augment_module.train_conditional_gan(xs, y, 10, steps=150, arch="mlp")
    g1, off = augment_module.train_conditional_gan(xs, y, 10, steps=150, arch="mlp", lecam=0.0)
    assert all(torch.equal(a, b) for a, b in zip(g0.state_dict().values(), g1.state_dict().values(), strict=True))
    _, held = augment_module.train_conditional_gan(xs, y, 10, steps=150, arch="mlp", lecam=0.3)

    def gap(info: dict) -> float:
        return info["d_output_averages"]["real"] - info["d_output_averages"]["fake"]

    assert plain == off and abs(gap(held)) < abs(gap(plain))


@pytest.mark.parametrize(("options", "match"), [({"steps": 0}, "steps 0 must be >= 1"),
                                                 ({"ema": 1.0}, r"ema 1.0 must lie in \[0, 1\)"),
                                                 ({"lecam": -1.0}, "lecam -1.0 must be >= 0")])
def test_bad_steps_or_ema_are_one_line(options: dict, match: str) -> None:
    x, y = small_digits()
    with pytest.raises(GanforgeError, match=match) as err:
        augment(x, y, per_class=1, **options)
    assert "\n" not in str(err.value)


def test_conv_needs_square_power_of_two_images() -> None:
    with pytest.raises(GanforgeError, match="side 8, 16, 32"):
        augment(np.zeros((4, 1, 12, 12), np.float32), np.arange(4) % 2, steps=2, arch="conv")
    with pytest.raises(GanforgeError, match="side 8, 16, 32"):
        augment(np.zeros((4, 3), np.float32), np.arange(4) % 2, steps=2, arch="conv")
    with pytest.raises(GanforgeError, match="not one of auto, mlp, conv"):
        augment(np.zeros((4, 3), np.float32), np.arange(4) % 2, steps=2, arch="resnet")


def test_defaults_expand_images_only_and_draw_at_least_the_minimum_per_class(monkeypatch) -> None:  # noqa: ANN001
    seen = []
    train = augment_module.train_conditional_gan
    monkeypatch.setattr(augment_module, "train_conditional_gan",
                        lambda x, y, *a, **k: (seen.append(x.shape), train(x, y, *a, **k))[1])
    x, y = small_digits()
    out = augment(x, y, steps=2, include_real=False)
    floor = augment_module.DEFAULT_MIN_PER_CLASS
    assert floor > 6 and seen[-1] == (150, 1, 8, 8) and np.bincount(out.y).tolist() == [floor] * 10  # max(2 x 3, min)
    augment(x, y, steps=2, expand="none", per_class=1)
    assert seen[-1] == (30, 1, 8, 8)
    rows = augment(x.reshape(30, -1), np.repeat([0, 1], 15), steps=2, include_real=False)
    assert seen[-1] == (30, 64) and np.bincount(rows.y).tolist() == [floor] * 2


def test_expand_needs_images_and_a_gan_to_train(tmp_path) -> None:  # noqa: ANN001
    x, y = small_digits()
    with pytest.raises(GanforgeError, match="not one of auto, shifts, none"):
        augment(x, y, steps=5, expand="rotations")
    with pytest.raises(GanforgeError, match="table rows"):
        augment(x.reshape(30, -1), y, steps=5, expand="shifts")
    with pytest.raises(GanforgeError, match="--run"):
        augment(x, y, run=conditional_run(tmp_path), expand="shifts")


@pytest.mark.parametrize(
    ("x", "y", "match"),
    [
        (np.zeros((0, 3)), np.zeros(0, int), "N >= 1"),
        (np.zeros((4, 3)), np.zeros(3, int), "one label per sample"),
        (np.zeros((4, 3)), np.array([0.5, 1, 0, 1]), "integer"),
        (np.full((2, 1, 4, 4), 2.0), np.array([0, 1]), r"\[0, 1\]"),
    ],
)
def test_bad_input_is_one_line(x: np.ndarray, y: np.ndarray, match: str) -> None:
    with pytest.raises(GanforgeError, match=match) as err:
        augment(x, y, per_class=2, steps=5)
    assert "\n" not in str(err.value)


def conditional_run(tmp_path, size: int = 8):  # noqa: ANN001, ANN201
    """An untrained conditional run (digits-cgan's networks, 8x8) held in memory."""
    import torch

    from ganforge.config import parse_config
    from ganforge.data.registry import source_from_config
    from ganforge.gans.registry import build_model
    from ganforge.recipes import load_recipe
    from ganforge.runs import Run

    raw = load_recipe("digits-cgan")
    raw["data"]["size"] = size
    config = parse_config(raw)
    source = source_from_config(dict(config.data))
    source.fit_scaler("tanh")
    torch.manual_seed(0)
    gan = build_model(dict(config.model), source)
    return Run(tmp_path, config, gan.eval(), source)


def test_reuses_a_trained_conditional_run(tmp_path) -> None:  # noqa: ANN001
    x, y = small_digits()
    run = conditional_run(tmp_path)
    out = augment(x, y, per_class=4, run=run, seed=2)
    assert out.x.shape == (70, 1, 8, 8) and np.bincount(out.y[out.synthetic]).tolist() == [4] * 10
    again = augment(x, y, per_class=4, run=run, seed=2)
    np.testing.assert_array_equal(out.x, again.x)
    with pytest.raises(GanforgeError, match="shape"):
        augment(np.zeros((4, 1, 6, 6), np.float32), np.arange(4), per_class=1, run=run)


# First-time-user inputs (audit): uint8 images, (N, H, W) and channels-last stacks, float64, integer table
# columns and named labels. Each is checked against the float32 (N, C, H, W) / (N, D) run they reduce to, so
# the GAN sees the same numbers and the only difference is how the samples are read and returned.


def test_uint8_images_are_read_as_value_over_255_and_come_back_as_uint8() -> None:
    x, y = small_digits()
    u8 = np.rint(x * 255).astype(np.uint8)
    out = augment(u8, y, per_class=3, steps=20, seed=1)
    assert out.x.dtype == np.uint8 and out.x.shape == (60, 1, 8, 8)
    np.testing.assert_array_equal(out.x[:30], u8)  # the real rows exactly as given
    ref = augment(u8.astype(np.float32) / np.float32(255), y, per_class=3, steps=20, seed=1)
    np.testing.assert_array_equal(out.x[30:], np.clip(np.rint(ref.x[30:] * 255.0), 0, 255).astype(np.uint8))
    np.testing.assert_array_equal(out.y, ref.y)
    np.concatenate([u8, out.x[out.synthetic]])  # stacks with the user's own images


def test_grayscale_and_channels_last_stacks_come_back_in_their_layout() -> None:
    x, y = small_digits()
    ref = augment(x, y, per_class=2, steps=20, seed=2)
    flat = augment(x[:, 0], y, per_class=2, steps=20, seed=2)  # (N, H, W), e.g. load_digits().images / 16
    np.testing.assert_array_equal(flat.x, ref.x[:, 0])
    last = augment(x.transpose(0, 2, 3, 1), y, per_class=2, steps=20, seed=2)  # (N, H, W, 1)
    np.testing.assert_array_equal(last.x, ref.x.transpose(0, 2, 3, 1))
    rgb = np.random.default_rng(0).random((6, 3, 8, 8), dtype=np.float32)
    ref = augment(rgb, np.arange(6) % 2, per_class=2, steps=5)
    last = augment(rgb.transpose(0, 2, 3, 1), np.arange(6) % 2, per_class=2, steps=5)  # (N, H, W, 3)
    np.testing.assert_array_equal(last.x, ref.x.transpose(0, 2, 3, 1))
    with pytest.raises(GanforgeError, match=r"must lie in \[0, 1\], got \[0, 16\]") as err:
        augment(x[:, 0] * 16, y, per_class=2, steps=5)  # load_digits().images as they come
    assert "\n" not in str(err.value)
    with pytest.raises(GanforgeError, match=r"integer images must lie in \[0, 255\]"):
        augment(np.full((4, 8, 8), 300), np.arange(4) % 2, per_class=2, steps=5)


def test_float64_comes_back_as_float64_with_the_real_rows_unchanged() -> None:
    x, y = small_digits()
    x64 = np.clip(x.astype(np.float64) + 1e-10, 0, 1)  # values float32 cannot hold
    out = augment(x64, y, per_class=2, steps=20)
    ref = augment(x64.astype(np.float32), y, per_class=2, steps=20)
    assert out.x.dtype == np.float64
    np.testing.assert_array_equal(out.x[:30], x64)
    np.testing.assert_array_equal(out.x[30:], ref.x[30:].astype(np.float64))
    rows = x64.reshape(30, -1)
    out = augment(rows, y, per_class=2, steps=20, include_real=True)
    assert out.x.dtype == np.float64 and np.array_equal(out.x[:30], rows)


def test_integer_table_columns_are_rounded_and_clipped_to_their_range() -> None:
    rng = np.random.default_rng(0)
    table = np.c_[rng.integers(0, 4, 40), rng.integers(10, 21, 40), rng.integers(-3, 3, 40)]
    y = np.arange(40) % 2
    out = augment(table, y, per_class=30, steps=20)
    ref = augment(table.astype(np.float32), y, per_class=30, steps=20)
    syn = out.x[out.synthetic]
    assert out.x.dtype == table.dtype and np.array_equal(out.x[:40], table)
    assert (syn >= table.min(axis=0)).all() and (syn <= table.max(axis=0)).all()
    expected = np.clip(np.rint(ref.x[ref.synthetic]), table.min(axis=0), table.max(axis=0)).astype(table.dtype)
    np.testing.assert_array_equal(syn, expected)
    assert (ref.x[ref.synthetic] != np.rint(ref.x[ref.synthetic])).any()  # float columns stay as generated


def test_a_dataframes_integer_columns_are_rounded_and_its_float_columns_left_alone() -> None:
    import pandas as pd

    rng = np.random.default_rng(1)
    df = pd.DataFrame({"count": rng.integers(0, 5, 40), "score": rng.normal(size=40)})
    y = np.arange(40) % 2
    out = augment(df, y, per_class=20, steps=20)
    ref = augment(df.to_numpy(np.float64), y, per_class=20, steps=20)
    assert isinstance(out.x, pd.DataFrame) and out.x.dtypes.to_dict() == df.dtypes.to_dict()
    pd.testing.assert_frame_equal(out.x.iloc[:40], df)
    syn, ref_syn = out.x[out.synthetic].to_numpy(np.float64), ref.x[ref.synthetic]
    np.testing.assert_array_equal(syn[:, 0], np.clip(np.rint(ref_syn[:, 0]), 0, 4))
    np.testing.assert_array_equal(syn[:, 1], ref_syn[:, 1])


def test_a_dataframe_and_series_come_back_as_a_dataframe_and_series() -> None:
    """The docstring's promise (output in the layout given): the columns, their dtypes and the Series' name
    survive, so ``out.x["score"]`` and ``pd.concat`` work on the result as on the input."""
    import pandas as pd

    rng = np.random.default_rng(2)
    df = pd.DataFrame({"count": rng.integers(0, 5, 20), "score": rng.normal(size=20).astype(np.float32)},
                      index=np.arange(100, 120))
    labels = pd.Series(np.where(np.arange(20) % 2, "cat", "dog"), name="kind", index=df.index)
    out = augment(df, labels, per_class=3, steps=5)
    assert isinstance(out.x, pd.DataFrame) and list(out.x.columns) == ["count", "score"]
    assert out.x.dtypes.to_dict() == df.dtypes.to_dict() and len(out.x) == 26
    assert isinstance(out.y, pd.Series) and out.y.name == "kind"
    assert out.y.tolist() == labels.tolist() + ["cat"] * 3 + ["dog"] * 3
    np.testing.assert_array_equal(out.x.to_numpy()[:20], df.to_numpy())
    xs, ys = out
    assert xs is out.x and ys is out.y
    only = augment(df, labels, per_class=2, steps=5, include_real=False)
    assert isinstance(only.x, pd.DataFrame) and isinstance(only.y, pd.Series) and len(only.y) == 4
    plain = augment(df.to_numpy(), labels.to_numpy(), per_class=2, steps=5)
    assert isinstance(plain.x, np.ndarray) and isinstance(plain.y, np.ndarray)


def test_named_labels_come_back_as_given() -> None:
    x, y = small_digits()
    ref = augment(x, y, per_class=2, steps=20)
    names = np.array([f"class-{c}" for c in range(10)])  # sorted as 0..9
    out = augment(x, names[y], per_class=2, steps=20)
    np.testing.assert_array_equal(out.x, ref.x)  # the GAN saw the same class ids
    np.testing.assert_array_equal(out.y, names[ref.y])
    assert out.y.dtype.kind == "U" and sorted(set(out.y[out.synthetic])) == list(names)
    pairs = augment(x.reshape(30, -1), np.where(y < 5, -1, 1), per_class=3, steps=10)  # -1 / +1 labels
    ids = augment(x.reshape(30, -1), (y >= 5).astype(int), per_class=3, steps=10)
    np.testing.assert_array_equal(pairs.x, ids.x)
    np.testing.assert_array_equal(pairs.y, np.where(ids.y == 0, -1, 1))
    flags = augment(x.reshape(30, -1), y >= 5, per_class=3, steps=10)
    assert flags.y.dtype == bool and np.array_equal(flags.y, ids.y.astype(bool))


def test_labels_that_cannot_be_classes_are_one_line(tmp_path) -> None:  # noqa: ANN001
    x, y = small_digits()
    cases = [
        (np.array(["a", 1, None] * 10, dtype=object), "comparable"),
        (np.full(30, 1 + 1j), "integer class ids or names"),
        (np.linspace(0, 1, 30), r"values such as 0\.034"),
    ]
    for labels, match in cases:
        with pytest.raises(GanforgeError, match=match) as err:
            augment(x, labels, per_class=1, steps=2)
        assert "\n" not in str(err.value)
    with pytest.raises(GanforgeError, match="--run generates class ids") as err:
        augment(x, np.array(list("abcdefghij"))[y], per_class=1, run=conditional_run(tmp_path))
    assert "\n" not in str(err.value)


def test_progress_is_called_once_training_starts_then_about_100_times() -> None:
    """ganforge augment draws its progress line from these calls: step 0 after every check (so a refused
    option prints no 'training' line), the losses and D's outputs as probabilities, and the last step."""
    from ganforge.log_keys import D_FAKE, D_REAL, LOSS_D, LOSS_G

    x, y = small_digits()
    calls: list[tuple[int, dict]] = []
    augment(x, y, per_class=1, steps=200, arch="mlp", expand="none", progress=lambda s, r: calls.append((s, r)))
    assert calls[0] == (0, {}) and [s for s, _ in calls[1:]] == list(range(2, 201, 2))
    assert set(calls[-1][1]) == {LOSS_D, LOSS_G, D_REAL, D_FAKE}
    assert all(0 <= r[k] <= 1 for _, r in calls[1:] for k in (D_REAL, D_FAKE))
    calls.clear()
    with pytest.raises(GanforgeError, match="steps 0"):
        augment(x, y, per_class=1, steps=0, progress=lambda s, r: calls.append((s, r)))
    assert calls == []


def test_nothing_asked_for_trains_no_gan(monkeypatch, tmp_path) -> None:  # noqa: ANN001
    """Balanced classes with balance=True, or per_class=0, used to train the whole GAN to add 0 samples."""

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("trained a GAN that could add nothing")

    monkeypatch.setattr(augment_module, "train_conditional_gan", no_training)
    x, y = small_digits()  # 3 per class: balanced
    for options in ({"balance": True}, {"per_class": 0}, {"ratio": 0.1}):
        out = augment(x, y, **options)
        np.testing.assert_array_equal(out.x, x)
        assert not out.synthetic.any() and len(out.y) == 30


def test_a_run_of_another_image_size_names_the_side_to_resize_to(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(GanforgeError, match=r"the data has \(1, 6, 6\); resize the data to 8x8 \(`ganforge "
                                            r"augment --size 8`\)"):
        augment(np.zeros((4, 1, 6, 6), np.float32), np.arange(4), per_class=1, run=conditional_run(tmp_path))


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"per_class": 2.5}, r"^augment: per_class 2.5 must be a whole number >= 0$"),
        ({"per_class": "2"}, r"per_class must be a whole number >= 0, got '2' \(str\)"),
        ({"per_class": True}, r"per_class must be a whole number >= 0, got True \(bool\)"),
        ({"per_class": 1, "steps": 2.5}, "steps 2.5 must be a whole number >= 1"),
        ({"ratio": float("nan")}, "ratio nan must be a finite number >= 0"),
        ({"ratio": "2"}, r"ratio must be a finite number >= 0, got '2'"),
        ({"per_class": 1, "seed": -1}, r"seed -1 must lie in \[0, 2\*\*63\)"),
        ({"per_class": 1, "hidden": 2.5}, "hidden 2.5 must be a whole number >= 1"),
        ({"per_class": 1, "batch_size": 0}, "batch_size 0 must be >= 1"),
        ({"per_class": 1, "lr": 0}, "lr 0.0 must be > 0"),
        ({"per_class": 1, "ema": "0.9"}, r"ema must be a finite number in \[0, 1\)"),
        ({"per_class": 1, "filter_confidence": float("nan")},
         r"filter_confidence nan must be a finite number in \(0, 1\)"),
        ({"balance": "yes"}, "balance must be True or False, got 'yes'"),
    ],
)
def test_counts_and_numbers_that_are_not_whole_or_finite_are_one_line(options: dict, match: str) -> None:
    """They used to fail deep inside training: torch.randn(2.5), range(2.5), int(round(nan)), '2' < 0."""
    x, y = small_digits()
    with pytest.raises(GanforgeError, match=match) as err:
        augment(x, y, steps=options.pop("steps", 2), **options)
    assert "\n" not in str(err.value)


def test_whole_floats_are_whole_numbers() -> None:
    x, y = small_digits()
    out = augment(x, y, per_class=2.0, steps=np.float64(2.0), seed=1.0, hidden=8.0, expand="none",
                  include_real=False)
    assert np.bincount(out.y).tolist() == [2] * 10


@pytest.mark.parametrize(("name", "hint"), [("n", "per_class"), ("n_per_class", "per_class"), ("widht", "hidden"),
                                            ("epochs", "steps"), ("stpes", "steps")])
def test_an_unknown_keyword_names_augments_own_arguments(name: str, hint: str) -> None:
    """It used to be train_conditional_gan()'s TypeError: a function the caller never called."""
    x, y = small_digits()
    with pytest.raises(GanforgeError, match=rf"^augment: unknown argument '{name}' \(did you mean '{hint}'\?\); "
                                            r"augment takes x, y, per_class, ratio, balance, .*hidden") as err:
        augment(x, y, **{name: 5})
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("options", [{"per_class": 2, "ratio": 1.0}, {"per_class": 2, "balance": True},
                                     {"ratio": 1.0, "balance": True}])
def test_per_class_ratio_and_balance_are_alternatives(options: dict) -> None:
    """per_class=2 with ratio=1.0 used to give ratio's 30 samples without a word (and balance beat both)."""
    x, y = small_digits()
    with pytest.raises(GanforgeError, match="are alternatives .* give one of them"):
        augment(x, y, steps=2, **options)


def test_gan_options_with_a_trained_run_are_refused(tmp_path) -> None:  # noqa: ANN001
    """run= samples the trained run: hidden= or lr= would be dropped without a word."""
    x, y = small_digits()
    with pytest.raises(GanforgeError, match="hidden configure the GAN augment trains, which run= skips"):
        augment(x, y, per_class=1, run=conditional_run(tmp_path), hidden=16)


def test_steps_with_a_trained_run_is_refused_like_the_gans_other_options() -> None:
    """gf.augment(x, y, run=RUN, steps=N) ignored steps without a word (its default was the number 4,000, so a
    given value could not be told apart)."""
    import inspect

    from ganforge.apps.augment import augment

    assert inspect.signature(augment).parameters["steps"].default is None
    with pytest.raises(GanforgeError, match=r"augment: steps configure the GAN augment trains, which run= skips"):
        augment(np.zeros((4, 2)), np.array([0, 0, 1, 1]), run="runs/x", steps=50)


def test_a_file_name_as_samples_points_to_reading_it() -> None:
    from ganforge.apps.augment import augment

    with pytest.raises(GanforgeError, match=r"x='data.csv' is a file name; read it first"):
        augment("data.csv", np.array([0, 1]))
