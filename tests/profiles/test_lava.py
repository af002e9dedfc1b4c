"""The ``lava`` profile against the NIR paper's Lava float trace (``lif_lava_cpu_float.csv``) and against a
NumPy int64 re-computation of Lava's bit-accurate step, written here from lava-nc/lava
``src/lava/proc/lif/models.py`` (``AbstractPyLifModelFixed.subthr_dynamics``, ``PyLifModelBitAcc``),
``src/lava/proc/dense/models.py`` (``PyDenseModelBitAcc``) and the converter's integer formulas (neuromorphs/NIR
``paper/nir_to_lava.py``), independently of spyx's JAX kernel and of :mod:`spyx.quant.loihi2`."""

from __future__ import annotations

import numpy as np
import pytest

import spyx
from spyx.errors import UnsupportedError
from spyx.ir import LIF, Affine, Graph

F = np.float32
rng = np.random.default_rng(7)


# -- the reference ------------------------------------------------------------------------------------------
def converter_codes(tau, thr, dt):
    """nir_to_lava.py: dv = int(dt/tau * 4095), du = int(1.0 * 4095), vth = int(v_th * 131071) >> 9 (float32
    arrays as the file stores them, element by element with Python ints)."""
    tau, thr = np.asarray(tau, F), np.asarray(thr, F)
    dv = np.array([int(d * 4095) for d in (dt / tau)], np.int64)
    vth = np.array([int(v * 131071) >> 9 for v in thr], np.int64)
    return np.full(tau.shape, 4095, np.int64), dv, vth


def converter_weights(w, tau, dt):
    """int(w * dt/tau * 256) per row, then PyDenseModelBitAcc's clip_weights / truncate_weights (8 bits)."""
    corr = (dt / np.asarray(tau, F)).astype(np.float64)
    q = (np.asarray(w, np.float64) * corr[:, None] * 256).astype(np.int32).astype(np.int64)
    if q.min() >= 0:
        return np.clip(q, 0, 255)
    if q.max() <= 0:
        return -np.clip(-q, 0, 255)
    return (np.clip(q, -256, 255) >> 1) << 1


def lava_bitacc(spikes, w_int, du, dv, vth):
    """Lava's Dense (one-step a_buff) into PyLifModelBitAcc, int64 as Lava computes it: (T, n_in) 0/1 ->
    (v after reset, spikes), each (T, n_out)."""
    n = w_int.shape[0]
    u, v, a_buff = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64)
    vs, ss = [], []
    for s_in in spikes:
        a_in, a_buff = a_buff, w_int[:, s_in.astype(bool)].sum(axis=1)  # Dense: send last step's, accumulate
        d = u * (4096 - (du + 1))
        u = np.sign(d) * np.right_shift(np.abs(d), 12) + np.left_shift(a_in, 6)
        u = np.where(u > 2**23, u - 2**24, u)
        u = np.where(u <= -(2**23), u + 2**24, u)
        d = v * (4096 - dv)
        v = np.clip(np.sign(d) * np.right_shift(np.abs(d), 12) + u, -(2**23) + 1, 2**23 - 1)
        s = v > np.left_shift(vth, 6)
        v = np.where(s, 0, v)
        vs.append(v)
        ss.append(s)
    return np.array(vs), np.array(ss)


def lava_float(spikes, w, tau, thr, dt):
    """Lava's float Dense (one-step a_buff) into PyLifModelFloat, float64 state, the converter's float32
    dv = dt/tau (du = 1: u is this step's input)."""
    dv = (dt / np.asarray(tau, F)).astype(F)
    w = np.asarray(w, np.float64) * dv.astype(np.float64)[:, None]  # the weight layer times the correction
    n = w.shape[0]
    u, v, a_buff = np.zeros(n), np.zeros(n), np.zeros(n)
    vs, ss = [], []
    for s_in in spikes:
        a_in, a_buff = a_buff, w[:, s_in.astype(bool)].sum(axis=1)
        u = u * (1 - 1.0) + a_in
        v = v * (1 - dv) + u
        s = v > np.asarray(thr, F)
        v = np.where(s, 0.0, v)
        vs.append(v)
        ss.append(s)
    return np.array(vs), np.array(ss)


