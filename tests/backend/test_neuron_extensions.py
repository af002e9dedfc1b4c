"""The ``spyx.Neuron`` options added for peer profiles (``v0``, ``delayed_reset_on``, ``reset_guard``,
``output_pre_clamp``) against a float64 NumPy transcription of the step in docs/neuron-step.md, on both
schedules. Every case also checks that the option changes the result (otherwise the test could not fail)."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import spyx
from spyx.errors import VerifyError
from spyx.ir import Graph, Neuron

N, T, B = 6, 50, 2


def numpy_step_run(p, o, xs):
    """(T, B, N) -> outputs, v trace. Written from the spec, independent of the kernel."""
    v = np.broadcast_to(p.get("v0", 0.0), xs.shape[1:]).astype(float).copy()
    i = np.zeros(xs.shape[1:])
    s_prev = np.zeros_like(v)
    thr = p.get("v_threshold")
    outs, vs = [], []
    for x in xs:
        v_prev = v
        if o["reset_delay"] and o["reset"] == "value" and o["delayed_reset_on"] == "v":
            v = np.where(s_prev > 0, p["v_reset"], v)
        i_prev = i
        if o["synapse"]:
            i = p["alpha"] * i_prev + p["w_syn"] * x
        u = p["beta"] * v + p["g_x"] * x + p["bias"]
        if o["synapse"]:
            u = u + p["g_prev"] * i_prev + p["g_syn"] * i
        if o["fires"] and o["reset_delay"] and o["reset"] == "subtract":
            u = u - s_prev * thr
        if o["fires"] and o["reset_delay"] and o["reset"] == "value" and o["delayed_reset_on"] == "u":
            u = np.where(s_prev > 0, p["v_reset"], u)
        if o["fires"]:
            w = u - (v_prev > thr) * thr if o["reset_guard"] else u
            s = (w > thr).astype(float) if o["spike_test"] == "gt" else (w >= thr).astype(float)
            if o["spike_count"] == "multi":
                s = np.where(s > 0, np.floor(w / thr), 0.0)
            if o["reset_delay"] or o["reset"] == "none":
                v = u
            elif o["reset"] == "value":
                v = np.where(s > 0, p["v_reset"], u)
            else:
                v = u - s * thr
            s_prev = s
            out = s
        else:
            v = u
        pre = v
        if "v_min" in p:
            v = np.maximum(v, p["v_min"])
        if not o["fires"]:
            out = pre if o["output_pre_clamp"] else v
        outs.append(out)
        vs.append(v)
    return np.stack(outs), np.stack(vs)


BASE = dict(
    synapse=False,
    fires=True,
    spike_test="gt",
    spike_count="binary",
    reset="value",
    reset_delay=False,
    delayed_reset_on="v",
    reset_guard=False,
    output_pre_clamp=False,
)
CASES = {
    "v0": ({}, {"v0": True}),
    "v0_if": ({"v0_only": True}, {"v0": True}),
    "delayed_reset_on_u": ({"reset_delay": True, "delayed_reset_on": "u"}, {}),
    "delayed_reset_on_u_synapse": ({"reset_delay": True, "delayed_reset_on": "u", "synapse": True}, {}),
    "reset_guard_subtract": ({"reset": "subtract", "reset_guard": True}, {"strong": True}),
    # (with multi-spike subtract, v < thr after every reset, so the guard can never act: not a case)
    "reset_guard_ge_synapse": (
        {"reset": "subtract", "reset_guard": True, "spike_test": "ge", "synapse": True},
        {"strong": True},
    ),
    "output_pre_clamp": ({"fires": False, "output_pre_clamp": True}, {"v_min": True}),
}


def _case(name, rng):
    opts_delta, extra = CASES[name]
    o = {**BASE, **{k: v for k, v in opts_delta.items() if k in BASE}}
    p = {
        "beta": rng.uniform(0.6, 0.95, N),
        "g_x": rng.uniform(0.5, 1.5, N),
        "bias": rng.uniform(-0.02, 0.02, N),
        "v_threshold": rng.uniform(0.3, 0.8, N),
        "v_reset": rng.uniform(-0.2, 0.1, N),
    }
    if o["synapse"]:
        p.update(
            alpha=rng.uniform(0.3, 0.9, N),
            w_syn=rng.uniform(0.5, 1.5, N),
            g_prev=rng.uniform(0, 0.3, N),
            g_syn=rng.uniform(0.2, 0.6, N),
        )
    if extra.get("v0"):
        p["v0"] = rng.uniform(-0.5, 0.6, N)
    if extra.get("v_min"):
        p["v_min"] = np.full(N, -0.1)
    scale = 3.0 if extra.get("strong") else 1.0  # u > 2 thr happens: the guard matters
    xs = rng.uniform(-0.6, 1.0, (T, B, N)) * scale
    return p, o, xs


def _run(p, o, xs, schedule):
    node = Neuron(**p, **o)
    g = Graph.sequential([("n", node)], input_shape=(N,))
    with jax.enable_x64(True):
        prog = spyx.compile(g, schedule=schedule)
        out, _, tr = jax.jit(prog.run_traced)(prog.params, xs)
        return np.asarray(out), np.asarray(tr["n"]["v"])


@pytest.mark.parametrize("schedule", ["step", "layer"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_extension_matches_numpy_step(name, schedule):
    rng = np.random.default_rng(sorted(CASES).index(name))
    p, o, xs = _case(name, rng)
    want_out, want_v = numpy_step_run(p, o, xs)
    got_out, got_v = _run(p, o, xs, schedule)
    np.testing.assert_allclose(got_out, want_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got_v, want_v, rtol=1e-12, atol=1e-12)
    # the option is not a no-op on this input
    plain_o = {**o, "delayed_reset_on": "v", "reset_guard": False, "output_pre_clamp": False}
    plain_p = {k: v for k, v in p.items() if k != "v0"}
    base_out, base_v = numpy_step_run(plain_p, plain_o, xs)
    assert not (np.array_equal(base_out, want_out) and np.allclose(base_v, want_v)), name


def test_defaults_keep_the_documented_step():
    node = Neuron(
        beta=np.ones(2), g_x=np.ones(2), bias=np.zeros(2), v_threshold=np.ones(2), v_reset=np.zeros(2)
    )
    assert (node.v0, node.delayed_reset_on, node.reset_guard, node.output_pre_clamp) == (
        None,
        "v",
        False,
        False,
    )


def test_bad_delayed_reset_on_is_a_verify_error():
    node = Neuron(
        beta=np.ones(2),
        g_x=np.ones(2),
        bias=np.zeros(2),
        v_threshold=np.ones(2),
        v_reset=np.zeros(2),
        delayed_reset_on="w",
    )
    with pytest.raises(VerifyError, match="delayed_reset_on"):
        spyx.verify(Graph.sequential([("n", node)], input_shape=(2,)))
