"""reorder: canonical order and names independent of insertion order and names; idempotence; nested
graphs; rekey_params."""

from __future__ import annotations

import numpy as np
import pytest

from spyx.errors import ParameterError
from spyx.ir import Affine, Graph, Input, Linear, Output, feedback_edges, to_text, verify
from spyx.passes import run_pipeline
from spyx.passes.reorder import rekey_params
from tests.passes.passes_graphs import arr, lif, ramp


def network(order: list[int], names: dict[str, str]) -> Graph:
    """One network (two inputs, a skip, a recurrent LIF, two outputs) built in a given node order with
    given names."""
    spec = [
        ("in_a", Input(shape=np.array([2])), []),
        ("in_b", Input(shape=np.array([3])), []),
        ("fa", Affine(weight=ramp(4, 2), bias=arr(0.1, 0.2, 0.3, 0.4)), ["in_a"]),
        ("fb", Linear(weight=ramp(4, 3, 0.2)), ["in_b"]),
        ("lif", lif(4), ["fa", "fb", "rec"]),
        ("rec", Linear(weight=ramp(4, 4, -0.1)), ["lif"]),
        ("head", Affine(weight=ramp(2, 4), bias=arr(0.0, 0.0)), ["lif"]),
        ("o_spk", Output(shape=np.array([4])), ["lif"]),
        ("o_head", Output(shape=np.array([2])), ["head"]),
    ]
    picked = [spec[i] for i in order]
    nodes = {names.get(n, n): node for n, node, _ in picked}
    edges = [(names.get(s, s), names.get(n, n)) for n, _, srcs in reversed(picked) for s in srcs]
    return Graph(nodes=nodes, edges=tuple(edges))


ORDER_A = list(range(9))
ORDER_B = [8, 6, 5, 4, 7, 3, 2, 1, 0]
RENAMES = {
    "in_a": "x",
    "in_b": "y",
    "fa": "dense_1",
    "fb": "zz",
    "lif": "neurons",
    "rec": "a_rec",
    "head": "readout",
}


def test_same_network_gives_the_same_text_after_rename(golden):
    a = network(ORDER_A, {})
    b = network(ORDER_B, RENAMES)
    verify(a)
    verify(b)
    assert to_text(a) != to_text(b)
    ra = run_pipeline(a, "reorder{rename=true}").graph
    rb = run_pipeline(b, "reorder{rename=true}").graph
    assert to_text(ra) == to_text(rb)
    assert list(ra.nodes) == [
        "input0",
        "input1",
        "fc0",
        "linear0",
        "linear1",
        "lif0",
        "fc1",
        "output0",
        "output1",
    ]
    assert feedback_edges(ra) == [("lif0", "linear1")]
    golden("reorder_rename", to_text(ra))


def test_reorder_without_rename_keeps_names_and_is_idempotent(golden):
    b = network(ORDER_B, RENAMES)
    r = run_pipeline(b, "reorder")
    assert r.modified and set(r.graph.nodes) == set(b.nodes)
    assert sorted(r.graph.edges) == sorted(b.edges)
    assert r.graph.nodes == b.nodes
    again = run_pipeline(r.graph, "reorder")
    assert not again.modified and again.graph is r.graph
    renamed = run_pipeline(r.graph, "reorder{rename=true}").graph
    assert not run_pipeline(renamed, "reorder{rename=true}").modified
    golden("reorder_keep_names", to_text(r.graph))


def test_nested_graph_ports_are_renamed():
    from tests import graphgen

    g = dict(graphgen.primitive_graphs())["nested"]
    r = run_pipeline(g, "reorder{rename=true}").graph
    verify(r)
    sub = [n for n in r.nodes.values() if isinstance(n, Graph)][0]
    assert "input" in sub.nodes and "output" in sub.nodes
    assert to_text(run_pipeline(r, "inline,reorder{rename=true}").graph) == to_text(
        run_pipeline(g, "inline,reorder{rename=true}").graph
    )


def test_rekey_params_reorders_and_renames():
    ref = {
        "linear": {"w": np.zeros((3, 2))},
        "linear_1": {"w": np.zeros((4, 3))},
        "lif": {"beta": np.zeros(4)},
    }
    trained = {
        "lif": {"beta": np.ones(4)},
        "linear_1": {"w": np.ones((4, 3))},
        "linear": {"w": np.ones((3, 2))},
    }
    out = rekey_params(trained, ref)
    assert list(out) == list(ref) and out["linear_1"] is trained["linear_1"]
    renamed = {"dense_a": trained["linear"], "dense_b": trained["linear_1"], "lif": trained["lif"]}
    out = rekey_params(renamed, ref)
    assert (
        list(out) == list(ref)
        and out["linear"] is renamed["dense_a"]
        and out["linear_1"] is renamed["dense_b"]
    )


def test_rekey_params_errors():
    ref = {"a": {"w": np.zeros((3, 3))}, "b": {"w": np.zeros((3, 3))}}
    with pytest.raises(ParameterError, match="ambiguous"):
        rekey_params({"x": {"w": np.ones((3, 3))}, "y": {"w": np.ones((3, 3))}}, ref)
    with pytest.raises(ParameterError, match="different structure"):
        rekey_params({"a": {"w": np.ones((3, 2))}, "b": {"w": np.ones((3, 3))}}, ref)
    with pytest.raises(ParameterError, match="match no reference layer"):
        rekey_params({"a": ref["a"], "b": ref["b"], "c": ref["a"]}, ref)
    with pytest.raises(ParameterError, match="no trained layer"):
        rekey_params({"a": ref["a"]}, ref)
