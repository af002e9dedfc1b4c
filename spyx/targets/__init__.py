"""Hardware targets as data (number formats and design rules) and the functions that use them.

``get_target("xylo{variant=imu}")`` builds a target with options; ``check(graph, target)`` lists every
violated rule; ``resources(graph, target)`` tables what the graph uses against the target's limits;
``quantize_for(graph, target)`` puts the graph into the target's number formats (the ``quantize-graph``
pass with the target's bit widths, threshold and decay formats) and then checks its rules.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from spyx.errors import OptionError
from spyx.ir.graph import Graph
from spyx.lazy import lazy_class
from spyx.passes.inline import inline_graph
from spyx.passes.quantize import Quantize, quantize_graph
from spyx.passes.registry import build_options, parse_spec
from spyx.targets.base import Formats, Rule, Target, Violation
from spyx.targets.resources import ResourceRow, ResourceTable

__all__ = [
    "DEFAULT_WEIGHT_BITS",
    "TARGETS",
    "Formats",
    "QuantizeForResult",
    "ResourceRow",
    "ResourceTable",
    "Rule",
    "Target",
    "Violation",
    "check",
    "get_target",
    "list_targets",
    "quantize_for",
    "resources",
]

# name -> "module:Class"; every key equals the class's ``name`` (a test checks it).
TARGETS: dict[str, str] = {
    "xylo": "spyx.targets.xylo:Xylo",
    "xylo-audio3": "spyx.targets.xylo:XyloAudio3",
    "xylo-imu": "spyx.targets.xylo:XyloIMU",
    "speck": "spyx.targets.speck:Speck",
    "loihi2": "spyx.targets.loihi2:Loihi2",
    "spinnaker2": "spyx.targets.spinnaker2:SpiNNaker2",
}


def _target_class(name: str) -> type[Target]:
    return lazy_class(TARGETS, name, "target")


def get_target(target: str | Target, **options: Any) -> Target:
    """A target from its name or spec text (``"xylo"``, ``"xylo{variant=imu}"``), or the target itself.

    Unknown names and options raise :class:`OptionError` listing the valid ones.
    """
    if isinstance(target, Target):
        return target
    items = parse_spec(str(target).strip())
    if len(items) != 1:
        raise OptionError(f"expected one target, got {target!r}; valid targets: {', '.join(sorted(TARGETS))}")
    name, raw = items[0]
    cls = _target_class(name)
    raw = {**raw, **{k: str(v) for k, v in options.items()}}
    kwargs = build_options(cls, raw, f"target {name!r}")
    return cls(**kwargs)


def list_targets() -> list[tuple[str, str, list[str]]]:
    """(name, description, [rule ids]) for every target."""
    return [
        (n, _target_class(n).description, [r.id for r in _target_class(n).rules]) for n in sorted(TARGETS)
    ]


def check(graph: Graph, target: str | Target, *, dt: float | None = None) -> list[Violation]:
    """Every rule of ``target`` that ``graph`` violates (errors and warnings), in rule order.

    ``dt`` (seconds; default: the graph's recorded ``spyx.dt``) enables the decay-format rules for
    continuous-time neurons.
    """
    return get_target(target).check(graph, dt)


def resources(graph: Graph, target: str | Target) -> ResourceTable:
    """What ``graph`` uses of ``target``'s resources (per layer or core; :mod:`spyx.targets.resources`)."""
    return get_target(target).resources(graph)


#: the weight width used when a target's sources give none and the caller gives no ``bits`` (stated in the
#: report line, never silent): 8-bit is the narrowest width every listed target is documented to accept
DEFAULT_WEIGHT_BITS = 8


@dataclass(frozen=True)
class QuantizeForResult:
    """The quantized graph (what is saved), its quantize report, the violations left, and the target.
    ``weight_bits``/``bits_from``: the weight width used and where it came from (``target``, ``bits`` given,
    or ``default``: :data:`DEFAULT_WEIGHT_BITS` because the target's width is unknown)."""

    target: Target
    quantized: Any  # spyx.quant.result.QuantizeResult
    violations: tuple[Violation, ...]
    weight_bits: int | None = None
    bits_from: str = "target"

    @property
    def graph(self) -> Graph:
        return self.quantized.graph

    @property
    def errors(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.severity == "error")

    def lines(self) -> list[str]:
        described = self.target.formats().describe()
        if self.bits_from != "target" and self.weight_bits is not None:  # the width used, not "unknown"
            why = {
                "bits": "--bits",
                "default": f"default for {self.target.name} when unknown; --bits to change",
            }[self.bits_from]
            described[0] = f"weights: {self.weight_bits}-bit ({why})"
        head = [f"target {self.target.spec()}: " + "; ".join(described)]
        unknown = [u for u in self.target.unknowns() if not (u == "weight_bits" and self.weight_bits)]
        if unknown:
            head.append(f"unknown (not checked): {', '.join(unknown)}")
        return head + self.quantized.lines() + [str(v) for v in self.violations]


def quantize_for(
    graph: Graph,
    target: str | Target,
    *,
    dt: float | None = None,
    bits: int | None = None,
    granularity: str | None = None,
    pow2: bool = False,
    ternary: bool = False,
    scales: dict | None = None,
    skip: str = "",
    decay_method: str = "euler",
    readout: str = "scale",
) -> QuantizeForResult:
    """Put ``graph`` into ``target``'s number formats, then check the target's rules.

    Nested graphs are inlined first. Weights get the target's weight bit width (``bits`` overrides it; a
    target whose width is unknown gets ``DEFAULT_WEIGHT_BITS``, stated in the result's lines), per output
    channel unless the target has one threshold per layer (Speck, Loihi 2): then per tensor, so that
    folding keeps the threshold shared (``granularity`` overrides); thresholds are rounded to its threshold
    width when known,
    decays put into its decay format (``dt`` needed for continuous time constants; ``decay_method``: how a
    time constant reads as a decay, see :mod:`spyx.quant.formats`). Violations that remain
    (topology, limits) are returned, not raised: the CLI lists them all.
    """
    t = get_target(target)
    fmt = t.formats()
    weight_bits, bits_from = (bits, "bits") if bits is not None else (fmt.weight_bits, "target")
    if weight_bits is None and not ternary:
        weight_bits, bits_from = DEFAULT_WEIGHT_BITS, "default"
    flat, _ = inline_graph(graph)
    opts = Quantize(
        bits=int(weight_bits or 8),
        granularity=granularity or ("tensor" if fmt.shared_threshold else "channel"),
        ternary=ternary,
        pow2=pow2,
        threshold_bits=fmt.threshold_bits or 0,
        decay=fmt.decay or "float",
        max_shift=fmt.max_shift or 0,
        dt=dt,
        decay_method=decay_method,
        readout=readout,
        scales=scales,
        skip=skip,
    )
    result = quantize_graph(flat, opts)
    if fmt.weight_bits is None and any(f.name == "weight_bits" for f in dataclasses.fields(t)):
        t = dataclasses.replace(t, weight_bits=weight_bits)  # the weight rule then checks the width used
    return QuantizeForResult(t, result, tuple(t.check(result.graph, dt)), weight_bits, bits_from)
