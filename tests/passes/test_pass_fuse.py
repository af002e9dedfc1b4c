"""fuse: every supported pair against a float64 re-computation of the unfused chain; the cases that must
not fuse (shared intermediate, merge, Flatten, growth); golden text."""

from __future__ import annotations

import numpy as np
import pytest

from spyx.ir import Affine, Flatten, Graph, Input, Linear, Output, Scale, to_text, verify
from spyx.passes import run_pipeline
from spyx.passes.fuse import fuse_pair
from tests.passes.passes_graphs import arr, chain, lif, ramp, scaled_mlp

F = np.float32


def apply(node, x):
    """Float64 evaluation of one stateless weight node (the reference)."""
    if node.kind == "Scale":
        return node.scale.astype(np.float64) * x
    y = node.weight.astype(np.float64) @ x
    return y + node.bias.astype(np.float64) if node.kind == "Affine" else y


def rand(rng, kind, n_in, n_out):
    if kind == "Scale":
        return Scale(scale=rng.uniform(-2, 2, n_in).astype(F))
    w = rng.standard_normal((n_out, n_in)).astype(F)
    return (
        Affine(weight=w, bias=rng.standard_normal(n_out).astype(F)) if kind == "Affine" else Linear(weight=w)
    )


@pytest.mark.parametrize("ka", ["Affine", "Linear", "Scale"])
@pytest.mark.parametrize("kb", ["Affine", "Linear", "Scale"])
def test_fused_pair_computes_the_chain(ka, kb):
    rng = np.random.default_rng(hash((ka, kb)) % 2**32)
    a = rand(rng, ka, 4, 4 if kb == "Scale" else 5)
    n_mid = 4 if ka == "Scale" else a.weight.shape[0]
    b = rand(rng, kb, n_mid, 3)
    fused = fuse_pair(a, b)
    expected_kind = "Scale" if ka == kb == "Scale" else ("Affine" if "Affine" in (ka, kb) else "Linear")
    assert fused.kind == expected_kind
    assert all(p.dtype == F for p in fused.params().values())
    for _ in range(3):
        x = rng.standard_normal(4)
        np.testing.assert_allclose(apply(fused, x), apply(b, apply(a, x)), rtol=2e-6, atol=2e-6)


def test_chain_fuses_to_one_node_and_graph_stays_valid(golden):
    g = scaled_mlp()
    r = run_pipeline(g, "fuse")
    verify(r.graph)
    assert r.modified and list(r.graph.nodes) == ["input", "fc1", "lif", "output"]
    assert r.graph.nodes["fc1"].kind == "Affine"
    x = np.array([0.3, -1.2])
    ref = x
    for name in ("scale", "fc1", "fc2", "scale2"):
        ref = apply(g.nodes[name], ref)
    np.testing.assert_allclose(apply(r.graph.nodes["fc1"], x), ref, rtol=1e-6)
    assert len(r.changes) == 3
    golden("fuse_before", to_text(g))
    golden("fuse_after", to_text(r.graph))


def test_unchanged_when_nothing_fuses(golden):
    shared = Graph(
        nodes={
            "input": Input(shape=np.array([2])),
            "fc1": Affine(weight=ramp(3, 2), bias=arr(0.0, 0.1, 0.2)),
            "fc2": Linear(weight=ramp(3, 3)),
            "fc3": Linear(weight=ramp(3, 3)),
            "o1": Output(shape=np.array([3])),
            "o2": Output(shape=np.array([3])),
        },
        edges=(("input", "fc1"), ("fc1", "fc2"), ("fc1", "fc3"), ("fc2", "o1"), ("fc3", "o2")),
    )
    flat = Graph.sequential(
        [
            ("flat", Flatten(start_dim=np.int64(0), end_dim=np.int64(-1))),
            ("fc", Affine(weight=ramp(2, 4), bias=arr(0.0, 0.0))),
            ("lif", lif(2)),
        ],
        input_shape=(2, 2),
    )
    for g in (shared, flat, chain(("fc", Affine(weight=ramp(3, 2), bias=arr(0, 0, 0))), ("lif", lif(3)))):
        r = run_pipeline(g, "fuse")
        assert not r.modified and r.graph is g
    golden("fuse_unchanged_shared", to_text(shared))


def test_merge_into_second_layer_is_not_fused():
    g = Graph(
        nodes={
            "input": Input(shape=np.array([2])),
            "fc1": Linear(weight=ramp(2, 2)),
            "fc2": Linear(weight=ramp(2, 2)),
            "lif": lif(2),
            "output": Output(shape=np.array([2])),
        },
        edges=(("input", "fc1"), ("fc1", "fc2"), ("input", "fc2"), ("fc2", "lif"), ("lif", "output")),
    )
    assert not run_pipeline(g, "fuse").modified


def test_bottleneck_is_kept_unless_growth_allowed():
    g = chain(("down", Linear(weight=ramp(1, 8))), ("up", Linear(weight=ramp(8, 1))), n_in=8)
    r = run_pipeline(g, "fuse")
    assert not r.modified and any("grow 16 weights to 64" in n for n in r.notes)
    r2 = run_pipeline(g, "fuse{allow_growth=true}")
    assert r2.modified and r2.graph.nodes["down"].weight.shape == (8, 8)
