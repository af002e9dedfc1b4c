"""Pictures of graphs: :func:`draw` turns a graph (or a NIR file, broken or not) into a Graphviz drawing.

What a picture shows, and the rules that choose it:

* **Colour by kind**, in the NIR paper's palette (the one nirviz uses): dense weights teal, convolutions
  yellow, pooling blue, reshapes pink, neuron populations light blue, graph ports as dashed boxes. spyx adds
  delays (salmon), spike functions (lavender) and elementwise gains (pale green). :data:`CATEGORIES` is the
  table, first match wins; each rule asks what the node declares (a weight parameter, state, spikes, a
  delay), never its kind name, so a new kind is coloured by what it is.
* **Labels**: the node's name, its kind and, for weight layers, ``in -> out`` (features or channels, with
  the kernel for convolutions); other nodes show their output shape.
* **Direction**: top-to-bottom or left-to-right, whichever gives a picture closer to 4:3 (a long chain runs
  top-to-bottom; a wide, shallow graph left-to-right). ``rankdir=`` overrides it.
* **Clusters**: a nested graph is a dashed cluster whose ``Input``/``Output`` nodes the edges reach; the
  nodes that one ``spyx.nn`` layer was exported as (node metadata :data:`spyx.ir.node.LAYER_KEY`, written by
  ``spyx.nn.export``) share a shaded cluster named after the layer.
* **Feedback edges** (the edges a cycle reads from the previous step, :func:`spyx.ir.feedback_edges`) are
  dashed and labelled ``t-1``.
* **Broken files** are read leniently (:func:`spyx.io.read_nir` with ``lenient=True``): a node that cannot
  be decoded is drawn as a stand-in, a dangling edge points at a ghost node with the missing name, and the
  node or edge that the first diagnostic (:func:`spyx.ir.diagnose`) names is drawn in red, with the message
  under the picture.

The ``graphviz`` Python package builds the drawing (``pip install 'spyx[draw]'``; imported only when
:func:`draw` runs); Graphviz's ``dot`` program renders SVG and PNG. ``.dot`` / ``.gv`` files need no program.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from spyx.errors import DanglingEdgeError, ExportError, OptionError
from spyx.io.decode import Undecodable
from spyx.ir.algorithms import feedback_edges
from spyx.ir.graph import Graph
from spyx.ir.node import LAYER_KEY, Node
from spyx.ir.ports import Input, Output
from spyx.ir.shapes import fmt_shape, infer_shapes

__all__ = ["CATEGORIES", "Category", "Drawing", "FORMATS", "category", "draw"]

# Formats written from the file name's suffix; "dot"/"gv" are the DOT text itself (no Graphviz program).
FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}
EXTRA_HINT = "pip install 'spyx[draw]'"
FAULT = "#d62728"  # the red of the node or edge the first diagnostic names


@dataclass(frozen=True)
class Category:
    """One colour rule: ``name`` (shown in :attr:`Drawing.categories`), Graphviz node ``attrs`` and
    ``match(node)``, a question about what the node declares."""

    name: str
    attrs: dict[str, str]
    match: Callable[[Node], bool]


def _declares(*params: str) -> Callable[[Node], bool]:
    return lambda node: any(p in node.param_names() for p in params)


def _weight(node: Node) -> Any:
    return getattr(node, "weight", None) if "weight" in node.param_names() else None


def _filled(colour: str) -> dict[str, str]:
    return {"style": "filled", "fillcolor": colour, "color": "#555555"}


# First match wins. Colours of the NIR paper's figures as nirviz's style.yml has them (connection-full
# #71c8b0, connection-conv #ffc655, transform #e4b9dd, pool #4a9bff, computation #a0d5f1, input-output dashed
# black). The weight, pool and reshape rules ask for the parameters those kinds declare; issue 12's kind
# traits (WeightLayer, Population, Causal) will answer the same questions directly.
CATEGORIES: tuple[Category, ...] = (
    Category("port", {"style": "dashed", "color": "black"}, lambda n: isinstance(n, Input | Output)),
    Category("unreadable", {"style": "filled,dashed", "fillcolor": "#fde0dd", "color": FAULT},
             lambda n: isinstance(n, Undecodable)),
    Category("conv", _filled("#ffc655"), lambda n: _weight(n) is not None and _weight(n).ndim > 2),
    Category("dense", _filled("#71c8b0"), lambda n: _weight(n) is not None),
    Category("gain", _filled("#c7e9c0"), _declares("scale")),
    Category("delay", _filled("#f4a582"), _declares("delay", "steps")),
    Category("neuron", _filled("#a0d5f1"), lambda n: n.stateful),
    Category("spike", _filled("#cbc9e2"), lambda n: n.spiking),
    Category("pool", _filled("#4a9bff"), _declares("kernel_size")),
    Category("reshape", _filled("#e4b9dd"), _declares("start_dim")),
    Category("other", _filled("#eeeeee"), lambda n: True),
)


def category(node: Node) -> Category:
    """The first rule of :data:`CATEGORIES` that ``node`` matches (``other`` when none does)."""
    return next(c for c in CATEGORIES if c.match(node))


@dataclass(frozen=True)
class Drawing:
    """A drawn graph.

    Attributes:
        dot: the ``graphviz.Digraph`` (``dot.source`` is the DOT text).
        rankdir: ``"TB"`` (top to bottom) or ``"LR"`` (left to right).
        problems: what is wrong with the graph (decoding errors of a lenient read, then every diagnostic of
            :func:`spyx.ir.diagnose`); the first is the one drawn in red.
        fault: the DOT ids of the nodes and edges (``"a -> b"``) drawn in red; empty when nothing is wrong
            or the first problem names no node or edge.
        categories: DOT node id -> category name (``dense``, ``neuron``, ...), for every drawn node.
    """

    dot: Any
    rankdir: str
    problems: tuple[str, ...]
    fault: tuple[str, ...]
    categories: dict[str, str]

    @property
    def source(self) -> str:
        return self.dot.source

    def render(self, fmt: str = "svg") -> bytes:
        """The picture in ``fmt`` (``svg``, ``png``, ``pdf``, or ``dot`` for the text); needs Graphviz's
        ``dot`` program for all but ``dot``: :class:`ExportError` saying how to get it when it is missing."""
        if fmt == "dot":
            return self.source.encode("utf8")
        if fmt not in FORMATS.values():
            raise OptionError(f"spyx.draw: unknown format {fmt!r}; choose one of svg, png, pdf, dot")
        import graphviz

        try:
            return self.dot.pipe(format=fmt)
        except graphviz.ExecutableNotFound:
            raise ExportError(
                f"drawing {fmt.upper()} needs Graphviz's 'dot' program, which is not on PATH: install Graphviz "
                "(apt-get install graphviz, brew install graphviz, conda install graphviz), or write the DOT "
                "text instead (a .dot file)"
            ) from None
        except graphviz.CalledProcessError as e:  # dot refused the text: a bug in this module
            raise ExportError(f"Graphviz's dot failed on the drawing: {e.stderr.decode(errors='replace')}") from None

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the picture to ``path`` (format from its suffix, see :data:`FORMATS`), atomically."""
        from spyx.io.atomic import atomic_path

        path = Path(path)
        fmt = format_of(path)
        data = self.render(fmt)
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
        return path

    def _repr_svg_(self) -> str:
        return self.render("svg").decode("utf8")


