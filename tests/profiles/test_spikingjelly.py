"""The ``spikingjelly`` profile without SpikingJelly (the real package is run in tests/interop): detection on
graphs written in ``export_to_nir``'s convention, the lowering against a NumPy loop of SpikingJelly's CPU
kernels (``_ops/lif/cpu.py``, ``_ops/if_/cpu.py``, ``cuba_lif_step``), encode_for's refusals and round trip,
and every profile's ``dynamic_before_transition`` against what its lowering does to one pulse."""

from __future__ import annotations

import numpy as np
import pytest

import spyx
from spyx.errors import ExportError
from spyx.ir import IF, LIF, Affine, CubaLIF, Graph
from spyx.profiles import PROFILES, detect, encode_for, get_profile, get_profile_class, resolve_profile

F = np.float32
N_IN, N = 4, 6
rng = np.random.default_rng(3)
W1 = rng.normal(0, 1.5, (N, N_IN)).astype(F)
B1 = np.full(N, 0.3, F)


def _full(v, n=N):
    return np.full(n, v, F)


# the NIR nodes export_to_nir writes (nir_exchange/to_nir.py), dt = export dt, tau in steps
def sj_lif(tau, dt=1e-4, decay_input=True, v_reset=0.0, thr=1.0):
    return LIF(
        tau=_full(tau * dt),
        r=_full(1.0 if decay_input else tau),
        v_leak=_full(v_reset),
        v_threshold=_full(thr),
        v_reset=_full(v_reset),
    )


def sj_if(dt=1e-4, v_reset=0.0, thr=1.0):
    return IF(r=_full(1.0 / dt), v_threshold=_full(thr), v_reset=_full(v_reset))


def sj_cubalif(c_decay, v_decay, dt=1e-4, thr=0.5, v_reset=0.0):
    tau_syn, tau_mem = dt / (1 - c_decay), dt / (1 - v_decay)
    return CubaLIF(
        tau_syn=_full(tau_syn),
        tau_mem=_full(tau_mem),
        r=_full(tau_mem / dt),
        v_leak=_full(0.0),
        v_threshold=_full(thr),
        v_reset=_full(v_reset),
        w_in=_full(tau_syn / dt),
    )


def one_layer(neuron):
    return Graph.sequential([("fc", Affine(weight=W1, bias=B1)), ("n", neuron)], input_shape=(N_IN,))


# SpikingJelly's forward in float32, written from its CPU kernels (charge, fire h >= thr, hard reset)
def sj_reference(kind, x, *, tau=2.0, decay_input=True, v_reset=0.0, thr=1.0, c_decay=0.5, v_decay=0.75):
    cur = (x @ W1.T + B1).astype(F)  # (T, B, N)
    v = np.full(cur.shape[1:], v_reset, F)
    c = np.zeros_like(v)
    out = []
    tau, vr, th = F(tau), F(v_reset), F(thr)
    for xt in cur:
        if kind == "lif":
            h = v + (xt - (v - vr)) / tau if decay_input else v - (v - vr) / tau + xt
        elif kind == "if":
            h = v + xt
        else:
            c = c * F(c_decay) + xt
            h = v * F(v_decay) + c
        s = (h >= th).astype(F)
        v = s * vr + (1 - s) * h
        out.append(s)
    return np.stack(out)


X = (np.random.default_rng(4).random((40, 2, N_IN)) < 0.4).astype(F)


def _run(graph, profile, x=X, dt=None):
    prog = spyx.compile(graph, profile=profile, dt=dt)
    return np.asarray(prog.run(prog.params, x)[0])


LOWERINGS = [
    ("lif", dict(tau=2.0), dict(tau=2.0)),
    (
        "lif",
        dict(tau=3.0, decay_input=False, v_reset=-0.2, thr=0.4),
        dict(tau=3.0, decay_input=False, v_reset=-0.2, thr=0.4),
    ),
    ("if", dict(v_reset=-0.3, dt=1e-3), dict(v_reset=-0.3)),
    ("cubalif", dict(c_decay=0.5, v_decay=0.75, thr=0.5), dict(c_decay=0.5, v_decay=0.75, thr=0.5)),
]
BUILD = {"lif": sj_lif, "if": sj_if, "cubalif": sj_cubalif}


