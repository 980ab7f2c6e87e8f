"""Data-parallel training across processes with ``torch.distributed`` (launched by ``torchrun``).

``torchrun --nproc_per_node N -m ganforge train RECIPE`` starts N processes; each reads ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` from its environment and joins one
process group (gloo on the CPU, NCCL on GPUs, one GPU per process: ``cuda:LOCAL_RANK``). Without those
variables (or with ``WORLD_SIZE=1``) everything here is a no-op and training is exactly single-process.

What one data-parallel step is. ``train.batch_size`` is the *global* batch B; each of the W ranks draws
its own B/W samples, computes its phase loss L_r (a mean over its shard), back-propagates, and the
gradients of the phase's parameters are averaged across ranks before the optimizer step:

    g = (1/W) * sum_r grad L_r(theta)  =  grad of (1/W) * sum_r L_r  =  grad of the loss on the global batch

(for losses that are means over samples with equal shard sizes). Every rank then holds identical
gradients and takes the identical optimizer step, so the replicas never drift apart.

Why gradients are all-reduced explicitly instead of wrapping networks in ``DistributedDataParallel``.
A GAN uses each network in several phases: D runs forward in the generator phase (its weights are not
updated there), G runs forward in the discriminator phase under ``no_grad``, D is called two or three
times per loss (real, fake, gradient penalty). DDP ties one all-reduce to each forward/backward pair of a
wrapped module: it would all-reduce D's unused gradients in the G phase (or need
``find_unused_parameters``), it rejects several forwards before one backward unless the graph is static,
and it does not support the double backward of gradient penalties (``torch.autograd.grad`` with
``create_graph``). Reducing exactly the parameters of the phase's optimizer after ``backward`` works for
every variant the trainer can run, whatever its phases. The cost is that communication does not overlap
the backward pass; it is bucketed (:data:`BUCKET_BYTES`, all buckets launched asynchronously, then
awaited) so it is a handful of collectives per phase.

Data sharding. An :class:`~ganforge.data.base.ArraySource` (finite data) is walked in one shared
permutation, drawn from the data stream that every rank seeds alike; rank r takes the r-th contiguous
slice of each global batch, so the union of the shards *is* the single-process batch and every sample is
seen once per epoch across ranks (what ``DistributedSampler`` does). Any other source (fresh samples from
a distribution) gets a rank-specific data stream: rank r > 0 reseeds it from (seed, r), so ranks draw
independent samples. The global torch RNG (latent noise, dropout) is made rank-specific the same way
after the networks are built (built from the same seed, and broadcast from rank 0 for good measure).

Batch norm. By default each rank normalizes with its own shard's statistics (as DDP does).
``train.sync_batchnorm: true`` computes batch statistics over the global batch: on GPUs with
``torch.nn.SyncBatchNorm``, on the CPU (which ``SyncBatchNorm`` does not support) with
:class:`CrossRankBatchNorm`. Running statistics are kept per rank; rank 0's are the ones checkpointed,
as with DDP's buffer broadcast.

Run folder, checkpoints, resume. Only rank 0 writes (run folder, ``metrics.jsonl``, checkpoints, plots,
summary). A checkpoint also holds every rank's RNG states (and data position for rank-specific streams),
gathered to rank 0; on resume rank 0 reads the checkpoint and broadcasts it, so other nodes need no copy
of the run folder, and each rank restores its own streams. Resuming with a different number of processes
works: ranks without a saved stream derive a fresh one from (seed, rank, step).

Failure. The process group has a timeout (``train.dist_timeout`` seconds): a rank blocked in a
collective whose peer died raises instead of hanging. ``ganforge``'s API destroys the process group it
created on the way out, also on errors, and torchrun stops the remaining workers when one exits with an
error. A stop signal (Ctrl-C, SIGTERM) is agreed on by all ranks at the next logging step, so every rank
stops after the same step and the final checkpoint is consistent.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from ganforge.config import RunConfig
from ganforge.data.base import ArraySource, Batch, DataSource
from ganforge.errors import GanforgeError

T = TypeVar("T")

BUCKET_BYTES = 25 * 2**20  # gradient bucket size, DDP's default
_OWNS_GROUP = False  # True when ganforge created the default process group (and so must destroy it)


# --- the process group ----------------------------------------------------------------------------------
def world_from_env() -> tuple[int, int, int]:
    """``(rank, world_size, local_rank)`` as torchrun sets them; ``(0, 1, 0)`` outside torchrun."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError:
        raise GanforgeError(
            "RANK / WORLD_SIZE / LOCAL_RANK must be integers; launch distributed training with torchrun"
        ) from None
    return rank, world, local


