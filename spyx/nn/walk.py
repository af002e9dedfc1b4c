"""The walk shared by :func:`spyx.nn.lower` (discrete IR) and :func:`spyx.nn.export` (NIR).

It visits the layers of a (nested) ``Sequential`` in order, keeps track of the signal between them and
builds a chain graph ``input -> ... -> output``. Structural layers (``nnx.Linear``, ``nnx.Conv``,
``SumPool``, ``Flatten``, ``ActivityRegularization``) map to the same NIR primitives in both cases and are
handled here; neuron layers are handled by the rule table the caller passes (keyed by the exact layer type,
so a subclass never silently takes its parent's lowering).

Layouts. NNX signals with more than one per-sample axis are channels-last (``(H, W, C)``, ``(L, C)``); the
IR and NIR are channels-first (``(C, H, W)``). Per-neuron parameters of such layers are transposed, conv
kernels ``(*k, C_in/groups, C_out)`` become ``(C_out, C_in/groups, *k)``. ``Flatten`` is where the two
orders meet: NNX flattens ``(H, W, C)`` to index ``(h W + w) C + c``, NIR flattens ``(C, H, W)`` to
``c H W + h W + w``. The walk records that permutation (``perm[k]`` = NIR index of NNX element ``k``) and
folds it into what follows: the next ``nnx.Linear`` gets its weight columns permuted, per-neuron parameters
and recurrent weights in between are permuted, and if the permutation is still pending at the output a
``Linear`` holding the 0/1 permutation matrix restores the NNX order (exact: one product by 1 per output).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from flax import nnx

from spyx.errors import ExportError, ShapeError, UnsupportedError
from spyx.ir import Affine, Conv1d, Conv2d, Flatten, Graph, Input, Linear, Node, Output, SumPool2d, verify
from spyx.nn.activity import ActivityRegularization
from spyx.nn.flatten import Flatten as NNFlatten
from spyx.nn.pool import SumPool, full_window
from spyx.nn.sequential import Sequential

__all__ = ["NoGraphFormError", "Walk", "walk"]

F32 = np.float32


def channels_first(shape: tuple[int, ...]) -> tuple[int, ...]:
    return shape if len(shape) < 2 else (shape[-1], *shape[:-1])


def array(p) -> np.ndarray:
    """A parameter (nnx.Variable, jax array or float) as a float32 NumPy array."""
    if isinstance(p, nnx.Variable):
        p = p[...]
    return np.asarray(p, dtype=F32)


@dataclass
class Walk:
    """The graph under construction and the signal leaving its last node."""

    shape: tuple[int, ...]  # NNX per-sample shape of the signal
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)
    prev: str = "input"
    perm: np.ndarray | None = None  # perm[k]: IR index of NNX flat element k (after a channels-last Flatten)

    @property
    def ir_shape(self) -> tuple[int, ...]:
        return channels_first(self.shape)

    def add(self, name: str, node: Node, *sources: str) -> str:
        """Add ``node`` fed by ``sources`` (default: the current signal); returns its name."""
        self.nodes[name] = node
        for src in sources or (self.prev,):
            self.edges.append((src, name))
        return name

    def connect(self, source: str, target: str) -> None:
        self.edges.append((source, target))

    # -- parameters in IR layout ---------------------------------------------------------------------------
    def neuron_param(self, p, shape: tuple[int, ...]) -> np.ndarray:
        """A per-neuron parameter (scalar or NNX-layout array of ``shape``) in IR layout."""
        arr = np.broadcast_to(array(p), shape)
        if len(shape) >= 2:
            return np.ascontiguousarray(np.moveaxis(arr, -1, 0))
        if self.perm is not None:
            out = np.empty_like(arr)
            out[self.perm] = arr
            return out
        return np.array(arr)

    def decay(self, p, shape: tuple[int, ...]) -> np.ndarray:
        """A decay factor as a step uses it: clipped to [0, 1] (the layers clip at use, so a trained value
        outside that range must lower to what the layer computes), in IR layout."""
        return np.clip(self.neuron_param(p, shape), 0, 1).astype(np.float32)

    def square_weight(self, w_out_in: np.ndarray) -> np.ndarray:
        """An (out, in) weight mapping this signal to itself, in IR index order."""
        if self.perm is None:
            return w_out_in
        out = np.empty_like(w_out_in)
        out[np.ix_(self.perm, self.perm)] = w_out_in
        return out

    def expect(self, name: str, layer, shape: tuple[int, ...]) -> None:
        if tuple(shape) != tuple(self.shape):
            raise ShapeError(
                f"layer {name} ({type(layer).__name__}) expects per-sample input {tuple(shape)} "
                f"(NNX layout), "
                f"but the model's input_shape gives it {tuple(self.shape)}"
            )


Rule = Callable[[Walk, str, object], None]


class NoGraphFormError(ExportError, UnsupportedError):
    """A layer that declares it has no NIR or spyx IR form (its ``no_graph_form`` trait says why)."""


def refuse(name: str, layer) -> None:
    """:class:`NoGraphFormError` if ``layer``'s class declares the trait ``no_graph_form`` (a sentence saying
    why no graph of NIR primitives or spyx IR nodes computes it: complex state, an input-dependent decay, ...).
    A trait on the class, not a list of names here, so a new layer states its own limit where it is defined."""
    reason = getattr(type(layer), "no_graph_form", None)
    if reason:
        raise NoGraphFormError(
            f"layer {name} ({type(layer).__module__}.{type(layer).__qualname__}) cannot be lowered or exported to "
            f"NIR: {reason}. It runs in JAX only (the layer itself, or spyx.nn.run for a stateful one)"
        )


def layer_shape(layer) -> tuple[int, ...]:
    """A neuron layer's per-sample shape (``hidden_shape``; ``LI``: ``layer_shape``)."""
    shape = getattr(layer, "hidden_shape", None)
    return tuple(shape if shape is not None else layer.layer_shape)


