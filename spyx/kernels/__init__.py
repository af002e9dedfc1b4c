"""Fused multi-step neuron kernels: a whole time-major sequence of a neuron layer in one pass, forward and
backward (``docs/kernels.md``).

Each ``*_sequence`` function takes the per-step input currents ``x`` ``[T, B, *hidden]`` (the output of the
preceding stateless layer over the whole sequence) and the initial state, and returns what
``spyx.nn.run(layer, x, state)`` returns for that layer, with a ``jax.custom_vjp`` whose backward is one
reverse pass over ``T``. ``impl="auto"`` runs a Pallas kernel on GPU and a ``lax.scan`` elsewhere
(:mod:`spyx.kernels.dispatch`).

=========================  ==========================================  =====================
function                   layer (``spyx.nn``)                          implementations
=========================  ==========================================  =====================
``lif_sequence``           ``LIF``                                      pallas, scan, autodiff
``if_sequence``            ``IF``                                       pallas, scan, autodiff
``cuba_lif_sequence``      ``CuBaLIF`` (state split into ``V``, ``I``)  pallas, scan, autodiff
``alif_sequence``          ``ALIF`` (state split into ``V``, ``A``)     pallas, scan, autodiff
``li_sequence``            ``LI``                                       pallas, scan, autodiff
``psu_lif_sequence``       ``PSU_LIF``                                  pallas, scan, autodiff
``rif_sequence``           ``RIF``                                      scan, autodiff
``rlif_sequence``          ``RLIF``                                     scan, autodiff
``rcuba_lif_sequence``     ``RCuBaLIF``                                 scan, autodiff
=========================  ==========================================  =====================
"""

from spyx.kernels.alif import alif_sequence
from spyx.kernels.config import KernelConfig
from spyx.kernels.cuba_lif import cuba_lif_sequence
from spyx.kernels.dispatch import IMPLS, resolve_impl
from spyx.kernels.integrate_fire import if_sequence
from spyx.kernels.li import li_sequence
from spyx.kernels.lif import lif_sequence
from spyx.kernels.psu_lif import psu_lif_sequence
from spyx.kernels.recurrent import rcuba_lif_sequence, rif_sequence, rlif_sequence

__all__ = [
    "IMPLS",
    "KernelConfig",
    "alif_sequence",
    "cuba_lif_sequence",
    "if_sequence",
    "li_sequence",
    "lif_sequence",
    "psu_lif_sequence",
    "rcuba_lif_sequence",
    "rif_sequence",
    "rlif_sequence",
    "resolve_impl",
]
