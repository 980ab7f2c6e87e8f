"""Pix2Pix: the loss against its formula on hand-made tensors, the ablations as settings, the builder,
and a tiny training run whose translations are repeatable."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import ganforge as gf
from ganforge.data.base import Batch
from ganforge.data.images import digits, set_channels
from ganforge.data.pairs import pair_source
from ganforge.errors import GanforgeError
from ganforge.gans.pix2pix import (
    STANDING_SAMPLES,
    STANDING_SEED,
    Pix2Pix,
    build_pix2pix,
    per_picture_dropout,
    standing_statistics,
)
from ganforge.nets.unet import LumaKeepingGenerator, PairPatchDiscriminator, UNetGenerator


class Scale(nn.Module):
    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = nn.Parameter(torch.tensor(factor))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.factor * x


class QuadrantD(nn.Module):
    """A 2x2 map of logits: w * quadrant means of the image, + v * those of the condition when conditional."""

    def __init__(self, w: float, v: float, conditional: bool = True) -> None:
        super().__init__()
        self.w, self.v = nn.Parameter(torch.tensor(w)), nn.Parameter(torch.tensor(v))
        self.conditional = conditional

    def forward(self, condition: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        out = self.w * F.avg_pool2d(image.mean(1, keepdim=True), image.shape[-1] // 2)
        if self.conditional:
            out = out + self.v * F.avg_pool2d(condition.mean(1, keepdim=True), condition.shape[-1] // 2)
        return out


def _quad(t: torch.Tensor) -> torch.Tensor:
    return t.mean(1).reshape(t.shape[0], 2, 2, 2, 2).mean(dim=(2, 4)).reshape(t.shape[0], -1)


@pytest.mark.parametrize("conditional", [True, False])
def test_losses_equal_their_formulas_on_hand_made_tensors(conditional: bool) -> None:
    torch.manual_seed(0)
    x, y = torch.rand(3, 1, 4, 4) * 2 - 1, torch.rand(3, 1, 4, 4) * 2 - 1
    gan = Pix2Pix(Scale(0.5), QuadrantD(2.0, -1.0, conditional), l1_weight=100.0, gan_weight=1.0)
    fake = gan.generator(x)
    cond = -1.0 * _quad(x) if conditional else 0.0
    real_logits, fake_logits = 2.0 * _quad(y) + cond, 2.0 * _quad(0.5 * x) + cond
    sig = torch.sigmoid
    d_loss = 0.5 * (-torch.log(sig(real_logits)).mean() - torch.log(1 - sig(fake_logits)).mean())
    g_adv = -torch.log(sig(fake_logits)).mean()
    l1 = (y - 0.5 * x).abs().mean()
    d_terms = gan.discriminator_terms(x, y, fake)
    g_terms = gan.generator_terms(x, y, fake)
    torch.testing.assert_close(d_terms["total"], d_loss)
    torch.testing.assert_close(g_terms["adv"], g_adv)
    torch.testing.assert_close(g_terms["l1"], l1)
    torch.testing.assert_close(g_terms["total"], g_adv + 100.0 * l1)
    g_terms["total"].backward()
    assert gan.discriminator.w.grad is None and gan.generator.factor.grad is not None  # D is frozen in G's loss


def test_ablations_are_settings_of_one_model() -> None:
    x, y = torch.rand(2, 1, 4, 4), torch.rand(2, 1, 4, 4)
    l1_only = Pix2Pix(Scale(0.5), QuadrantD(1.0, 1.0), gan_weight=0.0)
    assert [p.name for p in l1_only.phases(0)] == ["generator"] and l1_only.phases(0)[0].needs_data
    loss, logs = l1_only.phase_loss(l1_only.phases(0)[0], Batch(x, y), 0)
    torch.testing.assert_close(loss, 100.0 * (y - 0.5 * x).abs().mean())
    cgan_only = Pix2Pix(Scale(0.5), QuadrantD(1.0, 1.0), l1_weight=0.0)
    terms = cgan_only.generator_terms(x, y, cgan_only.generator(x))
    torch.testing.assert_close(terms["total"], terms["adv"])
    full = Pix2Pix(Scale(0.5), QuadrantD(1.0, 1.0))
    d_phase, g_phase = full.phases(0)
    assert (d_phase.name, d_phase.needs_data, g_phase.name, g_phase.needs_data) == (
        "discriminator",
        True,
        "generator",
        False,
    )
    full.phase_loss(d_phase, Batch(x, y), 0)
    loss, logs = full.phase_loss(g_phase, None, 0)
    assert {"adv", "l1", "loss_g"} <= set(logs)
    with pytest.raises(GanforgeError, match="one positive"):
        Pix2Pix(Scale(0.5), QuadrantD(1.0, 1.0), l1_weight=0.0, gan_weight=0.0)


def _source(size: int = 32, c_a: int = 1, c_b: int = 3):
    return pair_source(torch.rand(4, c_a, size, size), torch.rand(4, c_b, size, size), name="t")


def test_builder_sizes_the_networks_for_the_pairs() -> None:
    gan = build_pix2pix(_source(64), width=4, d_width=4)
    assert isinstance(gan.generator, UNetGenerator) and gan.generator.depth == 6
    assert isinstance(gan.discriminator, PairPatchDiscriminator) and gan.discriminator.receptive_field == 16
    assert gan.discriminator.net[0].in_channels == 4 and gan.conditional
    unconditional = build_pix2pix(_source(64), width=4, d_width=4, conditional=False, d_layers=2)
    assert unconditional.discriminator.net[0].in_channels == 3 and unconditional.discriminator.receptive_field == 34
    with pytest.raises(GanforgeError, match="power of 2"):
        build_pix2pix(_source(48), width=4, d_width=4)
    with pytest.raises(GanforgeError, match="needs aligned pairs"):
        build_pix2pix(digits(), width=4)


def test_keep_luma_predicts_chroma_only_for_gray_to_colour_pairs() -> None:
    from ganforge.data.builtin_pairs import gray2color

    source = gray2color(count=8)
    source.fit_scaler("tanh")
    gan = build_pix2pix(source, width=4, d_width=4, keep_luma=True)
    assert isinstance(gan.generator, LumaKeepingGenerator) and gan.generator.chroma.channels_out == 2
    batch = source.batch(4, torch.Generator().manual_seed(0))
    for phase in gan.all_phases():
        loss, _ = gan.phase_loss(phase, batch, 0)
        assert torch.isfinite(loss)
    out = (gan.translate(batch.x) + 1) / 2
    torch.testing.assert_close(set_channels(out, True), (batch.x + 1) / 2, atol=1e-5, rtol=0)
    with pytest.raises(GanforgeError, match="keep_luma needs gray inputs"):
        build_pix2pix(_source(32, c_a=3), width=4, d_width=4, keep_luma=True)


CONFIG = {
    "name": "p2p",
    "data": {"source": "edges2digits", "size": 32},
    "model": {"type": "pix2pix", "width": 4, "d_width": 4},
    "train": {"steps": 3, "batch_size": 4, "log_every": 1, "checkpoint_every": 2},
    "eval": {"n": 20, "enabled": True},  # a 3-step run: evaluated only when asked
    "monitors": {"duplicates": False, "diversity": False},
}


def test_tiny_run_trains_evaluates_translates_and_resumes_exactly(tmp_path) -> None:
    run = gf.train(CONFIG, out=tmp_path / "run", show_progress=False)
    evaluation = run.summary["evaluation"]
    assert {"l1", "psnr", "ssim", "fid", "label_accuracy", "label_accuracy_real"} <= set(evaluation)
    assert evaluation["label_accuracy_real"] > 0.9 and "split=test" in evaluation["reference"]
    assert (tmp_path / "run" / "plots" / "translation.png").is_file()
    loaded = gf.load(tmp_path / "run")
    images = torch.rand(3, 1, 32, 32)
    first = loaded.gan.translate(images)
    torch.testing.assert_close(loaded.gan.translate(images), first)  # dropout at test time, from a fixed seed
    assert not loaded.gan.training
    with pytest.raises(GanforgeError, match="does not sample from noise"):
        loaded.sample(4)
    with pytest.raises(GanforgeError, match="A to B only"):
        loaded.gan.translate(images, "b2a")
    gf.train(CONFIG, out=tmp_path / "half", show_progress=False, steps=2)
    resumed = gf.resume(tmp_path / "half", steps=3, show_progress=False)
    for key, value in run.gan.state_dict().items():
        torch.testing.assert_close(resumed.gan.state_dict()[key], value, msg=key)


def test_translate_uses_the_ema_generator_when_one_is_kept() -> None:
    """With ``train.ema`` a run translates (``ganforge translate``, evaluation) through the EMA weights,
    unless the raw generator is asked for (``sample_with_ema`` False)."""
    torch.manual_seed(0)
    gan = build_pix2pix(_source(32), width=4, d_width=4)
    gan.enable_ema(0.99)
    with torch.no_grad():
        for p in gan.generator.parameters():  # the raw weights move away from the EMA copy
            p.add_(0.1 * torch.randn_like(p))
    images = torch.rand(3, 1, 32, 32) * 2 - 1
    through_ema = gan.translate(images)
    gan.sample_with_ema = False
    through_raw = gan.translate(images)
    assert not torch.allclose(through_ema, through_raw, atol=1e-3)
    copy = build_pix2pix(_source(32), width=4, d_width=4)  # no EMA: translates with its generator
    copy.generator.load_state_dict(gan.ema_generator.state_dict())
    torch.testing.assert_close(copy.translate(images), through_ema)  # same dropout draws, same weights


def test_test_norm_batch_normalizes_by_the_test_batch_and_leaves_running_statistics_alone() -> None:
    """``test_norm: batch`` is the paper's inference: the generator as in training (batch statistics, dropout
    on), yet the running statistics a ``running`` translation uses are not changed."""
    torch.manual_seed(0)
    gan = build_pix2pix(_source(32), width=4, d_width=4, test_norm="batch")
    images = torch.rand(6, 1, 32, 32) * 2 - 1
    with torch.no_grad():
        gan.generator.train()
        gan.generator(images * 0.3 + 0.5)  # running statistics that differ from the test batch's
    before = {k: v.clone() for k, v in gan.generator.state_dict().items()}
    gan.test_dropout = False  # the batch statistics alone (per-picture dropout has its own test)
    out = gan.translate(images)
    for key, value in gan.generator.state_dict().items():
        torch.testing.assert_close(value, before[key], msg=key)
    reference = build_pix2pix(_source(32), width=4, d_width=4)
    reference.generator.load_state_dict(before)
    reference.generator.train()
    for module in reference.generator.modules():
        if isinstance(module, nn.Dropout):
            module.eval()
    with torch.no_grad():
        torch.testing.assert_close(out, reference.generator(images))
    assert not torch.allclose(gan.translate(images)[:3], gan.translate(images[:3]), atol=1e-4)  # batch-mates matter
    gan.test_norm = "running"
    assert torch.allclose(gan.translate(images)[:3], gan.translate(images[:3]), atol=1e-5)  # they do not
    with pytest.raises(GanforgeError, match="model.test_norm=instance"):
        build_pix2pix(_source(32), width=4, d_width=4, test_norm="instance")


def test_a_picture_translates_the_same_alone_in_any_batch_position_and_chunk() -> None:
    """Test-time dropout (the paper's noise) drew one stream per call, so a picture's output depended on its row
    in the batch and on the chunking (up to 106/255 apart on one picture). Each picture's masks now come from
    its own pixels and the run's ``translate_seed``."""
    torch.manual_seed(0)
    gan = build_pix2pix(_source(32), width=4, d_width=4)
    with torch.no_grad():
        for p in gan.generator.parameters():  # weights of a trained scale (fresh ones barely pass the bottleneck)
            p.normal_(0, 0.5)
    images = torch.rand(5, 1, 32, 32) * 2 - 1
    together = gan.translate(images)
    torch.testing.assert_close(gan.translate(images.flip(0)).flip(0), together)
    torch.testing.assert_close(gan.translate(images, batch_size=2), together)
    torch.testing.assert_close(gan.translate(images[2:3]), together[2:3])
    copies = gan.translate(torch.cat([images[1:2], images[:1], images[1:2]]))  # a picture twice in one call
    torch.testing.assert_close(copies[0], together[1])  # the first copy as alone
    assert (copies[2] - copies[0]).abs().mean() > 0.05 * together.abs().mean()  # the second: a draw of its own
    gan.test_dropout = False
    without = gan.translate(images)
    scale = without.abs().mean()
    assert (together - without).abs().mean() > 0.05 * scale  # the noise is on
    gan.test_dropout, gan.translate_seed = True, gan.translate_seed + 1
    assert (gan.translate(images) - together).abs().mean() > 0.05 * scale  # and follows the seed


def test_per_picture_dropout_drops_at_the_layers_rate_and_scales_the_kept_units() -> None:
    net = nn.Sequential(nn.Identity(), nn.Dropout(0.5)).eval()
    ones = torch.ones(4, 8, 16, 16)
    with per_picture_dropout(net, [7, 7, 8, 9]):
        out = net(ones)
    assert set(out.unique().tolist()) == {0.0, 2.0}  # dropped, or kept and scaled by 1 / (1 - p)
    assert abs(float((out > 0).double().mean()) - 0.5) < 0.02
    torch.testing.assert_close(out[0], out[1])  # same seed, same mask
    assert not torch.equal(out[1], out[2])
    assert not net[1].training and net(ones).eq(1).all()  # the hooks are gone and the layer's mode restored


def test_a_run_trained_with_ema_translates_through_it_after_loading(tmp_path) -> None:
    config = {**CONFIG, "train": {**CONFIG["train"], "ema": 0.9}, "eval": {"enabled": False}}
    gf.train(config, out=tmp_path / "run", show_progress=False)
    loaded = gf.load(tmp_path / "run")
    assert loaded.gan.ema_generator is not None and loaded.gan.sampling_generator() is loaded.gan.ema_generator
    ema_state, raw_state = loaded.gan.ema_generator.state_dict(), loaded.gan.generator.state_dict()
    assert any(not torch.equal(ema_state[k], raw_state[k]) for k in ema_state)  # the EMA was saved and restored
    images = torch.rand(2, 1, 32, 32)
    copy = build_pix2pix(loaded.data, width=4, d_width=4)
    copy.generator.load_state_dict(ema_state)
    torch.testing.assert_close(loaded.gan.translate(images), copy.translate(images))


def test_standing_statistics_are_the_average_of_the_batch_statistics() -> None:
    """mu = mean of the chunks' batch means, var = mean of their unbiased variances; momentum and modes kept."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.Dropout(0.5))
    inputs = torch.randn(8, 1, 4, 4) * 2 + 1
    with torch.no_grad():
        net.train()
        net(inputs * 5)  # running statistics far from the inputs'
    net.eval()
    standing_statistics(net, inputs, batch_size=4, dropout=False)
    with torch.no_grad():
        h = [net[0](chunk) for chunk in inputs.split(4)]
    means = torch.stack([t.mean(dim=(0, 2, 3)) for t in h])
    variances = torch.stack([t.transpose(0, 1).reshape(3, -1).var(dim=1) for t in h])
    torch.testing.assert_close(net[1].running_mean, means.mean(0))
    torch.testing.assert_close(net[1].running_var, variances.mean(0))
    assert net[1].momentum == 0.1 and not net.training and not net[2].training


def test_a_standing_run_keeps_statistics_recomputed_for_its_final_weights(tmp_path) -> None:
    """``test_norm: standing``: when the steps are done, the generator's and its EMA copy's batch-norm statistics
    are recomputed over the training inputs (dropout on, as at test), and the final checkpoint holds them."""
    config = {**CONFIG, "model": {**CONFIG["model"], "test_norm": "standing"},
              "train": {**CONFIG["train"], "ema": 0.9}, "eval": {"enabled": False}}
    run = gf.train(config, out=tmp_path / "standing", show_progress=False)
    plain = gf.train({**config, "model": CONFIG["model"]}, out=tmp_path / "running", show_progress=False)
    loaded = gf.load(tmp_path / "standing")
    inputs = run.source.scaler.to_model(run.source.real(STANDING_SAMPLES, seed=STANDING_SEED).x)
    for name in ("generator", "ema_generator"):
        net = getattr(loaded.gan, name)
        expected = build_pix2pix(loaded.data, width=4, d_width=4).generator
        expected.load_state_dict(net.state_dict())
        torch.manual_seed(loaded.gan.translate_seed)
        standing_statistics(expected, inputs)
        trained = getattr(plain.gan, name).state_dict()  # same seed and weights, usual running statistics
        for key, value in net.state_dict().items():
            torch.testing.assert_close(value, expected.state_dict()[key], msg=f"{name}.{key}")
            if key.endswith("running_mean"):
                assert not torch.allclose(value, trained[key]), f"{name}.{key}"
            elif not key.endswith(("running_var", "num_batches_tracked")):  # the weights are the same
                torch.testing.assert_close(value, trained[key], msg=f"{name}.{key}")
    gf.train(config, out=tmp_path / "half", show_progress=False, steps=2)  # its step-2 checkpoint holds standing ones
    resumed = gf.resume(tmp_path / "half", steps=3, show_progress=False)
    for key, value in run.gan.state_dict().items():  # yet the resumed run ends exactly where the whole one did
        torch.testing.assert_close(resumed.gan.state_dict()[key], value, msg=key)
