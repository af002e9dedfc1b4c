"""rescale: gain folding, threshold normalisation (via weights and via gain), Scale folding; skip notes and
on_conflict=error; golden text. The numerical contract (spikes identical) is in test_pass_contracts.py."""

from __future__ import annotations

import numpy as np
import pytest

from spyx.errors import OptionError, PassError
from spyx.ir import Affine, Conv2d, Graph, Input, Linear, Output, Scale, to_text, verify
from spyx.passes import parse_pipeline, run_pipeline
from spyx.passes.weights import scale_inputs
from tests.passes.passes_graphs import arr, chain, cubalif, lif, neuron, ramp, recurrent, scaled_mlp

F = np.float32


def test_gain_folds_r_into_the_feeders(golden):
    g = recurrent(lif(3, r=2.0))
    r = run_pipeline(g, "rescale{mode=gain}")
    verify(r.graph)
    np.testing.assert_array_equal(r.graph.nodes["lif"].r, np.ones(3, F))
    np.testing.assert_allclose(r.graph.nodes["fc"].weight, 2.0 * g.nodes["fc"].weight)
    np.testing.assert_allclose(r.graph.nodes["fc"].bias, 2.0 * g.nodes["fc"].bias)
    np.testing.assert_allclose(r.graph.nodes["w_rec"].weight, 2.0 * g.nodes["w_rec"].weight)
    golden("rescale_gain_before", to_text(g))
    golden("rescale_gain_after", to_text(r.graph))
    again = run_pipeline(r.graph, "rescale{mode=gain}")
    assert not again.modified and again.graph is r.graph


def test_gain_of_cuba_and_discrete_neurons():
    g = chain(("fc", Linear(weight=ramp(3, 2))), ("n", cubalif(3, w_in=4.0)))
    r = run_pipeline(g, "rescale{mode=gain}")
    assert r.graph.nodes["n"].w_in.tolist() == [1.0] * 3
    assert r.graph.nodes["n"].r.tolist() == g.nodes["n"].r.tolist()  # r acts on the current, not the input
    np.testing.assert_allclose(r.graph.nodes["fc"].weight, 4.0 * g.nodes["fc"].weight)
    syn = neuron(3, synapse=True, g=0.5).replace(g_x=np.full(3, 0.2, F))
    r = run_pipeline(chain(("fc", Linear(weight=ramp(3, 2))), ("n", syn)), "rescale{mode=gain}")
    n = r.graph.nodes["n"]
    assert n.w_syn.tolist() == [1.0] * 3
    np.testing.assert_allclose(n.g_x, 0.4)  # g_x x = (g_x / w_syn) (w_syn x)


def test_threshold_scales_feeders_and_state(golden):
    g = recurrent(neuron(3, thr=0.8))
    r = run_pipeline(g, "rescale{threshold=1}")
    n, k = r.graph.nodes["lif"], 1 / 0.8
    np.testing.assert_allclose(n.v_threshold, 1.0)
    np.testing.assert_allclose(n.bias, 0.05 * k, rtol=1e-6)
    np.testing.assert_array_equal(n.g_x, g.nodes["lif"].g_x)
    np.testing.assert_allclose(r.graph.nodes["fc"].weight, k * g.nodes["fc"].weight, rtol=1e-6)
    np.testing.assert_allclose(r.graph.nodes["w_rec"].weight, k * g.nodes["w_rec"].weight, rtol=1e-6)
    golden("rescale_threshold_after", to_text(r.graph))
    via_gain = run_pipeline(g, "rescale{threshold=1,via=gain}").graph
    assert via_gain.nodes["fc"] == g.nodes["fc"]
    np.testing.assert_allclose(via_gain.nodes["lif"].g_x, 0.5 * k, rtol=1e-6)
    assert not run_pipeline(r.graph, "rescale{threshold=1}").modified


def test_continuous_threshold_scales_leak_and_reset():
    g = chain(("fc", Affine(weight=ramp(3, 2), bias=arr(0.1, 0.2, 0.3))), ("lif", lif(3, thr=0.5, leak=0.1)))
    n = run_pipeline(g, "rescale{threshold=2}").graph.nodes["lif"]
    np.testing.assert_allclose(n.v_threshold, 2.0)
    np.testing.assert_allclose(n.v_leak, 0.4, rtol=1e-6)
    np.testing.assert_allclose(n.v_reset, -0.4, rtol=1e-6)
    np.testing.assert_array_equal(n.r, g.nodes["lif"].r)


