"""cse: identical stateless nodes with identical inputs merge (and chains of them); different parameters,
different inputs, stateful nodes and parallel-edge merges do not."""

from __future__ import annotations

import numpy as np

from spyx.ir import Affine, Graph, Input, Output, Scale, to_text, verify
from spyx.passes import run_pipeline
from tests.passes.passes_graphs import arr, lif, ramp


def twin(second_weight=None, *, into_one=False, stateful=False):
    w = ramp(3, 2)
    b = arr(0.1, 0.2, 0.3)
    nodes = {
        "input": Input(shape=np.array([2])),
        "fa": Affine(weight=w, bias=b),
        "fb": Affine(weight=w if second_weight is None else second_weight, bias=b),
        "sa": (lif(3) if stateful else Scale(scale=arr(2.0, 2.0, 2.0))),
        "sb": (lif(3) if stateful else Scale(scale=arr(2.0, 2.0, 2.0))),
        "l1": lif(3),
        "l2": lif(3),
        "o1": Output(shape=np.array([3])),
        "o2": Output(shape=np.array([3])),
    }
    edges = [("input", "fa"), ("input", "fb"), ("fa", "sa"), ("fb", "sb"), ("l1", "o1"), ("l2", "o2")]
    edges += [("sa", "l1"), ("sb", "l1")] if into_one else [("sa", "l1"), ("sb", "l2")]
    return Graph(nodes=nodes, edges=tuple(edges))


def test_identical_chains_merge(golden):
    g = twin()
    r = run_pipeline(g, "cse")
    verify(r.graph)
    assert r.changes == ("cse: merged fb into fa (Affine)", "cse: merged sb into sa (Scale)")
    assert set(r.graph.nodes) == {"input", "fa", "sa", "l1", "l2", "o1", "o2"}
    assert ("sa", "l1") in r.graph.edges and ("sa", "l2") in r.graph.edges
    golden("cse_before", to_text(g))
    golden("cse_after", to_text(r.graph))


def test_unchanged_cases():
    g = twin(ramp(3, 2, 0.2))
    r = run_pipeline(g, "cse")
    assert not r.modified and r.graph is g
    # identical stateful nodes are left alone (their state could be initialised differently)
    r = run_pipeline(twin(stateful=True), "cse")
    assert r.changes == ("cse: merged fb into fa (Affine)",)
    assert {"sa", "sb"} <= set(r.graph.nodes)


def test_parallel_edge_merge_is_skipped_with_a_note():
    g = twin(into_one=True)
    r = run_pipeline(g, "cse")
    assert r.changes == ("cse: merged fb into fa (Affine)",)
    assert r.notes == ("cse: kept sb: merging it into sa would make parallel edges",)
