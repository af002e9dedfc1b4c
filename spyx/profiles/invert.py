"""Write a compiled program back to NIR: the continuous graph that a profile's lowering turns into it again.

``spyx.save(program, path)`` closes the interchange loop: a graph imported with ``spyx.compile(...,
profile=P)`` (or ``spyx.nn.from_nir``) and fine-tuned is written so that ``spyx.load(path, profile=P)``
compiles to the same discrete graph with the trained parameters. This is the inverse of the lowering
pipeline's neuron step, not of a peer's *importer* (that is :func:`spyx.profiles.encode_for`): each profile
reads the file the way its framework *exported* it, and :meth:`Profile.invert_neuron` writes a discrete
neuron back in that convention.

Steps, for a flat discrete ``graph`` (a :class:`~spyx.Program`'s, with its parameters substituted):

1. the one-step output ``Shift`` nodes the profile's lowering inserted (``spyx.profile.note`` metadata) are
   removed and their edges re-joined: loading adds them again;
2. :meth:`Profile.unlower_fixups` undoes the profile's flat fixups (Spyx 1.0's channels-last Flatten);
3. every ``spyx.Neuron`` becomes :meth:`Profile.invert_neuron`'s continuous node (the ``nir`` profile: the
   kind whose :class:`~spyx.ir.traits.Continuous` inverse discretises back to it); any other discrete node
   with a continuous form (a ``Shift`` left over from a NIR ``Delay``) takes its kind's inverse;
4. **the check**: the written graph is lowered again with the same profile and dt; it must have the same
   edges, and every node must give back the original's options and parameters (to float32 rounding,
   ``rtol = 1e-6``). A neuron whose trained parameters left what the profile's convention can express (Norse
   ties ``g_x = 1 - beta``, Spyx 1.0 fixes ``g_x = 1``) is an :class:`ExportError` naming the node and the
   parameter, never an approximate file.

Continuous parameters are written in float64: the loader recomputes the float32 discrete factors from them,
and float64 time constants make that reproduce the trained float32 values (a float32 ``tau`` can be a few
ulps off after ``1 - dt/tau``).
"""

from __future__ import annotations

import numpy as np

from spyx.errors import ExportError, SpyxError
from spyx.ir.delay import Delay
from spyx.ir.discrete import Neuron, Shift
from spyx.ir.graph import Graph
from spyx.ir.node import Node, kind_class, kinds_with
from spyx.ir.traits import Causal, Continuous, Population
from spyx.passes.retime import DT_KEY
from spyx.profiles.base import Profile
from spyx.profiles.resolve import PROFILE_KEY

__all__ = ["invert_graph", "substitute", "nir_continuous", "RTOL"]

RTOL = 1e-6  # float32 rounding of the discrete factors recomputed from the written time constants
_NOTE = "spyx.profile.note"
_HINT = (
    "fine-tune only what the convention writes (docs/roundtrip.md), or save with profile='nir' (plain NIR, read "
    "back with profile='nir'), which expresses other neurons"
)


def substitute(graph: Graph, params: dict) -> Graph:
    """``graph`` with ``params`` (node -> name -> array, a program's pytree) written into its nodes, each in
    the dtype the node declares."""
    nodes = dict(graph.nodes)
    for name, arrays in params.items():
        if name not in nodes:
            raise ExportError(f"params: no node named {name!r} in the program's graph")
        node = nodes[name]
        nodes[name] = node.replace(
            **{k: np.asarray(v).astype(getattr(node, k).dtype) for k, v in arrays.items()}
        )
    return Graph(nodes=nodes, edges=graph.edges, metadata=graph.metadata)


def invert_graph(graph: Graph, profile: Profile, dt: float | None) -> tuple[Graph, list[str]]:
    """The continuous graph that ``profile`` lowers (at ``dt``) to the discrete ``graph``, and notes (see the
    module docstring). Raises :class:`ExportError` naming the node that cannot be written."""
    flat = _drop_profile_shifts(graph)
    flat = profile.unlower_fixups(flat)
    nodes: dict[str, Node] = {}
    for name, node in flat.nodes.items():
        nodes[name] = _invert_node(name, node, profile, dt)
    meta = {k: v for k, v in flat.metadata.items() if k not in (PROFILE_KEY, DT_KEY)}
    if dt is not None:
        meta[DT_KEY] = float(dt)
    out = Graph(nodes=nodes, edges=flat.edges, metadata=meta)
    _check(out, graph, profile, dt)
    return out, [f"written for the {profile.spec()} profile" + (f" at dt = {dt:g}" if dt is not None else "")]


def _drop_profile_shifts(graph: Graph) -> Graph:
    """Step 1: remove the output shifts a profile inserted (``a -> a.shift -> b`` becomes ``a -> b``)."""
    added = {n for n, v in graph.nodes.items() if isinstance(v, Shift) and _NOTE in v.metadata}
    if not added:
        return graph
    edges = []
    for e in graph.edges:
        a, b = graph.edge_nodes(e)
        if b in added:
            continue
        if a in added:
            (src,) = [graph.edge_nodes(f)[0] for f in graph.edges if graph.edge_nodes(f)[1] == a]
            edges.append((src, b))
            continue
        edges.append(e)
    nodes = {n: v for n, v in graph.nodes.items() if n not in added}
    return Graph(nodes=nodes, edges=tuple(edges), metadata=graph.metadata)


