"""``spyx.RefractoryLIF``, the worked example of a new kind (docs/architecture.md): its kernel against a
float64 NumPy transcription of its documented step, its ``t_ref = 0`` case against ``spyx.Neuron``, and the
passes that know it only through its traits (rescale, quantize-graph, verify, reorder) doing their job."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import spyx
from spyx.errors import ParameterError
from spyx.ir import Graph, Linear, Neuron
from spyx.ir.refractory import RefractoryLIF
from spyx.passes import run_pipeline
from spyx.passes.quantize import quantize_graph

N, T, B = 5, 60, 2


def numpy_refractory(p, xs):
    """The documented step in float64 on (T, B, N) inputs: spikes and membranes."""
    v = np.zeros(xs.shape[1:])
    c = np.zeros_like(v)
    outs, vs = [], []
    for x in xs:
        free = c <= 0
        u = np.where(free, p["beta"] * v + p["g_x"] * x, v)
        s = np.where(free, (u > p["v_threshold"]).astype(float), 0.0)
        v = np.where(s > 0, p["v_reset"], u)
        c = np.where(s > 0, p["t_ref"], np.maximum(c - 1, 0))
        outs.append(s)
        vs.append(v)
    return np.stack(outs), np.stack(vs)


def _params(rng, t_ref):
    return {
        "beta": rng.uniform(0.6, 0.95, N),
        "g_x": rng.uniform(0.5, 1.5, N),
        "v_threshold": rng.uniform(0.5, 1.0, N),
        "v_reset": rng.uniform(-0.2, 0.1, N),
        "t_ref": np.asarray(t_ref, np.int64),
    }


def _run(graph, xs, schedule="layer"):
    with jax.enable_x64(True):
        prog = spyx.compile(graph, schedule=schedule)
        out, _, tr = jax.jit(prog.run_traced)(prog.params, xs)
        return np.asarray(out), {n: {k: np.asarray(v) for k, v in d.items()} for n, d in tr.items()}


@pytest.mark.parametrize("schedule", ["layer", "step"])
def test_step_matches_numpy(schedule):
    rng = np.random.default_rng(21)
    p = _params(rng, [0, 1, 2, 3, 5])
    xs = rng.uniform(-0.2, 1.2, (T, B, N))
    g = Graph.sequential([("n", RefractoryLIF(**p))], input_shape=(N,))
    out, tr = _run(g, xs, schedule)
    want, v = numpy_refractory(p, xs)
    np.testing.assert_array_equal(out, want)
    np.testing.assert_allclose(tr["n"]["v"], v, rtol=1e-12, atol=1e-12)
    gaps = [np.diff(np.flatnonzero(want[:, 0, j])) for j in range(N)]
    assert all(g.size and g.min() > p["t_ref"][j] for j, g in enumerate(gaps)), "silent for t_ref steps"


def test_without_refractory_period_it_is_a_value_reset_neuron():
    rng = np.random.default_rng(22)
    p = _params(rng, np.zeros(N, np.int64))
    xs = rng.uniform(-0.2, 1.2, (T, B, N))
    ref = Neuron(beta=p["beta"], g_x=p["g_x"], bias=np.zeros(N), v_threshold=p["v_threshold"],
                 v_reset=p["v_reset"], reset="value")
    a, _ = _run(Graph.sequential([("n", RefractoryLIF(**p))], input_shape=(N,)), xs)
    b, _ = _run(Graph.sequential([("n", ref)], input_shape=(N,)), xs)
    np.testing.assert_array_equal(a, b)


def test_passes_know_it_by_its_traits():
    rng = np.random.default_rng(23)
    p = _params(rng, [2] * N)
    g = Graph.sequential([("fc", Linear(weight=rng.normal(0, 1, (N, 3)))), ("n", RefractoryLIF(**p))],
                         input_shape=(3,))
    xs = rng.uniform(0, 1, (T, B, 3))
    base, _ = _run(g, xs)
    assert base.sum() > 5
    # rescale: thresholds to 1, the factor folded into the feeding weights (Population, Levels)
    res = run_pipeline(g, "rescale{threshold=1}")
    assert res.modified and np.allclose(res.graph.nodes["n"].v_threshold, 1.0)
    np.testing.assert_array_equal(_run(res.graph, xs)[0], base)
    # quantize-graph: integer weights, the scale folded into v_threshold and v_reset (Levels)
    q = quantize_graph(g, bits=8, pow2=True)
    w = q.graph.nodes["fc"].weight
    assert q.layers[0].folded_into == ("n",) and np.all(w == np.round(w))
    np.testing.assert_array_equal(_run(q.graph, xs)[0], _run(q.fake_graph, xs)[0])
    # reorder names it by its prefix; verify counts its two state values per neuron
    assert "rlif0" in run_pipeline(g, "reorder{rename=true}").graph.nodes
    with pytest.raises(spyx.SizeError, match="needs 40 bytes of state"):
        spyx.verify(g, max_bytes=39)


def test_parameters_are_checked():
    p = _params(np.random.default_rng(24), [1, -1, 0, 0, 0])
    with pytest.raises(ParameterError, match="t_ref"):
        spyx.verify(Graph.sequential([("n", RefractoryLIF(**p))], input_shape=(N,)))
