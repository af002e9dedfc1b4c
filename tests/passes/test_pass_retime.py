"""retime: closed-form step responses of LI and CubaLI sampled at common times, exact composition of
steps for any linear neuron, LIF spike times converging with dt, Shift/Delay rules, dt bookkeeping."""

from __future__ import annotations

import numpy as np
import pytest

from spyx.errors import MissingDtError, OptionError, PassError, SpyxError
from spyx.ir import Delay, Neuron, Shift
from spyx.passes import parse_pipeline, run_pipeline
from spyx.passes.retime import DT_KEY, Retime, retime_neuron
from tests.passes.passes_graphs import chain

F8 = np.float64


def simulate(node: Neuron, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Float64 reference of docs/neuron-step.md for one population (value reset, binary gt, no delay):
    returns (membrane after each step, spikes)."""
    p = {k: v.astype(F8) for k, v in node.params().items()}
    v = np.zeros(node.shape)
    i = np.zeros(node.shape)
    vs, ss = [], []
    for xt in x:
        i_prev = i
        u = p["beta"] * v + p["g_x"] * xt + p["bias"]
        if node.synapse:
            i = p["alpha"] * i_prev + p["w_syn"] * xt
            u = u + p["g_prev"] * i_prev + p["g_syn"] * i
        s = (u > p["v_threshold"]).astype(F8) if node.fires else np.zeros_like(u)
        v = np.where(s > 0, p["v_reset"], u) if node.fires else u
        vs.append(v)
        ss.append(s)
    return np.array(vs), np.array(ss)


def li_exact(dt, tau, r, leak=0.0):
    beta = np.exp(-dt / tau)
    return Neuron(beta=beta, g_x=r * (1 - beta), bias=(1 - beta) * leak, fires=False)


def cubali_exact(dt, ts, tm, r, w):
    """Zero-order-hold discretisation of tau_s i' = -i + w x, tau_m v' = -v + r i (derived by hand)."""
    a, b = np.exp(-dt / ts), np.exp(-dt / tm)
    k = ts * (a - b) / (ts - tm)
    return Neuron(
        beta=b,
        g_x=r * w * ((1 - b) - k),
        bias=np.zeros_like(b),
        alpha=a,
        w_syn=w * (1 - a),
        g_prev=r * k,
        g_syn=np.zeros_like(b),
        synapse=True,
        fires=False,
    )


TAU = np.array([2e-3, 5e-3, 20e-3])
R = np.array([0.5, 1.0, 3.0])


@pytest.mark.parametrize("dt_new", [2e-3, 5e-4, 1.5e-3, 3e-3])
def test_li_step_response_matches_closed_form_after_retime(dt_new):
    dt0, leak = 1e-3, np.array([0.0, 0.1, -0.2])
    node = retime_neuron(li_exact(dt0, TAU, R, leak), dt_new / dt0)
    steps = 40
    v, _ = simulate(node, np.ones((steps, 3)))
    t = dt_new * np.arange(1, steps + 1)[:, None]
    exact = (leak + R) * (1 - np.exp(-t / TAU))  # v(0) = 0, v(inf) = v_leak + r x
    np.testing.assert_allclose(v, exact, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("dt_new", [2e-3, 5e-4, 2.5e-3])
def test_cubali_step_response_matches_closed_form_after_retime(dt_new):
    dt0, ts, tm, w = (
        1e-3,
        np.array([1e-3, 4e-3, 5e-3]),
        np.array([5e-3, 2e-3, 5.0001e-3]),
        np.array([1.0, 2.0, 0.5]),
    )
    base = cubali_exact(dt0, ts, tm, R, w)
    steps = 30
    for node, dt in ((base, dt0), (retime_neuron(base, dt_new / dt0), dt_new)):
        v, _ = simulate(node, np.ones((steps, 3)))
        t = dt * np.arange(1, steps + 1)[:, None]
        exact = R * w * (1 - (ts * np.exp(-t / ts) - tm * np.exp(-t / tm)) / (ts - tm))
        np.testing.assert_allclose(v, exact, rtol=1e-8, atol=1e-10)


def test_integer_ratio_equals_composed_steps_for_any_linear_neuron():
    """For input held over each coarse step, q fine steps == 1 coarse step, for arbitrary parameters."""
    rng = np.random.default_rng(0)
    n, q = 5, 3
    u = lambda lo, hi: rng.uniform(lo, hi, n)  # noqa: E731
    node = Neuron(
        beta=u(0.5, 1.0),
        g_x=u(-1, 1),
        bias=u(-0.1, 0.1),
        alpha=u(0.3, 0.99),
        w_syn=u(0.5, 2),
        g_prev=u(-1, 1),
        g_syn=u(0, 1),
        synapse=True,
        fires=False,
    )
    x = rng.standard_normal((20, n))
    fine, _ = simulate(node, np.repeat(x, q, axis=0))
    coarse, _ = simulate(retime_neuron(node, q), x)
    np.testing.assert_allclose(coarse, fine[q - 1 :: q], rtol=1e-10, atol=1e-12)
    # and back: the fractional power q then 1/q gives the parameters again
    back = retime_neuron(retime_neuron(node, q), 1 / q)
    for k, v in node.params().items():
        np.testing.assert_allclose(getattr(back, k), v, rtol=1e-9, atol=1e-12, err_msg=k)


def test_integrator_gain_scales_with_the_step():
    node = Neuron(beta=np.ones(2), g_x=np.array([0.2, 1.0]), bias=np.array([0.0, 0.01]), fires=False)
    new = retime_neuron(node, 3.0)
    np.testing.assert_array_equal(new.beta, [1.0, 1.0])
    np.testing.assert_allclose(new.g_x, [0.6, 3.0])
    np.testing.assert_allclose(new.bias, [0.0, 0.03])


def test_lif_spike_times_converge_to_the_continuous_solution():
    tau, r, x, thr = 10e-3, 1.0, 1.7, 1.0
    t_star = tau * np.log(r * x / (r * x - thr))  # v(t) = r x (1 - exp(-t / tau)) reaches thr, reset to 0
    dt0 = 1e-3
    beta = np.exp(-dt0 / tau)
    base = Neuron(beta=[beta], g_x=[r * (1 - beta)], bias=[0.0], v_threshold=[thr], v_reset=[0.0])
    errors = []
    for dt in (1e-3, 5e-4, 2.5e-4, 1.25e-4, 6.25e-5):
        node = retime_neuron(base, dt / dt0)
        _, s = simulate(node, np.full((int(0.05 / dt), 1), x))
        times = (np.flatnonzero(s[:, 0]) + 1) * dt
        exact = t_star * np.arange(1, 4)
        err = np.abs(times[:3] - exact)
        assert np.all(err <= np.arange(1, 4) * dt + 1e-12), (dt, times[:3], exact)
        errors.append(err.max())
    # the n-th spike lags by less than n steps, so the error vanishes with dt (here 0.13 ms -> < 0.19 ms / 3)
    assert errors[-1] <= 3 * 6.25e-5 < errors[0], errors


def test_discrete_graph_shift_and_metadata():
    g = chain(
        (
            "n",
            Neuron(
                beta=np.full(2, 0.9, np.float32),
                g_x=np.full(2, 0.1, np.float32),
                bias=np.zeros(2, np.float32),
                fires=False,
            ),
        ),
        ("d", Shift(steps=np.array([4, 2]))),
        metadata={DT_KEY: 1e-3},
    )
    r = run_pipeline(g, "retime{dt=2e-3}")
    assert r.modified and r.graph.metadata[DT_KEY] == 2e-3
    np.testing.assert_array_equal(r.graph.nodes["d"].steps, [2, 1])
    assert r.graph.nodes["d"].steps.dtype == g.nodes["d"].steps.dtype
    assert r.graph.nodes["n"].beta.dtype == np.float32
    np.testing.assert_allclose(r.graph.nodes["n"].beta, 0.81, rtol=1e-6)
    with pytest.raises(PassError, match=r"node d \(spyx.Shift\).*whole number"):
        run_pipeline(g, "retime{dt=3e-3}")
    same = run_pipeline(g, "retime{dt=1e-3}")
    assert not same.modified and same.graph is g


def test_discrete_graph_needs_an_old_dt():
    g = chain(("d", Shift(steps=np.array([2, 2]))))
    with pytest.raises(PassError, match="from_dt"):
        run_pipeline(g, "retime{dt=1e-3}")
    with pytest.raises(MissingDtError):
        Retime(dt=1e-3)(g)
    r = run_pipeline(g, "retime{dt=2e-3,from_dt=1e-3}")
    np.testing.assert_array_equal(r.graph.nodes["d"].steps, [1, 1])
    g2 = r.graph
    with pytest.raises(OptionError, match="contradicts"):
        Retime(dt=1e-3, from_dt=5e-4)(g2)


def test_continuous_graph_records_dt_and_checks_delays():
    g = chain(("d", Delay(delay=np.array([2e-3, 4e-3], dtype=np.float32))))
    r = run_pipeline(g, "retime{dt=1e-3}")
    assert r.modified and r.graph.metadata[DT_KEY] == 1e-3
    assert r.graph.nodes == g.nodes and r.graph.edges == g.edges
    again = run_pipeline(r.graph, "retime{dt=1e-3}")
    assert not again.modified
    with pytest.raises(PassError, match=r"node d \(Delay\): delay at dt=0.0015"):
        run_pipeline(g, "retime{dt=1.5e-3}")


def test_options_are_checked():
    with pytest.raises(OptionError, match="missing 1 required keyword-only argument: 'dt'"):
        parse_pipeline("retime")
    with pytest.raises(OptionError, match="dt > 0"):
        parse_pipeline("retime{dt=-1}")
    with pytest.raises(OptionError, match="expects float"):
        parse_pipeline("retime{dt=fast}")


def step_matrix(node: Neuron) -> np.ndarray:
    """The per-step affine map of a neuron's reset-free dynamics on (i, v, x, 1), per element."""
    p = {k: v.astype(F8).reshape(-1) for k, v in node.params().items()}
    n = p["beta"].size
    e = np.zeros((n, 4, 4))
    e[:, 2, 2] = e[:, 3, 3] = 1.0
    e[:, 1, 1], e[:, 1, 3] = p["beta"], p["bias"]
    e[:, 1, 2] = p["g_x"]
    if node.synapse:
        e[:, 0, 0], e[:, 0, 2] = p["alpha"], p["w_syn"]
        e[:, 1, 0] = p["g_prev"] + p["g_syn"] * p["alpha"]
        e[:, 1, 2] += p["g_syn"] * p["w_syn"]
    return e


def _graphs():
    from tests.graphgen import primitive_graphs, random_graph

    for kind, g in primitive_graphs():
        yield pytest.param(g, id=f"prim-{kind}")
    for s in (0, 1, 2, 3, 5, 8):
        yield pytest.param(random_graph(s), id=f"seed{s}")


@pytest.mark.parametrize("graph", list(_graphs()))
def test_retime_commutes_with_exact_discretisation(graph):
    """retime{dt=2 DT} of the graph discretised at DT == the graph discretised at 2 DT (same step maps)."""
    from spyx.backend import lower
    from tests.graphgen import DT
    from tests.passes.test_pass_contracts import widen

    g = widen(graph)
    fine = lower(g, dt=DT)
    fine = fine.__class__(nodes=fine.nodes, edges=fine.edges, metadata={**fine.metadata, DT_KEY: DT})
    try:
        coarse = lower(g, dt=2 * DT)
    except SpyxError as e:  # delays of an odd number of steps have no 2 DT form; retime must refuse too
        with pytest.raises(PassError, match="whole number"):
            run_pipeline(fine, f"retime{{dt={2 * DT}}}")
        assert "whole number" in str(e)
        return
    retimed = run_pipeline(fine, f"retime{{dt={2 * DT}}}").graph
    assert list(retimed.nodes) == list(coarse.nodes)
    for name, node in coarse.nodes.items():
        got = retimed.nodes[name]
        if node.kind == "spyx.Neuron":
            np.testing.assert_allclose(
                step_matrix(got), step_matrix(node), rtol=1e-9, atol=1e-12, err_msg=name
            )
        elif node.kind == "spyx.Shift":
            np.testing.assert_array_equal(got.steps, node.steps)
        else:
            assert got == node, name


def test_retime_golden(golden):
    from spyx.ir import to_text
    from tests.passes.passes_graphs import neuron

    g = chain(("n", neuron(2, synapse=True)), ("d", Shift(steps=np.array([2, 4]))), metadata={DT_KEY: 1e-3})
    r = run_pipeline(g, "retime{dt=2e-3}")
    golden("retime_before", to_text(g))
    golden("retime_after", to_text(r.graph))