def _lif_layer(n_in, n, w_scale):
    tau = rng.uniform(2e-4, 3e-3, n).astype(F)
    thr = rng.uniform(0.05, 4.0, n).astype(F)
    w = rng.normal(0, w_scale, (n, n_in)).astype(F)
    g = Graph.sequential(
        [
            ("fc", Affine(weight=w, bias=np.zeros(n, F))),
            ("lif", LIF(tau=tau, r=np.ones(n, F), v_leak=np.zeros(n, F), v_threshold=thr, v_reset=np.zeros(n, F))),
        ],
        input_shape=(n_in,),
    )
    return g, w, tau, thr


def _run(graph, x, spec):
    prog = spyx.compile(graph, profile=spec)
    y, _, traces = prog.run_traced(prog.params, x)
    return prog, np.asarray(y), traces


# -- the NIR paper's single neuron ------------------------------------------------------------------------
def test_float_mode_reproduces_lava_cpu_float_trace(corpus):
    """lif_lava_cpu_float.csv (input, membrane, spike): the membrane is Lava's v after the reset (0 where it
    spiked) and the input reaches the LIF one step late (Lava's Dense buffer)."""
    csv = np.loadtxt(corpus / "lif_lava_cpu_float.csv", delimiter=",")
    x = csv[:, 0].reshape(-1, 1, 1).astype(F)
    prog, y, traces = _run(spyx.load(corpus / "lif_norse.nir"), x, "lava")
    np.testing.assert_allclose(np.asarray(traces["1"]["v"])[:, 0, 0], csv[:, 1], rtol=0, atol=1e-6)
    np.testing.assert_array_equal(y[:, 0, 0], csv[:, 2])
    assert len(np.flatnonzero(csv[:, 2])) == 4


def test_fixed_mode_matches_bit_accurate_reference_on_lif_norse(corpus):
    csv = np.loadtxt(corpus / "lif_lava_cpu_float.csv", delimiter=",")
    x = csv[:, 0].reshape(-1, 1, 1).astype(F)
    g = spyx.load(corpus / "lif_norse.nir")
    lif = g.nodes["1"]
    du, dv, vth = converter_codes(lif.tau, lif.v_threshold, 1e-4)
    prog, y, traces = _run(g, x, "lava{fixed_pt=true}")
    node = prog.graph.nodes["1"]
    assert node.kind == "spyx.LavaLIF"
    assert (int(node.du[0]), int(node.dv[0]), int(node.vth[0])) == (du[0], dv[0], vth[0])
    w = converter_weights(g.nodes["0"].weight, lif.tau, 1e-4)
    np.testing.assert_array_equal(prog.graph.nodes["0"].weight, w)
    v_ref, s_ref = lava_bitacc(csv[:, :1], w, du, dv, vth)
    np.testing.assert_array_equal(np.asarray(traces["1"]["v"])[:, 0, 0], v_ref[:, 0])
    np.testing.assert_array_equal(y[:, 0, 0], s_ref[:, 0])
    # the fixed-point neuron spikes where Lava's float one does (the truncations keep the 16000:1 ratio)
    np.testing.assert_array_equal(y[:, 0, 0], csv[:, 2])


