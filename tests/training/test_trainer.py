"""The training loop: repeatable, resumable, and stopping cleanly on non-finite values."""

import pytest
import torch
from torch import nn

import ganforge as gf
from ganforge.errors import GanforgeError
from ganforge.training.checkpoint import latest_checkpoint, load_checkpoint

FAST = ["train.log_every=10", "train.checkpoint_every=20", "model.generator.hidden=[16]",
        "model.discriminator.hidden=[16]", "train.batch_size=32", "monitors.mode_collapse=false"]


def _weights(path) -> dict[str, torch.Tensor]:
    return load_checkpoint(latest_checkpoint(path).path)[0]["model"]


def test_same_seed_same_weights_bit_for_bit(tmp_path) -> None:
    a = gf.train("ring8", steps=40, out=tmp_path / "a", overrides=FAST, show_progress=False)
    b = gf.train("ring8", steps=40, out=tmp_path / "b", overrides=FAST, show_progress=False)
    wa, wb = _weights(a.path), _weights(b.path)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    c = gf.train("ring8", steps=40, seed=1, out=tmp_path / "c", overrides=FAST, show_progress=False)
    assert not all(torch.equal(wa[k], _weights(c.path)[k]) for k in wa)


def test_n_steps_resume_n_steps_equals_2n(tmp_path) -> None:
    sets = [*FAST, "train.ema=0.9", "train.lr_decay=none"]  # a decaying lr depends on the total steps
    full = gf.train("ring8", steps=40, out=tmp_path / "full", overrides=sets, show_progress=False)
    half = gf.train("ring8", steps=20, out=tmp_path / "half", overrides=sets, show_progress=False)
    resumed = gf.resume(half.path, steps=40, show_progress=False)
    assert resumed.step == 40
    wf, wr = _weights(full.path), _weights(half.path)
    assert all(torch.equal(wf[k], wr[k]) for k in wf)
    steps = [r["step"] for r in gf.training.metrics_log.read(half.path / "metrics.jsonl")]
    assert steps == sorted(set(steps)) and steps[-1] == 40


def test_non_finite_loss_stops_with_the_last_good_checkpoint_intact(tmp_path) -> None:
    class Exploding(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(1, 1)
            self.calls = 0

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            self.calls += 1
            out = self.fc(x)
            return out * float("nan") if self.calls > 100 else out  # 3 calls per step: diverges in step 34

    gan = gf.GAN(nn.Linear(1, 1), Exploding(), noise_dim=1)
    with pytest.raises(gf.training.trainer.TrainingDiverged, match="last good checkpoint \\(step 20\\) is intact"):
        gf.train(gan, data=gf.data.normal(10, 1), steps=100, out=tmp_path / "nan", show_progress=False,
                 checkpoint_every=20, batch_size=8)
    assert latest_checkpoint(tmp_path / "nan").step == 20


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without CUDA")
def test_a_cuda_device_without_cuda_is_one_line() -> None:
    """`--set device=cuda` on a CPU-only torch ended in torch's AssertionError from `.to`."""
    from ganforge.training.trainer import resolve_device

    with pytest.raises(GanforgeError, match=r"device: 'cuda' cannot be used: .*use device=cpu"):
        resolve_device("cuda")
    assert resolve_device("cpu").type == "cpu"


def test_lr_hold_keeps_the_rate_for_its_share_then_decays_as_before() -> None:
    """Pix2Pix and CycleGAN keep the rate for half their epochs, then decay it linearly to 0; `linear` alone
    started the decay at step 1 while the recipes' comments said the paper's schedule ran. Hold 0 gives the
    schedules exactly as they were (runs repeat bit for bit)."""
    import math

    from ganforge.training.trainer import lr_factor

    held = lr_factor("linear", 100, 0.0, 0.5)
    assert [held(t) for t in (0, 25, 50, 75, 100, 120)] == [1.0, 1.0, 1.0, 0.5, 0.0, 0.0]
    plain, cosine = lr_factor("linear", 100, 0.01), lr_factor("cosine", 1000, 0.05)
    assert all(plain(t) == 1.0 - (1.0 - 0.01) * min(t, 100) / 100 for t in range(130))
    assert all(cosine(t) == 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(t, 1000) / 1000)) for t in range(1100))
    assert gf.build_config("pix2pix").train.lr_hold == gf.build_config("cyclegan").train.lr_hold == 0.5