def format_of(path: str | os.PathLike[str]) -> str:
    """The picture format a file name asks for; :class:`OptionError` listing the suffixes otherwise."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise OptionError(
            f"cannot tell the picture format of {os.fspath(path)!r} from its suffix; use one of "
            f"{', '.join(FORMATS)}"
        )
    return FORMATS[suffix]


def draw(
    graph_or_path: Graph | str | os.PathLike[str],
    path: str | os.PathLike[str] | None = None,
    *,
    rankdir: str | None = None,
    repair: bool = False,
) -> Drawing:
    """Draw a graph, or the NIR file at a path (read leniently: a broken file is drawn with its fault in red).

    Args:
        graph_or_path: a :class:`spyx.Graph`, a ``nir.NIRGraph`` or a NIR file.
        path: also write the picture there; the suffix picks the format (``.svg``, ``.png``, ``.pdf``,
            ``.dot``/``.gv``), and SVG, PNG and PDF need Graphviz's ``dot`` program.
        rankdir: ``"TB"`` or ``"LR"``; default: whichever gives a picture closer to 4:3.
        repair: read the file with :func:`spyx.io.read_nir`'s unambiguous repairs.

    Returns the :class:`Drawing` (which shows itself in notebooks). Raises ``ImportError`` naming the
    ``draw`` extra when the ``graphviz`` package is missing, :class:`OptionError` for an unknown ``rankdir``
    or suffix, :class:`ExportError` when ``dot`` is needed and missing, and the read errors of
    :func:`spyx.io.read_nir` for files that cannot be read at all.
    """
    try:
        import graphviz
    except ImportError as e:
        raise ImportError(f"spyx.draw needs the graphviz Python package: {EXTRA_HINT}") from e
    if rankdir is not None and rankdir not in ("TB", "LR"):
        raise OptionError(f"spyx.draw: rankdir must be 'TB' (top to bottom) or 'LR' (left to right), got {rankdir!r}")
    if path is not None:
        format_of(path)  # an unknown suffix fails before any work
    graph, problems = _read(graph_or_path, repair)
    faulty = _fault_ids(problems[0], *_names(graph, "")) if problems else ()
    builder = _Builder(set(faulty))
    dot = graphviz.Digraph("spyx", node_attr={"shape": "box", "fontname": "Helvetica", "fontsize": "11"},
                           edge_attr={"fontname": "Helvetica", "fontsize": "9", "color": "#444444"})
    builder.build(dot, graph, "")
    direction = rankdir or _direction(builder.ids, builder.drawn_edges)
    dot.attr(rankdir=direction, newrank="true", nodesep="0.25", ranksep="0.45", compound="true")
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        dot.attr(label=_esc(_shorten(problems[0]) + more), labelloc="b", fontcolor=FAULT, fontname="Helvetica",
                 fontsize="11")
    drawing = Drawing(dot=dot, rankdir=direction, problems=tuple(problems), fault=faulty,
                      categories=dict(builder.categories))
    if path is not None:
        drawing.save(path)
    return drawing


# -- reading --------------------------------------------------------------------------------------------------
def _read(source: Any, repair: bool) -> tuple[Graph, list[str]]:
    from spyx.ir.verify import diagnose

    if isinstance(source, Graph):
        graph, problems = source, []
    elif isinstance(source, str | os.PathLike):
        from spyx.io.reader import read_nir

        result = read_nir(source, repair=repair, lenient=True)
        graph, problems = result.graph, list(result.problems)
    else:
        import nir  # only here: the other sources need no nir import

        if not isinstance(source, nir.NIRGraph):
            raise OptionError(f"spyx.draw expects a spyx Graph, a nir.NIRGraph or a NIR file path, got "
                              f"{type(source).__name__}")
        from spyx.io.nirgraph import from_nir_graph

        graph, problems = from_nir_graph(source), []  # nir's own object, as every exporter returns it
    return graph, problems + [m for _, m in diagnose(graph)]


# -- building -------------------------------------------------------------------------------------------------
def _esc(text: str) -> str:
    """Text for a DOT label: backslashes doubled, so that a name never turns into a DOT escape."""
    return text.replace("\\", "\\\\")


def _shorten(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _detail(node: Node, out_shape) -> str:
    """``Affine 12 -> 64``, ``Conv2d 2 -> 16 (5x5)``, or the kind and its output shape."""
    w = _weight(node)
    if w is not None and w.ndim == 2:
        return f"{node.kind} {w.shape[1]} -> {w.shape[0]}"
    if w is not None and w.ndim > 2:
        groups = getattr(node, "groups", None)
        g = int(np.asarray(groups).reshape(-1)[0]) if groups is not None and np.size(groups) == 1 else 1
        kernel = "x".join(str(k) for k in w.shape[2:])
        return f"{node.kind} {w.shape[1] * g} -> {w.shape[0]} ({kernel})"
    if isinstance(node, Undecodable):
        return f"cannot read: type {node.type_name!r}"
    return f"{node.kind} {fmt_shape(out_shape)}"


class _Builder:
    """Walks a graph once, adding its nodes, clusters and edges to a ``graphviz.Digraph``; the nodes and edges
    in ``fault`` (DOT node ids, ``"a -> b"`` edge keys as diagnostics write them) are drawn in red. Remembers
    the ids it drew, for the direction and for :attr:`Drawing.categories`."""

    def __init__(self, fault: set[str]):
        self.fault = fault
        self.ids: list[str] = []
        self.categories: dict[str, str] = {}
        self.drawn_edges: list[tuple[str, str]] = []
        self.ghosts: set[str] = set()

    def build(self, dot, graph: Graph, prefix: str) -> None:
        try:
            shapes = infer_shapes(graph, diagnostics=[])
        except Exception:  # noqa: BLE001  a graph broken beyond shape inference is still drawn, without shapes
            shapes = {}
        layers: dict[str, list[tuple[str, Node]]] = {}
        for name, node in graph.nodes.items():
            layer = node.metadata.get(LAYER_KEY)
            layers.setdefault(layer if isinstance(layer, str) else "", []).append((name, node))
        for layer, members in layers.items():
            if layer and len(members) > 1:
                with dot.subgraph(name=f"cluster_layer_{prefix}{layer}") as sub:
                    sub.attr(label=_esc(layer), style="rounded,filled", fillcolor="#f4f4f4", color="#bbbbbb",
                             fontname="Helvetica", fontsize="10", fontcolor="#666666")
                    for name, node in members:
                        self._node(sub, name, node, prefix, shapes)
            else:
                for name, node in members:
                    self._node(dot, name, node, prefix, shapes)
        self._edges(dot, graph, prefix)

    def _node(self, dot, name: str, node: Node, prefix: str, shapes) -> None:
        ident = prefix + name
        if isinstance(node, Graph):
            with dot.subgraph(name=f"cluster_{ident}") as sub:
                sub.attr(label=_esc(f"{ident} (NIRGraph)"), style="rounded,dashed", color="#777777",
                         fontname="Helvetica", fontsize="10")
                self.build(sub, node, ident + ".")
            return
        cat = category(node)
        out = shapes[name].output if name in shapes else None
        attrs = dict(cat.attrs)
        if ident in self.fault:
            attrs.update(color=FAULT, penwidth="3")
        dot.node(ident, label=_esc(name) + "\\n" + _esc(_detail(node, out)), **attrs)
        self.ids.append(ident)
        self.categories[ident] = cat.name

    def _endpoint(self, dot, graph: Graph, endpoint: str, prefix: str, *, as_source: bool) -> str:
        try:
            name, port = graph.resolve(endpoint, as_source=as_source)
        except DanglingEdgeError:  # a ghost node carries the missing name
            ident = prefix + endpoint
            if ident not in self.ghosts:
                self.ghosts.add(ident)
                dot.node(ident, label=_esc(repr(endpoint)) + "\\nnames no node", style="dashed", color=FAULT,
                         fontcolor=FAULT)
                self.ids.append(ident)
                self.categories[ident] = "missing"
            return ident
        node = graph.nodes[name]
        if isinstance(node, Graph) and port is None:
            ports = node.outputs if as_source else node.inputs
            port = next(iter(ports), None)
        return prefix + name + ("" if port is None else "." + port)

    def _edges(self, dot, graph: Graph, prefix: str) -> None:
        try:
            feedback = set(feedback_edges(graph))
        except DanglingEdgeError:  # no cycle analysis on dangling edges: every edge drawn plain
            feedback = set()
        for a, b in graph.edges:
            src = self._endpoint(dot, graph, a, prefix, as_source=True)
            dst = self._endpoint(dot, graph, b, prefix, as_source=False)
            attrs = {"style": "dashed", "label": "t-1"} if (a, b) in feedback else {}
            if f"{prefix}{a} -> {prefix}{b}" in self.fault:
                attrs.update(color=FAULT, penwidth="2.5", fontcolor=FAULT)
            self.drawn_edges.append((src, dst))
            dot.edge(src, dst, **attrs)


def _names(graph: Graph, prefix: str) -> tuple[set[str], set[str]]:
    """Every node path (ghosts of dangling endpoints included) and every edge key ``"a -> b"`` of the tree,
    as diagnostics name them."""
    nodes: set[str] = set()
    edges: set[str] = set()
    for name, node in graph.nodes.items():
        if isinstance(node, Graph):
            sub_nodes, sub_edges = _names(node, f"{prefix}{name}.")
            nodes |= sub_nodes
            edges |= sub_edges
        else:
            nodes.add(prefix + name)
    for a, b in graph.edges:
        edges.add(f"{prefix}{a} -> {prefix}{b}")
        for end, as_source in ((a, True), (b, False)):
            try:
                graph.resolve(end, as_source=as_source)
            except DanglingEdgeError:
                nodes.add(prefix + end)
    return nodes, edges


# -- the fault ------------------------------------------------------------------------------------------------
_EDGE = re.compile(r"edge (.+?) -> (.+?): ")
_NODE = re.compile(r"node '?(.+?)'? \(")
_QUOTED_NODE = re.compile(r"node '(.+?)'")
_CYCLE = re.compile(r"cycle (.+?): ")


def _fault_ids(problem: str, nodes: set[str], edges: set[str]) -> tuple[str, ...]:
    """The nodes or the edge that a diagnostic names (in the order it names them), or nothing. Diagnostics
    say ``edge a -> b: ...``, ``node a (Kind): ...``, ``cycle a -> b -> c: ...``; decoding errors
    ``file: node 'a' ...``."""
    m = _EDGE.search(problem)
    if m and f"{m.group(1)} -> {m.group(2)}" in edges:
        return (f"{m.group(1)} -> {m.group(2)}",)
    m = _CYCLE.search(problem)
    if m:
        members = tuple(n for n in m.group(1).split(" -> ") if n in nodes)
        if members:
            return members
    for pattern in (_QUOTED_NODE, _NODE):
        m = pattern.search(problem)
        if m and m.group(1) in nodes:
            return (m.group(1),)
    return ()


# -- direction ------------------------------------------------------------------------------------------------
def _dfs(ids: list[str], succ: dict[str, list[str]]) -> tuple[list[str], set[tuple[str, str]]]:
    """(post-order, back edges) of an iterative depth-first search from every node in ``ids`` order."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    order: list[str] = []
    back: set[tuple[str, str]] = set()
    for root in (i for i in ids if i not in state):
        stack = [(root, iter(succ[root]))]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                state[node] = 2
                order.append(node)
            elif state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(succ[nxt])))
    return order, back