def shared_feeder() -> Graph:
    nodes = {
        "input": Input(shape=np.array([2])),
        "fc": Affine(weight=ramp(3, 2), bias=arr(0.0, 0.0, 0.0)),
        "a": lif(3, thr=0.5),
        "b": lif(3, thr=0.5),
        "oa": Output(shape=np.array([3])),
        "ob": Output(shape=np.array([3])),
    }
    edges = (("input", "fc"), ("fc", "a"), ("fc", "b"), ("a", "oa"), ("b", "ob"))
    return Graph(nodes=nodes, edges=edges)


def test_shared_feeders_are_skipped_or_refused():
    g = shared_feeder()
    r = run_pipeline(g, "rescale{threshold=1}")
    assert not r.modified and r.graph is g
    assert r.notes == (
        "rescale: threshold: skipped a (LIF): its feeder fc also feeds b",
        "rescale: threshold: skipped b (LIF): its feeder fc also feeds a",
    )
    with pytest.raises(PassError, match="skipped a \\(LIF\\): its feeder fc also feeds b"):
        run_pipeline(g, "rescale{threshold=1,on_conflict=error}")
    assert run_pipeline(g, "rescale{threshold=1,via=gain}").modified  # the neuron's own gain is not shared
    direct = chain(("lif", lif(2)))
    assert "fed by input (Input)" in run_pipeline(direct, "rescale{mode=gain}").notes[0]
    neg = chain(("fc", Linear(weight=ramp(2, 2))), ("lif", lif(2, thr=-0.5)))
    assert "non-positive" in run_pipeline(neg, "rescale{threshold=1}").notes[0]


def test_fold_scale_before_and_after(golden):
    g = scaled_mlp()
    r = run_pipeline(g, "rescale{fold_scale=true}")
    verify(r.graph)
    assert "scale" not in r.graph.nodes and "scale2" not in r.graph.nodes
    x = np.array([0.7, -0.4])
    w1, b1 = g.nodes["fc1"].weight.astype(float), g.nodes["fc1"].bias.astype(float)
    ref = g.nodes["scale2"].scale * (g.nodes["fc2"].weight @ (w1 @ (g.nodes["scale"].scale * x) + b1))
    got = r.graph.nodes["fc2"].weight @ (r.graph.nodes["fc1"].weight @ x + r.graph.nodes["fc1"].bias)
    np.testing.assert_allclose(got, ref, rtol=1e-6)
    golden("rescale_fold_scale_after", to_text(r.graph))
    assert not run_pipeline(r.graph, "rescale{fold_scale=true}").modified


def test_conv_input_scale_with_groups_matches_lax_conv():
    import jax

    rng = np.random.default_rng(1)
    conv = Conv2d(
        weight=rng.standard_normal((4, 1, 3, 3)).astype(F),
        bias=np.zeros(4, F),
        stride=np.array([1, 1]),
        padding=np.array([1, 1]),
        dilation=np.array([1, 1]),
        groups=np.int64(2),
    )
    s = np.repeat(np.array([0.5, -2.0]), 25).reshape(2, 5, 5)
    new, why = scale_inputs(conv, s)
    assert why is None
    x = rng.standard_normal((1, 2, 5, 5)).astype(F)

    def run(w, inp):
        return jax.lax.conv_general_dilated(inp, w, (1, 1), [(1, 1), (1, 1)], feature_group_count=2)

    np.testing.assert_allclose(run(new.weight, x), run(conv.weight, (s * x).astype(F)), rtol=1e-5, atol=1e-5)
    assert scale_inputs(conv, np.arange(50.0).reshape(2, 5, 5))[0] is None


def test_options():
    with pytest.raises(OptionError, match="does nothing without options"):
        parse_pipeline("rescale")
    with pytest.raises(OptionError, match="must be one of none, gain"):
        parse_pipeline("rescale{mode=weights}")
    with pytest.raises(OptionError, match="threshold must be > 0"):
        parse_pipeline("rescale{threshold=0}")
    assert parse_pipeline("rescale{threshold=1}")[0].threshold == 1.0
    g = chain(("s", Scale(scale=arr(1.0, 2.0))))
    assert not run_pipeline(g, "rescale{fold_scale=true}").modified
