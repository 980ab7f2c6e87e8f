"""Image GANs end to end: generator EMA, label conditioning, the shipped image recipes and the CLI."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

import ganforge as gf
from ganforge.cli import main
from ganforge.recipes import recipe_names

TINY_CONV = ["data.size=8", "model.generator.width=4", "model.discriminator.width=4", "train.batch_size=16"]


def _cli(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture
def no_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip plots and evaluation after training (tests that only look at the trained model)."""
    import ganforge.report.summary as summary

    monkeypatch.setattr(summary, "finish_run", lambda trainer, path, seconds, **_: SimpleNamespace(trainer=trainer))


def test_image_recipes_are_listed() -> None:
    names = recipe_names()
    for name in ("digits-mlp", "digits-dcgan", "digits-cgan", "mnist-idx"):
        assert name in names and names[name]


def test_ema_weights_differ_from_raw_and_are_used_for_sampling(tmp_path: Path, no_report: None) -> None:
    trained = gf.train(
        "digits-dcgan", out=tmp_path / "r", show_progress=False,
        overrides=[*TINY_CONV, "train.steps=5", "train.ema=0.9", "train.snapshot_every=0"],
    )
    gan = trained.trainer.gan
    raw = dict(gan.generator.named_parameters())
    ema = dict(gan.ema_generator.named_parameters())
    assert raw.keys() == ema.keys()
    assert any(not torch.equal(raw[k], ema[k]) for k in raw)
    assert all(not p.requires_grad for p in ema.values())
    # sampling: the EMA generator in eval mode, not the raw one
    torch.manual_seed(3)
    z = gan.sample_latents(6)
    torch.manual_seed(3)
    sampled = gan.sample(6)
    with torch.no_grad():
        assert torch.equal(sampled, gan.ema_generator.eval()(z))
        assert not torch.allclose(sampled, gan.generator.eval()(z))
    # the loaded run samples the same way
    loaded = gf.load(tmp_path / "r")
    torch.manual_seed(3)
    assert torch.allclose(loaded.gan.sample(6), sampled)


def test_label_conditioning_reaches_both_networks_in_training(tmp_path: Path, no_report: None) -> None:
    torch.manual_seed(0)
    trained = gf.train(
        "digits-cgan", out=tmp_path / "r", show_progress=False,
        overrides=[*TINY_CONV, "train.steps=3", "train.snapshot_every=0", "train.ema=null"],
    )
    gan = trained.trainer.gan
    assert gan.num_classes == 10
    # every label's embedding in G and every class vector of D's projection head got gradient updates
    g_embed = gan.generator.label.embed.weight
    d_embed = gan.discriminator.head.embed.weight
    fresh = gf.train(
        "digits-cgan", out=tmp_path / "fresh", show_progress=False,
        overrides=[*TINY_CONV, "train.steps=1", "train.snapshot_every=0", "train.ema=null",
                   "train.optimizer.lr=1e-12"],
    ).trainer.gan
    assert not torch.allclose(g_embed, fresh.generator.label.embed.weight, atol=1e-6)
    assert not torch.allclose(d_embed, fresh.discriminator.head.embed.weight, atol=1e-6)
    # the same z with two labels gives two images; D scores one image differently per label
    gan.eval()
    with torch.no_grad():
        z = gan.sample_latents(1).repeat(2, 1)
        pair = gan.generate(z, torch.tensor([1, 7]))
        assert not torch.allclose(pair[0], pair[1])
        logits = gan.discriminate(pair[:1].repeat(2, 1, 1, 1), torch.tensor([1, 7]))
        assert logits.shape == (2, 1) and not torch.allclose(logits[0], logits[1])
    assert gan.sample(5, label=7).shape == (5, 1, 8, 8)


def test_digits_cgan_from_the_command_line(tmp_path: Path) -> None:
    """`ganforge train digits-cgan ...` then `ganforge sample RUN --label 7 -o sevens.png`."""
    run = tmp_path / "cgan"
    code = _cli([
        "train", "digits-cgan", "-q", "-o", str(run),
        "--set", "train.steps=20", "--set", "train.snapshot_every=10", "--set", "train.log_every=10",
        "--set", "model.generator.width=8", "--set", "model.discriminator.width=8", "--set", "eval.n=200",
        "--set", "eval.enabled=true",
    ])
    assert code == 0
    for picture in ("plots/samples.png", "plots/real_vs_generated.png", "plots/losses.png",
                    "samples/progress.gif", "samples/step-00000020.png"):
        assert (run / picture).is_file(), picture
    summary = gf.load(run).summary
    assert summary["snapshots"]["steps"] == [0, 10, 20]
    assert "conditional_accuracy" in summary["evaluation"]
    sevens = tmp_path / "sevens.png"
    assert _cli(["sample", str(run), "--label", "7", "-n", "16", "-o", str(sevens)]) == 0
    with Image.open(sevens) as image:
        # 16 images of 16x16, enlarged 3x, 4 per row, under a "class 7" title line
        assert image.width == 1 + 4 * 49 and image.height > 1 + 4 * 49
    assert _cli(["sample", str(run), "--label", "10", "-o", str(tmp_path / "x.png")]) == 2
    assert not (tmp_path / "x.png").exists()


