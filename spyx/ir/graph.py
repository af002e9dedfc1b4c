"""``Graph``: named nodes, directed edges, named inputs and outputs; a graph is itself a node kind so that
graphs nest (NIR ``NIRGraph``).

Edges connect node names. An edge into or out of a nested graph names the graph node; when the nested
graph has several inputs (outputs), the edge names the port as ``"sub.port"``, where ``port`` is the name of
an ``Input`` (``Output``) node inside ``sub``. A node name that itself contains a dot (files flattened by
older exporters use names such as ``lif1.lif``) always wins over the port reading.

Graphs are immutable: build a new one with :meth:`Graph.replace` or the helpers below. Node order and edge
order are kept as given (they are what a file had); :mod:`spyx.passes.reorder` canonicalises them.
"""

from __future__ import annotations

import contextlib
import importlib
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from spyx.errors import DanglingEdgeError
from spyx.ir.node import Node, Shape, register
from spyx.ir.ports import Input, Output
from spyx.ir.shapes import infer_shapes

Edge = tuple[str, str]


# The notebook renderer of :meth:`Graph._repr_svg_`: set by :mod:`spyx.draw` when it is imported (the IR does not
# import the drawing layer above it; the drawing layer plugs itself in).
SVG_RENDERER: Callable[[Graph], str | None] | None = None
# Where it comes from, looked up by name on first use like the pass and profile registries (spyx.lazy).
SVG_RENDERER_MODULE = "spyx.draw"


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class Graph(Node):
    """A (possibly nested) graph of nodes.

    Attributes:
        nodes: name -> node, in a fixed order.
        edges: (source, target) pairs of node names (or ``sub.port`` for nested-graph ports).
        metadata: free-form graph metadata, kept through load and save.
    """

    kind = "NIRGraph"
    prefix = "sub"
    nested = True
    nodes: Mapping[str, Node] = field(default_factory=dict)
    edges: tuple[Edge, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "nodes", types.MappingProxyType(dict(self.nodes)))
        object.__setattr__(self, "edges", tuple((str(a), str(b)) for a, b in self.edges))

    @property
    def stateful(self) -> bool:  # type: ignore[override]
        return any(n.stateful for n in self.nodes.values())

    @property
    def continuous(self) -> bool:  # type: ignore[override]
        return any(n.continuous for n in self.nodes.values())

    # -- ports --------------------------------------------------------------------------------------------
    @property
    def inputs(self) -> dict[str, Input]:
        return {k: n for k, n in self.nodes.items() if isinstance(n, Input)}

    @property
    def outputs(self) -> dict[str, Output]:
        return {k: n for k, n in self.nodes.items() if isinstance(n, Output)}

    def declared_input_shape(self) -> Shape | None:
        ins = list(self.inputs.values())
        return ins[0].declared_input_shape() if len(ins) == 1 else None

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        outs = list(self.outputs)
        if len(outs) != 1:
            return None
        shapes = infer_shapes(self, {next(iter(self.inputs), ""): input_shape} if input_shape else None)
        return shapes.get(outs[0], (None, None))[1]

    def check(self) -> list[str]:
        return []  # nested graphs are verified node by node by spyx.ir.verify

    # -- endpoints ----------------------------------------------------------------------------------------
    def resolve(self, endpoint: str, *, as_source: bool) -> tuple[str, str | None]:
        """Split an edge endpoint into (node name, port or None). Raises DanglingEdgeError if it names nothing."""
        if endpoint in self.nodes:
            return endpoint, None
        head, dot, port = endpoint.rpartition(".")
        if dot and head in self.nodes and isinstance(self.nodes[head], Graph):
            sub = self.nodes[head]
            ports = sub.outputs if as_source else sub.inputs
            if port in ports:
                return head, port
        role = "source" if as_source else "target"
        raise DanglingEdgeError(f"edge {role} {endpoint!r} names no node of this graph")

    def edge_nodes(self, edge: Edge) -> tuple[str, str]:
        """(source node, target node) of an edge, ports stripped."""
        return self.resolve(edge[0], as_source=True)[0], self.resolve(edge[1], as_source=False)[0]

    def predecessors(self, name: str) -> list[str]:
        return [a for a, b in (self.edge_nodes(e) for e in self.edges) if b == name]

    def successors(self, name: str) -> list[str]:
        return [b for a, b in (self.edge_nodes(e) for e in self.edges) if a == name]

    # -- display ------------------------------------------------------------------------------------------
    def _repr_svg_(self) -> str | None:
        """The graph as a picture in notebooks (:func:`spyx.draw.draw`, which registers itself as
        :data:`SVG_RENDERER` when imported, here on first use). ``None`` (the text repr is shown) when no
        renderer is registered or it cannot draw (no graphviz package, no ``dot`` program): a repr must not raise.
        """
        if SVG_RENDERER is None:  # `import spyx` is lazy: load the drawing layer, which registers itself
            with contextlib.suppress(ImportError):
                importlib.import_module(SVG_RENDERER_MODULE)
        if SVG_RENDERER is None:
            return None
        return SVG_RENDERER(self)

    # -- building -----------------------------------------------------------------------------------------
    def with_nodes(self, nodes: Mapping[str, Node], edges: Iterable[Edge] | None = None) -> Graph:
        return Graph(nodes=nodes, edges=tuple(self.edges if edges is None else edges), metadata=self.metadata)

    def replace_node(self, name: str, node: Node) -> Graph:
        nodes = dict(self.nodes)
        nodes[name] = node
        return self.with_nodes(nodes)

    def walk(self, prefix: str = "") -> Iterable[tuple[str, Node]]:
        """(dotted path, node) for every node, nested graphs included (depth first, in node order)."""
        for name, node in self.nodes.items():
            path = f"{prefix}{name}"
            yield path, node
            if isinstance(node, Graph):
                yield from node.walk(path + ".")

    @staticmethod
    def sequential(layers: Iterable[tuple[str, Node]], *, input_shape: Shape, metadata=None) -> Graph:
        """A chain ``input -> layer_1 -> ... -> layer_n -> output`` with the output shape inferred."""
        nodes: dict[str, Node] = {"input": Input(shape=np.asarray(input_shape, dtype=np.int64))}
        names = ["input"]
        for name, node in layers:
            nodes[name] = node
            names.append(name)
        nodes["output"] = Output(shape=None)
        names.append("output")
        g = Graph(nodes=nodes, edges=tuple(zip(names[:-1], names[1:], strict=True)), metadata=metadata or {})
        out_shape = infer_shapes(g)["output"][0]
        return g.replace_node("output", Output(shape=np.asarray(out_shape, dtype=np.int64)))