def rank_device(device: torch.device, local_rank: int, world_size: int) -> torch.device:
    """The device of this process: one GPU per process (``cuda:LOCAL_RANK``) when training on GPUs."""
    if device.type == "cuda" and world_size > 1 and device.index is None:
        return torch.device("cuda", local_rank)
    return device


def ensure_process_group(device: torch.device, timeout_s: float = 1800.0) -> bool:
    """Join the process group torchrun describes (idempotent); returns whether training is distributed.

    Backend: NCCL for CUDA devices, gloo otherwise. Rendezvous is ``env://`` (MASTER_ADDR/MASTER_PORT).
    """
    global _OWNS_GROUP
    rank, world, local = world_from_env()
    if world <= 1:
        return False
    if not dist.is_available():
        raise GanforgeError("WORLD_SIZE > 1 but this PyTorch build has no torch.distributed; install a full build")
    if dist.is_initialized():
        return True
    for var in ("MASTER_ADDR", "MASTER_PORT"):
        if var not in os.environ:
            raise GanforgeError(
                f"WORLD_SIZE={world} but {var} is not set; launch with `torchrun --nproc_per_node N -m ganforge "
                "train ...` (torchrun sets the rendezvous variables)"
            )
    backend = "nccl" if device.type == "cuda" else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(rank_device(device, local, world))
    dist.init_process_group(backend, rank=rank, world_size=world, timeout=timedelta(seconds=timeout_s))
    _OWNS_GROUP = True
    return True


def start_distributed(config: RunConfig) -> bool:
    """Join torchrun's process group for a run of ``config`` (its device picks the backend); idempotent."""
    from ganforge.training.trainer import resolve_device  # the trainer imports this module

    return ensure_process_group(resolve_device(config.device), config.train.dist_timeout)


def shutdown_process_group() -> None:
    """Destroy the default process group if ganforge created it (safe to call in any state)."""
    global _OWNS_GROUP
    if _OWNS_GROUP and dist.is_available() and dist.is_initialized():
        try:
            _wait_for_all_ranks()
            dist.destroy_process_group()
        finally:
            _OWNS_GROUP = False
    _OWNS_GROUP = False


def _wait_for_all_ranks(seconds: float = 30.0) -> None:
    """Let every rank reach shutdown before the group is torn down: a rank that destroys gloo's group
    while a peer is still using it can abort the process at exit. Bounded, so a crashed peer cannot
    hang the survivors (gloo's monitored barrier raises after ``seconds``)."""
    import datetime

    try:
        if dist.get_backend() == "gloo":
            dist.monitored_barrier(timeout=datetime.timedelta(seconds=seconds))
        else:
            dist.barrier()
    except Exception:  # noqa: BLE001 - a missing peer only means there is nobody left to wait for
        pass


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def peer_failure(exc: BaseException) -> GanforgeError | None:
    """One line for a torchrun job whose processes lost each other (a peer killed, a connection reset, a
    rendezvous or collective past ``train.dist_timeout``): torch raises ``DistError`` or a gloo
    ``RuntimeError`` with pages of C++ frames. None outside torchrun, or for any other error (a bug stays a
    traceback)."""
    if world_from_env()[1] <= 1 or not isinstance(exc, RuntimeError):
        return None
    text = " ".join(str(exc).split())
    if not (isinstance(exc, dist.DistError) or "gloo" in text.lower() or "connection reset" in text.lower()):
        return None
    return GanforgeError(
        f"the torchrun processes lost each other ({text[:160]}); a peer stopped, or waited longer than "
        "train.dist_timeout; checkpoints written before are intact: rerun the same torchrun command with "
        "`resume RUN` to continue"
    )


