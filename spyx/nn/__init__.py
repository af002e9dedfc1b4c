"""spyx.nn: Flax-NNX spiking layers (Spyx design), their lowering to the spyx IR, and NIR export/import.

See ``docs/nn.md`` for every layer's equations, step order, state and NIR mapping.
"""

from spyx.nn.activity import ActivityRegularization
from spyx.nn.alif import ALIF
from spyx.nn.base import Layer
from spyx.nn.cuba_lif import CuBaLIF
from spyx.nn.export import export
from spyx.nn.flatten import Flatten
from spyx.nn.from_nir import NIRModule, from_nir
from spyx.nn.integrate_fire import IF
from spyx.nn.li import LI
from spyx.nn.lif import LIF
from spyx.nn.lower import lower
from spyx.nn.pool import SumPool
from spyx.nn.psu_lif import PSU_LIF
from spyx.nn.recurrent import RIF, RLIF, RCuBaLIF
from spyx.nn.run import run
from spyx.nn.sequential import Sequential

__all__ = [
    "ALIF",
    "ActivityRegularization",
    "CuBaLIF",
    "Flatten",
    "IF",
    "LI",
    "LIF",
    "Layer",
    "PSU_LIF",
    "RCuBaLIF",
    "RIF",
    "RLIF",
    "Sequential",
    "NIRModule",
    "SumPool",
    "from_nir",
    "export",
    "lower",
    "run",
]
