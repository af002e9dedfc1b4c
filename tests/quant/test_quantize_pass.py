"""The quantize-graph pass on the IR: integer weights in range, scales recomputed independently in float64, the
folding arithmetic per neuron kind, fallbacks, formats, errors, golden text. Numerical spike identity is in
test_spikes.py (it needs the backend)."""

from __future__ import annotations

import numpy as np
import pytest

from spyx.errors import OptionError, PassError
from spyx.ir import LI, LIF, Affine, Graph, Input, Linear, Output, verify
from spyx.ir.discrete import Neuron
from spyx.ir.text import to_text
from spyx.passes import parse_pipeline, run_pipeline
from spyx.passes.quantize import Quantize, quantize_graph
from spyx.quant.arith import fraction12_decay, shift_decay
from tests.golden import check_golden
from tests.graphgen import primitive_graphs, random_graph

WEIGHTS = ("Affine", "Linear", "Conv1d", "Conv2d")


def _ref_scale(w: np.ndarray, bits: int, per_channel: bool) -> np.ndarray:
    """Independent float64 reference: absmax / (2^(bits-1) - 1), zero channels -> 1."""
    a = np.abs(w.astype(np.float64)).reshape(w.shape[0], -1)
    m = a.max(axis=1) if per_channel else np.asarray(a.max())
    s = m / (2 ** (bits - 1) - 1)
    return np.where(s > 0, s, 1.0)


def _layers(g: Graph):
    return {p: n for p, n in g.walk() if n.kind in WEIGHTS}


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("bits,granularity", [(8, "channel"), (4, "tensor"), (2, "channel")])
def test_weights_are_integers_in_range_and_dequantize_to_the_fake_graph(seed, bits, granularity):
    g = random_graph(seed)
    r = quantize_graph(g, bits=bits, granularity=granularity)
    verify(r.graph)
    verify(r.fake_graph)
    qlayers, flayers, orig = _layers(r.graph), _layers(r.fake_graph), _layers(g)
    assert set(qlayers) == set(orig)
    for rep in r.layers:
        q, f, w = qlayers[rep.name].weight, flayers[rep.name].weight, orig[rep.name].weight
        assert q.dtype == w.dtype and f.dtype == w.dtype
        assert np.array_equal(q, np.round(q))
        assert q.min() >= -(2 ** (bits - 1)) and q.max() <= 2 ** (bits - 1) - 1
        s = np.asarray(rep.scale, dtype=np.float64)
        sb = s.reshape((-1,) + (1,) * (w.ndim - 1)) if s.ndim else s
        assert np.allclose(f, q.astype(np.float64) * sb, rtol=1e-6, atol=0)
        # rounding error at most half a step (no clipping with absmax scales)
        assert np.all(np.abs(w - f) <= sb / 2 * (1 + 1e-5) + 1e-12)
        assert rep.max_abs_error == pytest.approx(float(np.max(np.abs(w.astype(np.float64) - f))), rel=1e-6)
        if not rep.shared_with:  # own scale: equals the independent reference
            assert np.allclose(s, _ref_scale(w, bits, granularity == "channel"), rtol=1e-6)  # float32


def test_ternary_is_absmean_and_three_valued():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((5, 7)).astype(np.float32)
    g = Graph.sequential(
        [
            ("fc", Linear(weight=w)),
            (
                "lif",
                LIF(
                    tau=np.full(5, 0.01, np.float32),
                    r=np.ones(5, np.float32),
                    v_leak=np.zeros(5, np.float32),
                    v_threshold=np.ones(5, np.float32),
                    v_reset=np.zeros(5, np.float32),
                ),
            ),
        ],
        input_shape=(7,),
    )
    r = quantize_graph(g, ternary=True)
    q = r.graph.nodes["fc"].weight
    assert set(np.unique(q)) <= {-1.0, 0.0, 1.0}
    ref = np.abs(w.astype(np.float64)).mean(axis=1)
    assert np.allclose(r.layers[0].scale, ref, rtol=1e-6)
    assert np.array_equal(q, np.clip(np.round(w / ref[:, None].astype(np.float32)), -1, 1))
    # thresholds folded: v_threshold / s per channel
    assert np.allclose(r.graph.nodes["lif"].v_threshold, 1.0 / ref, rtol=1e-6)


def _lif(n, thr=1.0, leak=0.1, reset=-0.2):
    f = np.float32
    return LIF(
        tau=np.full(n, 0.01, f),
        r=np.full(n, 2.0, f),
        v_leak=np.full(n, leak, f),
        v_threshold=np.full(n, thr, f),
        v_reset=np.full(n, reset, f),
    )