def is_main_process() -> bool:
    """Rank 0, or the only process. Also true before the process group exists (decided from the env)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    return world_from_env()[0] == 0


def from_main(compute: Callable[[], T]) -> T:
    """Run ``compute`` on rank 0 only and hand its result (or its user error) to every rank.

    Used for decisions that must be identical everywhere and touch rank 0's file system: the run folder's
    name, the checkpoint to resume from. A :class:`GanforgeError` raised on rank 0 is raised on all ranks,
    so none is left waiting in a collective.
    """
    if not is_distributed():
        return compute()
    payload: list[Any] = [None]
    if dist.get_rank() == 0:
        try:
            payload[0] = ("ok", compute())
        except GanforgeError as exc:
            payload[0] = ("error", str(exc))
        except Exception as exc:  # noqa: BLE001 - any failure must still reach the other ranks
            payload[0] = ("error", f"rank 0 failed: {type(exc).__name__}: {exc}")
    dist.broadcast_object_list(payload, src=0)
    kind, value = payload[0]
    if kind == "error":
        raise GanforgeError(value)
    return value


def derive_seed(seed: int, rank: int, stream: str, step: int = 0) -> int:
    """An independent 63-bit seed for ``stream`` ("torch" or "data") of ``rank`` (SeedSequence hashing)."""
    words = [seed % 2**32, seed // 2**32 % 2**32, rank, step, sum(stream.encode())]
    return int(np.random.SeedSequence(words).generate_state(2, dtype=np.uint64)[0] >> np.uint64(1))


# --- synchronized batch norm ---------------------------------------------------------------------------
class CrossRankBatchNorm(nn.modules.batchnorm._BatchNorm):
    """Batch norm whose training statistics cover the global batch of all ranks; works on the CPU.

    Each rank computes, per channel, its sample count n_r, mean m_r and (biased) variance v_r; one
    autograd-aware all-reduce gathers them (each rank fills its own row of a W x (2C+1) table), and the
    global moments follow from the parallel formulas

        m = sum_r n_r m_r / N,        v = sum_r n_r (v_r + (m_r - m)^2) / N,        N = sum_r n_r,

    stable where sum-of-squares formulas cancel. x is normalized as (x - m) / sqrt(v + eps) * w + b;
    gradients flow through the all-reduce to every rank's inputs. Running statistics use the unbiased
    v N / (N - 1). Outside training, or without a process group, it is ordinary batch norm.
    """

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2-D input (N, C, ...), got {input.dim()}-D")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and is_distributed()):
            return super().forward(x)
        from torch.distributed.nn.functional import all_reduce

        self._check_input_dim(x)
        channels, dims = x.shape[1], [0, *range(2, x.dim())]
        xf = x.float()
        count = torch.full((1,), float(x.numel() // channels), device=x.device)
        row = torch.cat([count, xf.mean(dims), xf.var(dims, unbiased=False)])
        world, rank = dist.get_world_size(), dist.get_rank()
        table = torch.stack([row if r == rank else torch.zeros_like(row) for r in range(world)])
        with warnings.catch_warnings():  # deprecated in favour of a private, non-differentiable API
            warnings.simplefilter("ignore", FutureWarning)
            table = all_reduce(table)
        counts, means, variances = table[:, :1], table[:, 1 : channels + 1], table[:, channels + 1 :]
        total = counts.sum()
        mean = (counts * means).sum(0) / total
        var = (counts * (variances + (means - mean) ** 2)).sum(0) / total
        if self.track_running_stats and self.running_mean is not None and self.running_var is not None:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)  # type: ignore[union-attr]
                momentum = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
                unbiased = var * total / (total - 1).clamp_min(1)
                self.running_mean.lerp_(mean.to(self.running_mean.dtype), momentum)
                self.running_var.lerp_(unbiased.to(self.running_var.dtype), momentum)
        shape = [1, channels] + [1] * (x.dim() - 2)
        y = (xf - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y.to(x.dtype)


def convert_sync_batchnorm(module: nn.Module, device: torch.device) -> nn.Module:
    """Replace every batch norm layer of ``module`` (in place, same parameters) by a synchronized one:
    ``torch.nn.SyncBatchNorm`` on CUDA, :class:`CrossRankBatchNorm` elsewhere."""
    if device.type == "cuda":
        return torch.nn.SyncBatchNorm.convert_sync_batchnorm(module)
    if isinstance(module, nn.modules.batchnorm._BatchNorm) and not isinstance(
        module, (CrossRankBatchNorm, nn.SyncBatchNorm)
    ):
        new = CrossRankBatchNorm(
            module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats
        )
        if module.affine:
            new.weight, new.bias = module.weight, module.bias
        new.running_mean, new.running_var = module.running_mean, module.running_var
        new.num_batches_tracked = module.num_batches_tracked
        new.train(module.training)
        return new
    for name, child in module.named_children():
        converted = convert_sync_batchnorm(child, device)
        if converted is not child:
            setattr(module, name, converted)
    return module


# --- collectives on tensors ---------------------------------------------------------------------------
def _buckets(tensors: Sequence[torch.Tensor], limit: int) -> Iterable[list[torch.Tensor]]:
    """Consecutive runs of same-dtype tensors of at most ``limit`` bytes (one oversized tensor alone)."""
    bucket: list[torch.Tensor] = []
    size = 0
    for t in tensors:
        nbytes = t.numel() * t.element_size()
        if bucket and (size + nbytes > limit or t.dtype != bucket[0].dtype):
            yield bucket
            bucket, size = [], 0
        bucket.append(t)
        size += nbytes
    if bucket:
        yield bucket


def all_reduce_mean(tensors: Sequence[torch.Tensor], bucket_bytes: int = BUCKET_BYTES) -> None:
    """Replace each tensor (in place) by its mean over ranks: t <- (1/W) sum_r t_r. Bucketed: each bucket is
    flattened into one buffer, all buckets are reduced asynchronously, then copied back."""
    if not tensors or not is_distributed():
        return
    scale = 1.0 / dist.get_world_size()
    pending = []
    for bucket in _buckets(tensors, bucket_bytes):
        flat = torch.cat([t.reshape(-1) for t in bucket])
        pending.append((bucket, flat, dist.all_reduce(flat, async_op=True)))
    for bucket, flat, work in pending:
        work.wait()
        flat.mul_(scale)
        offset = 0
        for t in bucket:
            n = t.numel()
            t.copy_(flat[offset : offset + n].view(t.shape))
            offset += n


def any_rank(flag: bool, device: torch.device) -> bool:
    """True if ``flag`` is true on any rank (a collective: every rank must call it)."""
    if not is_distributed():
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


# --- the trainer's helper --------------------------------------------------------------------------------
class RankGroup:
    """This process among the torchrun ranks: what the trainer asks of data parallelism (not torch's
    ``nn.DataParallel``: networks are not wrapped, gradients are averaged per phase). Every method is a
    cheap no-op in a single process.

    Calls, in order: :meth:`prepare` once (before optimizers exist), :meth:`batch` for each real batch,
    :meth:`sync_gradients` after each ``backward``, :meth:`average_logs` / :meth:`should_stop` at logging
    steps, :meth:`gather_state` when saving and :meth:`load_latest` / :meth:`localize_state` when resuming.
    """

    def __init__(self, config: RunConfig, device: torch.device) -> None:
        rank, world, local = world_from_env()
        if world > 1:
            ensure_process_group(device, config.train.dist_timeout)
            rank, world = dist.get_rank(), dist.get_world_size()
        self.rank, self.world_size = rank, world
        self.device = rank_device(device, local, world)
        self.seed = config.seed
        self.sync_batchnorm = config.train.sync_batchnorm
        self.shard_by_index = False

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def local_batch_size(self, global_batch: int) -> int:
        if global_batch % self.world_size:
            raise GanforgeError(
                f"train.batch_size={global_batch} is the global batch and must split evenly over "
                f"{self.world_size} processes; use a multiple of {self.world_size}"
            )
        return global_batch // self.world_size

    def prepare(self, gan: nn.Module, source: DataSource, data_rng: torch.Generator, global_batch: int) -> None:
        """Synchronized batch norm (if asked), identical weights on every rank, rank-specific RNG streams."""
        if not self.enabled:
            return
        self.local_batch_size(global_batch)
        if self.sync_batchnorm:
            convert_sync_batchnorm(gan, self.device)
        with torch.no_grad():
            for t in gan.state_dict().values():
                dist.broadcast(t, src=0)
        self.shard_by_index = isinstance(source, ArraySource) and type(source).batch is ArraySource.batch
        if self.rank > 0:
            torch.manual_seed(derive_seed(self.seed, self.rank, "torch"))
            if not self.shard_by_index:
                data_rng.manual_seed(derive_seed(self.seed, self.rank, "data"))

    def batch(self, source: DataSource, global_batch: int, rng: torch.Generator) -> Batch:
        """This rank's share of the next global batch, on this rank's device."""
        if not self.enabled:
            return source.batch(global_batch, rng).to(self.device)
        n = global_batch // self.world_size
        if self.shard_by_index:
            assert isinstance(source, ArraySource)
            # The permutation is shared (same data stream on every rank); take this rank's slice.
            idx = source._indices(global_batch, rng)[self.rank * n : (self.rank + 1) * n]
            y = None if source.y is None else source.y[idx]
            return Batch(source.scaler.to_model(source.x[idx]), y).to(self.device)
        return source.batch(n, rng).to(self.device)

    def sync_gradients(self, optimizer: torch.optim.Optimizer) -> None:
        """Average the gradients of ``optimizer``'s parameters over ranks (after ``backward``).

        Every rank runs the same phases in the same order, so the same parameters have gradients."""
        if not self.enabled:
            return
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        all_reduce_mean(grads)

    def average_logs(self, logs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Logged scalars averaged over ranks (means over shards = means over the global batch)."""
        if not self.enabled or not logs:
            return logs
        keys = sorted(logs)
        stacked = torch.stack([logs[k].detach().float().reshape(()).to(self.device) for k in keys])
        all_reduce_mean([stacked])
        return dict(zip(keys, stacked.unbind(), strict=True))

    def should_stop(self, requested: bool, at_log_step: bool) -> bool:
        """Whether all ranks stop now: single process at once; distributed at the next logging step,
        where every rank takes part in the agreement (so all stop after the same step)."""
        if not self.enabled:
            return requested
        return any_rank(requested, self.device) if at_log_step else False

    def gather_state(self, state: dict[str, Any]) -> dict[str, Any]:
        """Add every rank's RNG streams (and data position, when not shared) as ``state["ranks"]``.
        A collective: all ranks call it when saving; only rank 0 writes."""
        if not self.enabled:
            return state
        mine: dict[str, Any] = {"rng": state["rng"]}
        if not self.shard_by_index:
            mine["data"] = state["data"]
        entries: list[Any] = [None] * self.world_size
        dist.all_gather_object(entries, mine)
        return {**state, "ranks": entries}

    def localize_state(self, state: dict[str, Any], step: int) -> dict[str, Any]:
        """This rank's view of a loaded state: its own RNG streams and data position. Ranks the
        checkpoint has no entry for (fewer processes then) derive fresh streams from (seed, rank, step)."""
        entries = state.get("ranks") or []
        saved, now = max(1, len(entries)), (self.world_size if self.enabled else 1)
        if saved != now and self.rank == 0:  # 2 -> 1 and 1 -> 2 as well: a different run, said once
            print(f"note: resuming a {saved}-process run with {now} process{'es' * (now > 1)}: the batches and "
                  "random streams differ from the original's, so the result will not repeat it bit for bit",
                  file=sys.stderr, flush=True)
        if not self.enabled:
            return state
        if self.rank < len(entries) and len(entries) == self.world_size:
            mine = entries[self.rank]
            return {**state, "rng": mine["rng"], "data": mine.get("data", state["data"])}
        if self.rank == 0:
            return state
        rng = {
            "torch": torch.Generator().manual_seed(derive_seed(self.seed, self.rank, "torch", step)).get_state(),
            "data": state["rng"]["data"],
        }
        if not self.shard_by_index:
            rng["data"] = torch.Generator().manual_seed(derive_seed(self.seed, self.rank, "data", step)).get_state()
        return {**state, "rng": rng}

    def load_latest(self, run_dir: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Rank 0 reads the newest valid checkpoint of ``run_dir`` and sends it to every rank."""
        from ganforge.training.checkpoint import latest_checkpoint, load_checkpoint

        def read() -> tuple[dict[str, Any], dict[str, Any]] | None:
            info = latest_checkpoint(run_dir)
            return None if info is None else load_checkpoint(info.path)

        return from_main(read)
