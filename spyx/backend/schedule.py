"""Execution plans: in which order, and in which loops, a program evaluates its nodes. Chosen here only.

Topology semantics (``docs/semantics.md``): the inputs of a node are summed over its incoming edges;
fan-out is free; a feedback edge (:func:`spyx.ir.algorithms.feedback_edges`) carries the value its source
produced in the *previous* step (zero at t = 0), except an edge leaving a causal ``spyx.Shift`` (every
element >= 1 step), whose output at step t is known before its input is, so it adds no latency.

Two schedules compute the same function:

* ``step``: the reference interpreter. One ``lax.scan`` over time; each step evaluates every node in
  topological order (feedback edges cut), causal shifts first.
* ``layer`` (default): components of the graph in topological order. A stateless node outside a cycle runs
  once over the whole sequence, batched over ``T * B``; a stateful node outside a cycle runs its own
  ``lax.scan`` (a ``spyx.Shift`` a single gather); each strongly connected component runs one
  ``lax.scan`` over its nodes, with the step interpreter restricted to them.

State is a dict ``node -> {name: (B, *shape)}``: ``v``/``i``/``s`` of neurons (``a``: adaptation of
``spyx.AdaptiveNeuron``), ``buf`` of shifts, and
``out`` (the previous step's output) for sources of previous-step edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import networkx as nx
from jax import lax

from spyx.backend.fused import check_fused, fused_neuron_sequence
from spyx.backend import row_kernel
from spyx.backend.kernels import Context, Kernel, is_linear_neuron, kernel_for, linear_neuron_sequence
from spyx.errors import OptionError, UnsupportedError
from spyx.ir.algorithms import feedback_edges, is_causal, topological_order
from spyx.ir.graph import Graph
from spyx.ir.node import Node
from spyx.ir.ports import Input, Output
from spyx.ir.shapes import infer_shapes

__all__ = ["SCHEDULES", "NodePlan", "Group", "Plan", "make_plan", "run_step_schedule", "run_layer_schedule"]

SCHEDULES = ("layer", "step")
TRACED = ("v", "i", "s", "a")


@dataclass(frozen=True)
class NodePlan:
    name: str
    node: Node
    kernel: Kernel
    ctx: Context
    sources: tuple[tuple[str, bool], ...]  # (source, reads the previous step's output)
    causal: bool
    keeps_out: bool


@dataclass(frozen=True)
class Group:
    kind: str  # "stateless" | "stateful" | "cycle"
    names: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    nodes: dict[str, NodePlan]  # every non-Input node
    order: tuple[str, ...]  # non-Input nodes, topological with feedback edges cut
    inputs: dict[str, tuple[int, ...]]
    outputs: dict[str, tuple[int, ...]]
    groups: tuple[Group, ...]
    unroll: int = 1  # lax.scan unroll factor (fewer loop iterations per step on accelerators)
    parallel_linear: bool = False  # reset-free linear neurons by associative scan in the layer schedule
    fused: str = "off"  # neurons on the fused kernels in the layer schedule (spyx.backend.fused)


def make_plan(graph: Graph, spike_fn, precision, *, unroll: int = 1, parallel_linear: bool = False,
              fused: str = "off") -> Plan:
    """The plan of a flat, discrete, verified graph. UnsupportedError names any node without a kernel."""
    missing = [f"{n} ({node.kind})" for n, node in graph.nodes.items() if kernel_for(node.kind) is None]
    if missing:
        raise UnsupportedError(
            f"no JAX kernel for node(s) {', '.join(missing)}; continuous nodes need the discretize pass, "
            "nested graphs the inline pass"
        )
    shapes = infer_shapes(graph)
    fb = feedback_edges(graph)
    fb_set = set(fb)
    sources: dict[str, list[tuple[str, bool]]] = {n: [] for n in graph.nodes}
    keeps = set()
    for edge in graph.edges:
        a, b = graph.edge_nodes(edge)
        prev = edge in fb_set and not is_causal(graph.nodes[a])
        sources[b].append((a, prev))
        if prev:
            keeps.add(a)
    order = tuple(n for n in topological_order(graph, fb) if not isinstance(graph.nodes[n], Input))
    nodes = {}
    for n in order:
        node = graph.nodes[n]
        kernel = kernel_for(node.kind)
        ctx = Context(spike_fn, shapes[n].input, shapes[n].output, precision)
        causal = is_causal(node) and kernel.peek is not None
        nodes[n] = NodePlan(n, node, kernel, ctx, tuple(sources[n]), causal, n in keeps)
    inputs = {n: tuple(shapes[n].output) for n, node in graph.nodes.items() if isinstance(node, Input)}
    outputs = {n: tuple(shapes[n].output) for n, node in graph.nodes.items() if isinstance(node, Output)}
    return Plan(nodes, order, inputs, outputs, _groups(graph, order), unroll, parallel_linear, check_fused(fused))


def _groups(graph: Graph, order: tuple[str, ...]) -> tuple[Group, ...]:
    members = set(order)
    g = nx.DiGraph()
    g.add_nodes_from(order)
    for edge in graph.edges:
        a, b = graph.edge_nodes(edge)
        if a in members and b in members:
            g.add_edge(a, b)
    cond = nx.condensation(g)
    position = {n: i for i, n in enumerate(order)}
    comp_of = {c: sorted(cond.nodes[c]["members"], key=position.__getitem__) for c in cond.nodes}
    ordered = nx.lexicographical_topological_sort(cond, key=lambda c: position[comp_of[c][0]])
    groups = []
    for c in ordered:
        names = tuple(comp_of[c])
        if len(names) > 1 or g.has_edge(names[0], names[0]):
            groups.append(Group("cycle", names))
        elif kernel_for(graph.nodes[names[0]].kind).stateful:
            groups.append(Group("stateful", names))
        else:
            groups.append(Group("stateless", names))
    return tuple(groups)


def check_schedule(schedule: str) -> str:
    if schedule not in SCHEDULES:
        raise OptionError(f"schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
    return schedule


# -- one step of a set of nodes ---------------------------------------------------------------------------
def _summed(plan: Plan, np_: NodePlan, vals, state, like):
    total = None
    for src, prev in np_.sources:
        x = state[src]["out"] if prev else vals[src]
        total = x if total is None else total + x
    if total is None:  # a node without inputs sees zeros
        total = jnp.zeros((like.shape[0], *np_.ctx.in_shape), like.dtype)
    return total


def step_nodes(plan: Plan, names, params, state, vals, like):
    """Evaluate ``names`` (in plan order) for one step. ``vals`` holds this step's values of every source
    outside ``names``; returns (new state of the stateful nodes in ``names``, values of all nodes)."""
    vals = dict(vals)
    new_state = {}
    for n in names:
        np_ = plan.nodes[n]
        if np_.causal:
            vals[n] = np_.kernel.peek(np_.node, state[n])
    for n in names:
        np_ = plan.nodes[n]
        x = _summed(plan, np_, vals, state, like)
        p = params.get(n, {})
        if np_.kernel.stateful:
            own = {k: v for k, v in state[n].items() if k != "out"}
            st, y = np_.kernel.step(np_.node, p, own, x, np_.ctx)
            new_state[n] = dict(st)
            if not np_.causal:
                vals[n] = y
        else:
            vals[n] = np_.kernel.apply(np_.node, p, x, np_.ctx)
        if np_.keeps_out:
            new_state.setdefault(n, {})["out"] = vals[n]
    return new_state, vals


def _traces(plan: Plan, names, st):
    out = {}
    for n in names:
        entries = {k: v for k, v in st.get(n, {}).items() if k in TRACED}
        if entries:
            out[n] = entries
    return out


def _like(inputs: dict):
    return next(iter(inputs.values()))


# -- schedules ------------------------------------------------------------------------------------------
def run_step_schedule(plan: Plan, params, state, inputs, traced: bool):
    """One scan over time of the whole graph's step. ``inputs``: name -> (T, B, *shape)."""

    def body(st, xs_t):
        new, vals = step_nodes(plan, plan.order, params, st, xs_t, _like(xs_t))
        full = {**st, **new}
        ys = {o: vals[o] for o in plan.outputs}
        return full, (ys, _traces(plan, plan.order, full) if traced else {})

    state, (outs, traces) = lax.scan(body, state, inputs, unroll=plan.unroll)
    return outs, state, traces


