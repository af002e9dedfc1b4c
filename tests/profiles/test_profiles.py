"""Profiles without the peer frameworks: spec parsing, detection on graphs built from each exporter's
documented
file convention, lowerings against NumPy re-computations of the peers' native steps, load/compile glue, and
encode_for's parameter formulas. (The real peers are exercised in tests/interop.)"""

from __future__ import annotations

import jax
import numpy as np
import pytest

import spyx
from spyx.errors import ExportError, MissingDtError, OptionError
from spyx.ir import IF, LI, LIF, Affine, CubaLIF, Flatten, Graph, Input, Output, Threshold
from spyx.profiles import apply_profile, detect, encode_for, get_profile, list_profiles, resolve_profile

F = np.float32
rng = np.random.default_rng(0)


def _lif(tau, r, thr=0.5, n=None):
    tau = np.asarray(tau, F)
    n = tau.shape
    return LIF(
        tau=tau,
        r=np.broadcast_to(np.asarray(r, F), n).copy(),
        v_leak=np.zeros(n, F),
        v_threshold=np.full(n, thr, F),
        v_reset=np.zeros(n, F),
    )


def _mlp(neuron1, neuron2=None, n_in=5):
    n1 = neuron1.params()["v_threshold" if "v_threshold" in neuron1.params() else "tau"].shape[0]
    layers = [
        ("fc1", Affine(weight=rng.normal(0, 1, (n1, n_in)).astype(F), bias=np.zeros(n1, F))),
        ("n1", neuron1),
    ]
    if neuron2 is not None:
        n2 = neuron2.params()["v_threshold" if "v_threshold" in neuron2.params() else "tau"].shape[0]
        layers += [
            ("fc2", Affine(weight=rng.normal(0, 1, (n2, n1)).astype(F), bias=np.zeros(n2, F))),
            ("n2", neuron2),
        ]
    return Graph.sequential(layers, input_shape=(n_in,))


# -- spec ---------------------------------------------------------------------------------------------------
def test_spec_options_are_typed_and_listed():
    p = get_profile("snntorch{reset=zero,reset_delay=false}")
    assert (p.reset, p.reset_delay, p.dt) == ("zero", False, 1e-4)
    assert get_profile(p.spec()) == p
    s = get_profile("sinabs{norm_input=false,min_v_mem@3=-0.2,spike_fn=single}")
    assert s.node_options == {"3": {"min_v_mem": -0.2}} and s.for_node("3").min_v_mem == -0.2
    assert s.for_node("1").min_v_mem is None and get_profile(s.spec()) == s
    assert get_profile("norse", dt=5e-4).dt == 5e-4
    with pytest.raises(
        OptionError,
        match="available profiles: lava, nir, norse, rockpool, sinabs, snntorch, spikingjelly, spyx1 \\(or auto\\)",
    ):
        get_profile("loihi")
    with pytest.raises(OptionError, match="valid options: dt, reset, reset_delay"):
        get_profile("snntorch{reset_mechanism=zero}")
    with pytest.raises(OptionError, match="must be one of subtract, zero, none"):
        get_profile("snntorch{reset=hard}")
    with pytest.raises(OptionError, match="expects float"):
        get_profile("rockpool{bias=lots}")
    names = ["nir", "snntorch", "norse", "sinabs", "rockpool", "spyx1", "spikingjelly", "lava"]
    assert [r[0] for r in list_profiles()] == names


