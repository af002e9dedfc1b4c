"""Reusable rule checks over a flat graph. Each factory returns ``check(graph, target, dt) -> [Violation]``;
the engine (:meth:`spyx.targets.base.Target.check`) fills in the rule id and source.

Which nodes a rule looks at is a *selector*, a predicate on the node built from its traits
(:data:`NEURONS`: a :class:`~spyx.ir.traits.Population`; :data:`WEIGHTS`: a
:class:`~spyx.ir.traits.WeightLayer` with a weight matrix; :data:`INPUTS`, :data:`OUTPUTS`: graph ports),
so a new kind is checked by every rule that concerns what it is. Only a target's list of supported
``primitives`` names kinds: it is the hardware's data, cited from its source.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import numpy as np

from spyx.ir.algorithms import sccs
from spyx.ir.conv import spatial
from spyx.ir.graph import Graph
from spyx.ir.node import Node
from spyx.ir.ports import Input, Output
from spyx.ir.shapes import infer_shapes
from spyx.ir.traits import Population, WeightLayer
from spyx.quant.formats import decay_params, quantize_decays, state_params
from spyx.targets.base import Violation

Selector = Callable[[Node], bool]


def NEURONS(node: Node) -> bool:  # noqa: N802 (a constant-like selector)
    """Neuron populations (LIF, IF, LI, I, CubaLIF, CubaLI, spyx.Neuron, ...)."""
    return node.has_trait(Population)


def WEIGHTS(node: Node) -> bool:  # noqa: N802
    """Weight layers with a weight matrix (Affine, Linear, Conv1d, Conv2d; not the elementwise Scale)."""
    layer = node.trait(WeightLayer)
    return layer is not None and layer.matrix


def INPUTS(node: Node) -> bool:  # noqa: N802
    return isinstance(node, Input)


def OUTPUTS(node: Node) -> bool:  # noqa: N802
    return isinstance(node, Output)


def LEVELED(node: Node) -> bool:  # noqa: N802
    """Nodes with threshold/state levels: neurons and spike tests (Threshold)."""
    return bool(state_params(node))


def CONV2D(node: Node) -> bool:  # noqa: N802
    """Two-dimensional convolutions (Conv2d)."""
    return _conv2d(node)


def either(*selectors: Selector) -> Selector:
    return lambda node: any(s(node) for s in selectors)


def of_kinds(names: tuple[str, ...]) -> Selector:
    """A selector of the named kinds: for a target's supported-primitive lists (hardware data) only."""
    return lambda node: node.kind in names


def _selector(select: Selector | tuple[str, ...]) -> Selector:
    return of_kinds(select) if isinstance(select, tuple) else select


def _v(message: str, nodes=(), severity: str = "error") -> Violation:
    return Violation("", tuple(nodes), message, severity)


def kinds(graph: Graph, wanted: Selector | tuple[str, ...]) -> list[str]:
    """Names of the nodes ``wanted`` selects (a selector, or a tuple of kind names)."""
    select = _selector(wanted)
    return [n for n, node in graph.nodes.items() if select(node)]


_SHAPES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def neuron_size(graph: Graph, name: str) -> int:
    """Elements of a node's output (0 when shapes cannot be inferred: verify reports that)."""
    if graph not in _SHAPES:
        _SHAPES[graph] = infer_shapes(graph, diagnostics=[])
    out = _SHAPES[graph].get(name)
    return int(np.prod(out.output)) if out is not None and out.output is not None else 0


def output_neurons(graph: Graph) -> list[str]:
    return [
        p
        for o in kinds(graph, OUTPUTS)
        for p in graph.predecessors(o)
        if NEURONS(graph.nodes[p])
    ]


# -- topology ---------------------------------------------------------------------------------------
def allowed_kinds(allowed: tuple[str, ...]):
    def check(graph, target, dt):
        return [
            _v(f"{node.kind} is not supported; supported: {', '.join(allowed)}", [n])
            for n, node in graph.nodes.items()
            if node.kind not in allowed
        ]

    return check


def successors_must_be(select: Selector, must: Selector, what: str):
    """Every node ``select`` picks sends only to nodes ``must`` picks."""
    must = _selector(must)

    def check(graph, target, dt):
        out = []
        for n in kinds(graph, select):
            bad = [s for s in graph.successors(n) if not must(graph.nodes[s])]
            if bad:
                out.append(_v(f"{n} feeds {', '.join(bad)}; {what}", [n, *bad]))
        return out

    return check