@pytest.mark.parametrize(("kind", "node_kw", "ref_kw"), LOWERINGS, ids=["lif", "lif_no_decay_vreset", "if", "cubalif"])
def test_lowering_is_spikingjellys_step(kind, node_kw, ref_kw):
    g = one_layer(BUILD[kind](**node_kw))
    want = sj_reference(kind, X, **ref_kw)
    assert 5 < want.sum() < want.size - 5  # the neurons both spike and stay quiet
    np.testing.assert_array_equal(_run(g, "spikingjelly"), want)  # dt recovered from the file or 1e-4
    # NIR semantics (exact ZOH, strict test) is not what SpikingJelly computes
    assert not np.array_equal(_run(g, "nir", dt=node_kw.get("dt", 1e-4)), want)


def test_a_membrane_equal_to_the_threshold_spikes():
    """SpikingJelly fires on ``h - v_threshold >= 0`` (heaviside), NIR and snnTorch on ``>``: 0.5 + 0.5 == 1."""
    one = IF(r=_full(1e4, 1), v_threshold=_full(1.0, 1), v_reset=_full(0.0, 1))
    g = Graph.sequential([("fc", Affine(weight=np.ones((1, 1), F), bias=np.zeros(1, F))), ("n", one)], input_shape=(1,))
    out = _run(g, "spikingjelly", np.full((4, 1, 1), 0.5, F))[:, 0, 0]
    np.testing.assert_array_equal(out, [0, 1, 0, 1])


def test_dt_is_recovered_from_the_file():
    prof = get_profile("spikingjelly")
    assert prof.default_dt(one_layer(sj_if(dt=1e-3))) == pytest.approx(1e-3)
    assert prof.default_dt(one_layer(sj_lif(3.0, dt=5e-4, decay_input=False))) == pytest.approx(5e-4)
    assert prof.default_dt(one_layer(sj_cubalif(0.5, 0.75, dt=2e-3))) == pytest.approx(2e-3)
    assert prof.default_dt(one_layer(sj_lif(3.0, dt=5e-4))) == 1e-4  # r = 1: nothing records dt
    assert get_profile("spikingjelly{dt=1e-3}").default_dt(one_layer(sj_lif(3.0))) == 1e-3


def _two(n1, n2):
    return Graph.sequential(
        [
            ("fc1", Affine(weight=W1, bias=B1)),
            ("n1", n1),
            ("fc2", Affine(weight=rng.normal(0, 1, (N, N)).astype(F), bias=np.zeros(N, F))),
            ("n2", n2),
        ],
        input_shape=(N_IN,),
    )


def test_detection_needs_a_sign_only_spikingjelly_writes():
    found = detect(_two(sj_lif(2.0), sj_if()))
    assert (
        found.exporter == "spikingjelly" and "IF r = 1/dt" in found.evidence[0] and "dt = 0.0001" in found.evidence[0]
    )
    assert detect(_two(sj_lif(3.0, decay_input=False, v_reset=-0.2), sj_lif(4.0, v_reset=-0.2))).exporter == (
        "spikingjelly"
    )
    assert detect(_two(sj_cubalif(0.5, 0.75), sj_if(dt=1e-4))).exporter == "spikingjelly"
    for dt in (1e-3, 1.0):  # CubaLIF r = tau_mem/dt at a dt snnTorch never writes
        assert detect(_two(sj_cubalif(0.5, 0.75, dt), sj_cubalif(0.3, 0.9, dt))).exporter == "spikingjelly", dt
    assert detect(_two(sj_cubalif(0.5, 0.75), sj_cubalif(0.3, 0.9))).exporter == "snntorch"  # dt = 1e-4
    assert detect(_two(sj_cubalif(0.5, 0.75, v_reset=-0.1), sj_cubalif(0.3, 0.9))).exporter == "spikingjelly"
    mixed_r = detect(_two(sj_lif(2.0, dt=1e-3), sj_lif(4.0, dt=1e-3, decay_input=False)))
    assert mixed_r.exporter == "spikingjelly" and "dt = 0.001" in mixed_r.evidence[0]
    assert resolve_profile(_two(sj_lif(2.0), sj_if()), "auto")[0].name == "spikingjelly"
    # without a sign the parameters are another exporter's (docs/interop.md): not claimed
    assert detect(_two(sj_lif(2.0), sj_lif(5.0))).exporter == "norse"  # r = 1, tau < 1
    assert detect(_two(sj_lif(2.0, decay_input=False), sj_lif(5.0, decay_input=False))).exporter == "snntorch"
    # a sign, but a node outside the convention (v_leak != v_reset): nobody's
    odd = sj_lif(2.0).replace(v_leak=_full(0.1))
    assert detect(_two(odd, sj_if())).exporter != "spikingjelly"
    # an IF with r = 1 is Sinabs/Norse/Spyx 1.0's (ambiguous), not SpikingJelly's at dt = 1e-4
    unit = IF(r=_full(1.0), v_threshold=_full(1.0), v_reset=_full(0.0))
    assert detect(_two(unit, unit)).ambiguous


