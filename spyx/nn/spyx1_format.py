"""Spyx 1.0's NIR file convention, both ways: what ``spyx.nir.to_nir`` writes and ``spyx.nir.from_nir`` reads.

This is the ``spyx1`` encoding of :func:`spyx.nn.export` (the same walk over the model's layers, a third rule
table beside ``faithful`` and ``native``) and its inverse, which lifts such a chain graph back into
``spyx.nn`` layers. The convention is Spyx 1.0's (``../shared/spyx-api.md`` §8): one node ``layer_<i>`` per
layer ``i`` of ``model.layers``, LIF ``tau = dt / (1 - beta)`` with ``r = beta``, CuBaLIF likewise, IF ``r = 1``,
PSU_LIF as ``LI(r = 1)`` then ``layer_<i>_threshold``, recurrent layers as a 4-node sub-graph ``input -> w_rec
<-> lif -> output``, a channels-first Flatten although the model flattens channels-last, and layers with no
NIR form (``LI``, ``ALIF``, functions, ...) skipped with a printed warning. The file does not record Spyx 1.0's
spike timing (the spike of the previous membrane) or its channels-last flatten: the ``spyx1`` import profile
adds them back (``spyx.compile(graph, profile="spyx1")`` reproduces the model), and so does :func:`lift`.

Where Spyx 1.0 writes a value that NIR readers reject, this writes one every reader decodes to the same decay:
``tau`` is computed from the clipped ``beta`` (a trained ``beta >= 1`` would give an infinite or negative
``tau``; ``beta = 1`` becomes ``tau = 2^30 dt``, whose ``1 - dt/tau`` is exactly 1 in float32), and a Conv
without bias gets a zero bias.
"""

from __future__ import annotations

import math

import numpy as np
from flax import nnx

from spyx.errors import ExportError, UnsupportedError
from spyx.ir import IF as NIR_IF
from spyx.ir import LI as NIR_LI
from spyx.ir import LIF as NIR_LIF
from spyx.ir import Affine, Conv2d, CubaLIF, Flatten, Graph, Input, Linear, Node, Output, SumPool2d, Threshold
from spyx.nn.cuba_lif import CuBaLIF
from spyx.nn.flatten import Flatten as NNFlatten
from spyx.nn.integrate_fire import IF
from spyx.nn.li import LI
from spyx.nn.lif import LIF
from spyx.nn.pool import SumPool
from spyx.nn.psu_lif import PSU_LIF
from spyx.nn.recurrent import RIF, RLIF, RCuBaLIF
from spyx.quant.qwix_model import is_qwix_quantized

__all__ = ["write_graph", "lift"]

F32 = np.float32
NO_BIAS = "spyx1.no_bias"  # a Conv written without bias (Spyx 1.0's None), which spyx's IR holds as zeros


def _value(p) -> np.ndarray:
    return np.asarray(p[...] if isinstance(p, nnx.Variable) else p, F32)


def _param(p, cur: tuple[int, ...], dtype=F32) -> np.ndarray:
    """A neuron parameter in the file's layout: a scalar broadcast to ``cur``; a channels-last ``(H, W, C)`` array
    of a neuron after a conv transposed to ``(C, H, W)``; 1-D as is. ``dtype=None`` keeps the value's own dtype
    (a recurrent layer's threshold: Spyx 1.0 writes ``np.full(hidden, threshold)``, int64 for the default 1)."""
    arr = np.asarray(p[...] if isinstance(p, nnx.Variable) else p, dtype)
    if arr.ndim == 3 and len(cur) == 3:
        arr = np.transpose(arr, (2, 0, 1))
    return np.ascontiguousarray(np.broadcast_to(arr, cur))