# -- structural layers -------------------------------------------------------------------------------------
def _linear(w: Walk, name: str, layer: nnx.Linear) -> None:
    if len(w.shape) != 1:
        raise UnsupportedError(
            f"layer {name} (nnx.Linear) acts on the last axis of a {len(w.shape)}-D signal {w.shape}; "
            "only 1-D "
            "inputs lower (put a spyx.nn.Flatten before it, or use a 1x1 nnx.Conv)"
        )
    w.expect(name, layer, (layer.in_features,))
    weight = array(layer.kernel).T  # (out, in), columns in NNX order
    if w.perm is not None:
        cols = np.empty_like(weight)
        cols[:, w.perm] = weight
        weight, w.perm = cols, None
    node = Affine(weight=weight, bias=array(layer.bias)) if layer.use_bias else Linear(weight=weight)
    w.prev = w.add(name, node)
    w.shape = (layer.out_features,)


def _pads(layer: nnx.Conv, name: str, spatial: tuple[int, ...], k, s, d) -> tuple[list[tuple[int, int]], str]:
    pad = layer.padding
    if isinstance(pad, str):
        mode = pad.upper()
        if mode == "VALID":
            return [(0, 0)] * len(spatial), "valid"
        if mode != "SAME":
            raise UnsupportedError(
                f"layer {name} (nnx.Conv): padding {pad!r} has no NIR form (use SAME, VALID or ints)"
            )
        pads = []
        for n, ki, si, di in zip(spatial, k, s, d, strict=True):
            total = max((math.ceil(n / si) - 1) * si + di * (ki - 1) + 1 - n, 0)
            pads.append((total // 2, total - total // 2))
        return pads, "same"
    if isinstance(pad, int):
        return [(pad, pad)] * len(spatial), "ints"
    pads = [(p, p) if isinstance(p, int) else (int(p[0]), int(p[1])) for p in pad]
    if len(pads) == 1:
        pads = pads * len(spatial)
    return pads, "ints"


def _tuple(value, n: int) -> tuple[int, ...]:
    return (int(value),) * n if isinstance(value, int) else tuple(int(v) for v in value)


def _conv(w: Walk, name: str, layer: nnx.Conv) -> None:
    ndim = len(layer.kernel_size) if not isinstance(layer.kernel_size, int) else 1
    if ndim not in (1, 2):
        raise UnsupportedError(
            f"layer {name} (nnx.Conv): {ndim}-D convolutions have no NIR node (1-D and 2-D only)"
        )
    if len(w.shape) != ndim + 1:
        raise ShapeError(
            f"layer {name} (nnx.Conv {ndim}-D) expects a channels-last "
            f"({'spatial, ' * ndim}C) input, got {w.shape}"
        )
    w.expect(name, layer, (*w.shape[:-1], layer.in_features))
    if getattr(layer, "mask", None) is not None:
        raise UnsupportedError(f"layer {name} (nnx.Conv): a kernel mask has no NIR form")
    if _tuple(layer.input_dilation or 1, ndim) != (1,) * ndim:
        raise UnsupportedError(
            f"layer {name} (nnx.Conv): input_dilation (transposed convolution) has no NIR form"
        )
    k = _tuple(layer.kernel_size, ndim)
    s = _tuple(layer.strides or 1, ndim)
    d = _tuple(layer.kernel_dilation or 1, ndim)
    spatial = w.shape[:-1]
    pads, how = _pads(layer, name, spatial, k, s, d)
    padding, padding_mode = None, None
    if all(lo == hi for lo, hi in pads):
        padding = np.asarray([lo for lo, _ in pads], dtype=np.int64)
    elif how == "same" and s == (1,) * ndim:
        padding_mode = "same"  # NIR "same" pads d (k - 1) as (t // 2, t - t // 2), as JAX's SAME at stride 1
    else:
        raise UnsupportedError(
            f"layer {name} (nnx.Conv): asymmetric padding {pads} at stride {s} has no NIR form; "
            "NIR pads both "
            "sides equally (use explicit symmetric padding, or stride 1 with SAME)"
        )
    kernel = array(layer.kernel)  # (*k, C_in/groups, C_out)
    weight = np.ascontiguousarray(np.transpose(kernel, (ndim + 1, ndim, *range(ndim))))
    bias = array(layer.bias) if layer.use_bias else np.zeros(layer.out_features, F32)
    kind = Conv1d if ndim == 1 else Conv2d
    node = kind(
        weight=weight,
        bias=bias,
        stride=np.asarray(s, np.int64),
        padding=padding,
        dilation=np.asarray(d, np.int64),
        groups=np.asarray(layer.feature_group_count, np.int64),
        input_shape=np.asarray(spatial, np.int64),
        padding_mode=padding_mode,
    )
    out = node.output_shape(w.ir_shape)
    w.prev = w.add(name, node)
    w.shape = (*out[1:], out[0])


def _sumpool(w: Walk, name: str, layer: SumPool) -> None:
    if len(w.shape) != 3:
        raise UnsupportedError(f"layer {name} (SumPool) needs a channels-last (H, W, C) input, got {w.shape}")
    try:
        window = full_window(layer.window_shape, 4, layer.channel_axis)  # on (B, H, W, C), as a step sees it
        stride = full_window(layer.strides, 4, layer.channel_axis)
    except ValueError as e:
        raise ShapeError(f"layer {name} (SumPool): {e}") from None
    if window[0] != 1 or window[3] != 1 or stride[0] != 1 or stride[3] != 1:
        raise UnsupportedError(
            f"layer {name} (SumPool): window {window} / strides {stride} pool the batch or channel axis of "
            "(B, H, W, C); only spatial pooling (SumPool2d) has a NIR form"
        )
    k, s = window[1:3], stride[1:3]
    if layer.padding not in ("SAME", "VALID"):
        raise ShapeError(f"layer {name} (SumPool): Invalid padding {layer.padding!r}: must be 'SAME' or 'VALID'")
    pads = [0, 0]
    if layer.padding == "SAME":
        for i, (n, ki, si) in enumerate(zip(w.shape[:2], k, s, strict=True)):
            total = max((math.ceil(n / si) - 1) * si + ki - n, 0)
            if total % 2:
                raise UnsupportedError(
                    f"layer {name} (SumPool): SAME padding of {n} by window {ki} stride {si} pads {total // 2} "
                    f"before and {total - total // 2} after; NIR's SumPool2d pads both sides equally (choose a "
                    "size, window and stride whose SAME padding is even, or VALID)"
                )
            pads[i] = total // 2
    node = SumPool2d(
        kernel_size=np.asarray(k, np.int64),
        stride=np.asarray(s, np.int64),
        padding=np.asarray(pads, np.int64),
    )
    try:
        out = node.output_shape(w.ir_shape)
    except ValueError as e:
        raise ShapeError(f"layer {name} (SumPool): {e}") from None
    w.prev = w.add(name, node)
    w.shape = (*out[1:], out[0])


def _flatten(w: Walk, name: str, layer: NNFlatten) -> None:
    if len(w.shape) == 1:
        return  # already flat: the identity
    ir = w.ir_shape
    size = math.prod(ir)
    w.perm = np.moveaxis(np.arange(size).reshape(ir), 0, -1).reshape(-1)
    node = Flatten(
        start_dim=np.asarray(0, np.int64),
        end_dim=np.asarray(-1, np.int64),
        input_type=np.asarray(ir, np.int64),
    )
    w.prev = w.add(name, node)
    w.shape = (size,)


def _activity(w: Walk, name: str, layer: ActivityRegularization) -> None:
    w.expect(name, layer, layer.hidden_shape)  # the identity: its spike count is a training statistic


STRUCTURAL: dict[type, Rule] = {
    nnx.Linear: _linear,
    nnx.Conv: _conv,
    SumPool: _sumpool,
    NNFlatten: _flatten,
    ActivityRegularization: _activity,
}


def _visit(w: Walk, model, rules: dict[type, Rule], prefix: str) -> None:
    layers = list(model.layers) if isinstance(model, Sequential) else [model]
    for i, layer in enumerate(layers):
        name = f"{prefix}{i}_{type(layer).__name__.lower()}"
        if type(layer) is Sequential:
            _visit(w, layer, rules, f"{prefix}{i}_")
            continue
        refuse(name, layer)
        rule = rules.get(type(layer)) or STRUCTURAL.get(type(layer))
        if rule is None:
            known = sorted(t.__name__ for t in (*rules, *STRUCTURAL))
            raise UnsupportedError(
                f"layer {name} ({type(layer).__module__}.{type(layer).__qualname__}) has no lowering; "
                f"supported layers: {', '.join(known)}, nested Sequential"
            )
        rule(w, name, layer)


def walk(model, input_shape, rules: dict[type, Rule], *, metadata: dict | None = None) -> Graph:
    """The chain graph of ``model`` for per-sample NNX ``input_shape``, neuron layers lowered by ``rules``."""
    try:
        shape = tuple(int(s) for s in ((input_shape,) if isinstance(input_shape, int) else input_shape))
    except TypeError:
        raise ShapeError(
            f"input_shape must be a tuple of ints (per sample, no batch/time axis), got {input_shape!r}"
        ) from None
    if not shape or min(shape) < 1:
        raise ShapeError(f"input_shape must be a non-empty tuple of positive ints, got {input_shape!r}")
    w = Walk(shape=shape)
    w.nodes["input"] = Input(shape=np.asarray(w.ir_shape, np.int64))
    _visit(w, model, rules, "")
    if w.perm is not None:
        n = w.perm.size
        restore = np.zeros((n, n), F32)
        restore[np.arange(n), w.perm] = 1.0
        w.prev = w.add("unflatten_order", Linear(weight=restore))
        w.perm = None
    w.add("output", Output(shape=np.asarray(w.ir_shape, np.int64)))
    graph = Graph(nodes=w.nodes, edges=tuple(w.edges), metadata=metadata or {})
    return verify(graph)  # a rule that built something inconsistent fails here, naming the node or edge
