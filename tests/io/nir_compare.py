"""Test helpers: compare a spyx graph with what ``nir.read`` (the reference reader) returns for a file.

The field table here is written independently of ``spyx.io.spellings``: where ``nir`` keeps a spyx parameter
in memory (``Input.shape`` is ``input_type["input"]``, ...).
"""

from __future__ import annotations

import nir
import numpy as np

from spyx.ir import Graph

# spyx kind -> {spyx field: function(nir node) -> the value nir holds}
NIR_FIELD = {
    "Input": {"shape": lambda n: n.input_type["input"]},
    "Output": {"shape": lambda n: n.output_type["output"]},
    "Flatten": {"input_type": lambda n: n.input_type["input"]},
}


def assert_same_array(a, b, where: str) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype, f"{where}: dtype {a.dtype} != {b.dtype}"
    assert a.shape == b.shape, f"{where}: shape {a.shape} != {b.shape}"
    assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), f"{where}: values differ"
    assert a.tobytes() == b.tobytes(), f"{where}: bytes differ"


def assert_matches_nir(graph: Graph, ng, where: str = "") -> None:
    """Every spyx parameter equals (dtype, shape, bytes) the nir node's, and the edge sets are equal."""
    assert isinstance(ng, nir.NIRGraph), f"{where}: nir gave {type(ng).__name__}"
    assert set(ng.nodes) == set(graph.nodes), f"{where}: node names differ"
    assert set(map(tuple, ng.edges)) == set(graph.edges), f"{where}: edge sets differ"
    for name, node in graph.nodes.items():
        path = f"{where}.{name}" if where else name
        nn = ng.nodes[name]
        assert type(nn).__name__ == node.kind, f"{path}: kind {type(nn).__name__} != {node.kind}"
        if isinstance(node, Graph):
            assert_matches_nir(node, nn, path)
            continue
        getters = NIR_FIELD.get(node.kind, {})
        for field, value in node.params().items():
            theirs = getters.get(field, lambda n, f=field: getattr(n, f))(nn)
            assert_same_array(value, theirs, f"{path}.{field}")
        if getattr(node, "padding_mode", None) is not None:
            assert nn.padding == node.padding_mode, f"{path}.padding"
