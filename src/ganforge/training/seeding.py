"""Seeding and RNG state: what makes CPU runs bit-for-bit repeatable and resumable.

Three streams of randomness: torch's global RNG (weight init, noise z, dropout), the data stream's own
``torch.Generator`` (batch order / fresh samples), and CUDA's RNG when on a GPU. All are saved in every
checkpoint and restored on resume.
"""

from __future__ import annotations

import random

import numpy as np
import torch

DATA_SEED_OFFSET = 1_000_003


def seed_everything(seed: int) -> torch.Generator:
    """Seed python, numpy and torch from ``seed``; return the data stream's generator."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed + DATA_SEED_OFFSET)


def rng_state(data_rng: torch.Generator) -> dict[str, torch.Tensor]:
    state = {"torch": torch.get_rng_state(), "data": data_rng.get_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def set_rng_state(state: dict[str, torch.Tensor], data_rng: torch.Generator) -> None:
    torch.set_rng_state(state["torch"])
    data_rng.set_state(state["data"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])
