"""Compiled programs on the fused neuron kernels (spyx/backend/fused.py) equal the scan of neuron_step: the
lowered spyx.nn SHD-shape model and NIR-semantics LIF/LI graphs with biases, for the kernels' scan driver and the
Pallas kernel in interpret mode, values and gradients, from zero and from a carried state."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import spyx
from spyx.backend.fused import fusable
from spyx.errors import OptionError
from spyx.ir import LI, LIF, Affine, Graph


def _nn_graph():
    r = nnx.Rngs(0)
    m = spyx.nn.Sequential(nnx.Linear(6, 9, rngs=r), spyx.nn.LIF((9,), rngs=r), nnx.Linear(9, 5, rngs=r),
                           spyx.nn.IF((5,), rngs=r), nnx.Linear(5, 3, rngs=r), spyx.nn.LI((3,), rngs=r))
    return spyx.nn.lower(m, (6,))


def _nir_graph(li=True):
    """Affine -> LIF -> Affine [-> LI] in NIR semantics with leaks (so the lowered neurons have biases)."""
    rng = np.random.default_rng(2)
    F = np.float32

    def full(n, v):
        return np.full(n, v, F)

    nodes = [("fc1", Affine(weight=rng.normal(size=(9, 6)).astype(F), bias=rng.normal(size=9).astype(F) * 0.1)),
             ("lif", LIF(tau=rng.uniform(2e-3, 9e-3, 9).astype(F), r=full(9, 1.5), v_leak=full(9, 0.1),
                         v_threshold=full(9, 0.5), v_reset=full(9, 0))),
             ("fc2", Affine(weight=rng.normal(size=(3, 9)).astype(F), bias=rng.normal(size=3).astype(F) * 0.1))]
    if li:
        nodes.append(("li", LI(tau=full(3, 5e-3), r=full(3, 1), v_leak=full(3, -0.2))))
    return Graph.sequential(nodes, input_shape=(6,))


def _conv_graph():
    """Conv -> IF -> SumPool -> Conv -> IF -> Flatten -> Affine -> IF (cnn_sinabs' pattern, small and ragged): the
    value-reset kernel on [T, B, C, H, W] maps, which it runs channels-last (spyx/backend/fused.py), with per-neuron
    thresholds so that a wrong permutation of the parameters shows."""
    from spyx.ir import IF, Conv2d, Flatten, SumPool2d

    rng = np.random.default_rng(4)
    F = np.float32

    def conv(cin, cout, pad):
        return Conv2d(weight=rng.normal(size=(cout, cin, 3, 3)).astype(F) * 0.6, bias=rng.normal(size=cout).astype(F)
                      * 0.1, stride=1, padding=pad, dilation=1, groups=1)

    def neuron(*shape):
        return IF(r=np.ones(shape, F), v_threshold=rng.uniform(0.5, 1.5, shape).astype(F), v_reset=np.zeros(shape, F))

    nodes = [("c1", conv(2, 3, 1)), ("if1", neuron(3, 6, 5)),
             ("pool", SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0]))),
             ("c2", conv(3, 4, 1)), ("if2", neuron(4, 3, 2)),
             ("flat", Flatten(start_dim=0, end_dim=-1)), ("fc", Affine(weight=rng.normal(size=(5, 24)).astype(F),
                                                                       bias=np.zeros(5, F))),
             ("if3", neuron(5))]
    return Graph.sequential(nodes, input_shape=(2, 6, 5))


# name -> (graph, compile options): the lowered spyx.nn model, and NIR graphs under the profiles whose LIF resets
# by subtraction one step late (spyx1: LIF and LI; snntorch: LIF only)
GRAPHS = {
    "nn": (_nn_graph, {}),
    "spyx1": (_nir_graph, {"dt": 1e-3, "profile": "spyx1"}),
    "snntorch": (lambda: _nir_graph(li=False), {"dt": 1e-3, "profile": "snntorch"}),
    # NIR semantics: the LIF resets to v_reset in the step that crosses (the value-reset kernel), the LI leaks
    "nir": (_nir_graph, {"dt": 1e-3}),
    "conv": (_conv_graph, {"dt": 1.0}),
}
PATTERNS = {"nn": {"lif", "li"}, "spyx1": {"lif", "li"}, "snntorch": {"lif"}, "nir": {"value", "li"}, "conv": {"value"}}


@pytest.mark.parametrize(("graph", "fused"), [("nn", "scan"), ("nn", "interpret"), ("spyx1", "scan"),
                                              ("snntorch", "scan"), ("nir", "scan"), ("nir", "interpret"),
                                              ("conv", "interpret")])
def test_fused_program_equals_scan(graph, fused):
    build, kw = GRAPHS[graph]
    g = build()
    ref = spyx.compile(g, fused="off", **kw)
    fast = spyx.compile(g, fused=fused, **kw)
    patterns = {fusable(n) for n in fast.graph.nodes.values()} - {None}
    assert patterns == PATTERNS[graph], patterns
    (name,) = ref.input_names
    x = jnp.asarray(np.random.default_rng(1).normal(size=(23, 4, *ref.input_shapes[name])) * 2, jnp.float32)

    def loss(p, prog, x, state=None):
        y, st = prog.run(p, x, state)
        weighted = jnp.sum(jnp.tanh(y) * jnp.arange(y.shape[-1])[None, None])
        return weighted + sum(jnp.sum(v["v"] ** 2) for v in st.values() if "v" in v), (y, st)

    _, _, traces = ref.run_traced(ref.params, x)
    # spike rates: the delayed spike state, or (a value reset to 0 without delay) the steps whose membrane was reset
    rates = []
    for n, t in traces.items():
        node = ref.graph.nodes[n]
        if node.fires:
            rates.append(float(jnp.mean(t["s"] if "s" in t else t["v"] == 0)))
    assert rates and all(0.02 < r < 0.98 for r in rates), rates  # the spikes and resets are exercised
    (l_ref, (y_ref, st_ref)), g_ref = jax.value_and_grad(loss, has_aux=True)(ref.params, ref, x)
    (l_f, (y_f, st_f)), g_f = jax.jit(jax.value_and_grad(loss, has_aux=True), static_argnums=1)(fast.params, fast, x)
    np.testing.assert_allclose(np.asarray(y_f), np.asarray(y_ref), rtol=1e-5, atol=1e-5)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5), st_f, st_ref)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4), g_f, g_ref)
    # continuing from the carried state (the delayed spike s is part of it) equals one run
    y2_ref, _ = ref.run(ref.params, x[:7], st_ref)
    y2_f, _ = fast.run(fast.params, x[:7], st_f)
    np.testing.assert_allclose(np.asarray(y2_f), np.asarray(y2_ref), rtol=1e-5, atol=1e-5)


# spyx1: the delayed subtractive reset; nir: the value reset (the conv graph runs the same correction, channels-last)
@pytest.mark.parametrize(("graph", "fused"), [("spyx1", "interpret"), ("nir", "interpret")])
def test_fused_program_from_a_hand_set_state(graph, fused):
    """A state no step leaves (membranes above threshold, carried spikes that disagree with them) gives what the
    scan gives: the kernels run all T steps from the carried v, and the first input corrects the difference."""
    build, kw = GRAPHS[graph]
    g = build()
    ref = spyx.compile(g, fused="off", **kw)
    fast = spyx.compile(g, fused=fused, **kw)
    (name,) = ref.input_names
    rng = np.random.default_rng(5)
    x = jnp.asarray(rng.normal(size=(9, 3, *ref.input_shapes[name])) * 2, jnp.float32)
    state = jax.tree.map(lambda a: jnp.asarray(rng.normal(size=a.shape) * 2, a.dtype), ref.init_state(3))
    state = {n: {k: (a > 0).astype(a.dtype) if k == "s" else a for k, a in st.items()} for n, st in state.items()}
    assert any(bool(jnp.any(st["v"] > 1.5)) for st in state.values())  # above every threshold somewhere

    def loss(p, st, prog):
        y, new = prog.run(p, x, st)
        return jnp.sum(jnp.tanh(y)) + sum(jnp.sum(v["v"] ** 2) for v in new.values() if "v" in v), y

    (_, y_ref), g_ref = jax.value_and_grad(loss, argnums=(0, 1), has_aux=True)(ref.params, state, ref)
    (_, y_f), g_f = jax.value_and_grad(loss, argnums=(0, 1), has_aux=True)(fast.params, state, fast)
    np.testing.assert_allclose(np.asarray(y_f), np.asarray(y_ref), rtol=1e-5, atol=1e-5)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4), g_f, g_ref)


def test_fused_option_is_checked_and_auto_is_off_on_cpu():
    with pytest.raises(OptionError, match="fused must be one of"):
        spyx.compile(_nn_graph(), fused="yes")
    assert spyx.compile(_nn_graph()).plan.fused == "auto"


def test_fused_program_in_bfloat16_equals_scan():
    g = _nn_graph()
    ref = spyx.compile(g, fused="off", dtype=jnp.bfloat16)
    fast = spyx.compile(g, fused="scan", dtype=jnp.bfloat16)
    x = jnp.asarray(np.random.default_rng(3).normal(size=(17, 4, 6)) * 2, jnp.bfloat16)

    def loss(p, prog):
        return jnp.sum(prog.run(p, x)[0].astype(jnp.float32) ** 2)

    y_ref, y_f = ref.run(ref.params, x)[0], fast.run(fast.params, x)[0]
    assert y_f.dtype == jnp.bfloat16
    np.testing.assert_allclose(np.asarray(y_f, np.float32), np.asarray(y_ref, np.float32), rtol=2e-2, atol=2e-2)
    g_ref, g_f = jax.grad(loss)(ref.params, ref), jax.grad(loss)(fast.params, fast)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(np.asarray(a, np.float32), np.asarray(b, np.float32),
                                                         rtol=5e-2, atol=5e-2 * float(jnp.max(jnp.abs(b)))), g_f, g_ref)
