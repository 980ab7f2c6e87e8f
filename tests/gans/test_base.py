"""GANModel's per-step helpers: the fused EMA update, ``frozen``, and log-only work skipped off logging steps."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from ganforge.data.base import Batch
from ganforge.errors import GanforgeError
from ganforge.gans.base import frozen
from ganforge.gans.vanilla import GAN


def _gan(seed: int = 0) -> GAN:
    torch.manual_seed(seed)
    g = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    d = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
    return GAN(g, d, noise_dim=3)


def _reference_ema(ema: nn.Module, net: nn.Module, decay: float) -> None:
    """The per-tensor rule theta_ema <- lerp(theta_ema, theta, 1 - decay); buffers copied."""
    with torch.no_grad():
        for e, p in zip(ema.parameters(), net.parameters(), strict=True):
            e.lerp_(p, 1.0 - decay)
        for e, b in zip(ema.buffers(), net.buffers(), strict=True):
            e.copy_(b)


def _train_generator_a_little(gan: GAN) -> None:
    with torch.no_grad():
        for p in gan.generator.parameters():
            p.add_(torch.randn_like(p))
    gan.generator.train()
    dtype = next(gan.generator.parameters()).dtype
    gan.generator(torch.randn(16, 3, dtype=dtype))  # moves the batch-norm statistics


def test_fused_ema_update_equals_the_per_tensor_rule_bit_for_bit() -> None:
    gan = _gan()
    gan.enable_ema(0.9)
    reference = copy.deepcopy(gan.ema_generator)
    for _ in range(3):
        _train_generator_a_little(gan)
        gan.update_ema()
        _reference_ema(reference, gan.generator, 0.9)
    ours, theirs = gan.ema_generator.state_dict(), reference.state_dict()
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)
    assert not torch.equal(ours["0.weight"], gan.generator.state_dict()["0.weight"])  # an average, not a copy
    assert torch.equal(ours["1.running_mean"], gan.generator.state_dict()["1.running_mean"])


def test_ema_follows_the_networks_after_to_and_after_enable_ema_again() -> None:
    gan = _gan()
    gan.enable_ema(0.5)
    gan.update_ema()  # lists the tensors once
    gan.to(torch.float64)  # new buffer tensors: the cached lists must not be used any more
    _train_generator_a_little(gan)
    gan.update_ema()
    assert gan.ema_generator[1].running_mean.dtype == torch.float64
    assert torch.equal(gan.ema_generator[1].running_mean, gan.generator[1].running_mean)

    gan.generator = nn.Sequential(nn.Linear(3, 2))  # a different generator: EMA must be enabled again
    gan.enable_ema(0.0)  # decay 0: the EMA equals the generator after one update
    with torch.no_grad():
        gan.generator[0].weight.fill_(3.0)
    gan.update_ema()
    assert torch.equal(gan.ema_generator[0].weight, gan.generator[0].weight)


def test_frozen_freezes_and_restores_each_parameter_as_it_was() -> None:
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    net[1].bias.requires_grad_(False)
    before = [p.requires_grad for p in net.parameters()]
    with frozen(net):
        assert not any(p.requires_grad for p in net.parameters())
    assert [p.requires_grad for p in net.parameters()] == before == [True, True, True, False]


def test_scores_only_the_log_reads_are_skipped_off_logging_steps_and_the_loss_is_unchanged() -> None:
    batch = Batch(torch.randn(16, 2), None)
    results = {}
    for logging in (True, False):
        gan = _gan()
        gan.logging_step = logging
        torch.manual_seed(1)
        phase = gan.phases(0)[0]
        results[logging] = gan.phase_loss(phase, batch, 0)
    (loss_on, logs_on), (loss_off, logs_off) = results[True], results[False]
    assert torch.equal(loss_on, loss_off)
    assert {"loss_d", "d_real", "d_fake"} <= logs_on.keys()
    assert "d_real" not in logs_off and "d_fake" not in logs_off and torch.equal(logs_off["loss_d"], logs_on["loss_d"])


def test_phases_are_built_once_and_follow_n_critic() -> None:
    gan = _gan()
    first, second = gan.phases(0), gan.phases(1)
    assert first == second and first[0] is second[0] and first is not second  # a new list of the same phases
    gan.n_critic = 3
    assert gan.phases(2)[0].repeats == 3 and gan._step == 2


def test_sampling_fills_one_output_in_batches_and_refuses_an_impossible_count_at_once() -> None:
    import time

    import pytest

    from ganforge.errors import GanforgeError

    gan = _gan()
    torch.manual_seed(1)
    many = gan.sample(10, batch_size=4)  # three batches written into one tensor
    torch.manual_seed(1)
    gan.eval()
    with torch.no_grad():  # the same latents, batch by batch, each through the generator
        expected = torch.cat([gan.generate(gan.sample_latents(m), None) for m in (4, 4, 2)])
    assert many.shape == (10, 2)
    torch.testing.assert_close(many, expected, rtol=0, atol=0)
    # 10**12 points (8 TB) used to be drawn 4096 at a time for days before the final concatenation failed
    start = time.perf_counter()
    with pytest.raises(GanforgeError, match=r"10{12} samples of shape \(2,\) need 7.45e\+03 GiB") as err:
        gan.sample(10**12)
    assert time.perf_counter() - start < 10 and "\n" not in str(err.value)


def test_sampling_errors_name_the_python_argument_as_well_as_the_flag() -> None:
    """``run.sample(label=1)`` on an unconditional model said only "remove --label", a flag a Python user never
    typed; options of other families name the keyword too."""
    gan = _gan()
    with pytest.raises(GanforgeError, match=r"takes no label \(remove label= / --label\)"):
        gan.sample(3, label=1)
    with pytest.raises(GanforgeError, match=r"^truncation \(--truncation\): this GAN model has no such"):
        gan.sample(3, truncation=0.5)


class _EchoLabels(nn.Module):
    """A conditional generator whose sample is its label: what ``labels_for`` handed it, made visible."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 1)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.fc(z) * 0 + y.float()[:, None]


