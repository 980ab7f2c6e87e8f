"""ganforge: train, diagnose, evaluate and use generative adversarial networks on PyTorch.

import ganforge as gf
run = gf.train("ring8")                         # a shipped recipe
run = gf.train(gf.GAN(G, D, noise_dim=1), data=gf.data.normal(10, 1), steps=3000)
x = gf.load(run.path).sample(1000)              # samples in the data's own units
"""

from ganforge import data, nets, objectives, training
from ganforge.api import build_config, resume, train
from ganforge.config import RunConfig
from ganforge.errors import GanforgeError
from ganforge.gans.base import GANModel, Phase
from ganforge.gans.vanilla import GAN
from ganforge.runs import Run, load

__version__ = "0.1.0"

__all__ = [
    "GAN",
    "GANModel",
    "GanforgeError",
    "Phase",
    "Run",
    "RunConfig",
    "build_config",
    "data",
    "load",
    "nets",
    "objectives",
    "resume",
    "train",
    "training",
]
