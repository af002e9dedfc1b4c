"""spyx.nn: Flax-NNX spiking layers with Spyx 1.0's API and numbers, their lowering to the spyx IR, and NIR export.

Every layer documents its equations, step order, state layout and IR/NIR mapping in its docstring; ``docs/nn.md``
collects them. Spyx 1.0 code runs unchanged (``../shared/spyx-api.md`` §2-§4).
"""

from spyx.nn.activity import ActivityRegularization
from spyx.nn.alif import ALIF
from spyx.nn.base import StatefulLayer
from spyx.nn.cuba_lif import CuBaLIF
from spyx.nn.export import export
from spyx.nn.flatten import Flatten
from spyx.nn.from_nir import NIRModule, from_nir
from spyx.nn.integrate_fire import IF
from spyx.nn.li import LI
from spyx.nn.lif import LIF
from spyx.nn.lower import lower
from spyx.nn.pool import SumPool, sum_pool
from spyx.nn.population import PopulationCode
from spyx.nn.psu_lif import PSU_LIF, AssociativeLIF, _leaky_associative_op  # noqa: F401  (used by Spyx 1.0 tests)
from spyx.nn.recurrent import RIF, RLIF, RCuBaLIF
from spyx.nn.run import run
from spyx.nn.sequential import Sequential

__all__ = [
    "ALIF",
    "ActivityRegularization",
    "AssociativeLIF",
    "CuBaLIF",
    "Flatten",
    "IF",
    "LI",
    "LIF",
    "NIRModule",
    "PSU_LIF",
    "PopulationCode",
    "RCuBaLIF",
    "RIF",
    "RLIF",
    "Sequential",
    "StatefulLayer",
    "SumPool",
    "export",
    "from_nir",
    "lower",
    "run",
    "sum_pool",
]
