"""Defaults chosen from the data and the model, for runs nobody tuned: ``ganforge train my.csv`` and
``gf.train(gf.GAN(G, D, ...), data=...)`` with the user's own networks.

What the tuned low-dimensional recipes (``ring8``, ``grid25``; docs/benchmarks/toy.md) learned, carried
over to data they never saw (measured in docs/benchmarks/untuned_defaults.md):

* Adam with lr 2e-3 and betas (0, 0.9), decayed linearly to 1 % — Adam moves each weight by about lr per
  step, so sharp structure forms quickly and the decay settles it (the DCGAN default 2e-4 leaves a 16-unit
  generator under-dispersed: std 0.85 instead of 1 after 3000 steps on N(10, 1));
* small, deep MLPs (3 x 64) with a weak lazy R1 penalty (0.01 every 8 steps, Mescheder et al. 2018);
* noise of the data's dimension (at least 2), batch 256;
* steps scaled to how fine the data's structure is: ``r`` = median nearest-neighbour distance of a
  standard Gaussian sample of the same size and dimension / that of the standardized data (1 for
  Gaussian-like data, ~8 for a ring of 12 sharp modes, ~25 for the ring8 recipe's), and
  ``steps = 3000 sqrt(r)`` rounded to 500, within [3000, 12000].

Larger networks (images, sequences) keep the DCGAN settings (Adam 2e-4, betas (0.5, 0.999)). Every
choice applies only where the user set nothing in its group (the optimizer, the schedule, the batch, the
steps, each network), and is explained in one line.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from ganforge.config import OptimizerConfig
from ganforge.data.base import ArraySource, DataSource

LOWDIM_KINDS = ("numbers", "points")
SMALL_MODEL_PARAMS = 200_000  # above this a user's GAN is treated as a large (image-sized) model
TUNED_OPTIMIZER = {"name": "adam", "lr": 0.002, "betas": [0.0, 0.9]}
TUNED_SCHEDULE = {"lr_decay": "linear", "lr_final": 0.01}
TUNED_R1 = {"weight": 0.01, "every": 8}
MIN_STEPS, MAX_STEPS, BASE_STEPS = 3000, 12000, 3000
SHARPNESS_ROWS = 5000  # rows used to measure the nearest-neighbour ratio (a k-d tree query, < 0.1 s)


def user_keys(overrides: Iterable[str]) -> set[str]:
    """The dotted keys a list of ``KEY=VALUE`` overrides sets."""
    return {item.partition("=")[0].strip() for item in overrides if "=" in item}


def _touched(keys: set[str], *prefixes: str) -> bool:
    return any(k == p or k.startswith(p + ".") for k in keys for p in prefixes)


def real_rows(source: DataSource, n: int = SHARPNESS_ROWS) -> np.ndarray:
    """Up to ``n`` real samples as a float64 (N, D) table (a fixed seed: the choice is repeatable)."""
    if isinstance(source, ArraySource):
        x = source.x[torch.randperm(len(source), generator=torch.Generator().manual_seed(0))[:n]]
    else:
        x = source.real(n, seed=0).x
    return x.reshape(x.shape[0], -1).double().numpy()


def sharpness(x: np.ndarray) -> float:
    """How much finer the data's structure is than a Gaussian's: the median nearest-neighbour distance of
    a standard normal sample of the same size and dimension over that of the standardized data (ties:
    repeated rows count as distance 0 and are dropped first)."""
    from scipy.spatial import cKDTree

    x = np.unique(x, axis=0)
    if len(x) < 3:
        return 1.0
    std = x.std(axis=0)
    x = (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)
    gauss = np.random.RandomState(0).randn(*x.shape)

    def median_nn(a: np.ndarray) -> float:
        return float(np.median(cKDTree(a).query(a, k=2)[0][:, 1]))

    data_nn = median_nn(x)
    return median_nn(gauss) / data_nn if data_nn > 0 else float(MAX_STEPS)


def steps_for(ratio: float) -> int:
    """``3000 sqrt(r)`` rounded to 500 within [3000, 12000] (see the module docstring)."""
    steps = 500 * round(BASE_STEPS * math.sqrt(max(ratio, 1.0)) / 500)
    return int(min(MAX_STEPS, max(MIN_STEPS, steps)))


def for_user_file(raw: dict[str, Any], source: DataSource, overrides: Iterable[str]) -> tuple[dict[str, Any], str]:
    """The shipped default for a user's numeric file, fitted to that file: returns the updated raw
    config and the one line that explains the choice. Keys named in ``overrides`` are never changed."""
    keys = user_keys(overrides)
    raw = {**raw, "model": dict(raw.get("model") or {}), "train": dict(raw.get("train") or {})}
    if source.kind not in LOWDIM_KINDS or len(source.sample_shape) != 1:
        return raw, ""
    dim = int(source.sample_shape[0])
    rows = len(source) if isinstance(source, ArraySource) else None
    ratio = sharpness(real_rows(source))
    model, train = raw["model"], raw["train"]
    width = 64 if dim <= 4 else 128 if dim <= 16 else 256
    said = []
    if not _touched(keys, "model.noise_dim"):
        model["noise_dim"] = max(2, dim)
    for net, act in (("generator", "relu"), ("discriminator", "leaky_relu")):
        if not _touched(keys, f"model.{net}"):
            model[net] = {"type": "mlp", "hidden": [width] * 3, "activation": act}
    if not _touched(keys, "model.penalties"):
        model["penalties"] = {"r1": dict(TUNED_R1)}
    if not _touched(keys, "train.optimizer", "train.optimizers"):
        train["optimizer"] = dict(TUNED_OPTIMIZER)
    if not _touched(keys, "train.lr_decay", "train.lr_final"):
        train.update(TUNED_SCHEDULE)
    if not _touched(keys, "train.batch_size"):
        train["batch_size"] = int(min(256, rows)) if rows else 256
    if not _touched(keys, "train.steps"):
        train["steps"] = steps_for(ratio)
    said.append(f"{dim}-D data" + (f", {rows} rows" if rows else ""))
    fitted_steps = f"; {train.get('steps')} steps as set" if _touched(keys, "train.steps") else (
        f" -> {train.get('steps')} steps")
    said.append(f"structure {ratio:.1f}x finer than a Gaussian's{fitted_steps}")
    g = model.get("generator", {})
    said.append(f"G/D {g.get('type', '?')} {g.get('hidden', '')}, noise {model.get('noise_dim')}")
    opt = train.get("optimizer", {})
    said.append(
        f"{opt.get('name', 'adam')} lr {opt.get('lr', '?')} betas {tuple(opt.get('betas', ()))}, "
        f"{train.get('lr_decay', 'none')} decay to {train.get('lr_final', 0)}, batch {train.get('batch_size')}"
    )
    penalties = model.get("penalties") or {}
    terms = [f"{k} {v.get('weight')} every {v.get('every', 1)}" for k, v in penalties.items() if isinstance(v, dict)]
    said.append(", ".join(terms) or "no penalty")
    line = "defaults for this data (as the tuned ring8/grid25 recipes; any can be --set): " + "; ".join(said)
    return raw, line


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def for_user_model(
    raw: dict[str, Any], model: torch.nn.Module, source: DataSource, overrides: Iterable[str]
) -> tuple[dict[str, Any], str]:
    """Training settings for a GAN built from the user's own networks (``gf.train(gan, data=...)``):
    small models on numbers/points get the tuned low-dimensional optimizer and schedule (and steps scaled
    to the data unless given); large models keep the DCGAN defaults. Returns (raw config, one line)."""
    keys = user_keys(overrides)
    params = parameter_count(model)
    if source.kind not in LOWDIM_KINDS or params > SMALL_MODEL_PARAMS:
        return raw, (
            f"defaults for a {params:,}-parameter model on {source.kind}: Adam lr 2e-4 betas (0.5, 0.999) "
            "(DCGAN's), constant"
        )
    train = dict(raw.get("train") or {})
    raw = {**raw, "train": train}
    chose = []
    if not _touched(keys, "train.optimizer", "train.optimizers"):
        train["optimizer"] = dict(TUNED_OPTIMIZER)
        chose.append("Adam lr 0.002 betas (0, 0.9)")
    else:  # the user's optimizer (the notes' examples set only the lr): say what fills the keys they left out
        betas = tuple(OptimizerConfig().betas)
        chose.append(f"your optimizer settings over the run's default Adam (betas {betas}), not the tuned one")
    if not _touched(keys, "train.lr_decay", "train.lr_final"):
        train.update(TUNED_SCHEDULE)
        chose.append("linear decay to 1 %")
    if not _touched(keys, "train.steps"):
        train["steps"] = steps_for(sharpness(real_rows(source)))
        chose.append(f"{train['steps']} steps")
    if not chose:
        return raw, ""
    return raw, (
        f"defaults for a small model ({params:,} parameters) on {source.kind}, as the tuned recipes: "
        + ", ".join(chose)
    )


def image_line(source: DataSource, steps: int, batch_size: int) -> str:
    """The line ``ganforge train my_images/`` prints: how many pictures, the sizes they were stored at and
    the size they train at, the channels (and how many pictures were converted to them), steps and batch.
    Nothing is fitted to pictures (the images recipe is digits-dcgan's DCGAN); the line says what was done."""
    info = source.info
    channels, side = int(source.sample_shape[0]), int(source.sample_shape[-1])
    stored = info.get("stored_sizes") or []
    sizes = f" stored at {' to '.join(stored)}" if stored else ""  # the smallest and the largest
    converted = int(info.get("converted") or 0)
    kind = "RGB" if channels == 3 else "grayscale"
    return (
        f"images: {len(source)} pictures{sizes} -> {side}x{side} {kind}"
        + (f" ({converted} converted to {kind})" if converted else "")
        + f"; {steps} steps, batch {batch_size} (any can be --set)"
    )
