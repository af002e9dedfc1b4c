"""``spyx.Neuron`` options against a NumPy transcription of the step in docs/semantics.md, and the exact
discretisation against closed-form solutions of each NIR neuron's ODE under constant input."""

from __future__ import annotations

import itertools

import jax
import numpy as np
import pytest

import spyx
from spyx.ir import IF, LI, LIF, CubaLI, CubaLIF, Graph, I, Neuron

N, T, B = 5, 60, 3


def numpy_neuron(p, opts, xs):
    """The documented step, written out in float64: (T, B, N) inputs -> outputs, v trace."""
    v = np.zeros(xs.shape[1:])
    i = np.zeros_like(v)
    s_prev = np.zeros_like(v)
    outs, vs = [], []
    for x in xs:
        if opts["reset_delay"] and opts["reset"] == "value":
            v = np.where(s_prev > 0, p["v_reset"], v)
        i_prev = i
        if opts["synapse"]:
            i = p["alpha"] * i_prev + p["w_syn"] * x
        u = p["beta"] * v + p["g_x"] * x + p["bias"]
        if opts["synapse"]:
            u = u + p["g_prev"] * i_prev + p["g_syn"] * i
        if opts["reset_delay"] and opts["reset"] == "subtract":
            u = u - s_prev * p["v_threshold"]
        if opts["fires"]:
            thr = p["v_threshold"]
            test = u > thr if opts["spike_test"] == "gt" else u >= thr
            if opts["spike_count"] == "binary":
                s = test.astype(float)
            else:
                s = np.where(test, np.floor(u / thr), 0.0)
                if opts["max_spikes"]:
                    s = np.minimum(s, opts["max_spikes"])
            if opts["reset_delay"] or opts["reset"] == "none":
                v = u
            elif opts["reset"] == "value":
                v = np.where(s > 0, p["v_reset"], u)
            else:
                v = u - s * thr
            s_prev = s
        else:
            v = u
        if "v_min" in p:
            v = np.maximum(v, p["v_min"])
        outs.append(s if opts["fires"] else v)
        vs.append(v)
    return np.stack(outs), np.stack(vs)


OPTION_SETS = [
    dict(
        synapse=syn,
        fires=True,
        spike_test=test,
        spike_count=count,
        max_spikes=cap,
        reset=reset,
        reset_delay=delay,
    )
    for syn, test, (count, cap), reset, delay in itertools.product(
        (False, True),
        ("gt", "ge"),
        (("binary", 0), ("multi", 0), ("multi", 2)),
        ("value", "subtract", "none"),
        (False, True),
    )
] + [
    dict(
        synapse=syn,
        fires=False,
        spike_test="gt",
        spike_count="binary",
        max_spikes=0,
        reset="none",
        reset_delay=False,
    )
    for syn in (False, True)
]


def _params(rng, opts, clamp):
    p = {
        "beta": rng.uniform(0.5, 1.0, N),
        "g_x": rng.uniform(0.2, 1.5, N),
        "bias": rng.uniform(-0.05, 0.05, N),
        "v_threshold": rng.uniform(0.4, 1.0, N),
        "v_reset": rng.uniform(-0.2, 0.1, N),
    }
    if opts["synapse"]:
        p.update(
            alpha=rng.uniform(0.3, 0.9, N),
            w_syn=rng.uniform(0.5, 1.5, N),
            g_prev=rng.uniform(0, 0.5, N),
            g_syn=rng.uniform(0, 0.5, N),
        )
    if clamp:
        p["v_min"] = rng.uniform(-0.5, -0.1, N)
    return p


def test_neuron_options_match_the_spec():
    """Every option combination (with and without clamp) as parallel neurons of one graph, one compile."""
    rng = np.random.default_rng(7)
    from spyx.ir import Input, Output

    nodes, edges, want = {"x": Input(shape=np.array([N]))}, [], {}
    xs = rng.uniform(-0.5, 1.5, (T, B, N))
    for k, (opts, clamp) in enumerate(itertools.product(OPTION_SETS, (False, True))):
        p = _params(rng, opts, clamp)
        nodes[f"n{k}"] = Neuron(**p, **opts)
        nodes[f"o{k}"] = Output(shape=np.array([N]))
        edges += [("x", f"n{k}"), (f"n{k}", f"o{k}")]
        want[k] = numpy_neuron(p, opts, xs)
        if opts["fires"]:
            assert want[k][0].sum() > 0, opts  # every spiking variant spikes on this input
    with jax.enable_x64(True):
        prog = spyx.compile(Graph(nodes=nodes, edges=tuple(edges)), schedule="step")
        out, _, tr = jax.jit(prog.run_traced)(prog.params, xs)
        for k, (want_out, want_v) in want.items():
            np.testing.assert_allclose(
                np.asarray(out[f"o{k}"]), want_out, rtol=1e-12, atol=1e-12, err_msg=str(k)
            )
            np.testing.assert_allclose(
                np.asarray(tr[f"n{k}"]["v"]), want_v, rtol=1e-12, atol=1e-12, err_msg=str(k)
            )