# -- detection ---------------------------------------------------------------------------------------------
def test_detection_follows_each_exporters_convention():
    beta = rng.uniform(0.6, 0.95, 4)
    snn_tau = 1e-4 / (1 - beta)  # snnTorch: tau = dt/(1-beta), r = tau/dt
    assert detect(_mlp(_lif(snn_tau, snn_tau / 1e-4))).exporter == "snntorch"
    sp_tau = 1.0 / (1 - beta)  # Spyx 1.0 (dt = 1): tau = dt/(1-beta), r = beta
    found = detect(_mlp(_lif(sp_tau, beta)))
    assert found.exporter == "spyx1" and "dt = 1" in found.evidence[0]
    tau = rng.uniform(5e-3, 2e-2, 4)  # Rockpool: r = tau exp(-dt/tau)/dt
    assert detect(_mlp(_lif(tau, tau * np.exp(-1e-3 / tau) / 1e-3))).exporter == "rockpool"
    assert detect(_mlp(_lif(rng.uniform(3, 9, 4), 1.0))).exporter == "sinabs"  # tau in steps
    assert detect(_mlp(_lif(rng.uniform(1e-6, 1e-5, 4), 1.0))).exporter == "norse"  # dt*tau
    iff = IF(r=np.ones(4, F), v_threshold=np.ones(4, F), v_reset=np.zeros(4, F))
    amb = detect(_mlp(iff))
    assert amb.exporter is None and amb.ambiguous and set(amb.candidates) == {"sinabs", "norse", "spyx1"}
    with pytest.raises(OptionError, match="cannot tell the exporter apart"):
        resolve_profile(_mlp(iff), "auto")
    li_thr = Graph(
        nodes={
            "x": Input(shape=np.array([3])),
            "li": LI(tau=np.full(3, 2.0, F), r=np.ones(3, F), v_leak=np.zeros(3, F)),
            "t": Threshold(threshold=np.ones(3, F)),
            "o": Output(shape=np.array([3])),
        },
        edges=(("x", "li"), ("li", "t"), ("t", "o")),
    )
    assert detect(li_thr).exporter == "spyx1"
    nothing = Graph.sequential(
        [("fc", Affine(weight=np.ones((2, 2), F), bias=np.zeros(2, F)))], input_shape=(2,)
    )
    assert detect(nothing).exporter is None and not detect(nothing).candidates
    assert resolve_profile(nothing, "auto")[0].name == "nir"
    assert detect(_mlp(_lif(tau, 1.7))).exporter is None  # fits nobody


# -- lowerings against the peers' native steps in NumPy ------------------------------------------------------
def _run(graph, x, **kw):
    prog = spyx.compile(graph, **kw)
    return np.asarray(prog.run(prog.params, x)[0])


def test_snntorch_leaky_subtract_delay_native_step():
    beta = rng.uniform(0.6, 0.95, 6).astype(F)
    tau = (F(1e-4) / (F(1) - beta)).astype(F)
    g = Graph.sequential([("lif", _lif(tau, tau / F(1e-4), thr=0.4))], input_shape=(6,))
    x = rng.uniform(-0.2, 0.6, (50, 2, 6)).astype(F)
    mem = np.zeros((2, 6), F)
    want = []
    b32 = np.float32(1 - 1e-4 / tau.astype(np.float64))
    for t in range(50):  # snntorch/_neurons/leaky.py, subtract with reset_delay=True
        r = (mem > F(0.4)).astype(F)
        mem = b32 * mem + x[t] - r * F(0.4)
        want.append((mem > F(0.4)).astype(F))
    got = _run(g, x, profile="snntorch")
    np.testing.assert_array_equal(got, np.stack(want))
    assert got.sum() > 10


def test_norse_lifbox_starts_at_v_leak_and_resets_to_option():
    tau_true, dt, leak = 0.02, 1e-3, 0.2
    lif = LIF(
        tau=np.full(3, dt * tau_true, F),
        r=np.ones(3, F),
        v_leak=np.full(3, leak, F),
        v_threshold=np.full(3, 0.5, F),
        v_reset=np.zeros(3, F),
    )
    g = Graph.sequential([("lif", lif)], input_shape=(3,))
    x = np.full((40, 1, 3), 0.6, F)
    a = F(dt) * F(1 / tau_true)
    v, want = np.full((1, 3), F(leak)), []
    for t in range(40):  # norse functional/lif_box.py: v += a((x + v_leak) - v); reset_value to v_reset
        v = v + a * ((x[t] + F(leak)) - v)
        z = (v > F(0.5)).astype(F)
        v = (1 - z) * v + z * F(-0.1)
        want.append(z)
    got = _run(g, x, profile="norse{v_reset=-0.1}", dt=dt)
    np.testing.assert_array_equal(got, np.stack(want))
    assert got.sum() > 2