def _layers(ids: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layer of each node once the back edges of a depth-first search are dropped."""
    succ: dict[str, list[str]] = {i: [] for i in ids}
    for a, b in edges:
        if a in succ and b in succ:
            succ[a].append(b)
    order, back = _dfs(ids, succ)
    layer = dict.fromkeys(ids, 0)
    for node in reversed(order):  # reverse post-order is a topological order of the forward edges
        for nxt in succ[node]:
            if (node, nxt) not in back:
                layer[nxt] = max(layer[nxt], layer[node] + 1)
    return layer


def _direction(ids: list[str], edges: list[tuple[str, str]]) -> str:
    """``TB`` or ``LR``: the one whose picture is closer to 4:3 (boxes about 1.6 x 0.7 in plus gaps)."""
    if not ids:
        return "TB"
    layer = _layers(ids, edges)
    depth = max(layer.values()) + 1
    width = max(sum(1 for v in layer.values() if v == k) for k in range(depth))
    box_w, box_h, along, across = 1.6, 0.7, 0.45, 0.25
    tb = (width * (box_w + across)) / (depth * (box_h + along))
    lr = (depth * (box_w + along)) / (width * (box_h + across))
    target = 4 / 3
    return "TB" if abs(math.log(tb / target)) <= abs(math.log(lr / target)) else "LR"


def _notebook_svg(graph: Graph) -> str | None:
    """SVG text of ``graph`` for :meth:`Graph._repr_svg_`; ``None`` without graphviz or ``dot``."""
    try:
        return draw(graph).render("svg").decode("utf8")
    except (ImportError, ExportError):
        return None


def _register() -> None:
    import spyx.ir.graph as graph_module

    graph_module.SVG_RENDERER = _notebook_svg


_register()
