r"""``quantize-graph``: integer-valued weights with their scales folded into the neurons (preserves: approximate).

Each Affine, Linear, Conv1d and Conv2d weight ``W`` becomes ``q * s`` with integers ``q`` (see
:mod:`spyx.quant.arith`: symmetric ``bits``-bit per output channel or per tensor, or ternary absmean). The
output graph stores ``q`` (as floats of the original dtype: NIR carries floats, the values are exact
integers) and the bias as ``round(b / s)`` (``bias=true``, clipped to ``bias_bits``) or ``b / s``. The
scale ``s`` is folded into the nodes that the layer feeds (:mod:`spyx.quant.fold`): with
``fold=threshold`` thresholds, resets, leak levels and biases are divided by ``s``; with ``fold=gain`` the
neurons' input gains are multiplied by ``s``. Layers that feed the same neurons share one scale, per
channel when their output shapes agree, else per tensor (:mod:`spyx.quant.plan`).

Where folding is impossible (the layer's output reaches an Output, another weight layer or a nested graph
before a spiking neuron; a neuron also receives input that does not carry the scale; a readout LI/I/CubaLI
whose membrane is an output, with ``fold=threshold``) the layer keeps its own scale and a ``Scale`` node
``<layer>_dequant`` with ``s`` is inserted after it; the report says why. Run ``inline`` first so that
layers and neurons in nested graphs can fold into each other.

The result is spike-identical to the *fake-quantized* graph (weights ``q * s``, biases ``round(b/s) * s``,
neurons unchanged), bit for bit when the scales are powers of two (``pow2=true``), up to float rounding
otherwise. ``threshold_bits`` then rounds folded thresholds and state levels to integers and ``decay``
puts decays into a hardware format (:mod:`spyx.quant.formats`); both changes are mirrored in the
fake-quantized graph. :func:`quantize_graph` returns both graphs and a per-layer report.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from spyx.errors import OptionError
from spyx.ir.graph import Graph
from spyx.ir.linear import Scale
from spyx.ir.shapes import infer_shapes
from spyx.passes.base import Pass, PassResult
from spyx.passes.retime import graph_dt
from spyx.quant.arith import channel_stat, check_bits, int_range, quantize_with_scale, round_scale
from spyx.quant.fold import READOUT_GAIN, fold_rule, scaled
from spyx.quant.formats import DECAYS, decay_params, quantize_decays, round_state, state_params
from spyx.quant.plan import Group, is_weight_layer, plan_groups, propagate_factors
from spyx.quant.result import LayerReport, NodeFormatReport, QuantizeResult

__all__ = ["Quantize", "quantize_graph"]


@dataclass(frozen=True, kw_only=True)
class Quantize(Pass):
    """Quantize weight layers to integers and fold their scales into the neurons they feed.

    Options: ``bits`` (2..16), ``granularity`` (``channel`` | ``tensor``), ``weights`` / ``bias`` (quantize
    them at all), ``scheme`` (``symmetric``), ``ternary`` ({-1, 0, 1} * absmean), ``pow2`` (power-of-two
    scales), ``fold`` (``threshold`` | ``gain``), ``readout`` (``scale``: a readout whose membrane is an
    output gets a Scale node after its layer; ``gain``: its input gain takes the scale), ``bias_bits``,
    ``threshold_bits`` (0: leave thresholds float), ``decay`` (``float`` | ``shift`` | ``fraction12``),
    ``decay_method`` (``euler`` | ``exact``: how a time constant reads as a decay, :mod:`spyx.quant.formats`),
    ``max_shift`` (0: none), ``dt`` (needed to quantize continuous time constants; default: the graph's
    recorded ``spyx.dt``), ``skip`` (regex of layer
    names to keep float), ``scales`` and ``integers`` (Python only: layer name -> scale (C_out,) and integer
    weights in the layer's layout, as a quantization-aware training computed them; integers need a scale).
    A ``skip`` pattern that matches no weight layer, or a ``scales``/``integers`` key that names none, is an
    :class:`OptionError` listing the layers (a typo is never silently ignored).
    """

    name = "quantize-graph"
    description = "integer weights (symmetric/ternary) with scales folded into neurons; thresholds and decays"
    preserves = "approximate"
    name_options = {"skip": "pattern", "scales": "key", "integers": "key"}
    scope_noun = "weight layer"

    bits: int = 8
    granularity: Literal["channel", "tensor"] = "channel"
    weights: bool = True
    bias: bool = True
    scheme: Literal["symmetric"] = "symmetric"
    ternary: bool = False
    pow2: bool = False
    fold: Literal["threshold", "gain"] = "threshold"
    readout: Literal["scale", "gain"] = "scale"
    bias_bits: int = 16
    threshold_bits: int = 0
    decay: Literal["float", "shift", "fraction12"] = "float"
    decay_method: Literal["euler", "exact"] = "euler"
    max_shift: int = 0
    dt: float | None = None
    skip: str = ""
    scales: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    integers: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.ternary:
            check_bits(self.bits)
        check_bits(self.bias_bits, "quantize-graph (bias_bits)", 32)
        if self.threshold_bits:
            check_bits(self.threshold_bits, "quantize-graph (threshold_bits)", 32)
        for opt, value, allowed in (
            ("granularity", self.granularity, ("channel", "tensor")),
            ("scheme", self.scheme, ("symmetric",)),
            ("fold", self.fold, ("threshold", "gain")),
            ("readout", self.readout, ("scale", "gain")),
            ("decay", self.decay, DECAYS),
            ("decay_method", self.decay_method, ("euler", "exact")),
        ):
            if value not in allowed:
                raise OptionError(f"quantize-graph: {opt}={value!r} is not one of {', '.join(allowed)}")
        if self.threshold_bits and self.fold != "threshold":
            raise OptionError(
                "quantize-graph: threshold_bits needs fold=threshold "
                "(with fold=gain thresholds stay in float units)"
            )
        if self.dt is not None and not self.dt > 0:
            raise OptionError(f"quantize-graph: dt={self.dt!r} must be > 0 seconds")
        if self.max_shift < 0:
            raise OptionError(f"quantize-graph: max_shift={self.max_shift!r} must be >= 0 (0: no limit)")
        try:
            re.compile(self.skip)
        except re.error as e:
            raise OptionError(
                f"quantize-graph: skip={self.skip!r} is not a valid regular expression: {e}"
            ) from None

    @property
    def mode(self) -> str:
        """The folding mode handed to :mod:`spyx.quant.fold`."""
        return READOUT_GAIN if self.fold == "threshold" and self.readout == "gain" else self.fold

    def spec(self) -> str:
        return Pass.spec(dataclasses.replace(self, scales=None, integers=None))  # arrays have no text form

    def option_scope(self, graph: Graph) -> list[str]:
        """``skip``, ``scales`` and ``integers`` name weight layers by their dotted paths."""
        return [p for p, n in graph.walk() if is_weight_layer(n)]

    def requires(self, graph: Graph) -> None:
        if self.weights and not any(is_weight_layer(n) for _, n in graph.walk()):
            raise OptionError(
                "quantize-graph: the graph has no weight layer (Affine, Linear, Conv1d, Conv2d) to quantize"
            )
        continuous_decays = [p for p, n in graph.walk() if any(c for _, c in decay_params(n))]
        if self.decay != "float" and self.dt is None and graph_dt(graph) is None and continuous_decays:
            raise OptionError(
                f"quantize-graph: decay={self.decay} needs dt (seconds) to turn the time constants of "
                f"{', '.join(continuous_decays[:5])} into decays; pass quantize-graph{{dt=...}}"
            )

    def call(self, graph: Graph) -> PassResult:
        result = quantize_graph(graph, self)
        if result.graph == graph:
            return PassResult(graph, False, ())
        return PassResult(result.graph, True, tuple(result.lines()))


def quantize_graph(graph: Graph, options: Quantize | None = None, **kw: Any) -> QuantizeResult:
    """Quantize ``graph``; returns the folded integer graph, the fake-quantized graph and the report."""
    opts = options if options is not None else Quantize(**kw)
    opts.requires(graph)
    opts.check_options(graph)
    if opts.dt is None and graph_dt(graph) is not None:  # the step recorded by the retime pass
        opts = dataclasses.replace(opts, dt=graph_dt(graph))
    q, f, layers, formats, notes = _level(graph, opts, "")
    return QuantizeResult(q, f, tuple(layers), tuple(formats), tuple(notes), opts.spec())


# -- one graph level --------------------------------------------------------------------------------
def _bits_label(opts: Quantize) -> str:
    return "ternary" if opts.ternary else f"int{opts.bits}"


def _given_scale(opts: Quantize, path: str, node) -> np.ndarray | None:
    if not opts.scales or path not in opts.scales:
        return None
    s = np.asarray(opts.scales[path], dtype=np.float64).reshape(-1)
    c_out = node.weight.shape[0]
    if s.size not in (1, c_out) or not np.all(s > 0):
        raise OptionError(
            f"quantize-graph: scale given for {path} must be > 0 with 1 or {c_out} values, got shape {s.shape}"
        )
    return s if s.size == c_out else s.reshape(())


def _group_scale(graph: Graph, group: Group, quant: list[str], opts: Quantize, prefix: str):
    """(scale per layer, note) for a foldable group: shared by every layer of the group."""
    given = {n: _given_scale(opts, prefix + n, graph.nodes[n]) for n in quant}
    if any(v is not None for v in given.values()):
        vals = list(given.values())
        if any(v is None or v.shape != vals[0].shape or not np.array_equal(v, vals[0]) for v in vals):
            return None, f"the scales given for {', '.join(quant)} differ; they feed the same neurons"
        return {n: vals[0] for n in group.layers}, None
    weights = [graph.nodes[n].weight for n in quant]
    per_channel = opts.granularity == "channel"
    note = None
    if per_channel and len({graph.nodes[n].weight.shape[0] for n in group.layers}) > 1:
        per_channel, note = (
            False,
            f"{', '.join(group.layers)} feed the same neurons: one shared per-tensor scale",
        )
    stat = channel_stat(weights, per_channel, opts.ternary)
    s = round_scale(stat, opts.bits, opts.ternary, opts.pow2)
    return {n: s for n in group.layers}, note


def _factor_map(scale: np.ndarray, out_shape: tuple[int, ...]) -> np.ndarray:
    s = np.asarray(scale, dtype=np.float64)
    if s.ndim == 1:
        s = s.reshape((-1,) + (1,) * (len(out_shape) - 1))
    return np.broadcast_to(s, out_shape).copy()


def _given_integers(opts: Quantize, path: str, node, scale) -> np.ndarray | None:
    if not opts.integers or path not in opts.integers:
        return None
    q = np.asarray(opts.integers[path])
    lo, hi = (-1, 1) if opts.ternary else int_range(opts.bits)
    if q.shape != node.weight.shape or not np.array_equal(q, np.round(q)) or q.min() < lo or q.max() > hi:
        raise OptionError(
            f"quantize-graph: integers given for {path} must be integers in [{lo}, {hi}] "
            f"of shape {node.weight.shape}"
        )
    if scale is None or not (opts.scales and path in opts.scales):
        raise OptionError(f"quantize-graph: integers given for {path} need its scale too (option scales)")
    return q


def _quant_layer(node, scale: np.ndarray, opts: Quantize, path: str = ""):
    """(integer node, fake-quantized node, arithmetic) for one weight layer."""
    given = _given_integers(opts, path, node, scale)
    qa = quantize_with_scale(node.weight, scale, opts.bits, opts.ternary, given)
    changes_q: dict[str, Any] = {"weight": qa.q}
    changes_f: dict[str, Any] = {"weight": qa.fake}
    bias = getattr(node, "bias", None)
    if bias is not None:
        s_dt = np.broadcast_to(np.asarray(qa.scale), bias.shape).astype(bias.dtype)
        if opts.bias:
            lo, hi = int_range(opts.bias_bits)
            bq = np.clip(np.round(bias / s_dt), lo, hi).astype(bias.dtype) + bias.dtype.type(0)
            changes_q["bias"], changes_f["bias"] = bq, (bq * s_dt).astype(bias.dtype)
        else:
            changes_q["bias"] = (bias / s_dt).astype(bias.dtype)
    return node.replace(**changes_q), node.replace(**changes_f), qa


def _float_member(node, scale: np.ndarray):
    """A layer kept float that feeds quantized neurons: its output is divided by the group's scale."""
    s = np.asarray(scale, dtype=np.float64)
    w_s = s.reshape((-1,) + (1,) * (node.weight.ndim - 1)) if s.ndim == 1 else s
    changes = {"weight": scaled(node.weight, w_s, "div")}
    if getattr(node, "bias", None) is not None:
        changes["bias"] = scaled(node.bias, np.broadcast_to(s, node.bias.shape), "div")
    return node.replace(**changes)


@dataclass
class _Level:
    """What the pass builds for one graph level (nested graphs get their own)."""

    graph: Graph
    opts: Quantize
    prefix: str
    qnodes: dict = field(default_factory=dict)
    fnodes: dict = field(default_factory=dict)
    layers: list = field(default_factory=list)
    formats: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    absorbed: dict = field(default_factory=dict)  # node -> factor it took
    dequant: list = field(default_factory=list)  # (layer, inserted Scale node)

    def __post_init__(self) -> None:
        self.shapes = infer_shapes(self.graph)
        self.qnodes, self.fnodes = dict(self.graph.nodes), dict(self.graph.nodes)

    def fold(self, group, quant: list[str]):
        """Fold the group's shared scale into its region; (scales per layer, None) or (None, reason)."""
        scales, note = (
            (None, None) if group.blocked else _group_scale(self.graph, group, quant, self.opts, self.prefix)
        )
        if group.blocked or scales is None:
            return None, group.blocked or note
        factors = {n: _factor_map(scales[n], tuple(self.shapes[n].output)) for n in group.layers}
        arriving, reason = propagate_factors(self.graph, group, factors, self.shapes, self.opts.mode)
        if reason is not None:
            return None, reason
        if note:
            self.notes.append(f"{self.prefix}{', '.join(quant)}: {note}")
        for n in group.region:
            node = self.graph.nodes[n]
            self.qnodes[n] = fold_rule(node).apply(node, arriving[n], self.opts.mode)
            self.absorbed[n] = arriving[n]
        for n in group.adapters:  # unscaled signal -> Scale -> region: the Scale takes 1/s
            node = self.graph.nodes[n]
            self.qnodes[n] = node.replace(scale=scaled(node.scale, arriving[n], "div"))
        return scales, None

    def float_layer(self, group, n: str, scales, reason) -> None:
        node = self.graph.nodes[n]
        if reason is None:
            self.qnodes[n] = _float_member(node, scales[n])
        action = "kept float (skip)" + ("; divided by the group's scale" if reason is None else "")
        others = tuple(self.prefix + m for m in group.layers if m != n)
        self.layers.append(
            LayerReport(
                self.prefix + n,
                node.kind,
                "float",
                "-",
                np.ones(()),
                0.0,
                0,
                "float",
                (),
                others,
                reason,
                action,
            )
        )

    def int_layer(self, group, n: str, scales, reason) -> None:
        node, opts = self.graph.nodes[n], self.opts
        scale = scales[n] if reason is None else _own_scale(node, opts, self.prefix + n)
        self.qnodes[n], self.fnodes[n], qa = _quant_layer(node, scale, opts, self.prefix + n)
        action = ""
        if reason is not None and np.all(np.asarray(qa.scale) == 1):  # already integers: nothing to restore
            action = "scale 1 (the weights are integers already): no Scale node needed"
        elif reason is not None:  # fallback: restore the float range right after the layer
            deq = _dequant_name(n, self.qnodes)
            self.qnodes[deq] = Scale(
                scale=_factor_map(qa.scale, tuple(self.shapes[n].output)).astype(qa.q.dtype)
            )
            self.dequant.append((n, deq))
            action = f"Scale node {self.prefix}{deq} inserted after the layer"
        bias = getattr(node, "bias", None)
        bias_fmt = "none" if bias is None else (f"int{opts.bias_bits}" if opts.bias else "float")
        self.layers.append(
            LayerReport(
                self.prefix + n,
                node.kind,
                _bits_label(opts),
                opts.granularity if np.ndim(qa.scale) else "tensor",
                np.asarray(qa.scale),
                qa.max_abs_error,
                qa.clipped,
                bias_fmt,
                tuple(sorted(self.prefix + m for m in group.region)) if reason is None else (),
                tuple(self.prefix + m for m in group.layers if m != n),
                reason,
                action,
            )
        )


def _level(graph: Graph, opts: Quantize, prefix: str):
    lv = _Level(graph, opts, prefix)
    for name, node in graph.nodes.items():
        if isinstance(node, Graph):
            qs, fs, ls, fm, ns = _level(node, opts, f"{prefix}{name}.")
            lv.qnodes[name], lv.fnodes[name] = qs, fs
            lv.layers += ls
            lv.formats += fm
            lv.notes += ns
    weight_layers = (
        [n for n, node in graph.nodes.items() if is_weight_layer(node)] if opts.weights else []
    )
    skip = re.compile(opts.skip) if opts.skip else None
    is_float = {n: bool(skip and skip.fullmatch(prefix + n)) for n in weight_layers}
    for group in plan_groups(graph, weight_layers, opts.mode):
        quant = [n for n in group.layers if not is_float[n]]
        if not quant:
            continue
        scales, reason = lv.fold(group, quant)
        for n in group.layers:
            (lv.float_layer if is_float[n] else lv.int_layer)(group, n, scales, reason)
    edges = list(graph.edges)
    for layer, deq in lv.dequant:
        edges = [(deq if a == layer else a, b) for a, b in edges]
        edges.append((layer, deq))
    fmt_q, fmt_f, fmt_reports, fmt_notes = _formats(graph, lv.qnodes, lv.fnodes, lv.absorbed, opts, prefix)
    qgraph = Graph(nodes=fmt_q, edges=tuple(edges), metadata=graph.metadata)
    fgraph = Graph(nodes=fmt_f, edges=graph.edges, metadata=graph.metadata)
    return qgraph, fgraph, lv.layers, lv.formats + fmt_reports, lv.notes + fmt_notes


def _own_scale(node, opts: Quantize, path: str) -> np.ndarray:
    given = _given_scale(opts, path, node)
    if given is not None:
        return given
    stat = channel_stat([node.weight], opts.granularity == "channel", opts.ternary)
    return round_scale(stat, opts.bits, opts.ternary, opts.pow2)


def _dequant_name(layer: str, taken: Mapping[str, Any]) -> str:
    name, i = f"{layer}_dequant", 1
    while name in taken:
        name, i = f"{layer}_dequant_{i}", i + 1
    return name


def _formats(graph: Graph, qnodes, fnodes, absorbed, opts: Quantize, prefix: str):
    """Threshold rounding (folded nodes only) and decay formats, mirrored in the fake-quantized graph."""
    reports, notes = [], []
    qnodes, fnodes = dict(qnodes), dict(fnodes)
    for name, orig in graph.nodes.items():
        if isinstance(orig, Graph):
            continue
        changes = []
        if opts.threshold_bits and state_params(orig):
            if name in absorbed:
                qn, ch = round_state(qnodes[name], opts.threshold_bits)
                qnodes[name] = qn
                factor = absorbed[name]
                fnodes[name] = fnodes[name].replace(
                    **{c.param: scaled(getattr(qn, c.param), factor, "mul") for c in ch}
                )
                changes += ch
            else:
                notes.append(
                    f"{prefix}{name} ({orig.kind}): thresholds not rounded: "
                    "no weight scale was folded into it"
                )
        if opts.decay != "float" and decay_params(orig):
            max_shift = opts.max_shift or None
            qnodes[name], ch = quantize_decays(
                qnodes[name], opts.decay, opts.dt, max_shift, opts.decay_method
            )
            fnodes[name], _ = quantize_decays(fnodes[name], opts.decay, opts.dt, max_shift, opts.decay_method)
            changes += ch
        if changes:
            reports.append(NodeFormatReport(prefix + name, orig.kind, tuple(changes)))
    return qnodes, fnodes, reports, notes