def _write_idx(path: Path, array: np.ndarray) -> None:
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def test_mnist_idx_recipe_takes_the_file_path(tmp_path: Path, no_report: None) -> None:
    rng = np.random.default_rng(0)
    images, labels = tmp_path / "imgs-idx3-ubyte.gz", tmp_path / "labels-idx1-ubyte.gz"
    _write_idx(images, rng.integers(0, 256, (40, 28, 28)))
    _write_idx(labels, rng.integers(0, 10, 40))
    assert _cli(["train", "mnist-idx", "-o", str(tmp_path / "missing")]) == 2  # no path given: one-line error
    trained = gf.train(
        "mnist-idx", out=tmp_path / "r", show_progress=False,
        overrides=[f"data.images={images}", f"data.labels={labels}", "model.generator.width=4",
                   "model.discriminator.width=4", "train.batch_size=8", "train.steps=2", "train.snapshot_every=0"],
    )
    gan = trained.trainer.gan
    assert gan.sample(3).shape == (3, 1, 28, 28)
    assert trained.trainer.source.num_classes == 10


def test_a_class_folder_runs_classes_are_named_in_sample_and_fid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A conditional run trained on cat/ and dog/ sub-folders: `sample -o folder/` writes cat/ and dog/ (so
    `fid --per-class` matches them with the training folder), `--label dog` and `run.sample(label="dog")` pick the
    class by name, an unknown name is a one-line error; a name that is no plain folder name falls back to
    numbers (a run folder someone hands you must not write outside the folder asked for)."""
    import json

    from ganforge.data.images import digits_images

    images, labels = digits_images()
    pets = tmp_path / "pets"
    for i in range(400):  # about 40 of each: intra-FID needs 20 real images of a class
        name = {0: "cat", 1: "dog"}.get(int(labels[i]))
        if name is not None:
            (pets / name).mkdir(parents=True, exist_ok=True)
            Image.fromarray((images[i, 0].numpy() * 255).astype(np.uint8), mode="L").save(pets / name / f"{i}.png")
    run = tmp_path / "run"
    assert _cli(["train", str(pets), "-q", "-o", str(run), "--set", "train.steps=4", "--set", "model.conditional=true",
                 "--set", "eval.enabled=false"]) == 0
    assert _cli(["sample", str(run), "-n", "60", "-o", f"{tmp_path / 'gen'}/"]) == 0
    assert sorted(p.name for p in (tmp_path / "gen").iterdir()) == ["cat", "dog"]
    assert len(list((tmp_path / "gen" / "dog").glob("*.png"))) == 30
    capsys.readouterr()
    assert _cli(["fid", str(pets), str(tmp_path / "gen"), "--per-class", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_intra_fid_classes"] == 2
    assert _cli(["sample", str(run), "-n", "60", "-o", str(tmp_path / "gen.npz")]) == 0  # ids and class_names
    assert np.load(tmp_path / "gen.npz")["class_names"].tolist() == ["cat", "dog"]
    capsys.readouterr()
    assert _cli(["fid", str(pets), str(tmp_path / "gen.npz"), "--per-class", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_intra_fid_classes"] == 2
    assert _cli(["sample", str(run), "-n", "4", "--label", "dog", "-o", str(tmp_path / "dogs.png")]) == 0
    loaded = gf.load(run)
    torch.manual_seed(0)
    by_name = loaded.sample(4, label="dog")
    torch.manual_seed(0)
    assert torch.equal(by_name, loaded.sample(4, label=1))
    capsys.readouterr()
    assert _cli(["sample", str(run), "--label", "cow", "-o", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "its classes are cat, dog (or 0-1)" in err
    description = json.loads((run / "data.json").read_text())
    description["info"]["classes"] = ["../../escaped", "dog"]
    (run / "data.json").write_text(json.dumps(description))
    assert gf.load(run).class_names is None
    assert _cli(["sample", str(run), "-n", "4", "-o", f"{tmp_path / 'gen2'}/"]) == 0
    assert sorted(p.name for p in (tmp_path / "gen2").iterdir()) == ["0", "1"]
    assert not (tmp_path / "escaped").exists()


def test_class_sub_folders_train_a_conditional_gan_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Pictures in class sub-folders trained one unconditional GAN that `--label NAME` could not use, though the
    README promised it; the training line now says it conditions on the classes and how not to."""
    from ganforge.data.images import digits_images

    images, labels = digits_images()
    pets = tmp_path / "pets"
    for i in range(60):
        name = {0: "cat", 1: "dog"}.get(int(labels[i]))
        if name is not None:
            (pets / name).mkdir(parents=True, exist_ok=True)
            Image.fromarray((images[i, 0].numpy() * 255).astype(np.uint8), mode="L").save(pets / name / f"{i}.png")
    assert _cli(["train", str(pets), "-o", str(tmp_path / "run"), "--set", "train.steps=2", "--no-eval"]) == 0
    assert "conditional on its 2 classes" in capsys.readouterr().err
    assert gf.load(tmp_path / "run").gan.num_classes == 2
    assert _cli(["sample", str(tmp_path / "run"), "-n", "4", "--label", "dog", "-o", str(tmp_path / "dogs.png")]) == 0
    assert _cli(["train", str(pets), "-q", "-o", str(tmp_path / "plain"), "--set", "train.steps=2", "--no-eval",
                 "--set", "model.conditional=false"]) == 0
    assert gf.load(tmp_path / "plain").gan.num_classes is None