def _as_spikingjelly_file(graph, path):
    spyx.save(graph, path)
    return spyx.load(path, profile="spikingjelly")


def test_encode_for_spikingjelly_round_trips_and_refuses_what_its_importer_cannot_build(tmp_path):
    src = _two(sj_lif(3.0, decay_input=False, v_reset=-0.2, thr=0.4), sj_if(v_reset=-0.1))
    src = _as_spikingjelly_file(src, tmp_path / "a.nir")
    enc, notes = encode_for(src, "spikingjelly", dt=1e-4)
    assert "spikingjelly" in notes[0]
    assert enc.nodes["n1"].kind == "LIF" and enc.nodes["n2"].kind == "IF"
    np.testing.assert_allclose(enc.nodes["n1"].r, 3.0, rtol=1e-6)  # decay_input=False: r = tau/dt
    np.testing.assert_array_equal(enc.nodes["n1"].v_leak, enc.nodes["n1"].v_reset)
    np.testing.assert_allclose(enc.nodes["n2"].r, 1e4, rtol=1e-6)
    x = (np.random.default_rng(5).random((40, 2, N_IN)) < 0.4).astype(F)
    want = _run(src, None, x)
    assert want.sum() > 5
    np.testing.assert_array_equal(_run(enc, "spikingjelly", x, dt=1e-4), want)
    # NIR semantics: strict test, exact decay: not SpikingJelly's LIFNode
    nir_g = _two(
        LIF(tau=_full(5e-3), r=_full(2.0), v_leak=_full(0.0), v_threshold=_full(0.3), v_reset=_full(0.0)), sj_if()
    )
    with pytest.raises(ExportError, match="node n1: SpikingJelly's NIR importer.*spike test is 'ge'"):
        encode_for(nir_g, "spikingjelly", dt=1e-3)
    taus = sj_lif(2.0).replace(tau=np.linspace(2e-4, 4e-4, N).astype(F))
    mixed = _as_spikingjelly_file(_two(taus, sj_if()), tmp_path / "b.nir")
    with pytest.raises(ExportError, match="node n1: .*one tau per layer"):
        encode_for(mixed, "spikingjelly", dt=1e-4)


# -- dynamic_before_transition: the attribute against the lowering's behaviour ------------------------------
PULSE_AT = 2


def _pulse_graph():
    lif = LIF(
        tau=_full(5.0, 1), r=_full(1.0, 1), v_leak=_full(0.0, 1), v_threshold=_full(1.0, 1), v_reset=_full(0.0, 1)
    )
    return Graph.sequential(
        [("fc", Affine(weight=np.ones((1, 1), F), bias=np.zeros(1, F))), ("lif", lif)], input_shape=(1,)
    )


SPECS = [
    "nir",
    "snntorch",
    "snntorch{reset_delay=false}",
    "norse",
    "sinabs",
    "rockpool",
    "spyx1",
    "spyx1{shift=false}",
    "spikingjelly",
    "lava",
]
# whole steps of delay a profile puts in the synapse, before the neuron (Lava's Dense sends last step's sum):
# timing of the input, not of the spike, so not part of dynamic_before_transition
SYNAPSE_DELAY = {"lava": 1}


def test_every_profile_states_its_spike_timing_as_it_behaves():
    """One neuron, one input pulse far above threshold: the first output spike comes in the pulse's step when
    ``dynamic_before_transition`` is True, one step later when False."""
    assert {s.partition("{")[0] for s in SPECS} == set(PROFILES)  # every registered profile is checked
    for name in PROFILES:  # each states it in its own class, none inherits the base's value silently
        assert "dynamic_before_transition" in vars(get_profile_class(name)), name
    x = np.zeros((6, 1, 1), F)
    x[PULSE_AT] = 1e6
    lags = {}
    for spec in SPECS:
        out = _run(_pulse_graph(), spec, x, dt=1e-3 if spec == "nir" else None)[:, 0, 0]
        assert out[:PULSE_AT].sum() == 0 and out.sum() > 0, (spec, out)
        lags[spec] = int(np.argmax(out > 0)) - PULSE_AT
        expected = (0 if get_profile(spec).dynamic_before_transition else 1) + SYNAPSE_DELAY.get(spec, 0)
        assert lags[spec] == expected, (spec, out)
    assert lags["spyx1"] == 1 and lags["spyx1{shift=false}"] == 0  # the option decides it both ways