def _invert_node(name: str, node: Node, profile: Profile, dt: float | None) -> Node:
    if isinstance(node, Neuron):
        written = profile.for_node(name).invert_neuron(name, node, dt)
        for key, value in written.params().items():
            if not np.all(np.isfinite(value)):  # a decay of 1 or 0 where the convention needs a time constant
                raise ExportError(
                    f"node {name}: the {profile.spec()} convention cannot express it: {written.kind} {key} would "
                    f"be {np.ravel(value)[~np.isfinite(np.ravel(value))][0]}; save with the profile the program was "
                    "compiled with, or profile='nir'"
                )
        return written
    if node.continuous or not node.has_trait(Causal):  # weight layers, Flatten, ...: written as they are
        return node
    if dt is None:
        raise ExportError(f"node {name} ({node.kind}): writing it as a NIR Delay needs dt")
    return Delay(**Delay.declared_trait(Continuous).inverse(node, dt), metadata=dict(node.metadata))


def nir_continuous(name: str, n: Neuron, dt: float | None) -> Node:
    """The NIR neuron whose exact discretisation at ``dt`` is ``n`` (the ``nir`` profile's inverse): the first
    population kind with a :class:`Continuous` inverse that discretises back to ``n``."""
    if dt is None:
        raise ExportError(f"node {name}: writing a discrete neuron as a NIR continuous node needs dt")
    tried = []
    for kind in kinds_with(Continuous):
        cls = kind_class(kind)
        cont = cls.declared_trait(Continuous)
        if cont.inverse is None or not any(isinstance(t, Population) for t in cls.traits):
            continue
        try:
            with np.errstate(all="ignore"):
                cand = cls(**{k: np.asarray(v, np.float64) for k, v in cont.inverse(n, dt).items()})
            back = cont.discretize(name, cand, float(dt), "exact", "error", None)
        except (SpyxError, ValueError, TypeError, AttributeError, FloatingPointError):
            continue
        why = _difference(back, n)
        if why is None:
            return cand.replace(metadata=dict(n.metadata))
        tried.append(f"{kind} ({why})")
    raise ExportError(
        f"node {name}: no NIR neuron discretises exactly to it at dt = {dt:g}; tried "
        f"{'; '.join(tried) or 'no kind'}. NIR cannot express this neuron's options; save with the profile it "
        "was compiled with"
    )


def _difference(a: Node, b: Node) -> str | None:
    """Why node ``a`` is not ``b`` (kind, an option, a parameter beyond float32 rounding), or None."""
    if type(a) is not type(b):
        return f"kind {a.kind} instead of {b.kind}"
    for opt in type(a).option_names():
        if getattr(a, opt) != getattr(b, opt):
            return f"{opt} = {getattr(a, opt)!r} instead of {getattr(b, opt)!r}"
    for k in type(a).param_names():
        x, y = getattr(a, k), getattr(b, k)
        if x is None and y is None:
            continue
        x = np.zeros(np.shape(y)) if x is None else np.asarray(x, np.float64)
        y = np.zeros(np.shape(x)) if y is None else np.asarray(y, np.float64)
        if x.shape != y.shape and np.broadcast_shapes(x.shape, y.shape) != y.shape:
            return f"{k} has shape {x.shape} instead of {y.shape}"
        if not np.allclose(x, y, rtol=RTOL, atol=1e-12):
            i = np.unravel_index(np.argmax(np.abs(np.broadcast_to(x, y.shape) - y)), y.shape)
            return f"{k} = {np.broadcast_to(x, y.shape)[i]:.9g} instead of {y[i]:.9g} at {tuple(map(int, i))}"
    return None


def _check(written: Graph, original: Graph, profile: Profile, dt: float | None) -> None:
    """Step 4: lowering the written graph with the same profile gives back every node of ``original``."""
    from spyx.profiles.pipeline import lower

    try:
        back = lower(written, profile, dt=dt).graph
    except SpyxError as e:
        raise ExportError(f"the graph written for {profile.spec()} does not load back: {e}") from None
    edges = {back.edge_nodes(e) for e in back.edges} ^ {original.edge_nodes(e) for e in original.edges}
    if edges:
        a, b = sorted(edges)[0]
        raise ExportError(f"edge {a} -> {b}: the graph written for {profile.spec()} does not load back with the "
                          "program's edges (a profile rewrite without its inverse); save with profile='nir'")
    for name, node in original.nodes.items():
        other = back.nodes.get(name)
        if other is None:
            raise ExportError(f"node {name} ({node.kind}): not present when the written graph is loaded again")
        why = _difference(other, node)
        if why is not None:
            raise ExportError(
                f"node {name} ({node.kind}): the {profile.spec()} convention cannot express its parameters: "
                f"loaded again it has {why}; {_HINT}"
            )


# -- helpers for each profile's invert_neuron ---------------------------------------------------------------
def p64(n: Neuron, name: str, default: float = 0.0) -> np.ndarray:
    """Parameter ``name`` of ``n`` in float64, broadcast to the population (``default`` where absent)."""
    v = getattr(n, name)
    return np.broadcast_to(np.asarray(default if v is None else v, np.float64), n.shape).copy()


def continuous(kind: str, n: Neuron, **params) -> Node:
    """A NIR node of ``kind`` with float64 parameters broadcast to ``n``'s population, keeping its metadata."""
    with np.errstate(divide="ignore", invalid="ignore"):  # a decay of 1 is tau = inf: the check then refuses
        arrays = {k: np.broadcast_to(np.asarray(v, np.float64), n.shape).copy() for k, v in params.items()}
    return kind_class(kind)(**arrays, metadata=dict(n.metadata))


def over(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a / b`` without a warning (``b = 0`` gives inf, which the check refuses with the node's name)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(a, np.float64) / np.asarray(b, np.float64)
