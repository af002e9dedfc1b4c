"""``spyx.AdaptiveNeuron`` against a float64 NumPy transcription of its documented step (docs/semantics.md,
"The adaptive neuron step"), in both schedules, alone and in a recurrent loop; parameter checks; no NIR."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spyx
from spyx.ir import AdaptiveNeuron, Graph, Input, Linear, Output

N, T, B = 6, 50, 3


def numpy_adaptive(p, xs, w_rec=None):
    """The documented step in float64: (T, B, N) inputs -> spikes, v and a traces. With ``w_rec`` (out, in),
    the node also receives ``w_rec @ s_{t-1}`` (the previous step's spikes through a feedback Linear)."""
    v = np.zeros(xs.shape[1:])
    a = np.zeros_like(v)
    s = np.zeros_like(v)
    outs, vs, as_ = [], [], []
    for x in xs:
        if w_rec is not None:
            x = x + s @ w_rec.T
        u = p["beta"] * v + p["g_x"] * x - s * (p["v_threshold"] + p["b"] * a)
        a = p["rho"] * a + (1 - p["rho"]) * s
        s = (u > p["v_threshold"] + p["b"] * a).astype(float)
        v = u
        outs.append(s)
        vs.append(v)
        as_.append(a)
    return np.stack(outs), np.stack(vs), np.stack(as_)


def params(rng):
    return {
        "beta": rng.uniform(0.5, 1.0, N),
        "g_x": rng.uniform(0.5, 1.5, N),
        "v_threshold": rng.uniform(0.4, 1.0, N),
        "b": rng.uniform(0.0, 2.0, N),
        "rho": rng.uniform(0.5, 0.99, N),
    }


def _run(graph, xs, schedule):
    with jax.enable_x64(True):
        prog = spyx.compile(graph, schedule=schedule)
        out, _, tr = jax.jit(prog.run_traced)(prog.params, xs)
        return np.asarray(out), {k: np.asarray(v) for k, v in tr["n"].items()}


@pytest.mark.parametrize("schedule", ["layer", "step"])
def test_step_matches_numpy(schedule):
    rng = np.random.default_rng(11)
    p = params(rng)
    xs = rng.uniform(-0.3, 1.5, (T, B, N))
    g = Graph.sequential([("n", AdaptiveNeuron(**p))], input_shape=(N,))
    out, tr = _run(g, xs, schedule)
    want_s, want_v, want_a = numpy_adaptive(p, xs)
    assert 0.05 < want_s.mean() < 0.9, "the input should make the neurons fire, but not always"
    assert want_a.max() > 0.1, "the adaptation should move"
    np.testing.assert_array_equal(out, want_s)
    np.testing.assert_allclose(tr["v"], want_v, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tr["a"], want_a, rtol=1e-12, atol=1e-12)


def test_adaptation_raises_the_threshold():
    """b > 0 makes a constantly driven neuron fire less than the same neuron with b = 0."""
    rng = np.random.default_rng(2)
    p = params(rng)
    xs = np.full((T, 1, N), 0.6)
    counts = {}
    for b in (0.0, 1.5):
        q = dict(p, b=np.full(N, b))
        g = Graph.sequential([("n", AdaptiveNeuron(**q))], input_shape=(N,))
        out, _ = _run(g, xs, "layer")
        np.testing.assert_array_equal(out, numpy_adaptive(q, xs)[0])
        counts[b] = out.sum()
    assert counts[1.5] < counts[0.0]


@pytest.mark.parametrize("schedule", ["layer", "step"])
def test_recurrent_loop_matches_numpy(schedule):
    """``x -> n -> rec -> n``: the cycle is cut at the edge leaving the neuron (previous step's spikes)."""
    rng = np.random.default_rng(5)
    p = params(rng)
    w = rng.normal(0, 0.4, (N, N))
    xs = rng.uniform(-0.2, 1.2, (T, B, N))
    g = Graph(
        nodes={
            "x": Input(shape=np.array([N])),
            "n": AdaptiveNeuron(**p),
            "rec": Linear(weight=w),
            "y": Output(shape=np.array([N])),
        },
        edges=(("x", "n"), ("n", "rec"), ("rec", "n"), ("n", "y")),
    )
    out, tr = _run(g, xs, schedule)
    want_s, want_v, want_a = numpy_adaptive(p, xs, w_rec=w)
    assert want_s.sum() > 0
    np.testing.assert_array_equal(out, want_s)
    np.testing.assert_allclose(tr["v"], want_v, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tr["a"], want_a, rtol=1e-12, atol=1e-12)


def test_gradients_reach_every_parameter_through_the_surrogate():
    rng = np.random.default_rng(3)
    p = {k: v.astype(np.float32) for k, v in params(rng).items()}
    g = Graph.sequential([("n", AdaptiveNeuron(**p))], input_shape=(N,))
    prog = spyx.compile(g, surrogate="superspike")
    xs = jnp.asarray(rng.uniform(0, 1.2, (T, B, N)), jnp.float32)
    assert set(prog.params["n"]) == {"beta", "g_x", "v_threshold", "b", "rho"}
    grads = jax.grad(lambda q: jnp.sum(prog.run(q, xs)[0]))(prog.params)
    for name, gr in grads["n"].items():
        assert np.all(np.isfinite(gr)) and np.any(np.asarray(gr) != 0), name


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"b": -np.ones(N)}, "'b'.*>= 0"),
        ({"rho": np.full(N, 1.5)}, "'rho'.*\\[0, 1\\]"),
        ({"v_threshold": np.zeros(N)}, "'v_threshold' must be > 0"),
        ({"beta": np.ones(N + 1)}, "share one shape"),
    ],
)
def test_bad_parameters_are_named(change, message):
    p = dict(params(np.random.default_rng(0)), **change)
    g = Graph.sequential([("adapt", AdaptiveNeuron(**p))], input_shape=p["beta"].shape)
    with pytest.raises(spyx.VerifyError, match=f"adapt.*{message}"):
        spyx.ir.verify(g)


def test_save_raises_export_error_naming_the_node(tmp_path):
    g = Graph.sequential([("adapt", AdaptiveNeuron(**params(np.random.default_rng(0))))], input_shape=(N,))
    path = tmp_path / "g.nir"
    with pytest.raises(
        spyx.ExportError, match=r"node adapt is a spyx.AdaptiveNeuron.*product of two signals"
    ):
        spyx.save(g, path)
    assert not path.exists()
