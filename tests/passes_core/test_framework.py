"""Pass framework: registry, pipeline syntax, option typing, manager errors, and goldens for inline/dce."""

import dataclasses
from dataclasses import dataclass

import numpy as np
import pytest

from spyx.errors import OptionError, PassError, SpyxError
from spyx.ir import LIF, Affine, Graph, Input, Linear, Output, to_text, verify
from spyx.passes import PASSES, PassManager, PassResult, get_pass, list_passes, parse_pipeline, parse_spec
from spyx.passes.base import Pass
from spyx.passes.registry import get_pass_class
from tests.golden import check_golden

F = np.float32


def test_every_registry_key_is_the_pass_name_and_has_a_description():
    for name in PASSES:
        cls = get_pass_class(name)
        assert cls.name == name
        assert cls.description and cls.preserves in ("structure", "exact", "spikes", "approximate")


def test_parse_spec_and_errors():
    assert parse_spec("inline, dce ,x{a=1, b = two}") == [("inline", {}), ("dce", {}), ("x", {"a": "1", "b": "two"})]
    with pytest.raises(OptionError, match="unclosed"):
        parse_spec("x{a=1")
    with pytest.raises(OptionError, match="key=value"):
        parse_spec("x{a}")
    with pytest.raises(OptionError, match="unknown pass 'nope'; available passes: .*dce.*inline"):
        parse_pipeline("inline,nope")
    with pytest.raises(OptionError, match="pass 'dce' has no option 'bits'; valid options: none"):
        parse_pipeline("dce{bits=8}")


@dataclass(frozen=True, kw_only=True)
class _Typed(Pass):
    name = "typed"
    description = "test pass"
    n: int = 1
    x: float = 0.5
    on: bool = False
    mode: str = "a"

    def call(self, graph):
        return PassResult(graph, False)


def test_build_options_converts_types_and_reports_bad_values():
    from spyx.passes.registry import build_options

    assert build_options(_Typed, {"n": "3", "x": "1e-4", "on": "true"}, "t") == {"n": 3, "x": 1e-4, "on": True}
    with pytest.raises(OptionError, match="option n of t expects int, got 'x'"):
        build_options(_Typed, {"n": "x"}, "t")
    assert _Typed(n=3).spec() == "typed{n=3}"


def test_list_passes_has_options_and_descriptions():
    rows = {r[0]: r for r in list_passes()}
    assert {"inline", "dce", "infer-shapes"} <= set(rows)


def _nested():
    inner = Graph(nodes={"input": Input(shape=np.array([4])),
                         "lif": LIF(tau=np.full(4, 0.01, F), r=np.ones(4, F), v_leak=np.zeros(4, F),
                                    v_threshold=np.ones(4, F), v_reset=np.zeros(4, F)),
                         "w_rec": Linear(weight=np.eye(4, dtype=F) * F(0.5)),
                         "output": Output(shape=np.array([4]))},
                  edges=(("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")))
    return Graph(nodes={"input": Input(shape=np.array([3])),
                        "fc": Affine(weight=np.arange(12, dtype=F).reshape(4, 3) / 10, bias=np.zeros(4, F)),
                        "rnn": inner,
                        "dead": Affine(weight=np.ones((2, 4), F), bias=np.ones(2, F)),
                        "output": Output(shape=np.array([4]))},
                 edges=(("input", "fc"), ("fc", "rnn"), ("rnn", "output"), ("rnn", "dead")))


def test_inline_golden_changed_and_unchanged():
    g = _nested()
    res = get_pass("inline")(g)
    assert res.modified and res.changes == ("inlined rnn (2 nodes)",)
    verify(res.graph)
    check_golden("inline_changed.txt", to_text(res.graph))
    again = get_pass("inline")(res.graph)
    assert not again.modified and again.graph is res.graph
    check_golden("inline_unchanged.txt", to_text(again.graph))


def test_inline_keeps_names_unique():
    g = _nested()
    taken = g.with_nodes({**g.nodes, "rnn.lif": Linear(weight=np.eye(4, dtype=F))},
                         list(g.edges) + [("fc", "rnn.lif"), ("rnn.lif", "output")])
    out = get_pass("inline")(taken).graph
    assert "rnn.lif" in out.nodes and out.nodes["rnn.lif"].kind == "Linear"
    assert out.nodes["rnn.lif_1"].kind == "LIF"
    verify(out)


def test_dce_golden_changed_and_unchanged():
    g = get_pass("inline")(_nested()).graph
    res = get_pass("dce")(g)
    assert res.modified and res.changes == ("removed dead (Affine)",)
    check_golden("dce_changed.txt", to_text(res.graph))
    again = get_pass("dce")(res.graph)
    assert not again.modified and again.graph is res.graph
    check_golden("dce_unchanged.txt", to_text(again.graph))


def test_infer_shapes_fills_missing_output_shape_once():
    g = Graph.sequential([("fc", Affine(weight=np.ones((2, 3), F), bias=np.zeros(2, F)))], input_shape=(3,))
    g = g.replace_node("output", Output(shape=None))
    res = get_pass("infer-shapes")(g)
    assert res.modified and res.graph.nodes["output"].shape.tolist() == [2]
    assert not get_pass("infer-shapes")(res.graph).modified


@dataclass(frozen=True, kw_only=True)
class _Boom(Pass):
    name = "boom"
    description = "fails"

    def call(self, graph):
        raise SpyxError("kaput at node fc")


@dataclass(frozen=True, kw_only=True)
class _Halve(Pass):
    name = "halve"
    description = "halves fc's bias until it is below 1"

    def call(self, graph):
        fc = graph.nodes["fc"]
        if np.all(fc.bias < 1):
            return PassResult(graph, False)
        return PassResult(graph.replace_node("fc", fc.replace(bias=fc.bias / 2)), True, ("halved fc.bias",))


def test_manager_names_failing_pass_and_predecessors():
    g = _nested()
    with pytest.raises(PassError, match=r"pass 'boom' failed \(after inline, dce\): kaput at node fc"):
        PassManager(parse_pipeline("inline,dce") + [_Boom()])(g)


def test_manager_fixed_point():
    g = Graph.sequential([("fc", Affine(weight=np.ones((2, 3), F), bias=np.full(2, 8, F)))], input_shape=(3,))
    res = PassManager([_Halve()], fixed_point=True)(g)
    assert res.modified and res.graph.nodes["fc"].bias.tolist() == [0.5, 0.5]
    assert res.changes.count("halve: halved fc.bias") == 4
    once = PassManager([_Halve()])(g)
    assert once.graph.nodes["fc"].bias.tolist() == [4, 4]
    assert dataclasses.is_dataclass(once)