def test_threshold_fold_divides_thresholds_resets_and_leak_and_gain_fold_multiplies_r():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((4, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32) * 0.3
    g = Graph.sequential([("fc", Affine(weight=w, bias=b)), ("lif", _lif(4))], input_shape=(3,))
    r = quantize_graph(g, bits=8)
    s = _ref_scale(w, 8, True)
    lif = r.graph.nodes["lif"]
    assert np.allclose(lif.v_threshold, 1.0 / s, rtol=1e-6)
    assert np.allclose(lif.v_reset, -0.2 / s, rtol=1e-6)
    assert np.allclose(lif.v_leak, 0.1 / s, rtol=1e-6)
    assert np.array_equal(lif.r, g.nodes["lif"].r) and np.array_equal(lif.tau, g.nodes["lif"].tau)
    assert np.array_equal(r.graph.nodes["fc"].bias, np.round(b / s.astype(np.float32)))
    assert r.layers[0].folded_into == ("lif",)
    rg = quantize_graph(g, bits=8, fold="gain")
    lif_g = rg.graph.nodes["lif"]
    assert np.allclose(lif_g.r, 2.0 * s, rtol=1e-6)
    assert np.array_equal(lif_g.v_threshold, g.nodes["lif"].v_threshold)
    # the fake-quantized graph keeps the neurons as they were
    assert rg.fake_graph.nodes["lif"] == g.nodes["lif"]


def test_recurrent_layers_share_one_scale_per_channel():
    rng = np.random.default_rng(2)
    f = np.float32
    w_in, w_rec = rng.standard_normal((4, 3)).astype(f), (rng.standard_normal((4, 4)) * 3).astype(f)
    nodes = {
        "in": Input(shape=np.array([3])),
        "fc": Linear(weight=w_in),
        "lif": _lif(4),
        "rec": Linear(weight=w_rec),
        "out": Output(shape=np.array([4])),
    }
    g = Graph(
        nodes=nodes, edges=(("in", "fc"), ("fc", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "out"))
    )
    r = quantize_graph(g, bits=6)
    shared = np.maximum(np.abs(w_in).max(1), np.abs(w_rec).max(1)).astype(np.float64) / 31
    for rep in r.layers:
        assert np.allclose(rep.scale, shared, rtol=1e-6)
        assert rep.fallback is None
    assert {rep.name for rep in r.layers} == {"fc", "rec"}
    assert np.allclose(r.graph.nodes["lif"].v_threshold, 1.0 / shared, rtol=1e-6)


def test_skipped_layer_stays_float_and_is_divided_by_the_shared_scale():
    rng = np.random.default_rng(3)
    f = np.float32
    w_in, w_rec = rng.standard_normal((4, 3)).astype(f), rng.standard_normal((4, 4)).astype(f)
    nodes = {
        "in": Input(shape=np.array([3])),
        "fc": Linear(weight=w_in),
        "lif": _lif(4),
        "rec": Linear(weight=w_rec),
        "out": Output(shape=np.array([4])),
    }
    g = Graph(
        nodes=nodes, edges=(("in", "fc"), ("fc", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "out"))
    )
    r = quantize_graph(g, bits=8, skip="rec")
    s = _ref_scale(w_in, 8, True)
    assert np.allclose(r.graph.nodes["rec"].weight, w_rec / s[:, None], rtol=1e-6)
    assert np.array_equal(r.fake_graph.nodes["rec"].weight, w_rec)
    assert [rep.format for rep in r.layers if rep.name == "rec"] == ["float"]


def test_fallbacks_insert_a_scale_node_and_say_why():
    rng = np.random.default_rng(4)
    f = np.float32
    # weight layer straight into another weight layer, then a readout to the output
    g = Graph.sequential(
        [
            ("fc1", Linear(weight=rng.standard_normal((4, 3)).astype(f))),
            ("fc2", Linear(weight=rng.standard_normal((2, 4)).astype(f))),
            ("lif", _lif(2)),
        ],
        input_shape=(3,),
    )
    r = quantize_graph(g, bits=8)
    fb = {rep.name: rep for rep in r.fallbacks}
    assert set(fb) == {"fc1"}
    assert "fc2 (Linear)" in fb["fc1"].fallback
    assert "fc1_dequant" in r.graph.nodes and ("fc1", "fc1_dequant") in r.graph.edges
    assert ("fc1_dequant", "fc2") in r.graph.edges
    s = _ref_scale(g.nodes["fc1"].weight, 8, True)
    assert np.allclose(r.graph.nodes["fc1_dequant"].scale, s, rtol=1e-6)
    assert any("NOT folded" in line for line in r.lines())
    verify(r.graph)


def test_neuron_fed_by_an_unscaled_input_falls_back():
    rng = np.random.default_rng(5)
    nodes = {
        "in": Input(shape=np.array([3])),
        "fc": Linear(weight=rng.standard_normal((3, 3)).astype(np.float32)),
        "lif": _lif(3),
        "out": Output(shape=np.array([3])),
    }
    g = Graph(nodes=nodes, edges=(("in", "fc"), ("fc", "lif"), ("in", "lif"), ("lif", "out")))
    r = quantize_graph(g)
    assert "also receives input that does not carry the scale, from in" in r.layers[0].fallback


def test_discrete_neuron_fold():
    f = np.float32
    n = Neuron(
        beta=np.full(3, 0.9, f),
        g_x=np.ones(3, f),
        bias=np.full(3, 0.05, f),
        v_threshold=np.ones(3, f),
        v_reset=np.zeros(3, f),
        v_min=np.full(3, -1.0, f),
        reset="subtract",
    )
    w = np.array([[0.5, -1.0], [0.25, 0.1], [2.0, 0.0]], f)
    g = Graph.sequential([("fc", Linear(weight=w)), ("n", n)], input_shape=(2,))
    r = quantize_graph(g, bits=8, pow2=True)
    s = np.exp2(np.ceil(np.log2(np.abs(w).max(1) / 127)))
    out = r.graph.nodes["n"]
    assert np.array_equal(out.v_threshold, (1.0 / s).astype(f))
    assert np.array_equal(out.bias, (0.05 / s).astype(f))
    assert np.array_equal(out.v_min, (-1.0 / s).astype(f))
    assert np.array_equal(out.g_x, n.g_x) and np.array_equal(out.beta, n.beta)


def test_threshold_bits_and_decays():
    rng = np.random.default_rng(6)
    f = np.float32
    w = rng.standard_normal((4, 3)).astype(f)
    lif = LIF(
        tau=np.array([0.003, 0.005, 0.011, 0.02], f),
        r=np.ones(4, f),
        v_leak=np.zeros(4, f),
        v_threshold=np.full(4, 1.0, f),
        v_reset=np.zeros(4, f),
    )
    g = Graph.sequential([("fc", Linear(weight=w)), ("lif", lif)], input_shape=(3,))
    r = quantize_graph(g, bits=8, threshold_bits=12, decay="shift", dt=1e-3)
    q = r.graph.nodes["lif"]
    s = _ref_scale(w, 8, True)
    assert np.array_equal(q.v_threshold, np.round(1.0 / s).astype(f))
    dash = np.round(np.log2(np.array([3, 5, 11, 20])))  # Rockpool: round(log2(tau / dt))
    assert np.allclose(q.tau, 1e-3 * 2.0**dash, rtol=1e-6)
    # the fake graph mirrors both: thresholds = rounded * s, same decays
    assert np.allclose(r.fake_graph.nodes["lif"].v_threshold, np.round(1.0 / s) * s, rtol=1e-6)
    assert np.array_equal(r.fake_graph.nodes["lif"].tau, q.tau)
    r12 = quantize_graph(g, bits=8, decay="fraction12", dt=1e-3)
    d = np.array([int(x * 4095) for x in (1e-3 / lif.tau)])  # the NIR paper's Lava converter truncates
    assert np.allclose(r12.graph.nodes["lif"].tau, 1e-3 * 4095 / d, rtol=1e-6)


def test_decay_codes():
    dash, beta = shift_decay(np.array([0.5, 0.75, 0.9, 0.99, 1.0]), max_shift=15)
    assert dash.tolist() == [1, 2, 3, 7, 15]
    assert np.allclose(beta, 1 - 2.0**-dash)
    d, beta12 = fraction12_decay(np.array([0.0, 0.5, 0.999]))
    assert d.tolist() == [4095, 2048, 4] and np.allclose(beta12, 1 - d / 4095)


@pytest.mark.parametrize(
    "spec,match",
    [
        ("quantize-graph{bits=0}", "bits=0 is out of range"),
        ("quantize-graph{bits=17}", "bits=17 is out of range"),
        ("quantize-graph{granularity=row}", "granularity.*must be one of channel, tensor"),
        ("quantize-graph{scheme=asymmetric}", "scheme.*must be one of symmetric"),
        ("quantize-graph{fold=gain,threshold_bits=8}", "threshold_bits needs fold=threshold"),
        ("quantize-graph{skip=(}", "not a valid regular expression"),
        ("quantize-graph{bitz=8}", "has no option 'bitz'"),
        ("quantize{bits=8}", "unknown pass 'quantize'; available passes: .*quantize-graph"),  # renamed
    ],
)
def test_bad_options_are_option_errors(spec, match):
    with pytest.raises(OptionError, match=match):
        parse_pipeline(spec)


def test_bad_options_from_python():
    with pytest.raises(OptionError, match="granularity='row' is not one of channel, tensor"):
        Quantize(granularity="row")
    with pytest.raises(OptionError, match="bits=1 is out of range"):
        quantize_graph(dict(primitive_graphs())["LIF"], bits=1)


def test_graph_without_weights_and_missing_dt():
    _, g = next((k, g) for k, g in primitive_graphs() if k.startswith("Scale"))
    no_weights = Graph(
        nodes={k: v for k, v in g.nodes.items() if k != "lin3"},
        edges=tuple(e for e in g.edges if "lin3" not in e) + (("delay2", "thr4"),),
    )
    with pytest.raises(PassError, match="no weight layer"):
        run_pipeline(no_weights, "quantize-graph")
    lif_graph = dict(primitive_graphs())["LIF"]
    with pytest.raises(OptionError, match="needs dt"):
        quantize_graph(lif_graph, decay="shift")
    with pytest.raises(OptionError, match="must be > 0"):
        quantize_graph(lif_graph, scales={"fc1": np.array([-1.0])})


def test_unchanged_and_changed_cases_and_golden():
    g = dict(primitive_graphs())["LIF"]
    res = Quantize(weights=False)(g)
    assert not res.modified and res.graph is g
    res = Quantize(bits=4, pow2=True)(g)
    assert res.modified and any("folded into lif2" in c for c in res.changes)
    check_golden(
        "quantize_changed.txt",
        to_text(g) + "---\n" + to_text(res.graph) + "---\n" + "\n".join(res.changes) + "\n",
    )
    check_golden("quantize_unchanged.txt", to_text(Quantize(weights=False)(g).graph))


def test_import_spyx_does_not_import_qwix():
    import subprocess
    import sys

    code = "import sys, spyx, spyx.quant, spyx.targets; print('qwix' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_exact_decay_method_makes_the_exact_discretisation_run_the_chip_decay():
    f = np.float32
    lif = LIF(
        tau=np.array([0.003, 0.0075, 0.02], f),
        r=np.ones(3, f),
        v_leak=np.zeros(3, f),
        v_threshold=np.ones(3, f),
        v_reset=np.zeros(3, f),
    )
    g = Graph.sequential([("fc", Linear(weight=np.eye(3, dtype=f))), ("lif", lif)], input_shape=(3,))
    r = quantize_graph(g, decay="shift", dt=1e-3, decay_method="exact")
    beta = np.exp(-1e-3 / r.graph.nodes["lif"].tau.astype(np.float64))
    dash = np.round(-np.log2(1 - np.exp(-1e-3 / lif.tau.astype(np.float64))))
    assert np.allclose(beta, 1 - 2.0**-dash, rtol=1e-6)


def test_readout_gain_keeps_readouts_without_a_scale_node():
    rng = np.random.default_rng(8)
    f = np.float32
    li = LI(tau=np.full(3, 0.01, f), r=np.full(3, 2.0, f), v_leak=np.full(3, 0.1, f))
    w = rng.standard_normal((3, 4)).astype(f)
    g = Graph.sequential([("fc", Linear(weight=w)), ("li", li)], input_shape=(4,))
    assert [rep.name for rep in quantize_graph(g).fallbacks] == ["fc"]
    r = quantize_graph(g, readout="gain")
    assert not r.fallbacks and r.layers[0].folded_into == ("li",)
    s = _ref_scale(w, 8, True)
    assert np.allclose(r.graph.nodes["li"].r, 2.0 * s, rtol=1e-6)
    assert np.array_equal(r.graph.nodes["li"].v_leak, li.v_leak)


def test_dt_recorded_by_retime_is_used():
    g = dict(primitive_graphs())["LIF"]
    recorded = Graph(nodes=g.nodes, edges=g.edges, metadata={"spyx.dt": 1e-3})
    a = quantize_graph(recorded, decay="shift")
    b = quantize_graph(g, decay="shift", dt=1e-3)
    assert a.graph.nodes["lif2"] == b.graph.nodes["lif2"]