def run_layer_schedule(plan: Plan, params, state, inputs, traced: bool):
    """Component by component over whole sequences (see module docstring)."""
    seq = dict(inputs)
    like = _like(inputs)
    t, b = like.shape[:2]
    state = dict(state)
    traces: dict = {}
    for group in plan.groups:
        if group.kind == "stateless":
            n = group.names[0]
            np_ = plan.nodes[n]
            x = sum_sources(np_, seq) if np_.sources else jnp.zeros((t, b, *np_.ctx.in_shape), like.dtype)
            x = x.reshape(t * b, *x.shape[2:])
            y = np_.kernel.apply(np_.node, params.get(n, {}), x, np_.ctx)
            seq[n] = y.reshape(t, b, *y.shape[1:])
        elif group.kind == "stateful":
            n = group.names[0]
            np_ = plan.nodes[n]
            xs = sum_sources(np_, seq) if np_.sources else jnp.zeros((t, b, *np_.ctx.in_shape), like.dtype)
            p = params.get(n, {})
            own = {k: v for k, v in state[n].items() if k != "out"}
            fast = None if traced else fused_neuron_sequence(plan.fused, np_.node, p, own, xs, np_.ctx)
            if fast is None and not traced and np_.sources:
                row = _row_kernel(plan, (n,), params, {n: own}, {s: seq[s] for s, _ in np_.sources}, t)
                fast = None if row is None else (row[0][n], row[1][n])
            if fast is not None:
                seq[n], new = fast
            elif np_.kernel.sequence is not None:
                seq[n], new = np_.kernel.sequence(np_.node, p, own, xs, np_.ctx)
            elif plan.parallel_linear and is_linear_neuron(np_.node):
                seq[n], new, tr = linear_neuron_sequence(np_.node, p, own, xs, np_.ctx)
                if traced:
                    traces[n] = tr
            else:

                def body(st, x_t, np_=np_, p=p):
                    st, y = np_.kernel.step(np_.node, p, st, x_t, np_.ctx)
                    return st, (y, {k: v for k, v in st.items() if k in TRACED} if traced else {})

                new, (seq[n], tr) = lax.scan(body, own, xs, unroll=plan.unroll)
                if traced:
                    traces[n] = tr
            state[n] = {**state[n], **new}
        else:
            names = group.names
            inside = set(names)
            ext = sorted({s for n in names for s, _ in plan.nodes[n].sources if s not in inside})
            sub_state = {n: state[n] for n in names if n in state}

            def body(st, xs_t, names=names):
                new, vals = step_nodes(plan, names, params, st, xs_t, _like(xs_t) if xs_t else like[0])
                full = {**st, **new}
                return full, ({n: vals[n] for n in names}, _traces(plan, names, full) if traced else {})

            ext_seq = {s: seq[s] for s in ext}
            fast = None if traced else _row_kernel(plan, names, params, sub_state, ext_seq, t)
            if fast is not None:
                (vals, sub_state), tr = fast, {}
            else:
                sub_state, (vals, tr) = lax.scan(body, sub_state, ext_seq, length=t, unroll=plan.unroll)
            seq.update(vals)
            state.update(sub_state)
            traces.update(tr)
    return {o: seq[o] for o in plan.outputs}, state, traces


def _row_kernel(plan: Plan, names, params, sub_state, ext, t):
    """``(vals, sub_state)`` of the group by :mod:`spyx.backend.row_kernel`, or ``None`` where it does not apply."""
    if not ext:
        return None
    like = next(iter(ext.values()))
    use, interpret = row_kernel.applies(plan, names, like.dtype, plan.nodes[names[0]].ctx.spike_fn)
    if not use:
        return None

    def reference(params_, st, xs):  # the cycle branch's scan, differentiable in the group's params
        def body(c, x_t):
            new, vals = step_nodes(plan, names, params_, c, x_t, _like(x_t))
            return {**c, **new}, {n: vals[n] for n in names}

        st, vals = lax.scan(body, st, xs, length=t, unroll=plan.unroll)
        return vals, st

    sub_params = {n: params[n] for n in names if n in params}
    return row_kernel.run_row_group(plan, names, sub_params, sub_state, ext, interpret=interpret, step=step_nodes,
                                    reference=reference)


def sum_sources(np_: NodePlan, seq):
    total = None
    for src, _ in np_.sources:
        total = seq[src] if total is None else total + seq[src]
    return total
