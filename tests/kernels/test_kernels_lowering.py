"""The Pallas kernels lower to Triton for CUDA (on this CPU machine: ``lower(lowering_platforms=("cuda",))``
runs Pallas' Triton lowering, which rejects primitives it has no rule for and tensors whose size is not a power
of 2), forward and backward, for every family and every surrogate's derivative. Compiling and running the
kernels needs the GPU (``benchmarks/fused_kernels.py``)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest
from jax._src.lib import version as jaxlib_version

from spyx.kernels import KernelConfig
from spyx.kernels.cell import NO_SPIKE, spike_fns
from spyx.kernels.alif import ALIF_CELL
from spyx.kernels.cuba_lif import CUBA_LIF_CELL
from spyx.kernels.integrate_fire import IF_CELL
from spyx.kernels.li import LI_CELL
from spyx.kernels.lif import LIF_CELL
from spyx.kernels.psu_lif import PSU_LIF_CELL
from spyx.kernels.sequence import Plan, fused
from spyx.kernels.delayed_reset import DELAYED_SUBTRACT_CELL
from spyx.kernels.value_reset import VALUE_RESET_CELL
from tests.kernels.cases import SURROGATES

pytestmark = pytest.mark.skipif(
    jaxlib_version > (0, 10, 2),
    reason="newer jaxlib compiles the Triton module while lowering, which needs the CUDA plugin",
)

CELLS = {"alif": ALIF_CELL, "lif": LIF_CELL, "if": IF_CELL, "cuba_lif": CUBA_LIF_CELL, "li": LI_CELL,
         "psu_lif": PSU_LIF_CELL, "value_reset": VALUE_RESET_CELL,
         "delayed_subtract": DELAYED_SUBTRACT_CELL}
CASES = [("lif", s) for s in sorted(SURROGATES)]
CASES += [(c, "superspike") for c in ("if", "cuba_lif", "psu_lif", "alif", "value_reset", "delayed_subtract")]
CASES += [("li", None)]


@pytest.mark.parametrize(("cell", "surrogate"), CASES)
def test_lowers_to_triton(cell, surrogate):
    c = CELLS[cell]
    fns = spike_fns(SURROGATES[surrogate]) if surrogate else NO_SPIKE
    plan = Plan(c, fns, "pallas", KernelConfig(block=128, num_warps=4, unroll=8), False)
    t, m = 19, 300  # ragged: padded to 384 lanes, 3 programs
    x = jnp.ones((t, m), jnp.float32)
    states = tuple(jnp.zeros(m, jnp.float32) for _ in c.states)
    params = tuple(jnp.full(m, 0.5, jnp.float32) for _ in c.params)

    def loss(x, states, params):
        y, finals = fused(plan, x, states, params)
        return jnp.sum(y * x) + sum(jnp.sum(f) for f in finals)

    def both(x, states, params):
        return fused(plan, x, states, params), jax.grad(loss, argnums=(0, 1, 2))(x, states, params)

    text = jax.jit(both).trace(x, states, params).lower(lowering_platforms=("cuda",)).as_text()
    # the primal kernel, the forward kernel that stores the states (LI: the same kernel), the backward kernel
    assert text.count("xla.gpu.triton") == 3
    assert f"spyx_{c.name}_forward" in text and f"spyx_{c.name}_backward" in text