def test_spyx1_channels_last_flatten_and_shift():
    c, h, w = 2, 3, 4
    W = rng.normal(0, 1, (5, c * h * w)).astype(F)
    g = Graph(
        nodes={
            "x": Input(shape=np.array([c, h, w])),
            "fl": Flatten(start_dim=np.array(0), end_dim=np.array(-1)),
            "fc": Affine(weight=W, bias=np.zeros(5, F)),
            "o": Output(shape=np.array([5])),
        },
        edges=(("x", "fl"), ("fl", "fc"), ("fc", "o")),
    )
    x = rng.normal(0, 1, (3, 2, c, h, w)).astype(F)
    want = np.einsum(
        "oi,tbi->tbo", W, x.transpose(0, 1, 3, 4, 2).reshape(3, 2, -1)
    )  # Spyx 1.0 flattens (H, W, C)
    np.testing.assert_allclose(_run(g, x, profile="spyx1"), want, rtol=1e-5, atol=1e-5)
    assert not np.allclose(_run(g, x, profile="spyx1{flatten=channels_first}"), want, atol=1e-3)
    # LIF: S_t = H(V_{t-1} - thr), V = beta V + x - S thr (spyx/nn.py): a one-step delayed output
    beta = rng.uniform(0.6, 0.9, 4).astype(F)
    lg = Graph.sequential([("lif", _lif(1.0 / (1 - beta), beta, thr=0.5))], input_shape=(4,))
    xs = rng.uniform(0, 0.6, (30, 1, 4)).astype(F)
    v, want = np.zeros((1, 4), F), []
    for t in range(30):
        s = (v > F(0.5)).astype(F)
        v = beta * v + xs[t] - s * F(0.5)
        want.append(s)
    np.testing.assert_array_equal(_run(lg, xs, profile="spyx1"), np.stack(want))


# -- glue -------------------------------------------------------------------------------------------------
def test_load_records_profile_and_lowered_graph_is_not_lowered_again(tmp_path):
    beta = rng.uniform(0.6, 0.95, 4)
    tau = 1.0 / (1 - beta)
    spyx.save(_mlp(_lif(tau, beta), _lif(tau, beta)), tmp_path / "m.nir")
    g = spyx.load(tmp_path / "m.nir", profile="auto")
    assert g.metadata["spyx.profile"] == "spyx1"
    x = (rng.random((20, 2, 5)) < 0.5).astype(F)
    direct = _run(g, x)
    lowered, dt, notes = apply_profile(spyx.load(tmp_path / "m.nir"), "spyx1")
    assert "spyx.profile" not in lowered.metadata and any("dt = 1" in n for n in notes)
    np.testing.assert_array_equal(_run(lowered, x, dt=dt), direct)  # compile does not lower it twice
    assert not np.array_equal(_run(spyx.load(tmp_path / "m.nir"), x, dt=1.0), direct)  # nir semantics differ
    with pytest.raises(MissingDtError):
        spyx.compile(spyx.load(tmp_path / "m.nir"))


