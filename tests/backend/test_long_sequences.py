"""Long sequences (issue 14 item 6): outputs-only and selected outputs, chunked runs that carry the state, streaming
over pieces, checkpointed gradients; for compiled Programs and for spyx.nn.run. The reference is always the plain
one-pass run of the same model; the memory claims are checked on XLA's own buffer assignment."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import spyx
from spyx.errors import ArgumentError
from tests.graphgen import DT, mlp_graph, multi_io_graph

T, B = 45, 3


@pytest.fixture(scope="module")
def prog():
    return spyx.compile(multi_io_graph(np.random.default_rng(3)), dt=DT)


@pytest.fixture(scope="module")
def inputs(prog):
    rng = np.random.default_rng(0)
    return {n: jnp.asarray(rng.normal(size=(T, B, *s)) * 2, jnp.float32) for n, s in prog.input_shapes.items()}


@pytest.mark.parametrize("schedule", ["layer", "step"])
def test_chunked_run_and_stream_equal_one_run(schedule, inputs):
    prog = spyx.compile(multi_io_graph(np.random.default_rng(3)), dt=DT, schedule=schedule)
    want, want_state = prog.run(prog.params, inputs)
    for k in (1, 7, 45, 100):  # 45 = 6*7 + 3 has a partial chunk at 7
        got, state = jax.jit(lambda p, x, k=k: prog.run(p, x, chunk=k))(prog.params, inputs)
        for o in want:
            np.testing.assert_allclose(np.asarray(got[o]), np.asarray(want[o]), rtol=1e-6, atol=1e-6)
        jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6), state, want_state)
    pieces = [{n: x[a:b] for n, x in inputs.items()} for a, b in ((0, 10), (10, 11), (11, 45))]
    s = prog.stream(prog.params, pieces)
    got = [y for y in s]
    for o in want:
        np.testing.assert_allclose(np.concatenate([np.asarray(g[o]) for g in got]), np.asarray(want[o]),
                                   rtol=1e-6, atol=1e-6)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6), s.state, want_state)


def test_selected_outputs_and_traces(prog, inputs):
    full, _ = prog.run(prog.params, inputs)
    one = prog.output_names[1]
    y, _ = prog.run(prog.params, inputs, outputs=one)
    np.testing.assert_array_equal(np.asarray(y), np.asarray(full[one]))
    d, _ = prog.run(prog.params, inputs, outputs=[one])
    assert list(d) == [one]
    _, _, traces = prog.run_traced(prog.params, inputs)
    neuron = sorted(traces)[0]
    _, _, sel = prog.run_traced(prog.params, inputs, nodes=[neuron])
    assert list(sel) == [neuron]
    np.testing.assert_array_equal(np.asarray(sel[neuron]["v"]), np.asarray(traces[neuron]["v"]))
    with pytest.raises(ArgumentError, match=r"no output named 'nope'.*outputs: "):
        prog.run(prog.params, inputs, outputs="nope")
    with pytest.raises(ArgumentError, match=r"no traced neuron named 'nope'"):
        prog.run_traced(prog.params, inputs, nodes="nope")
    with pytest.raises(ArgumentError, match=r"checkpoint=True needs chunk"):
        prog.run(prog.params, inputs, checkpoint=True)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ArgumentError, match=r"chunk must be a positive integer"):
            prog.run(prog.params, inputs, chunk=bad)


def test_checkpointed_gradient_equals_plain_gradient_and_keeps_less_memory():
    prog = spyx.compile(mlp_graph(np.random.default_rng(1), cycles=False, nested=False), dt=DT)
    (name,) = prog.input_names
    x = jnp.asarray(np.random.default_rng(2).normal(size=(600, 2, *prog.input_shapes[name])) * 2, jnp.float32)

    def loss(p, **kw):
        y, _ = prog.run(p, x, **kw)
        return jnp.sum(jnp.tanh(y) ** 2)

    g_ref = jax.grad(loss)(prog.params)
    g_ck = jax.grad(lambda p: loss(p, chunk=50, checkpoint=True))(prog.params)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-5), g_ck, g_ref)

    def temp_bytes(**kw):
        compiled = jax.jit(jax.grad(lambda p: loss(p, **kw))).lower(prog.params).compile()
        return compiled.memory_analysis().temp_size_in_bytes

    plain, ck = temp_bytes(), temp_bytes(chunk=50, checkpoint=True)
    assert ck < plain / 2, (plain, ck)


def _snn(rngs):
    return spyx.nn.Sequential(
        nnx.Linear(4, 16, rngs=rngs), spyx.nn.LIF((16,), rngs=rngs),
        nnx.Linear(16, 3, rngs=rngs), spyx.nn.LI((3,), rngs=rngs),
    )


@pytest.mark.parametrize("schedule", ["step", "layer"])
def test_nn_run_chunked_and_checkpointed_equal_one_run(schedule):
    model = _snn(nnx.Rngs(0))
    x = jnp.asarray(np.random.default_rng(4).normal(size=(50, 2, 4)) * 3, jnp.float32)
    want, want_state = spyx.nn.run(model, x, schedule=schedule)
    got, state = spyx.nn.run(model, x, schedule=schedule, chunk=8)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6, atol=1e-6)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6), state, want_state)

    def loss(m, **kw):
        y, _ = spyx.nn.run(m, x, schedule=schedule, **kw)
        return jnp.sum(y**2)

    g_ref = nnx.grad(loss)(model)
    g_ck = nnx.grad(lambda m: loss(m, chunk=8, checkpoint=True))(model)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6), g_ck, g_ref)
    with pytest.raises(ArgumentError, match="spyx.nn.run: chunk must be"):
        spyx.nn.run(model, x, chunk=0)
