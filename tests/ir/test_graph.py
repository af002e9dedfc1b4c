"""Graph structure: endpoint resolution, shape inference over edges and nested graphs, cycle rules, verify."""

import numpy as np
import pytest

from spyx.errors import CycleError, DanglingEdgeError, ParameterError, ShapeError, VerifyError
from spyx.ir import (
    LIF, Affine, Delay, Graph, Input, Linear, Output, Scale, Shift, feedback_edges, infer_shapes, sccs,
    topological_order, verify,
)
from spyx.ir.verify import diagnose

F = np.float32


def lif(n):
    return LIF(tau=np.ones(n, F), r=np.ones(n, F), v_leak=np.zeros(n, F), v_threshold=np.ones(n, F),
               v_reset=np.zeros(n, F))


def aff(o, i):
    return Affine(weight=np.ones((o, i), F), bias=np.zeros(o, F))


def rnn():
    nodes = {"input": Input(shape=np.array([3])), "fc": aff(4, 3), "lif": lif(4), "w_rec": aff(4, 4),
             "output": Output(shape=np.array([4]))}
    edges = [("input", "fc"), ("fc", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")]
    return Graph(nodes=nodes, edges=tuple(edges))


def test_recurrent_feedback_edge_leaves_the_neuron():
    g = rnn()
    assert sccs(g) == [["lif", "w_rec"]]
    assert feedback_edges(g) == [("lif", "w_rec")]
    order = topological_order(g)
    assert order.index("w_rec") < order.index("lif")  # w_rec reads lif's previous output
    verify(g)


def test_feedback_rule_prefers_causal_delays_and_is_minimal():
    # lif1 -> a -> lif2 -> b -> lif1: one cut suffices; the rule restores lif1's edge first (name order).
    nodes = {"input": Input(shape=np.array([2])), "a": aff(2, 2), "b": aff(2, 2), "lif1": lif(2), "lif2": lif(2),
             "output": Output(shape=np.array([2]))}
    edges = [("input", "lif1"), ("lif1", "a"), ("a", "lif2"), ("lif2", "b"), ("b", "lif1"), ("lif2", "output")]
    g = Graph(nodes=nodes, edges=tuple(edges))
    assert feedback_edges(g) == [("lif2", "b")]
    # With a one-step Shift on the loop, the cut moves to the Shift (no added latency).
    nodes2 = dict(nodes, d=Shift(steps=np.array([1, 1])))
    edges2 = [("input", "lif1"), ("lif1", "a"), ("a", "lif2"), ("lif2", "d"), ("d", "b"), ("b", "lif1"),
              ("lif2", "output")]
    g2 = Graph(nodes=nodes2, edges=tuple(edges2))
    assert feedback_edges(g2) == [("d", "b")]


def test_algebraic_loop_is_rejected_with_the_nodes_named():
    nodes = {"input": Input(shape=np.array([2])), "a": aff(2, 2), "s": Scale(scale=np.ones(2, F)),
             "output": Output(shape=np.array([2]))}
    g = Graph(nodes=nodes, edges=(("input", "a"), ("a", "s"), ("s", "a"), ("s", "output")))
    with pytest.raises(CycleError, match="cycle a -> s: passes through no stateful node"):
        verify(g)


def test_shape_mismatch_names_the_edge():
    g = rnn().replace_node("fc", aff(5, 3))
    with pytest.raises(ShapeError) as e:
        verify(g)
    assert "edge fc -> lif: fc produces (5,), lif expects (4,)" in e.value.diagnostics


def test_all_problems_are_reported_not_just_the_first():
    g = rnn()
    g = g.replace_node("lif", lif(4).replace(tau=np.array([1, np.nan, 1, 1], F)))
    g = g.replace_node("w_rec", aff(4, 4).replace(bias=np.zeros(3, F)))
    with pytest.raises(ParameterError) as e:
        verify(g)
    msgs = e.value.diagnostics
    assert any(m.startswith("node lif (LIF): parameter 'tau' has 1 non-finite") for m in msgs)
    assert any(m.startswith("node w_rec (Affine): bias shape (3,)") for m in msgs)


def test_dangling_edges_and_port_misuse():
    g = rnn().with_nodes(rnn().nodes, list(rnn().edges) + [("lif", "nowhere"), ("fc", "input"), ("output", "fc")])
    msgs = [m for _, m in diagnose(g)]
    assert "edge lif -> nowhere: target 'nowhere' names no node" in msgs
    assert "edge fc -> input: an Input node cannot receive edges" in msgs
    assert "edge output -> fc: an Output node cannot send edges" in msgs
    with pytest.raises(DanglingEdgeError):
        g.resolve("nowhere", as_source=False)


def test_graph_without_outputs_is_invalid():
    g = Graph(nodes={"input": Input(shape=np.array([2]))}, edges=())
    with pytest.raises(VerifyError, match="has no Output node"):
        verify(g)


def test_nested_graph_ports_and_shapes():
    inner = Graph(nodes={"i": Input(shape=np.array([4])), "lif": lif(4), "rec": Linear(weight=np.eye(4, dtype=F)),
                         "o": Output(shape=np.array([4]))},
                  edges=(("i", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "o")))
    outer = Graph(nodes={"input": Input(shape=np.array([3])), "fc": aff(4, 3), "sub": inner, "d": Delay(delay=np.ones(4, F)),
                         "output": Output(shape=None)},
                  edges=(("input", "fc"), ("fc", "sub.i"), ("sub.o", "d"), ("d", "output")))
    shapes = infer_shapes(outer)
    assert shapes["sub"].ports == {"o": (4,)}
    assert shapes["output"].output == (4,)
    verify(outer)
    bad = outer.replace_node("fc", aff(5, 3))
    with pytest.raises(ShapeError, match="edge fc -> sub.i: fc produces \\(5,\\), sub expects \\(4,\\)"):
        verify(bad)


def test_dotted_node_names_win_over_ports():
    # Flattened exporters write names like "lif1.lif"; they are node names, not ports.
    nodes = {"input": Input(shape=np.array([3])), "lif1.fc": aff(4, 3), "lif1.lif": lif(4), "output": Output(shape=np.array([4]))}
    g = Graph(nodes=nodes, edges=(("input", "lif1.fc"), ("lif1.fc", "lif1.lif"), ("lif1.lif", "output")))
    assert g.resolve("lif1.lif", as_source=True) == ("lif1.lif", None)
    verify(g)
