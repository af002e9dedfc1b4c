"""spyx.nn.from_nir on graphs that did not come from spyx.nn: every NIR primitive, nested and multi-input
graphs (tests/graphgen.py). The module driven by spyx.nn.run must equal the compiled program's run."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

import spyx
import spyx.nn as snn
from tests.graphgen import DT, primitive_graphs, random_graph

GRAPHS = [*primitive_graphs(0), *((f"random{s}", random_graph(s)) for s in (1, 4, 7))]


def inputs(prog, seed: int, T: int = 25, B: int = 2):
    keys = jax.random.split(jax.random.key(seed), len(prog.input_names))
    xs = {
        n: (jax.random.uniform(k, (T, B, *prog.input_shapes[n])) < 0.3).astype(jnp.float32)
        for n, k in zip(prog.input_names, keys, strict=True)
    }
    return xs if len(xs) > 1 else next(iter(xs.values()))


@pytest.mark.parametrize("label,graph", GRAPHS, ids=[g[0] for g in GRAPHS])
def test_from_nir_equals_program(label, graph):
    module = snn.from_nir(graph, dt=DT)
    assert jax.tree.leaves(nnx.state(module, nnx.Param)), f"{label}: no trainable parameters exposed"
    prog = spyx.compile(graph, dt=DT)
    x = inputs(prog, 0)
    ref, ref_state = jax.jit(prog.run)(prog.params, x)
    out, state = nnx.jit(snn.run)(module, x)
    for a, b in zip(jax.tree.leaves(out), jax.tree.leaves(ref), strict=True):
        scale = max(1.0, float(jnp.max(jnp.abs(b))))
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=1e-6 * scale, err_msg=label)
    assert jax.tree.structure(state) == jax.tree.structure(ref_state)


def test_imported_params_train():
    graph = dict(GRAPHS)["LIF"]
    module = snn.from_nir(graph, dt=DT, surrogate="superspike")
    x = inputs(module.program, 1)

    def loss(m):
        y, _ = snn.run(m, x)
        return jnp.mean((jnp.mean(y, 0) - 0.2) ** 2)

    opt = nnx.Optimizer(module, optax.adam(1e-2), wrt=nnx.Param)
    before = jax.tree.map(np.asarray, module.param_values())
    value, grads = nnx.value_and_grad(loss)(module)
    assert any(float(jnp.abs(g).sum()) > 0 for g in jax.tree.leaves(nnx.state(grads)))
    opt.update(module, grads)
    after = module.param_values()
    changed = [
        not np.array_equal(a, np.asarray(b))
        for a, b in zip(jax.tree.leaves(before), jax.tree.leaves(after), strict=True)
    ]
    assert any(changed)
