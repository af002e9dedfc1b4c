"""The row kernel (spyx/backend/row_kernel.py: the step interpreter of a recurrent layer or an unfused neuron as one
Pallas program per block of batch rows) equals the reference scan of the layer schedule, in Pallas interpret mode
on CPU: spikes exactly, membranes to float rounding, gradients (its backward is the scan's own) to rounding; on the NIR paper's
braille RNN (a CubaLIF with a recurrent Affine) and on random graphs with recurrent cycles, Scale nodes and every
neuron kind; and it lowers to one Triton kernel per group for CUDA."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax._src.lib import version as jaxlib_version

import spyx
from spyx.backend import row_kernel
from tests.graphgen import DT, mlp_graph

BRAILLE = Path(__file__).resolve().parents[2].parent / "shared" / "nir-corpus" / "braille_noDelay_bias_zero.nir"


def _row_groups(prog):
    return [g.names for g in prog.plan.groups if g.kind != "stateless" and row_kernel.row_group(prog.plan, g.names)]


def _compare(ref, fast, x):
    y0, s0 = ref.run(ref.params, x)
    y1, s1 = jax.jit(fast.run)(fast.params, x)
    np.testing.assert_array_equal(np.asarray(y1), np.asarray(y0))  # the spikes
    # the membranes to float rounding: XLA may contract multiply-adds differently in the unrolled kernel body
    jax.tree.map(lambda a, b: np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-6), s1, s0)

    def loss(p, prog):
        y, st = prog.run(p, x)
        return jnp.sum(jnp.tanh(y) * jnp.arange(1, y.shape[-1] + 1)[None, None]) + sum(
            jnp.sum(jnp.tanh(v["v"])) for v in st.values() if "v" in v)

    g0 = jax.grad(loss)(ref.params, ref)
    g1 = jax.jit(jax.grad(loss), static_argnums=1)(fast.params, fast)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6), g1, g0)
    return y0


@pytest.mark.skipif(not BRAILLE.exists(), reason=f"NIR corpus not found at {BRAILLE}")
def test_braille_rnn_row_kernel_equals_scan():
    g = spyx.load(str(BRAILLE))
    ref = spyx.compile(g, dt=1e-4, fused="off")
    fast = spyx.compile(g, dt=1e-4, fused="interpret")
    assert _row_groups(fast) == [("lif1.w_rec", "lif1.lif"), ("lif2",)]  # the recurrent layer and the readout
    # B = 5: one program of 16 rows, 11 of them padding; 38 features padded to 64, 7 to 16
    x = jnp.asarray((np.random.default_rng(0).random((16, 5, 12)) < 0.3).astype(np.float32)) * 3
    y = _compare(ref, fast, x)
    assert 0 < float(jnp.mean(y)) < 1  # the readout spikes


SEEDS = (0, 5, 13)  # recurrent layers in all three, unfused neurons outside cycles in 0 and 13


@pytest.mark.parametrize("seed", SEEDS)
def test_random_recurrent_graphs_row_kernel_equals_scan(seed):
    rng = np.random.default_rng(seed)
    g = mlp_graph(rng, cycles=True, nested=False)
    ref = spyx.compile(g, dt=DT, fused="off")
    fast = spyx.compile(g, dt=DT, fused="interpret")
    (name,) = ref.input_names
    x = jnp.asarray(np.random.default_rng(seed + 1).normal(size=(9, 3, *ref.input_shapes[name])) * 2, jnp.float32)
    y0, _ = ref.run(ref.params, x)
    y1, _ = jax.jit(fast.run)(fast.params, x)
    # the fused cells sum the bias in another order (spyx/backend/fused.py): values to rounding here
    np.testing.assert_allclose(np.asarray(y1), np.asarray(y0), rtol=1e-5, atol=1e-5)

    def loss(p, prog):
        return jnp.sum(jnp.tanh(prog.run(p, x)[0]))

    g0 = jax.grad(loss)(ref.params, ref)
    g1 = jax.jit(jax.grad(loss), static_argnums=1)(fast.params, fast)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5), g1, g0)


def test_random_graphs_exercise_cycles():
    """The seeds above do reach the kernel's cycle branch (a recurrent group)."""
    kinds = set()
    for seed in SEEDS:
        prog = spyx.compile(mlp_graph(np.random.default_rng(seed), cycles=True, nested=False), dt=DT,
                            fused="interpret")
        kinds |= {g.kind for g in prog.plan.groups if g.kind != "stateless" and
                  row_kernel.row_group(prog.plan, g.names)}
    assert kinds == {"cycle", "stateful"}


@pytest.mark.skipif(jaxlib_version > (0, 10, 2),
                    reason="newer jaxlib compiles the Triton module while lowering, which needs the CUDA plugin")
@pytest.mark.skipif(not BRAILLE.exists(), reason=f"NIR corpus not found at {BRAILLE}")
def test_row_kernel_lowers_to_triton_and_grad_uses_the_scan():
    prog = spyx.compile(spyx.load(str(BRAILLE)), dt=1e-4, fused="pallas")
    x = jnp.zeros((8, 5, 12), jnp.float32)
    text = jax.jit(prog.run).trace(prog.params, x).lower(lowering_platforms=("cuda",)).as_text()
    assert text.count("xla.gpu.triton") == 2 and "spyx_row_group" in text
    grad = jax.jit(jax.grad(lambda p: jnp.sum(prog.run(p, x)[0])))
    assert grad.trace(prog.params).lower(lowering_platforms=("cuda",)).as_text().count("xla.gpu.triton") == 0