def predecessors_must_be(select: Selector, must: Selector, what: str):
    """Every node ``select`` picks receives only from nodes ``must`` picks."""
    must = _selector(must)

    def check(graph, target, dt):
        out = []
        for n in kinds(graph, select):
            bad = [p for p in graph.predecessors(n) if not must(graph.nodes[p])]
            if bad:
                out.append(_v(f"{n} receives from {', '.join(bad)}; {what}", [n, *bad]))
        return out

    return check


def count_limit(select: Callable[[Graph], list[str]], limit_of: Callable, what: str, size=neuron_size):
    """The summed size of the selected nodes is at most ``limit_of(target)`` (skipped if None)."""

    def check(graph, target, dt):
        limit = limit_of(target)
        names = select(graph)
        total = sum(size(graph, n) for n in names)
        if limit is None or total <= limit:
            return []
        return [_v(f"{total} {what}, more than the {limit} the target has", names)]

    return check


def not_recurrent(select: Callable[[Graph], list[str]], what: str):
    def check(graph, target, dt):
        cyclic = {n for comp in sccs(graph) for n in comp}
        return [_v(f"{n} is in a recurrent loop; {what}", [n]) for n in select(graph) if n in cyclic]

    return check


def min_count(select: Callable[[Graph], list[str]], least: int, what: str):
    def check(graph, target, dt):
        names = select(graph)
        return [] if len(names) >= least else [_v(f"{len(names)} {what}; at least {least} are needed", names)]

    return check


def fan_outs(graph: Graph) -> dict[str, int]:
    """For each Input and neuron node that feeds dense (2-D) weights: the most targets one of its elements
    drives through nonzero weights (summed over the weight layers it feeds)."""
    out = {}
    for n in kinds(graph, either(NEURONS, INPUTS)):
        drives = np.zeros(neuron_size(graph, n) if not INPUTS(graph.nodes[n]) else 0, dtype=np.int64)
        fed = False
        for s in graph.successors(n):
            w = getattr(graph.nodes[s], "weight", None)
            if w is not None and w.ndim == 2:
                counts = np.count_nonzero(w, axis=0)
                drives = counts if drives.size != counts.size else drives + counts
                fed = True
        if fed and drives.size:
            out[n] = int(drives.max())
    return out


def fan_out(limit_of: Callable, what: str):
    """Each Input element or neuron drives at most ``limit`` targets through nonzero weights."""

    def check(graph, target, dt):
        limit = limit_of(target)
        if limit is None:
            return []
        return [
            _v(f"{n} drives up to {most} targets; {what} is {limit}", [n])
            for n, most in fan_outs(graph).items()
            if most > limit
        ]

    return check


# -- parameters -------------------------------------------------------------------------------------
def per_node(check_node: Callable[[str, Node, object, float | None], list[Violation]], select=None):
    """``check_node`` on every node ``select`` picks (every node when None)."""
    select = None if select is None else _selector(select)

    def check(graph, target, dt):
        out = []
        for n, node in graph.nodes.items():
            if select is None or select(node):
                out.extend(check_node(n, node, target, dt))
        return out

    return check


def _int_range_problem(arr: np.ndarray, bits: int) -> str | None:
    a = np.asarray(arr, dtype=np.float64)
    if not np.all(a == np.round(a)):
        return "not integer-valued"
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    if a.size and (a.min() < lo or a.max() > hi):
        return f"outside the signed {bits}-bit range [{lo}, {hi}] (min {a.min():g}, max {a.max():g})"
    return None


def weight_format(bits_of: Callable):
    def node_check(n, node, target, dt):
        bits = bits_of(target)
        if bits is None:
            return []
        problem = _int_range_problem(node.trait(WeightLayer).weights(node), bits)
        hint = "; run the quantize-graph pass (spyx.targets.quantize_for)"
        return [_v(f"weights of {n} are {problem}{hint}", [n])] if problem else []

    return per_node(node_check, WEIGHTS)


def bias_integer():
    def node_check(n, node, target, dt):
        layer = node.trait(WeightLayer)
        b = getattr(node, layer.bias) if layer.bias else None
        if b is None or np.all(np.asarray(b) == np.round(b)):
            return []
        return [_v(f"bias of {n} is not integer-valued (biases are scaled like the weights)", [n])]

    return per_node(node_check, WEIGHTS)


def threshold_format(bits_of: Callable):
    def node_check(n, node, target, dt):
        bits = bits_of(target)
        if bits is None:
            return []
        out = []
        for p in state_params(node):
            value = getattr(node, p)
            problem = None if value is None else _int_range_problem(value, bits)
            if problem:
                out.append(_v(f"{p} of {n} is {problem}", [n]))
        return out

    return per_node(node_check, LEVELED)