def _tau(beta: np.ndarray, dt: float) -> np.ndarray:
    """``dt / (1 - beta)`` in float32, as Spyx 1.0 computes it (so a reader's ``1 - dt / tau`` rounds back to the
    same decay), of the clipped decay; ``2^30 dt`` where it is 1 (see the module docstring)."""
    b = np.clip(beta.astype(F32), F32(0), F32(1))
    one = b >= 1
    return np.where(one, F32(dt * 2.0**30), F32(dt) / (F32(1) - np.where(one, F32(0), b))).astype(F32)


class QuantizedModelError(ExportError, ValueError):
    """``to_nir`` of a qwix-quantized model (a ``ValueError``, as Spyx 1.0 raises)."""


class _Writer:
    """The graph under construction (``nodes``, chain ``edges``) and the per-sample shape ``cur`` (channels-first)."""

    def __init__(self, cur: tuple[int, ...], dt: float):
        self.cur = cur
        self.dt = dt
        self.nodes: dict[str, Node] = {}
        self.chain: list[str] = ["input"]

    def add(self, name: str, node: Node) -> None:
        self.nodes[name] = node
        self.chain.append(name)

    # -- structural layers ----------------------------------------------------------------------------------
    def linear(self, name: str, layer: nnx.Linear) -> None:
        weight = _value(layer.kernel).T.copy()
        node = Affine(weight=weight, bias=_value(layer.bias)) if layer.use_bias else Linear(weight=weight)
        self.add(name, node)
        self.cur = (*self.cur[:-1], int(weight.shape[0]))

    def conv(self, name: str, layer: nnx.Conv) -> None:
        kernel = _value(layer.kernel)
        if kernel.ndim != 4 or len(self.cur) != 3:
            raise UnsupportedError(
                f"layer {name} (nnx.Conv): Spyx 1.0's to_nir writes 2-D convolutions of a (C, H, W) input; got kernel "
                f"{kernel.shape} on {self.cur}"
            )
        strides = layer.strides if layer.strides is not None else 1
        stride = (int(strides),) * 2 if isinstance(strides, int) else tuple(int(s) for s in strides)
        pad = layer.padding
        padding, mode = None, None
        if isinstance(pad, str):
            mode = pad.lower()
            if mode not in ("same", "valid"):
                raise UnsupportedError(f"layer {name} (nnx.Conv): padding {pad!r} has no NIR form")
        else:
            pairs = [(pad, pad)] * 2 if isinstance(pad, int) else [(p, p) if isinstance(p, int) else p for p in pad]
            padding = np.asarray([int(p[0]) for p in pairs], np.int64)
        bias = _value(layer.bias) if layer.use_bias else np.zeros(kernel.shape[-1], F32)
        node = Conv2d(
            weight=np.ascontiguousarray(np.transpose(kernel, (3, 2, 0, 1))),
            bias=bias,
            stride=np.asarray(stride, np.int64),
            padding=padding,
            padding_mode=mode,
            dilation=np.asarray([1, 1], np.int64),
            groups=np.asarray(1, np.int64),
            input_shape=np.asarray(self.cur[-2:], np.int64),
            metadata={} if layer.use_bias else {NO_BIAS: True},
        )
        self.add(name, node)
        self.cur = tuple(int(s) for s in node.output_shape(self.cur))

    def sumpool(self, name: str, layer: SumPool) -> None:
        if len(self.cur) != 3:
            raise UnsupportedError(f"layer {name} (SumPool) needs a (C, H, W) signal, got {self.cur}")

        def pair(v):
            return (int(v),) * 2 if isinstance(v, int) else tuple(int(e) for e in v)

        k, s = pair(layer.window_shape), pair(layer.strides)
        c, h, w = self.cur
        if layer.padding == "SAME":
            out = [math.ceil(n / si) for n, si in zip((h, w), s, strict=True)]
            pads = [max(0, (o - 1) * si + ki - n) for o, si, ki, n in zip(out, s, k, (h, w), strict=True)]
        else:
            out = [(n - ki) // si + 1 for n, ki, si in zip((h, w), k, s, strict=True)]
            pads = [0, 0]
        node = SumPool2d(
            kernel_size=np.asarray(k, np.int64), stride=np.asarray(s, np.int64), padding=np.asarray(pads, np.int64)
        )
        if tuple(node.output_shape(self.cur)) != (c, *out):
            raise ExportError(
                f"layer {name} (SumPool {layer.padding} window {k} stride {s} on {self.cur}): Spyx 1.0 records the "
                f"SAME padding as a total {pads}, which a NIR reader applies on both sides and so gets another "
                "output size; use VALID, or a window equal to the stride"
            )
        self.add(name, node)
        self.cur = (c, *out)

    def flatten(self, name: str, layer: NNFlatten) -> None:
        self.add(
            name,
            Flatten(
                start_dim=np.asarray(0, np.int64),
                end_dim=np.asarray(-1, np.int64),
                input_type=np.asarray(self.cur, np.int64),
            ),
        )
        self.cur = (math.prod(self.cur),)

    # -- neurons --------------------------------------------------------------------------------------------
    def neuron(self, layer, thr_dtype=F32) -> Node:
        cur, dt = self.cur, self.dt
        thr = _param(layer.threshold, cur, thr_dtype)
        zeros = np.zeros(cur, F32)
        if isinstance(layer, IF):
            return NIR_IF(r=np.ones(cur, F32), v_threshold=thr, v_reset=zeros)
        beta = _param(layer.beta, cur)
        if isinstance(layer, CuBaLIF):
            alpha = _param(layer.alpha, cur)
            return CubaLIF(
                tau_mem=_tau(beta, dt), tau_syn=_tau(alpha, dt), r=beta, v_leak=zeros, v_threshold=thr,
                v_reset=zeros, w_in=np.ones(cur, F32),
            )
        return NIR_LIF(tau=_tau(beta, dt), r=beta, v_leak=zeros, v_threshold=thr, v_reset=zeros)

    def spiking(self, name: str, layer) -> None:
        self.add(name, self.neuron(layer))

    def recurrent(self, name: str, layer) -> None:
        hidden = tuple(layer.hidden_shape)
        shape = np.asarray(hidden, np.int64)
        sub = Graph(
            nodes={
                f"{name}.input": Input(shape=shape),
                f"{name}.w_rec": Linear(weight=_value(layer.recurrent_w).T.copy()),
                f"{name}.lif": self.neuron(layer, None),  # Spyx 1.0: np.full(hidden, threshold), its own dtype
                f"{name}.output": Output(shape=shape),
            },
            edges=(
                (f"{name}.input", f"{name}.w_rec"),
                (f"{name}.w_rec", f"{name}.lif"),
                (f"{name}.lif", f"{name}.w_rec"),
                (f"{name}.lif", f"{name}.output"),
            ),
        )
        self.add(name, sub)

    def li(self, name: str, layer) -> None:
        """Only with ``include_li``: ``LI(tau = dt / (1 - beta), r = 1, v_leak = 0)``, the PSU_LIF membrane
        without its Threshold (Spyx 1.0 skips LI layers)."""
        cur = self.cur
        beta = np.clip(_param(layer.beta, cur), 0.0, 1.0)
        self.add(name, NIR_LI(tau=_tau(beta, self.dt), r=np.ones(cur, F32), v_leak=np.zeros(cur, F32)))

    def psu(self, name: str, layer: PSU_LIF) -> None:
        cur = self.cur
        beta = np.clip(_param(layer.beta, cur), 0.0, 1.0)
        self.add(name, NIR_LI(tau=_tau(beta, self.dt), r=np.ones(cur, F32), v_leak=np.zeros(cur, F32)))
        self.add(f"{name}_threshold", Threshold(threshold=_param(layer.threshold, cur)))


_WRITERS = {
    nnx.Linear: _Writer.linear,
    nnx.Conv: _Writer.conv,
    SumPool: _Writer.sumpool,
    NNFlatten: _Writer.flatten,
    IF: _Writer.spiking,
    LIF: _Writer.spiking,
    CuBaLIF: _Writer.spiking,
    RIF: _Writer.recurrent,
    RLIF: _Writer.recurrent,
    RCuBaLIF: _Writer.recurrent,
}


def _writer_for(layer):
    """The rule for ``layer``: by exact type, except that subclasses of PSU_LIF (AssociativeLIF) write as it,
    as Spyx 1.0 does; ``None`` for layers with no NIR form."""
    if isinstance(layer, PSU_LIF):
        return _Writer.psu
    return _WRITERS.get(type(layer))


def _is_resonate_fire(layer) -> bool:
    """Whether ``layer`` is a ``spyx.phasor.ResonateFire`` (or a subclass), which Spyx 1.0's ``to_nir`` refuses
    with ``NotImplementedError``; its other layers without a NIR form (SSMs, ``RFSSM``, ...) are skipped."""
    from spyx.phasor.resonate_fire import ResonateFire

    return isinstance(layer, ResonateFire)


def write_graph(
    model, input_shape: tuple[int, ...], output_shape: tuple[int, ...] | None, dt: float, *, include_li: bool = False
) -> Graph:
    """The Spyx 1.0 convention graph of ``model`` (``input_shape``/``output_shape`` per sample, channels-first;
    ``output_shape=None``: the shape leaving the last exported layer). ``include_li`` (a spyx extra) writes ``LI``
    layers as NIR ``LI`` nodes instead of skipping them."""
    layers = list(model.layers) if isinstance(model, nnx.Sequential) else [model]
    w = _Writer(tuple(int(s) for s in input_shape), float(dt))
    for i, layer in enumerate(layers):
        if is_qwix_quantized(layer):
            raise QuantizedModelError(
                f"layer {i} ({type(layer).__name__}) is qwix-quantized: NIR cannot carry quantization; export the "
                "float model before quantizing (spyx.quant.quantize_graph makes integer NIR graphs)"
            )
        if _is_resonate_fire(layer):
            raise NotImplementedError(
                f"layer {i} (ResonateFire): NIR has no complex or oscillatory neuron; ResonateFire cannot be exported"
            )
        rule = _Writer.li if include_li and isinstance(layer, LI) else _writer_for(layer)
        if rule is None:
            print(f"[Warning] Layer {type(layer).__name__} not recognized/supported for NIR export.")
            continue
        rule(w, f"layer_{i}", layer)
    nodes = {"input": Input(shape=np.asarray(input_shape, np.int64)), **w.nodes}
    nodes["output"] = Output(shape=np.asarray(output_shape if output_shape is not None else w.cur, np.int64))
    chain = [*w.chain, "output"]
    edges = tuple(zip(chain[:-1], chain[1:], strict=True))
    return Graph(nodes=nodes, edges=edges, metadata={"source": "spyx.nir.to_nir", "spyx.encoding": "spyx1"})


# -- reading: a chain graph back into spyx.nn layers (Spyx 1.0's from_nir) ---------------------------------------
NEURON_KINDS = ("IF", "LIF", "CubaLIF")


class RecurrentGraphError(UnsupportedError, ValueError):
    """A nested graph that is not Spyx 1.0's 4-node recurrent layer (a ``ValueError``, as Spyx 1.0 raises)."""


class LiftError(UnsupportedError, ValueError):
    """A node Spyx 1.0's importer has no layer for (a ``ValueError``, as Spyx 1.0 raises)."""


def _hwc(arr, dtype=F32) -> np.ndarray:
    """A NIR per-neuron array as the layer holds it: ``(C, H, W)`` -> ``(H, W, C)``; other ranks as they are.
    ``dtype=None`` keeps the file's dtype (thresholds: Spyx 1.0 keeps them as read)."""
    arr = np.asarray(arr, dtype)
    return np.ascontiguousarray(np.transpose(arr, (1, 2, 0))) if arr.ndim == 3 else arr


def _decay(tau, dt: float) -> np.ndarray:
    return (1 - dt / _hwc(tau)).astype(F32)


def _set(param, value) -> None:
    param[...] = np.asarray(value, F32)


def _recurrent_partner(graph: Graph, name: str) -> str | None:
    """The weight node W of a flat motif ``name <-> W`` (W fed only by ``name`` and feeding only ``name``)."""
    if graph.nodes[name].kind not in ("LIF", "CubaLIF"):
        return None
    for w in graph.successors(name):
        if graph.nodes[w].kind in ("Affine", "Linear") and graph.predecessors(w) == [name]:
            if graph.successors(w) == [name]:
                return w
    return None


def _chain(graph: Graph) -> list[str]:
    """Node names from ``input``, following the first edge out of each node (skipping a recurrent motif's
    weight), until ``output`` or a node with no way out."""
    order, current, seen = [], "input", {"input"}
    while True:
        partner = _recurrent_partner(graph, current) if current != "input" else None
        nxt = [b for b in dict.fromkeys(graph.successors(current)) if b != partner]
        if not nxt or nxt[0] == "output":
            return order
        current = nxt[0]
        if current in seen:
            raise LiftError(f"node {current}: the graph is not a chain (Spyx 1.0's from_nir follows one path)")
        seen.add(current)
        order.append(current)


def _recurrent_layer(name: str, neuron: Node, weight: Node, dt: float, rngs):
    n = int(np.asarray(weight.weight).shape[0])
    thr = np.asarray(neuron.v_threshold)
    cls = {"IF": RIF, "LIF": RLIF, "CubaLIF": RCuBaLIF}[neuron.kind]
    layer = cls((n,), threshold=thr, rngs=rngs)
    _set(layer.recurrent_w, np.asarray(weight.weight, F32).T)
    if neuron.kind == "LIF":
        _set(layer.beta, _decay(neuron.tau, dt))
    elif neuron.kind == "CubaLIF":
        _set(layer.alpha, _decay(neuron.tau_syn, dt))
        _set(layer.beta, _decay(neuron.tau_mem, dt))
    return layer


def _subgraph_layer(name: str, sub: Graph, dt: float, rngs):
    kinds = {k: [n for n, node in sub.nodes.items() if node.kind == k] for k in ("Input", "Output")}
    neurons = [node for node in sub.nodes.values() if node.kind in NEURON_KINDS]
    weights = [node for node in sub.nodes.values() if node.kind in ("Affine", "Linear")]
    if len(sub.nodes) != 4 or len(kinds["Input"]) != 1 or len(kinds["Output"]) != 1 or len(neurons) != 1:
        raise RecurrentGraphError(
            f"node {name}: invalid RNN subgraph - could not find all required nodes (Spyx 1.0 reads a nested "
            f"graph of exactly Input, Output, one IF/LIF/CubaLIF and one Affine/Linear; got "
            f"{sorted(node.kind for node in sub.nodes.values())})"
        )
    if len(weights) != 1:
        raise RecurrentGraphError(f"node {name}: invalid RNN subgraph - could not find all required nodes")
    return _recurrent_layer(name, neurons[0], weights[0], dt, rngs)


def _layer(graph: Graph, name: str, node: Node, nxt: Node | None, dt: float, rngs, include_li: bool = False,
           no_bias: frozenset = frozenset()):
    """``(layer or None, consumed_next)`` for one chain node (Spyx 1.0's table, ``spyx-api.md`` §8.3)."""
    kind = node.kind
    if kind == "Affine" or kind == "Linear":
        w = np.asarray(node.weight, F32)
        layer = nnx.Linear(w.shape[1], w.shape[0], use_bias=kind == "Affine", rngs=rngs)
        _set(layer.kernel, w.T)
        if kind == "Affine":
            _set(layer.bias, node.bias)
        return layer, False
    if kind == "Conv2d":
        w = np.asarray(node.weight, F32)
        stride = np.asarray(node.stride).reshape(-1)
        stride = (int(stride[0]),) * 2 if stride.size == 1 else tuple(int(s) for s in stride)
        if node.padding_mode is not None:
            padding = node.padding_mode.upper()
        else:
            p = np.asarray(node.padding).reshape(-1)
            p = (int(p[0]),) * 2 if p.size == 1 else tuple(int(v) for v in p)
            padding = [(p[0], p[0]), (p[1], p[1])]
        layer = nnx.Conv(
            w.shape[1], w.shape[0], kernel_size=tuple(w.shape[-2:]), strides=stride, padding=padding,
            use_bias=name not in no_bias, rngs=rngs,
        )
        _set(layer.kernel, np.transpose(w, (2, 3, 1, 0)))
        if name not in no_bias:
            _set(layer.bias, node.bias)
        return layer, False
    if kind == "SumPool2d":
        k = tuple(int(v) for v in np.asarray(node.kernel_size).reshape(-1))
        s = tuple(int(v) for v in np.asarray(node.stride).reshape(-1))
        pad = "SAME" if np.any(np.asarray(node.padding) != 0) else "VALID"
        return SumPool(k, s, pad, channel_axis=-1), False
    if kind == "Flatten":
        return NNFlatten(), False
    if kind == "IF":
        return IF(_hwc(node.r).shape, threshold=_hwc(node.v_threshold, None)), False
    partner = _recurrent_partner(graph, name)
    if partner is not None:  # a flat LIF/CubaLIF <-> Affine/Linear motif: a recurrent layer
        return _recurrent_layer(name, node, graph.nodes[partner], dt, rngs), False
    if kind == "LIF":
        layer = LIF(_hwc(node.tau).shape, threshold=_hwc(node.v_threshold, None), rngs=rngs)
        _set(layer.beta, _decay(node.tau, dt))
        return layer, False
    if kind == "CubaLIF":
        layer = CuBaLIF(_hwc(node.tau_syn).shape, threshold=_hwc(node.v_threshold, None), rngs=rngs)
        _set(layer.alpha, _decay(node.tau_syn, dt))
        _set(layer.beta, _decay(node.tau_mem, dt))
        return layer, False
    if kind == "LI":
        if include_li and (nxt is None or nxt.kind != "Threshold"):
            layer = LI(_hwc(node.tau).shape, rngs=rngs)
            _set(layer.beta, _decay(node.tau, dt))
            return layer, False
        if nxt is None or nxt.kind != "Threshold":
            raise LiftError(
                f"node {name}: nir.LI without a following nir.Threshold has no Spyx module (Spyx 1.0 reads LI only "
                "as PSU_LIF's LI + Threshold pair); run the graph with spyx.compile(graph, dt=...) instead"
            )
        layer = PSU_LIF(_hwc(node.tau).shape, threshold=_hwc(nxt.threshold, None), rngs=rngs)
        _set(layer.beta, _decay(node.tau, dt))
        return layer, True
    if isinstance(node, Graph):
        return _subgraph_layer(name, node, dt, rngs), False
    return None, False  # Threshold alone, Delay, Scale, ...: skipped, as Spyx 1.0 does


def lift(graph: Graph, dt: float, rngs, *, include_li: bool = False, no_bias=frozenset()) -> list:
    """The ``spyx.nn`` layers of a chain graph in Spyx 1.0's convention, in chain order (``include_li``: an LI not
    followed by a Threshold becomes ``spyx.nn.LI`` instead of an error; ``no_bias``: Conv nodes whose file has no
    bias, which become ``nnx.Conv(use_bias=False)`` as in Spyx 1.0)."""
    names = _chain(graph)
    layers, skip = [], False
    for k, name in enumerate(names):
        if skip:
            skip = False
            continue
        nxt = graph.nodes[names[k + 1]] if k + 1 < len(names) else None
        layer, skip = _layer(graph, name, graph.nodes[name], nxt, dt, rngs, include_li, frozenset(no_bias))
        if layer is not None:
            layers.append(layer)
    return layers
