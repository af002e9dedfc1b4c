"""An independent float64 NumPy interpreter of continuous NIR graphs, for testing the JAX backend.

It shares no formulas with ``spyx.passes.discretize`` or ``spyx.backend``: each neuron's exact step is the
matrix exponential of its linear ODE system (zero-order hold input), computed here by scaling and
squaring of a Taylor series; Euler is written out from the ODEs; convolutions and pools are explicit loops
over kernel offsets. Only the graph's topology rules are shared (``inline`` for nested graphs and the
feedback-edge rule of ``spyx.ir.algorithms``, which *define* the semantics).

State vector per neuron element: ``z = [I, v, x, 1]`` with ``x`` (the step's input) constant over the step:
``dI/dt = (-I + w_in x) / tau_syn``, ``dv/dt = (v_leak - v + r I) / tau_mem`` (CubaLI/CubaLIF);
``dv/dt = (v_leak - v + r x) / tau`` (LI/LIF, I row zero); ``dv/dt = r x`` (I/IF). Exact:
``z(t + dt) = expm(A dt) z(t)``. Spiking kinds then spike where ``v > v_threshold`` and set ``v = v_reset``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from spyx.ir.algorithms import feedback_edges, is_causal, topological_order
from spyx.ir.shapes import infer_shapes
from spyx.passes.inline import inline_graph

F = np.float64


def expm(a: np.ndarray) -> np.ndarray:
    """Matrix exponential of a stack of square matrices (..., n, n): scaling and squaring of Taylor(20)."""
    norm = np.max(np.sum(np.abs(a), axis=-1), axis=-1)
    s = int(max(0, math.ceil(math.log2(max(float(np.max(norm)), 1e-300))) + 1)) if np.max(norm) > 0.5 else 0
    b = a / (2.0**s)
    n = a.shape[-1]
    eye = np.broadcast_to(np.eye(n), a.shape)
    out = eye.copy()
    term = eye.copy()
    for k in range(1, 21):
        term = term @ b / k
        out = out + term
    for _ in range(s):
        out = out @ out
    return out


def _p(node, name, shape):
    return np.broadcast_to(np.asarray(getattr(node, name), dtype=F), shape).reshape(-1)


def system_matrix(node) -> np.ndarray:
    """(n_elements, 4, 4) generator A of ``z = [I, v, x, 1]`` for one neuron node."""
    kind = node.kind
    shape = (node.tau_mem if kind.startswith("Cuba") else (node.r if kind in ("I", "IF") else node.tau)).shape
    n = int(np.prod(shape))
    a = np.zeros((n, 4, 4))
    r = _p(node, "r", shape)
    if kind in ("I", "IF"):
        a[:, 1, 2] = r
    elif kind in ("LI", "LIF"):
        tau = _p(node, "tau", shape)
        a[:, 1, 1] = -1 / tau
        a[:, 1, 2] = r / tau
        a[:, 1, 3] = _p(node, "v_leak", shape) / tau
    else:
        ts, tm = _p(node, "tau_syn", shape), _p(node, "tau_mem", shape)
        a[:, 0, 0] = -1 / ts
        a[:, 0, 2] = _p(node, "w_in", shape) / ts
        a[:, 1, 0] = r / tm
        a[:, 1, 1] = -1 / tm
        a[:, 1, 3] = _p(node, "v_leak", shape) / tm
    return a


class NeuronRef:
    def __init__(self, node, dt: float, method: str, batch: int):
        self.node = node
        self.shape = tuple(
            (
                node.tau_mem
                if node.kind.startswith("Cuba")
                else (node.r if node.kind in ("I", "IF") else node.tau)
            ).shape
        )
        self.a = system_matrix(node)
        self.m = expm(self.a * dt) if method == "exact" else None
        self.dt = dt
        n = int(np.prod(self.shape))
        self.i = np.zeros((batch, n))
        self.v = np.zeros((batch, n))
        self.margin = np.inf

    def step(self, x: np.ndarray) -> np.ndarray:
        b = x.shape[0]
        x = x.reshape(b, -1).astype(F)
        z = np.stack([self.i, self.v, x, np.ones_like(x)], axis=-1)  # (B, n, 4)
        if self.m is not None:
            z1 = np.einsum("nij,bnj->bni", self.m, z)
        else:
            z1 = z + self.dt * np.einsum("nij,bnj->bni", self.a, z)  # forward Euler, derivative at step start
        self.i, v = z1[..., 0], z1[..., 1]
        node = self.node
        if not node.spiking:
            self.v = v
            return v.reshape(b, *self.shape)
        thr = _p(node, "v_threshold", self.shape)[None]
        self.margin = min(self.margin, float(np.min(np.abs(v - thr))))
        s = (v > thr).astype(F)
        self.v = np.where(s > 0, _p(node, "v_reset", self.shape)[None], v)
        return s.reshape(b, *self.shape)


class DelayRef:
    def __init__(self, node, dt: float, batch: int):
        self.steps = np.round(np.asarray(node.delay, dtype=F) / dt).astype(int)
        self.hist: list[np.ndarray] = []  # hist[-k] = x_{t-k}
        self.shape = node.delay.shape

    def peek(self, batch: int) -> np.ndarray:
        out = np.zeros((batch, *self.shape))
        for idx in np.ndindex(*self.shape):
            k = int(self.steps[idx])
            if 1 <= k <= len(self.hist):
                out[(slice(None), *idx)] = self.hist[-k][(slice(None), *idx)]
        return out

    def step(self, x: np.ndarray) -> np.ndarray:
        y = self.peek(x.shape[0])
        zero = self.steps == 0
        y[:, zero] = x[:, zero]
        self.hist.append(x.astype(F))
        return y


def conv(x, w, bias, stride, pads, dilation, groups):
    """Cross-correlation, channels-first, any number of spatial dims, by loops over kernel offsets."""
    nd = w.ndim - 2
    xp = np.pad(x, [(0, 0), (0, 0), *pads])
    k = w.shape[2:]
    out_sp = [(xp.shape[2 + d] - dilation[d] * (k[d] - 1) - 1) // stride[d] + 1 for d in range(nd)]
    co, cg = w.shape[0], w.shape[1]
    og = co // groups
    y = np.zeros((x.shape[0], co, *out_sp))
    for off in itertools.product(*(range(kk) for kk in k)):
        sl = tuple(
            slice(off[d] * dilation[d], off[d] * dilation[d] + stride[d] * (out_sp[d] - 1) + 1, stride[d])
            for d in range(nd)
        )
        patch = xp[(slice(None), slice(None), *sl)]  # (N, C_in, *out_sp)
        for g in range(groups):
            wg = w[g * og : (g + 1) * og, :, *off]  # (og, cg)
            xg = patch[:, g * cg : (g + 1) * cg]
            y[:, g * og : (g + 1) * og] += np.einsum("oc,nc...->no...", wg, xg)
    return y + bias.reshape(1, co, *([1] * nd))


def pool(x, k, s, p, average):
    xp = np.pad(x, [(0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])])
    oh = (xp.shape[2] - k[0]) // s[0] + 1
    ow = (xp.shape[3] - k[1]) // s[1] + 1
    y = np.zeros((x.shape[0], x.shape[1], oh, ow))
    for i in range(k[0]):
        for j in range(k[1]):
            y += xp[:, :, i : i + s[0] * (oh - 1) + 1 : s[0], j : j + s[1] * (ow - 1) + 1 : s[1]]
    return y / (k[0] * k[1]) if average else y


def _ints(v, n):
    flat = np.asarray(v).reshape(-1)
    return tuple(int(flat[0]) for _ in range(n)) if flat.size == 1 else tuple(int(a) for a in flat)


def stateless(node, x):
    kind = node.kind
    f = lambda name: np.asarray(getattr(node, name), dtype=F)  # noqa: E731
    if kind in ("Input", "Output"):
        return x
    if kind == "Affine":
        return x @ f("weight").T + f("bias")[None]
    if kind == "Linear":
        return x @ f("weight").T
    if kind == "Scale":
        return x * f("scale")[None]
    if kind == "Threshold":
        return (x > f("threshold")[None]).astype(F)
    if kind == "Flatten":
        sd, ed = node.dims
        shp = x.shape[1:]
        sd, ed = sd % len(shp), ed % len(shp)
        return x.reshape(x.shape[0], *shp[:sd], -1, *shp[ed + 1 :])
    if kind in ("Conv1d", "Conv2d"):
        nd = node.ndim
        return conv(
            x,
            f("weight"),
            f("bias"),
            _ints(node.stride, nd),
            node.pads(),
            _ints(node.dilation, nd),
            int(np.asarray(node.groups).reshape(-1)[0]),
        )
    if kind in ("SumPool2d", "AvgPool2d"):
        return pool(
            x, _ints(node.kernel_size, 2), _ints(node.stride, 2), _ints(node.padding, 2), kind == "AvgPool2d"
        )
    raise NotImplementedError(kind)


def run_reference(graph, inputs: dict[str, np.ndarray], dt: float, method: str = "exact"):
    """Run ``graph`` (continuous NIR kinds) on time-major inputs. Returns (outputs, membranes, min margin):
    outputs by Output name (T, B, *shape); membranes by neuron name (T, B, *shape) after reset; the smallest
    |v - v_threshold| seen at any spike test (Threshold nodes included), to detect float32 tie risks."""
    graph, _ = inline_graph(graph)
    fb = set(feedback_edges(graph))
    shapes = infer_shapes(graph)
    order = [n for n in topological_order(graph, list(fb)) if graph.nodes[n].kind != "Input"]
    t_len, batch = next(iter(inputs.values())).shape[:2]
    neurons = {}
    delays = {}
    for n, node in graph.nodes.items():
        if node.kind in ("I", "IF", "LI", "LIF", "CubaLI", "CubaLIF"):
            neurons[n] = NeuronRef(node, dt, method, batch)
        elif node.kind == "Delay":
            delays[n] = DelayRef(node, dt, batch)
    srcs = {n: [] for n in graph.nodes}
    for e in graph.edges:
        a, b = graph.edge_nodes(e)
        srcs[b].append((a, e in fb and not is_causal(graph.nodes[a])))
    prev: dict[str, np.ndarray] = {}
    outs = {n: [] for n, node in graph.nodes.items() if node.kind == "Output"}
    mem = {n: [] for n in neurons}
    margin = np.inf
    for t in range(t_len):
        vals = {n: np.asarray(x[t], dtype=F) for n, x in inputs.items()}
        for n in order:
            if n in delays and is_causal(graph.nodes[n]):
                vals[n] = delays[n].peek(batch)
        for n in order:
            node = graph.nodes[n]
            parts = [prev[a] if p else vals[a] for a, p in srcs[n] if not (p and a not in prev)]
            x = sum(parts[1:], parts[0]) if parts else np.zeros((batch, *shapes[n].input))
            if n in neurons:
                y = neurons[n].step(x)
                mem[n].append(neurons[n].v.reshape(batch, *neurons[n].shape))
            elif n in delays:
                y = delays[n].step(x)
                if is_causal(node):
                    y = vals[n]
            else:
                y = stateless(node, x)
                if node.kind == "Threshold":
                    margin = min(margin, float(np.min(np.abs(x - np.asarray(node.threshold, dtype=F)[None]))))
            vals[n] = y
        prev = {a: vals[a] for a in vals}
        for o in outs:
            outs[o].append(vals[o])
    margin = min([margin] + [r.margin for r in neurons.values()])
    return {o: np.stack(v) for o, v in outs.items()}, {n: np.stack(v) for n, v in mem.items()}, margin
