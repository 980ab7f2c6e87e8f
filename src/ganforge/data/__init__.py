"""Real data: built-in distributions and data sets, and loaders for users' files.

``gf.data.normal(10, 1)``, ``gf.data.ring8()``, ``gf.data.sines()``, ``gf.data.sequences(x)``... return data
sources usable with ``gf.train``.
"""

from ganforge.data.base import ArraySource, Batch, DataSource, DistributionSource
from ganforge.data.files import numeric_file
from ganforge.data.registry import build_source, register_source, source_names
from ganforge.data.sequences import sequences, sines
from ganforge.data.toy import grid25, mixture1d, moons, normal, ring8, swissroll, uniform

__all__ = [
    "ArraySource",
    "Batch",
    "DataSource",
    "DistributionSource",
    "build_source",
    "grid25",
    "mixture1d",
    "moons",
    "normal",
    "numeric_file",
    "register_source",
    "ring8",
    "sequences",
    "sines",
    "source_names",
    "swissroll",
    "uniform",
]