def test_encode_for_snntorch_and_norse_formulas():
    dt, tau, r = 1e-3, np.full(4, 5e-3), 2.0
    g = _mlp(_lif(tau, r, thr=0.3))
    enc, notes = encode_for(g, "snntorch", dt=dt)
    lif = enc.nodes["n1"]
    beta = np.exp(-dt / tau)
    np.testing.assert_allclose(lif.tau, 1e-4 / (1 - beta), rtol=1e-6)  # importer: beta = 1 - 1e-4/tau
    np.testing.assert_allclose(lif.r * 1e-4 / lif.tau, 1.0, rtol=1e-6)  # unit input gain
    np.testing.assert_allclose(lif.v_threshold, 0.3 / (r * (1 - beta)), rtol=1e-6)  # gain folded in
    assert enc.metadata["spyx.encoded_for"] == "snntorch"
    nrs, _ = encode_for(g, "norse", dt=dt)
    np.testing.assert_allclose(nrs.nodes["n1"].tau, dt / (1 - beta), rtol=1e-6)  # LIFBox: a = dt/tau
    leaky = LIF(
        tau=tau.astype(F),
        r=np.ones(4, F),
        v_leak=np.full(4, 0.1, F),
        v_threshold=np.ones(4, F),
        v_reset=np.zeros(4, F),
    )
    with pytest.raises(ExportError, match="node n1: snnTorch's NIR importer cannot express it"):
        encode_for(_mlp(leaky), "snntorch", dt=dt)
    with pytest.raises(OptionError, match="named profile"):
        encode_for(g, "auto", dt=dt)
    cuba = CubaLIF(
        tau_syn=np.full(4, 2e-3, F),
        tau_mem=np.full(4, 5e-3, F),
        r=np.ones(4, F),
        v_leak=np.zeros(4, F),
        v_threshold=np.ones(4, F),
        v_reset=np.zeros(4, F),
        w_in=np.ones(4, F),
    )
    with pytest.raises(ExportError, match="Synaptic's membrane adds this step's current only"):
        encode_for(_mlp(cuba), "snntorch", dt=dt)


@pytest.mark.parametrize("schedule", ["layer", "step"])
def test_profiles_run_on_both_schedules(schedule):
    beta = rng.uniform(0.6, 0.95, 4)
    tau = 1e-4 / (1 - beta)
    g = _mlp(_lif(tau, tau / 1e-4), _lif(tau, tau / 1e-4))
    x = (rng.random((25, 2, 5)) < 0.5).astype(F)
    with jax.default_device(jax.devices("cpu")[0]):
        a = _run(g, x, profile="snntorch{reset=zero}", schedule=schedule)
        b = _run(g, x, profile="snntorch{reset=zero}", schedule="step")
    np.testing.assert_array_equal(a, b)


# -- corpus ------------------------------------------------------------------------------------------------
def test_corpus_lif_norse_auto_matches_exact_solution(corpus):
    """The NIR paper's single LIF, written by a nir-1.0-era Norse with tau in seconds (2.5 ms, not Norse 1.1's
    dt*tau): nothing tells it from a hand-written file, so auto reads it as nir; the Norse, snnTorch and nir
    profiles all spike where the exact solution (lif_exact.csv column 2) does."""
    csv = np.loadtxt(corpus / "lif_exact.csv", delimiter=",")
    x = csv[:, 0].reshape(-1, 1, 1).astype(F)
    exact = np.flatnonzero(csv[:, 2])
    g = spyx.load(corpus / "lif_norse.nir", profile="auto")
    assert g.metadata["spyx.profile"] == "nir"
    lowered, _, notes = apply_profile(spyx.load(corpus / "lif_norse.nir"), "norse", dt=1e-4)
    assert any("tau_written_times_dt=false" in n for n in notes)
    for spec in ("auto", "norse", "snntorch{reset=zero,reset_delay=false}", "nir"):
        y = _run(spyx.load(corpus / "lif_norse.nir"), x, profile=spec, dt=1e-4)
        np.testing.assert_array_equal(np.flatnonzero(y[:, 0, 0]), exact, err_msg=spec)
    assert len(exact) == 4


def test_corpus_braille_is_snntorch_and_ambiguous_files_refuse(corpus):
    g = spyx.load(corpus / "braille_noDelay_bias_zero.nir", profile="auto")
    assert g.metadata["spyx.profile"] == "snntorch"
    x = (rng.random((40, 2, 12)) < 0.2).astype(F)
    y = _run(g, x, dt=1e-4)
    assert y.shape == (40, 2, 7) and set(np.unique(y)) <= {0.0, 1.0}
    for name in ("cnn_sinabs.nir", "scnn_mnist_spyx.nir"):
        with pytest.raises(OptionError, match="cannot tell"):
            spyx.load(corpus / name, profile="auto")
