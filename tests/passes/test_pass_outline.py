"""outline-recurrent: the snnTorch nested form, exact round trip with inline (up to the documented
renaming), unchanged cases; golden tests of inline and dce (changed and unchanged)."""

from __future__ import annotations

import numpy as np
import pytest

from spyx.errors import OptionError
from spyx.ir import Affine, Graph, Input, Linear, Output, feedback_edges, to_text, verify
from spyx.passes import parse_pipeline, run_pipeline
from spyx.passes.outline import recurrent_pairs
from tests.passes.passes_graphs import chain, cubalif, lif, neuron, ramp, recurrent


def rename(graph: Graph, names: dict[str, str]) -> Graph:
    nodes = {names.get(k, k): v for k, v in graph.nodes.items()}
    edges = tuple((names.get(a, a), names.get(b, b)) for a, b in graph.edges)
    return Graph(nodes=nodes, edges=edges, metadata=graph.metadata)


def test_outline_makes_the_snntorch_form(golden):
    g = recurrent(cubalif(3))
    r = run_pipeline(g, "outline-recurrent")
    verify(r.graph)
    sub = r.graph.nodes["lif"]
    assert isinstance(sub, Graph) and list(sub.nodes) == ["input", "lif", "w_rec", "output"]
    assert set(sub.edges) == {("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")}
    assert feedback_edges(sub) == [("lif", "w_rec")]
    assert sub.nodes["lif"] is g.nodes["lif"] and sub.nodes["w_rec"] is g.nodes["w_rec"]
    golden("outline_after", to_text(r.graph))


def test_round_trip_with_inline_is_exact_up_to_renaming():
    for node in (lif(3), cubalif(3), neuron(3), neuron(3, synapse=True)):
        g = recurrent(node)
        back = run_pipeline(g, "outline-recurrent,inline").graph
        expected = rename(g, {"lif": "lif.lif", "w_rec": "lif.w_rec"})
        a = run_pipeline(back, "reorder").graph
        b = run_pipeline(expected, "reorder").graph
        assert a == b, (to_text(a), to_text(b))
        assert feedback_edges(back) == [("lif.lif", "lif.w_rec")]


def test_unchanged_when_there_is_no_recurrent_pair():
    shared_rec = recurrent(lif(3))
    nodes = dict(shared_rec.nodes)
    nodes["o2"] = Output(shape=np.array([3]))
    shared = Graph(nodes=nodes, edges=shared_rec.edges + (("w_rec", "o2"),))  # w_rec feeds another node
    li_loop = recurrent(neuron(3).replace(fires=False))  # not spiking: left alone
    for g in (
        chain(("fc", Affine(weight=ramp(2, 2), bias=np.zeros(2, np.float32))), ("lif", lif(2))),
        shared,
        li_loop,
    ):
        assert recurrent_pairs(g) == []
        r = run_pipeline(g, "outline-recurrent")
        assert not r.modified and r.graph is g


def test_corpus_style_names_can_be_chosen():
    r = run_pipeline(recurrent(lif(3)), "outline-recurrent{weight_name=lin}")
    assert list(r.graph.nodes["lif"].nodes) == ["input", "lif", "lin", "output"]
    with pytest.raises(OptionError, match="two different non-empty names"):
        parse_pipeline("outline-recurrent{weight_name=lif}")


# -- the existing inline and dce passes -------------------------------------------------------------------
def nested() -> Graph:
    return run_pipeline(recurrent(lif(3)), "outline-recurrent").graph


def test_inline_golden(golden):
    g = nested()
    r = run_pipeline(g, "inline")
    assert r.modified and not any(isinstance(n, Graph) for n in r.graph.nodes.values())
    golden("inline_before", to_text(g))
    golden("inline_after", to_text(r.graph))
    flat = run_pipeline(r.graph, "inline")
    assert not flat.modified and flat.graph is r.graph


def test_dce_golden(golden):
    g = recurrent(lif(3))
    nodes = dict(g.nodes)
    nodes["dead"] = Linear(weight=ramp(2, 3))
    nodes["dead2"] = Affine(weight=ramp(2, 2), bias=np.zeros(2, np.float32))
    nodes["unused_in"] = Input(shape=np.array([5]))
    g2 = Graph(nodes=nodes, edges=g.edges + (("lif", "dead"), ("dead", "dead2")))
    r = run_pipeline(g2, "dce")
    assert r.changes == ("dce: removed dead (Linear)", "dce: removed dead2 (Affine)")
    assert set(r.graph.nodes) == set(g.nodes) | {"unused_in"}
    golden("dce_after", to_text(r.graph))
    again = run_pipeline(r.graph, "dce")
    assert not again.modified and again.graph is r.graph
    assert isinstance(g2.nodes["unused_in"], Input)


def test_round_trip_keeps_flattened_snntorch_names():
    g = rename(recurrent(cubalif(3)), {"lif": "rec1.lif", "w_rec": "rec1.w_rec"})
    outlined = run_pipeline(g, "outline-recurrent").graph
    assert "rec1" in outlined.nodes and list(outlined.nodes["rec1"].nodes) == [
        "input",
        "lif",
        "w_rec",
        "output",
    ]
    back = run_pipeline(outlined, "inline").graph
    assert run_pipeline(back, "reorder").graph == run_pipeline(g, "reorder").graph


def test_corpus_braille_outlines_to_the_nested_corpus_file(corpus):
    from spyx.io import load

    flat = load(corpus / "braille_noDelay_bias_zero.nir")
    nested = load(corpus / "braille_noDelay_bias_zero_subgraph.nir", repair=True)
    r = run_pipeline(flat, "outline-recurrent{neuron_name=lif1,weight_name=lin}")
    assert r.changes == (
        "outline-recurrent: outlined lif1.lif -> lif1.w_rec -> lif1.lif as nested graph lif1",
    )
    verify(r.graph)
    assert run_pipeline(r.graph, "reorder").graph == run_pipeline(nested, "reorder").graph


def test_top_level_passes_note_nested_graphs_they_skip():
    g = nested()
    for pipeline in ("fuse", "cse", "rescale{mode=gain}"):
        r = run_pipeline(g, pipeline)
        assert not r.modified
        assert r.notes[0].endswith("nested graphs lif were not looked into (run inline first)"), r.notes