# -- closed forms under constant input -------------------------------------------------------------------
DT, K = 1e-3, 50
TS = np.arange(1, K + 1) * DT


def _run_const(node, x, method="exact"):
    g = Graph.sequential([("n", node)], input_shape=(len(x),))
    with jax.enable_x64(True):
        prog = spyx.compile(g, dt=DT, method=method)
        xs = np.broadcast_to(np.asarray(x, dtype=np.float64), (K, 1, len(x)))
        _, _, tr = jax.jit(prog.run_traced)(prog.params, xs)
        return np.asarray(tr["n"]["v"])[:, 0]


def f64(*vals):
    return np.array(vals, dtype=np.float64)


def test_lif_and_li_exact_closed_form():
    tau, r, vl, x = f64(5e-3, 20e-3), f64(1.5, 0.7), f64(0.1, -0.2), f64(0.3, 0.8)
    expect = (vl + r * x)[None] * (1 - np.exp(-TS[:, None] / tau[None]))
    lif = LIF(tau=tau, r=r, v_leak=vl, v_threshold=f64(100, 100), v_reset=f64(0, 0))
    np.testing.assert_allclose(_run_const(lif, x), expect, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(_run_const(LI(tau=tau, r=r, v_leak=vl), x), expect, rtol=1e-12, atol=1e-14)


def test_lif_euler_closed_form():
    tau, r, vl, x = f64(5e-3), f64(1.5), f64(0.1), f64(0.3)
    expect = (vl + r * x)[None] * (1 - (1 - DT / tau[None]) ** np.arange(1, K + 1)[:, None])
    np.testing.assert_allclose(_run_const(LI(tau=tau, r=r, v_leak=vl), x, "euler"), expect, rtol=1e-12)


def test_i_and_if_closed_form():
    r, x = f64(2.0, 50.0), f64(0.5, -0.3)
    expect = (r * x)[None] * TS[:, None]
    np.testing.assert_allclose(_run_const(I(r=r), x), expect, rtol=1e-12)
    node = IF(r=r, v_threshold=f64(1e3, 1e3), v_reset=f64(0, 0))
    np.testing.assert_allclose(_run_const(node, x), expect, rtol=1e-12)


def _cuba_closed_form(ts, tm, r, vl, w, x, t):
    """v(t) from v(0) = I(0) = 0 under constant x; the equal-tau limit where ts == tm."""
    drive = r * w * x
    base = (vl + drive) * (1 - np.exp(-t / tm))
    if ts == tm:
        return base - drive * (t / tm) * np.exp(-t / tm)
    # ts/(ts-tm) (e^{-t/ts} - e^{-t/tm}), written with expm1 so that nearly equal taus do not cancel
    return base - drive * ts * np.exp(-t / tm) * np.expm1(t * (ts - tm) / (ts * tm)) / (ts - tm)


@pytest.mark.parametrize(
    ("ts", "tm"),
    [(2e-3, 8e-3), (8e-3, 2e-3), (5e-3, 5e-3), (5e-3, 5e-3 * (1 + 1e-9)), (5e-3, 5e-3 * (1 + 1e-5))],
)
def test_cuba_exact_closed_form(ts, tm):
    r, vl, w, x = 1.3, 0.05, 1.7, 0.6
    expect = np.array([_cuba_closed_form(ts, tm, r, vl, w, x, t) for t in TS])
    kw = dict(tau_syn=f64(ts), tau_mem=f64(tm), r=f64(r), v_leak=f64(vl), w_in=f64(w))
    np.testing.assert_allclose(_run_const(CubaLI(**kw), f64(x))[:, 0], expect, rtol=1e-9, atol=1e-13)
    lif = CubaLIF(**kw, v_threshold=f64(100), v_reset=f64(0))
    np.testing.assert_allclose(_run_const(lif, f64(x))[:, 0], expect, rtol=1e-9, atol=1e-13)


def test_cuba_euler_is_forward_euler():
    ts, tm, r, vl, w, x = 2e-3, 8e-3, 1.3, 0.05, 1.7, 0.6
    i = v = 0.0
    expect = []
    for _ in range(K):
        i, v = i + DT / ts * (-i + w * x), v + DT / tm * (vl - v + r * i)
        expect.append(v)
    kw = dict(tau_syn=f64(ts), tau_mem=f64(tm), r=f64(r), v_leak=f64(vl), w_in=f64(w))
    np.testing.assert_allclose(_run_const(CubaLI(**kw), f64(x), "euler")[:, 0], expect, rtol=1e-12)