class _CondD(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb, self.fc = nn.Embedding(4, 1), nn.Linear(1, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.fc(x) + self.emb(y)


def _labels_drawn(gan: GAN, n: int, label: object, **kw: object) -> list[int]:
    return [int(v) for v in gan.sample(n, label=label, **kw)[:, 0]]


def test_labels_may_be_lists_arrays_scalars_and_whole_floats() -> None:
    """A list or numpy array of labels failed in ``int()`` (TypeError), a 0-d tensor in slicing (IndexError);
    each is taken like a tensor or an int, across batch boundaries too."""
    import numpy as np

    gan = GAN(_EchoLabels(), _CondD(), noise_dim=3, num_classes=4)
    assert _labels_drawn(gan, 4, [1, 2, 3, 0]) == [1, 2, 3, 0]
    assert _labels_drawn(gan, 5, np.array([3, 2, 1, 0, 3]), batch_size=2) == [3, 2, 1, 0, 3]
    assert _labels_drawn(gan, 3, torch.tensor(2)) == [2, 2, 2]
    assert _labels_drawn(gan, 2, np.int64(1)) == [1, 1]
    assert _labels_drawn(gan, 2, 3.0) == [3, 3]
    assert _labels_drawn(gan, 3, torch.tensor([[0], [1], [2]])) == [0, 1, 2]  # (N, 1), as datasets store them
    assert _labels_drawn(gan, 2, torch.tensor([1.0, 3.0])) == [1, 3]
    assert _labels_drawn(gan, 2, "2") == [2, 2]


@pytest.mark.parametrize(
    ("label", "message"),
    [
        (3.5, r"^label=3.5: not a whole class number; give a class number 0..3"),
        (True, r"^label=True: not a whole class number"),
        (torch.tensor([1.5, 2.0, 3.0]), r"^label= holds 1.5, not a whole class number"),
        (torch.tensor([True, False, True]), r"^label= holds torch.bool values"),
        ([1, 2], r"^label= gives 2 labels for 3 samples"),
        (["a", "b", "c"], r"^label=\['a', 'b', 'c'\]: not class numbers"),
        (torch.zeros(3, 2, dtype=torch.long), r"^label= has shape \(3, 2\)"),
        ([0, 1, 4], r"^label 4 is out of range; this model has classes 0..3 \(label=\)"),
        (-1, r"^label -1 is out of range"),
        ("cat", r"^label='cat': not a whole class number"),
    ],
)
def test_non_whole_bool_and_misshapen_labels_are_refused(label: object, message: str) -> None:
    """``3.5``, ``True`` and ``tensor([1.5, ...])`` silently became classes 3, 1 and 1."""
    gan = GAN(_EchoLabels(), _CondD(), noise_dim=3, num_classes=4)
    with pytest.raises(GanforgeError, match=message):
        gan.sample(3, label=label)
