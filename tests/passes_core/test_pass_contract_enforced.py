"""The pass contract, enforced by the base class and the manager: the result type, an honest ``modified``,
failures that name the pass and the passes before it, options that address no node; and every registered
pass run twice on the same graphs changes nothing the second time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from spyx.errors import OptionError, PassError, SpyxError
from spyx.ir import Affine, Graph
from spyx.ir.digest import graph_digest
from spyx.passes import PASSES, PassManager, PassResult, parse_pipeline
from spyx.passes.base import Pass
from spyx.passes.quantize import quantize_graph
from spyx.passes.registry import get_pass_class
from tests.graphgen import conv_graph, mlp_graph, primitive_graphs

F = np.float32


def _graph():
    return Graph.sequential([("fc", Affine(weight=np.ones((2, 3), F), bias=np.full(2, 4, F)))], input_shape=(3,))


@dataclass(frozen=True, kw_only=True)
class _ReturnsGraph(Pass):
    name = "returns-graph"
    description = "forgets the PassResult"

    def call(self, graph):
        return graph


@dataclass(frozen=True, kw_only=True)
class _Sneaky(Pass):
    name = "sneaky"
    description = "changes the graph and says it did not"

    def call(self, graph):
        fc = graph.nodes["fc"]
        return PassResult(graph.replace_node("fc", fc.replace(bias=fc.bias / 2)), False)


@dataclass(frozen=True, kw_only=True)
class _Boastful(Pass):
    name = "boastful"
    description = "rebuilds the same graph and says it changed"

    def call(self, graph):
        fc = graph.nodes["fc"]
        return PassResult(graph.replace_node("fc", fc.replace(bias=fc.bias.copy())), True, ("did a lot",))


@dataclass(frozen=True, kw_only=True)
class _KeyErr(Pass):
    name = "keyerr"
    description = "a bug"

    def call(self, graph):
        return PassResult(graph.replace_node("x", graph.nodes["missing"]), True)


def test_a_pass_must_return_a_pass_result():
    with pytest.raises(PassError, match=r"pass 'returns-graph' returned Graph; a pass returns PassResult"):
        _ReturnsGraph()(_graph())


def test_modified_is_honest():
    with pytest.raises(PassError, match="pass 'sneaky' reported modified=False but changed the graph"):
        _Sneaky()(_graph())
    g = _graph()
    res = _Boastful()(g)
    assert not res.modified and res.changes == () and graph_digest(res.graph) == graph_digest(g)


def test_foreign_exceptions_name_the_pass_and_those_before_it():
    with pytest.raises(PassError, match=r"pass 'keyerr' failed: KeyError: 'missing'"):
        _KeyErr()(_graph())
    with pytest.raises(PassError, match=r"pass 'keyerr' failed \(after dce, cse\): KeyError: 'missing'"):
        PassManager(parse_pipeline("dce,cse") + [_KeyErr()])(_graph())
    with pytest.raises(PassError, match=r"pass 'sneaky' failed \(first pass\): pass 'sneaky' reported"):
        PassManager([_Sneaky()])(_graph())


def test_options_that_address_no_layer_are_errors():
    g = dict(primitive_graphs())["LIF"]  # in0 -> fc1 -> lif2 -> out3
    with pytest.raises(OptionError, match=r"quantize-graph: skip='fc2' matches no weight layer .*: fc1"):
        quantize_graph(g, skip="fc2")
    with pytest.raises(OptionError, match=r"scales='fc' names no weight layer"):
        quantize_graph(g, scales={"fc": np.ones(1)})
    with pytest.raises(PassError, match=r"pass 'quantize-graph\{skip=lif2\}' failed \(first pass\): .*lif2"):
        PassManager(parse_pipeline("quantize-graph{skip=lif2}"))(g)  # a neuron is not a weight layer
    kept = quantize_graph(g, skip="fc1").graph  # a skip that matches is used: the only layer stays float
    assert np.array_equal(kept.nodes["fc1"].weight, g.nodes["fc1"].weight)


# -- every registered pass is idempotent on these graphs -------------------------------------------------
# options for passes that need some; every other pass runs with its defaults
SPECS = {
    "rescale": "rescale{mode=gain,threshold=1,fold_scale=true}",
    "retime": "retime{dt=5e-4}",
    "discretize": "discretize{dt=1e-3}",
    "lower-neurons": "lower-neurons{dt=1e-3}",
}


def _graphs():
    rng = np.random.default_rng(12)
    prims = dict(primitive_graphs())
    return {"mlp": mlp_graph(rng), "conv": conv_graph(rng), "LIF": prims["LIF"], "discrete": None}


@pytest.mark.parametrize("name", sorted(PASSES))
def test_every_pass_run_twice_changes_nothing_the_second_time(name):
    spec = SPECS.get(name, name)
    if not get_pass_class(name).idempotent:  # declared: a pass that reinterprets a file, applied once
        pytest.skip(f"{name} declares idempotent = False")
    graphs = _graphs()
    graphs["discrete"] = parse_pipeline("inline,discretize{dt=1e-3}")[1](
        parse_pipeline("inline")[0](graphs["mlp"]).graph
    ).graph
    ran = []
    for label, graph in graphs.items():
        (p,) = parse_pipeline(spec)
        try:
            first = p(graph)
        except SpyxError as e:  # a precondition this graph does not meet (no weights, ...)
            ran.append(f"{label}: not applicable ({e})")
            continue
        second = p(first.graph)
        assert not second.modified, f"{spec} on {label}: second run changed {second.changes}"
        assert graph_digest(second.graph) == graph_digest(first.graph), f"{spec} on {label}"
        ran.append(label)
    assert any(":" not in r for r in ran), f"{spec} ran on no graph: {ran}"


def test_keep_error_types_lets_spyx_errors_through_and_still_names_foreign_ones():
    from spyx.errors import MissingDtError

    lif = dict(primitive_graphs())["LIF"]
    with pytest.raises(MissingDtError, match="pass dt"):
        PassManager(parse_pipeline("inline,discretize"), keep_error_types=True)(lif)
    with pytest.raises(PassError, match=r"pass 'discretize' failed \(after inline\)"):
        PassManager(parse_pipeline("inline,discretize"))(lif)
    with pytest.raises(PassError, match=r"pass 'keyerr' failed \(first pass\): KeyError"):
        PassManager([_KeyErr()], keep_error_types=True)(_graph())