def test_float_mode_matches_reference_on_random_layers():
    n_in = 6
    g, w, tau, thr = _lif_layer(n_in, 5, 20.0)
    s = (rng.random((300, 2, n_in)) < 0.4).astype(F)
    _, y, traces = _run(g, s, "lava")
    for b in range(2):
        v_ref, s_ref = lava_float(s[:, b], w, tau, thr, 1e-4)
        np.testing.assert_allclose(np.asarray(traces["lif"]["v"])[:, b], v_ref, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(y[:, b], s_ref)
        assert s_ref.any() and v_ref.min() < 0


def test_fixed_mode_matches_reference_on_random_mixed_sign_layers():
    """Mixed-sign weights (8-bit clip and lowest bit cleared), per-neuron tau (dv from 136 up to 2047) and
    thresholds, dense input so that negative membranes (rounding toward zero) occur."""
    n_in = 6
    g, w, tau, thr = _lif_layer(n_in, 5, 40.0)
    s = (rng.random((300, 2, n_in)) < 0.4).astype(F)
    prog, y, traces = _run(g, s, "lava{fixed_pt=true}")
    du, dv, vth = converter_codes(tau, thr, 1e-4)
    w_int = converter_weights(w, tau, 1e-4)
    assert w_int.min() < 0 < w_int.max() and np.abs(w_int).max() >= 200  # mixed sign, near the clip
    for b in range(2):
        v_ref, s_ref = lava_bitacc(s[:, b], w_int, du, dv, vth)
        np.testing.assert_array_equal(np.asarray(traces["lif"]["v"])[:, b], v_ref)
        np.testing.assert_array_equal(y[:, b], s_ref)
        assert v_ref.min() < 0 and s_ref.any()


def test_integer_decay_is_lavas_round_toward_zero():
    """The kernel's int32 split product equals Lava's int64 ``sign(p) * (|p| >> 12)`` over the 24-bit range."""
    import jax.numpy as jnp

    from spyx.backend.loihi import decay_toward_zero

    x = rng.integers(-(2**23), 2**23, 4000, dtype=np.int64)
    keep = rng.integers(0, 4097, 4000, dtype=np.int64)
    p = x * keep
    want = np.sign(p) * np.right_shift(np.abs(p), 12)
    got = decay_toward_zero(jnp.asarray(x, jnp.int32), jnp.asarray(keep, jnp.int32))
    np.testing.assert_array_equal(np.asarray(got), want)


# -- what Lava cannot run -------------------------------------------------------------------------------------
def test_refusals_name_the_node():
    lif = LIF(
        tau=np.full(2, 1e-3, F),
        r=np.ones(2, F),
        v_leak=np.zeros(2, F),
        v_threshold=np.ones(2, F),
        v_reset=np.zeros(2, F),
    )
    biased = Graph.sequential(
        [("fc", Affine(weight=np.ones((2, 2), F), bias=np.ones(2, F))), ("lif", lif)], input_shape=(2,)
    )
    with pytest.raises(UnsupportedError, match="node fc .*no bias"):
        spyx.compile(biased, profile="lava{fixed_pt=true}")
    direct = Graph.sequential([("lif", lif)], input_shape=(2,))
    with pytest.raises(UnsupportedError, match="node lif .*needs a weight layer"):
        spyx.compile(direct, profile="lava{fixed_pt=true}")
    from spyx.ir import IF

    iaf = Graph.sequential(
        [("if", IF(r=np.ones(2, F), v_threshold=np.ones(2, F), v_reset=np.zeros(2, F)))], input_shape=(2,)
    )
    with pytest.raises(UnsupportedError, match="node if \\(IF\\): Lava exports no IF"):
        spyx.compile(iaf, profile="lava")


def test_fixed_pt_per_node_converts_only_that_population():
    """``fixed_pt@lif2=true``: lif1 stays float, lif2 and only its feeding layer get Lava's integers."""
    n = 3
    g1, w1, _, _ = _lif_layer(4, n, 20.0)
    g2, w2, tau2, thr2 = _lif_layer(n, n, 40.0)
    g = Graph.sequential(
        [("fc1", g1.nodes["fc"]), ("lif1", g1.nodes["lif"]), ("fc2", g2.nodes["fc"]), ("lif2", g2.nodes["lif"])],
        input_shape=(4,),
    )
    prog = spyx.compile(g, profile="lava{fixed_pt@lif2=true}")
    kinds = {k: prog.graph.nodes[k].kind for k in ("lif1", "lif2")}
    assert kinds == {"lif1": "spyx.Neuron", "lif2": "spyx.LavaLIF"}
    np.testing.assert_array_equal(prog.graph.nodes["fc1"].weight, w1)
    np.testing.assert_array_equal(prog.graph.nodes["fc2"].weight, converter_weights(w2, tau2, 1e-4))
