"""Seeded generators of random NIR-style graphs for tests (every primitive, branches, merges, skips,
nested graphs, cycles). Continuous-time parameters are drawn for ``DT``: time constants of 2..20 steps and
delays that are whole multiples of ``DT``.

``random_graph(seed)`` picks a template and options from the seed; ``primitive_graphs()`` yields one small
graph per primitive kind so that every kind is covered on every run.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from spyx.ir import (
    IF,
    LI,
    LIF,
    Affine,
    AvgPool2d,
    Conv1d,
    Conv2d,
    CubaLI,
    CubaLIF,
    Delay,
    Flatten,
    Graph,
    I,
    Input,
    Linear,
    Node,
    Output,
    Scale,
    SumPool2d,
    Threshold,
)
from spyx.ir.shapes import infer_shapes

DT = 1e-3
F = np.float32


class _Builder:
    def __init__(self, rng: np.random.Generator, dtype=F):
        self.rng = rng
        self.dtype = dtype
        self.nodes: dict[str, Node] = {}
        self.edges: list[tuple[str, str]] = []
        self.count = 0

    def add(self, prefix: str, node: Node, *srcs: str) -> str:
        name = f"{prefix}{self.count}"
        self.count += 1
        self.nodes[name] = node
        self.edges.extend((s, name) for s in srcs)
        return name

    def arr(self, shape, lo, hi):
        return self.rng.uniform(lo, hi, size=shape).astype(self.dtype)

    # -- layers -------------------------------------------------------------------------------------------
    def affine(self, n_in: int, n_out: int, gain: float = 2.0) -> Node:
        w = (self.rng.standard_normal((n_out, n_in)) * gain / np.sqrt(n_in)).astype(self.dtype)
        return Affine(weight=w, bias=self.arr((n_out,), -0.2, 0.4))

    def linear(self, n_in: int, n_out: int, gain: float = 2.0) -> Node:
        return Linear(weight=(self.rng.standard_normal((n_out, n_in)) * gain / np.sqrt(n_in)).astype(self.dtype))

    def neuron(self, kind: str, shape) -> Node:
        tau = lambda: self.arr(shape, 2 * DT, 20 * DT)  # noqa: E731
        thr = self.arr(shape, 0.3, 1.2)
        r = self.arr(shape, 0.5, 2.0)
        leak = self.arr(shape, -0.1, 0.1)
        reset = self.arr(shape, -0.2, 0.1)
        make = {
            "LIF": lambda: LIF(tau=tau(), r=r, v_leak=leak, v_threshold=thr, v_reset=reset),
            "IF": lambda: IF(r=(r / DT * 0.3).astype(self.dtype), v_threshold=thr, v_reset=reset),
            "LI": lambda: LI(tau=tau(), r=r, v_leak=leak),
            "I": lambda: I(r=(r / DT * 0.05).astype(self.dtype)),
            "CubaLIF": lambda: CubaLIF(
                tau_syn=tau(), tau_mem=tau(), r=r, v_leak=leak, v_threshold=thr, v_reset=reset,
                w_in=self.arr(shape, 1.0, 2.0),
            ),
            "CubaLI": lambda: CubaLI(tau_syn=tau(), tau_mem=tau(), r=r, v_leak=leak, w_in=self.arr(shape, 1.0, 2.0)),
        }
        return make[kind]()

    def delay(self, shape) -> Node:
        return Delay(delay=(self.rng.integers(1, 4, size=shape) * DT).astype(self.dtype))

    def graph(self, metadata=None) -> Graph:
        return Graph(nodes=self.nodes, edges=tuple(self.edges), metadata=metadata or {})


SPIKING = ("LIF", "IF", "CubaLIF")
NEURONS = ("LIF", "IF", "LI", "I", "CubaLIF", "CubaLI")


def mlp_graph(rng: np.random.Generator, *, cycles: bool = True, nested: bool = True) -> Graph:
    """Input -> (Affine|Linear -> neuron)+ with optional skip/merge, Scale, Threshold, Delay, recurrent
    cycle, nested subgraph and a second output."""
    b = _Builder(rng)
    n = int(rng.integers(3, 7))
    cur = b.add("in", Input(shape=np.array([n])))
    depth = int(rng.integers(1, 4))
    skip_from = None
    for layer in range(depth):
        m = int(rng.integers(3, 8))
        lin = b.add("fc", b.affine(n, m) if rng.random() < 0.7 else b.linear(n, m), cur)
        if skip_from is not None and rng.random() < 0.6 and skip_from[1] == n:
            lin2 = b.add("skip", b.affine(n, m), skip_from[0])  # skip connection merging into the neuron
        else:
            lin2 = None
        kind = str(rng.choice(NEURONS if layer < depth - 1 else NEURONS))
        neu = b.add(kind.lower(), b.neuron(kind, (m,)), lin, *([lin2] if lin2 else []))
        if cycles and kind in SPIKING and rng.random() < 0.5:
            rec = b.add("rec", b.affine(m, m, gain=0.5), neu)
            b.edges.append((rec, neu))
        if rng.random() < 0.3:
            neu = b.add("scale", Scale(scale=b.arr((m,), 0.5, 1.5)), neu)
        if kind in ("LI", "I", "CubaLI") and rng.random() < 0.5:
            neu = b.add("thr", Threshold(threshold=b.arr((m,), 0.05, 0.5)), neu)
        if rng.random() < 0.25:
            neu = b.add("delay", b.delay((m,)), neu)
        skip_from = (cur, n)
        cur, n = neu, m
    b.add("out", Output(shape=np.array([n])), cur)
    g = b.graph()
    if nested and rng.random() < 0.5:
        g = _nest_one(g, rng)
    return g


def _nest_one(g: Graph, rng: np.random.Generator) -> Graph:
    """Move one neuron (with its recurrent Affine, if any) into a nested graph with Input/Output ports."""
    shapes = infer_shapes(g)
    candidates = [k for k, v in g.nodes.items() if v.kind in NEURONS]
    if not candidates:
        return g
    name = str(rng.choice(candidates))
    rec = [b for a, b in g.edges if a == name and (b, name) in g.edges]
    inner = {name, *rec}
    shape = shapes[name].input
    sub_nodes: dict[str, Node] = {"i": Input(shape=np.array(shape)), "o": Output(shape=np.array(shape))}
    sub_edges = [("i", name), (name, "o")]
    for k in inner:
        sub_nodes[k] = g.nodes[k]
    sub_edges += [(a, b) for a, b in g.edges if a in inner and b in inner]
    sub = Graph(nodes=sub_nodes, edges=tuple(sub_edges))
    sname = f"sub_{name}"
    nodes = {k: v for k, v in g.nodes.items() if k not in inner}
    nodes[sname] = sub
    edges = []
    for a, b in g.edges:
        if a in inner and b in inner:
            continue
        edges.append((sname if a in inner else a, sname if b in inner else b))
    return Graph(nodes=nodes, edges=tuple(dict.fromkeys(edges)), metadata=g.metadata)


def conv_graph(rng: np.random.Generator) -> Graph:
    """Input (C, H, W) -> Conv2d -> IF|LIF -> SumPool2d|AvgPool2d -> Flatten -> Affine -> LIF|LI."""
    b = _Builder(rng)
    c, h = int(rng.integers(1, 3)), int(rng.integers(6, 10))
    cur = b.add("in", Input(shape=np.array([c, h, h])))
    co = int(rng.integers(2, 4))
    k = int(rng.integers(2, 4))
    stride, pad, dil = int(rng.integers(1, 3)), int(rng.integers(0, 2)), int(rng.integers(1, 3))
    groups = c if (c > 1 and co % c == 0 and rng.random() < 0.5) else 1
    w = (rng.standard_normal((co, c // groups, k, k)) * 1.5 / np.sqrt(c * k * k)).astype(F)
    conv = Conv2d(
        weight=w, bias=b.arr((co,), -0.1, 0.3), stride=np.array([stride, stride]), padding=np.array([pad, pad]),
        dilation=np.array([dil, dil]), groups=np.int64(groups), input_shape=np.array([h, h]),
    )
    cur = b.add("conv", conv, cur)
    s = infer_shapes(b.graph())[cur].output
    cur = b.add("neu", b.neuron(str(rng.choice(["IF", "LIF"])), s), cur)
    pool_cls = SumPool2d if rng.random() < 0.5 else AvgPool2d
    if min(s[1:]) >= 2:
        cur = b.add("pool", pool_cls(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])), cur)
    s = infer_shapes(b.graph())[cur].output
    cur = b.add("flat", Flatten(start_dim=np.int64(0), end_dim=np.int64(-1), input_type=np.array(s)), cur)
    n = int(np.prod(s))
    cur = b.add("fc", b.affine(n, 4), cur)
    cur = b.add("out_neu", b.neuron(str(rng.choice(["LIF", "LI"])), (4,)), cur)
    b.add("out", Output(shape=np.array([4])), cur)
    return b.graph()


def conv1d_graph(rng: np.random.Generator) -> Graph:
    """Input (C, N) -> Conv1d -> LIF -> Flatten -> Linear -> CubaLI."""
    b = _Builder(rng)
    c, n = int(rng.integers(1, 3)), int(rng.integers(6, 12))
    cur = b.add("in", Input(shape=np.array([c, n])))
    co, k = 3, int(rng.integers(2, 4))
    conv = Conv1d(
        weight=(rng.standard_normal((co, c, k)) * 1.5 / np.sqrt(c * k)).astype(F), bias=b.arr((co,), -0.1, 0.3),
        stride=np.int64(int(rng.integers(1, 3))), padding=np.int64(int(rng.integers(0, 2))),
        dilation=np.int64(1), groups=np.int64(1), input_shape=np.int64(n),
    )
    cur = b.add("conv", conv, cur)
    s = infer_shapes(b.graph())[cur].output
    cur = b.add("lif", b.neuron("LIF", s), cur)
    cur = b.add("flat", Flatten(start_dim=np.int64(0), end_dim=np.int64(-1), input_type=np.array(s)), cur)
    cur = b.add("fc", b.linear(int(np.prod(s)), 3), cur)
    cur = b.add("li", b.neuron("CubaLI", (3,)), cur)
    b.add("out", Output(shape=np.array([3])), cur)
    return b.graph()


def multi_io_graph(rng: np.random.Generator) -> Graph:
    """Two inputs merged into one LIF, two outputs (spikes and a readout)."""
    b = _Builder(rng)
    a = b.add("in", Input(shape=np.array([3])))
    c = b.add("in", Input(shape=np.array([2])))
    fa = b.add("fa", b.affine(3, 4), a)
    fc = b.add("fc", b.linear(2, 4), c)
    lif = b.add("lif", b.neuron("LIF", (4,)), fa, fc)
    li = b.add("li", b.neuron("LI", (4,)), lif)
    b.add("out", Output(shape=np.array([4])), lif)
    b.add("out", Output(shape=np.array([4])), li)
    return b.graph()


def random_graph(seed: int) -> Graph:
    """One random graph; the template and every option follow from ``seed``."""
    rng = np.random.default_rng(seed)
    pick = rng.random()
    if pick < 0.55:
        return mlp_graph(rng)
    if pick < 0.75:
        return conv_graph(rng)
    if pick < 0.9:
        return conv1d_graph(rng)
    return multi_io_graph(rng)


def primitive_graphs(seed: int = 0) -> Iterator[tuple[str, Graph]]:
    """(kind, graph) with one small graph per primitive kind, each exercising that kind."""
    rng = np.random.default_rng(seed)
    for kind in NEURONS:
        b = _Builder(rng)
        i = b.add("in", Input(shape=np.array([3])))
        f = b.add("fc", b.affine(3, 4), i)
        nrn = b.add(kind.lower(), b.neuron(kind, (4,)), f)
        b.add("out", Output(shape=np.array([4])), nrn)
        yield kind, b.graph()
    b = _Builder(rng)
    i = b.add("in", Input(shape=np.array([4])))
    s = b.add("scale", Scale(scale=b.arr((4,), -1.0, 2.0)), i)
    d = b.add("delay", b.delay((4,)), s)
    lin = b.add("lin", b.linear(4, 4), d)
    t = b.add("thr", Threshold(threshold=b.arr((4,), 0.0, 0.5)), lin)
    b.add("out", Output(shape=np.array([4])), t)
    yield "Scale+Delay+Linear+Threshold", b.graph()
    yield "Conv2d+pools+Flatten", conv_graph(rng)
    yield "Conv1d", conv1d_graph(rng)
    g = mlp_graph(np.random.default_rng(3), nested=False)
    yield "nested", _nest_one(g, rng)