def no_bias():
    def node_check(n, node, target, dt):
        out = []
        layer, pop = node.trait(WeightLayer), node.trait(Population)
        b = getattr(node, layer.bias) if layer is not None and layer.matrix and layer.bias else None
        if b is not None and np.any(b != 0):
            out.append(_v(f"{n} has a nonzero bias; the target has no biases", [n]))
        drive = getattr(node, pop.bias) if pop is not None and pop.bias else None
        if drive is not None and np.any(drive != 0):
            out.append(_v(f"{n} has a nonzero constant input (bias); the target has no biases", [n]))
        return out

    return per_node(node_check)


def zero_param(param: str, select: Selector, what: str):
    def node_check(n, node, target, dt):
        value = getattr(node, param, None)
        return (
            [_v(f"{param} of {n} is nonzero; {what}", [n])]
            if value is not None and np.any(value != 0)
            else []
        )

    return per_node(node_check, select)


def uniform(params: tuple[str, ...], select: Selector, what: str):
    def node_check(n, node, target, dt):
        bad = [p for p in params if getattr(node, p, None) is not None and np.ptp(getattr(node, p)) != 0]
        return [_v(f"{', '.join(bad)} of {n} differ between neurons; {what}", [n])] if bad else []

    return per_node(node_check, select)


def decay_format(decay_of: Callable, tol: float = 1e-6):
    """Decays representable in the target's format: time constants need ``dt`` (skipped without it) and are
    accepted when representable under the Euler or the exact reading of ``tau`` as a per-step decay."""

    def node_check(n, node, target, dt):
        decay = decay_of(target)
        if decay in (None, "float"):
            return []
        if dt is None and any(c for _, c in decay_params(node)):
            return []
        max_shift = getattr(target.formats(), "max_shift", None)
        bad = None
        for method in ("euler", "exact"):  # the graph does not say how its time constants are discretised
            q, changes = quantize_decays(node, decay, dt, max_shift, method)
            off = [
                c.param
                for c in changes
                if not np.allclose(getattr(q, c.param), getattr(node, c.param), rtol=tol, atol=0)
            ]
            bad = off if bad is None or len(off) < len(bad) else bad
        return (
            [_v(f"{', '.join(bad)} of {n} not representable as {decay} decays (at dt={dt})", [n])]
            if bad
            else []
        )

    return per_node(node_check, lambda node: bool(decay_params(node)))


# -- convolutions and pooling -----------------------------------------------------------------------
def conv_param(param: str, ok: Callable[[int], bool], what: str, select=None):
    """A convolution parameter (``kernel``, ``stride``, ``padding``) of every 2-D convolution (default)."""
    select = select or _conv2d

    def node_check(n, node, target, dt):
        if param == "kernel":
            values = node.kernel
        elif param == "padding" and getattr(node, "padding", None) is None:
            values = tuple(lo for lo, _ in node.pads())
        else:
            values = spatial(getattr(node, param), 2, param)
        bad = [v for v in values if not ok(v)]
        return [_v(f"{param} {tuple(values)} of {n}: {what}", [n])] if bad else []

    return per_node(node_check, select)


def _conv2d(node: Node) -> bool:
    layer = node.trait(WeightLayer)
    return layer is not None and layer.layout == "conv" and layer.spatial == 2


def features(limit_of: Callable, what: str):
    def node_check(n, node, target, dt):
        limit = limit_of(target)
        c = node.trait(WeightLayer).out_features(node)
        return (
            [_v(f"{n} has {c} output features; {what} {limit}", [n])]
            if limit is not None and c > limit
            else []
        )

    return per_node(node_check, WEIGHTS)


def reset_mode(mode_of: Callable):
    """Reset semantics: ``zero`` (reset to 0) or ``subtract`` (subtract the threshold)."""

    def node_check(n, node, target, dt):
        mode = mode_of(target)
        if mode is None or not node.spiking:
            return []
        reset = node.trait(Population).reset_of(node)
        if reset is not None:  # a discrete population states its reset
            v_reset = getattr(node, "v_reset", None)
            ok = (
                reset == "subtract"
                if mode == "subtract"
                else (reset == "value" and not (v_reset is not None and np.any(v_reset != 0)))
            )
            return [] if ok else [_v(f"{n} resets with reset={reset!r}; the target resets by {mode}", [n])]
        v_reset = getattr(node, "v_reset", None)
        if mode == "zero":
            if v_reset is not None and np.any(v_reset != 0):
                return [_v(f"{n} resets to a nonzero v_reset; the target resets to zero", [n])]
            return []
        return [
            _v(
                f"{n} ({node.kind}) resets to v_reset as NIR defines; the target subtracts the threshold, so "
                "spikes can differ after the first one",
                [n],
                "warning",
            )
        ]

    return per_node(node_check, NEURONS)
