"""In-memory interop with the ``nir`` package: ``nir.NIRGraph`` <-> spyx ``Graph``, parameters kept exactly.

Both directions go through the same node dictionaries as the file reader and writer (:mod:`spyx.io.decode`,
:mod:`spyx.io.encode`): ``nir`` nodes serialise themselves with ``to_dict()``, and spyx node dicts become
``nir`` nodes through ``nir.dict2NIRNode``. Scalars are handed over as NumPy scalars, as ``nir.read`` does.
``nir``'s constructors may broadcast or cast some fields (e.g. ``w_in = ones_like(v_threshold) * w_in``), so
the exact arrays are set back on the ``nir`` nodes afterwards.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spyx.errors import ExportError, FormatError
from spyx.io.decode import Decoder, decode_node
from spyx.io.encode import encode_node
from spyx.ir.graph import Graph
from spyx.ir.verify import verify

__all__ = ["from_nir_graph", "is_nir_graph", "to_nir_graph"]


def is_nir_graph(obj: Any) -> bool:
    """Whether ``obj`` is a ``nir.NIRGraph`` (what ``nir.read`` and the peers' exporters return), asked without
    importing ``nir``: a caller that never had one has not loaded it."""
    return type(obj).__name__ == "NIRGraph" and type(obj).__module__.split(".")[0] == "nir"


def from_nir_graph(nir_graph: Any, *, repair: bool = False) -> Graph:
    """The spyx graph of a ``nir.NIRGraph`` (verified)."""
    ctx = Decoder(source=f"<{type(nir_graph).__name__}>", repair=repair)
    graph = decode_node(_plain(nir_graph.to_dict()), "", ctx)
    if not isinstance(graph, Graph):
        raise FormatError(f"from_nir_graph needs a nir.NIRGraph, got {type(nir_graph).__name__}")
    return verify(graph)


def to_nir_graph(graph: Graph) -> Any:
    """A ``nir.NIRGraph`` holding ``graph``'s nodes, edges, parameters (same arrays) and metadata."""
    import nir

    verify(graph)
    tree = encode_node(graph)
    try:
        return _build(nir, tree)
    except (TypeError, ValueError, KeyError, AssertionError) as e:
        raise ExportError(f"nir cannot build the graph: {e!r}") from None


def _plain(d: Any) -> Any:
    """``to_dict`` output with the port-shape dicts that nir keeps in memory flattened as a file has them."""
    if isinstance(d, dict):
        return {k: _plain(v) for k, v in d.items()}
    if isinstance(d, list | tuple) and d and all(isinstance(e, list | tuple) and len(e) == 2 for e in d):
        return [tuple(e) for e in d]
    return d


def _build(nir: Any, tree: dict[str, Any]) -> Any:
    if tree["type"] == "NIRGraph":
        nodes = {k: _build(nir, v) for k, v in tree["nodes"].items()}
        return nir.NIRGraph(
            nodes=nodes, edges=list(tree["edges"]), metadata=dict(tree.get("metadata", {})), type_check=False
        )
    fields = {k: v for k, v in tree.items() if k not in ("type", "metadata")}
    node = nir.dict2NIRNode({"type": tree["type"], **{k: _copy(v) for k, v in fields.items()}})
    node.metadata = dict(tree.get("metadata", {}))
    for k, v in fields.items():
        if not isinstance(v, np.ndarray):
            continue
        current = getattr(node, k, None)
        if isinstance(current, dict) and len(current) == 1:  # nir's in-memory {"input": shape}
            current[next(iter(current))] = _copy(v)
        elif current is not None:
            setattr(node, k, _copy(v))
    return node


def _copy(v: Any) -> Any:
    """Arrays copied; 0-d arrays as NumPy scalars of the same dtype, as ``nir.read`` gives them (nir's
    constructors test ``isinstance(x, np.integer)`` and reject 0-d arrays)."""
    if isinstance(v, np.ndarray):
        return v[()] if v.ndim == 0 else v.copy()
    return v
