r"""Traits: what a node kind *is*, declared on the kind and asked for by passes (xDSL's ``traits`` and
``has_trait``, MLIR's interfaces).

A node kind lists its traits in its own file, as instances in the class attribute ``traits``::

    class Affine(Node):
        kind = "Affine"
        traits = (WeightLayer(layout="dense", bias="bias"),)

and every pass, quantization rule, hardware target, profile and shape helper asks the node instead of
keeping a table of kind names: ``node.trait(WeightLayer)`` returns the declared instance (or ``None``),
``node.has_trait(Population)`` says whether there is one. A trait is a frozen dataclass: its fields are
data about the kind (which parameter is the input gain, which are decays), its methods compute what every
kind with that data has in common (how to fold a factor into a dense matrix). A new kind that declares
``WeightLayer(layout="dense")`` is rescaled, fused and quantized with no change to any pass.

Traits of this module:

==============  ================================================================================
trait           meaning, and who asks
==============  ================================================================================
WeightLayer     a linear map with parameters: scaling its outputs/inputs folds into them; a dense
                view for fusion (rescale, fuse, quantize-graph, targets)
Population      a population of neurons with state: input gains, decays, state size, reset
                (rescale, quantization formats, verify's memory budget, targets, profiles)
Levels          parameters in the units of the input signal (thresholds, resets, leak levels): they
                scale with it (rescale, quantization folding and threshold formats, targets)
Spiking         the output is spikes (optionally only when an option says so); the spike count cap
Continuous      a continuous-time equation: its discretisation for a step ``dt`` and its inverse
                (discretize / the nir profile, every profile, retime, export for a peer)
Discrete        a discrete-time kind made for one time step, and how to re-discretise it for another
                (the retime pass)
Causal          the output at step t does not depend on the input at step t: a minimum delay
                (feedback-edge choice, the schedulers)
CarriesScale    linear in its input and commuting with a positive per-channel factor, which passes
                through it (quantization folding)
ShapeField      an optional parameter that records an inferred shape (the infer-shapes pass)
==============  ================================================================================

A kind's traits must agree with its declaration (parameters named by a trait exist; options a trait reads
are options of the kind); :func:`trait_problems` says where not, and a test runs it over every registered
kind. A trait whose ``when`` names a boolean option applies only to nodes with that option set
(``spyx.Neuron`` spikes when ``fires``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:  # the node module imports this one; the type is only needed by the checker
    from spyx.ir.node import Node, Shape

__all__ = [
    "Trait",
    "WeightLayer",
    "Population",
    "Levels",
    "Spiking",
    "Continuous",
    "Discrete",
    "Causal",
    "CarriesScale",
    "ShapeField",
    "trait_problems",
    "cast_like",
    "same_factor",
    "per_channel_factor",
    "reshape_factor",
]


def cast_like(value: Any, like: np.ndarray) -> np.ndarray:
    """``value`` stored in the dtype of ``like`` (float64 arithmetic, one rounding per parameter)."""
    return np.asarray(value).astype(like.dtype)


def _missing(cls: type[Node], names: tuple[str, ...], what: str) -> list[str]:
    params = set(cls.param_names())
    return [f"{what} names parameter {n!r}, which {cls.__name__} does not declare" for n in names if n not in params]


def _missing_option(cls: type[Node], name: str | None, what: str) -> list[str]:
    if name is None or name in cls.option_names():
        return []
    return [f"{what} names option {name!r}, which {cls.__name__} does not declare"]


@dataclass(frozen=True, kw_only=True)
class Trait:
    """Base of all traits. ``when``: the name of a boolean option; the trait applies only to nodes whose
    option is true (None: to every node of the kind)."""

    when: str | None = None

    def applies(self, node: Node) -> bool:
        return self.when is None or bool(getattr(node, self.when))

    def problems(self, cls: type[Node]) -> list[str]:
        """Where this trait disagrees with the kind ``cls`` it is declared on (sentences)."""
        return _missing_option(cls, self.when, type(self).__name__)


# -- weight layers ------------------------------------------------------------------------------------------
def _per_channel(k: np.ndarray, channels: int) -> np.ndarray | None:
    """``k`` of shape (C, *spatial) as (C,) when constant over space per channel, else None."""
    flat = np.asarray(k, dtype=np.float64).reshape(channels, -1)
    if not np.all(flat == flat[:, :1]):
        return None
    return flat[:, 0]


@dataclass(frozen=True, kw_only=True)
class WeightLayer(Trait):
    """A linear map with parameters ``y = W x (+ b)``.

    ``layout``: ``dense`` (``weight`` is an (out, in) matrix), ``elementwise`` (``y = w * x``, ``weight``
    has the signal's shape) or ``conv`` (``weight`` is (C_out, C_in / groups, *kernel) over ``spatial``
    axes, with a ``groups`` parameter). ``bias``: the bias parameter, if the kind has one. Arithmetic is
    float64; results are stored in each parameter's own dtype.
    """

    layout: Literal["dense", "elementwise", "conv"]
    weight: str = "weight"
    bias: str | None = None
    spatial: int = 0

    @property
    def matrix(self) -> bool:
        """Whether the layer has a weight matrix (what quantization quantizes and targets count)."""
        return self.layout != "elementwise"

    def weights(self, node: Node) -> np.ndarray:
        return getattr(node, self.weight)

    def count(self, node: Node) -> int:
        """How many weights the layer stores (the bias not counted)."""
        return int(self.weights(node).size)

    def out_features(self, node: Node) -> int:
        w = self.weights(node)
        return int(w.size if self.layout == "elementwise" else w.shape[0])

    def problems(self, cls: type[Node]) -> list[str]:
        out = super().problems(cls) + _missing(cls, (self.weight,) + ((self.bias,) if self.bias else ()), "WeightLayer")
        if self.layout == "conv":
            out += _missing(cls, ("groups",), "WeightLayer(layout='conv')")
            if self.spatial < 1:
                out.append("WeightLayer(layout='conv') needs spatial >= 1")
        return out

    def dense(self, node: Node) -> tuple[np.ndarray, np.ndarray | None] | None:
        """``(W, b or None)`` in float64 as one matrix on the flattened signal, for fusion; an elementwise
        layer over a 1-D signal is its diagonal; None when the layer has no small dense form (a convolution,
        an elementwise layer over a multi-axis signal)."""
        w = self.weights(node)
        if self.layout == "conv" or (self.layout == "elementwise" and w.ndim != 1):
            return None
        if self.layout == "elementwise":
            return np.diag(w.astype(np.float64).reshape(-1)), None
        b = getattr(node, self.bias) if self.bias else None
        return w.astype(np.float64), None if b is None else b.astype(np.float64)

    def scale_outputs(self, node: Node, k: np.ndarray) -> tuple[Node | None, str | None]:
        """``node`` whose output is multiplied elementwise by ``k`` (the node's output shape), or
        ``(None, reason)`` when the factor cannot be folded."""
        k = np.asarray(k, dtype=np.float64)
        w = self.weights(node)
        b = getattr(node, self.bias) if self.bias else None
        if self.layout == "elementwise":
            return node.replace(**{self.weight: cast_like(w.astype(np.float64) * k.reshape(w.shape), w)}), None
        if self.layout == "dense":
            changes = {self.weight: cast_like(w.astype(np.float64) * k.reshape(-1, 1), w)}
            if self.bias is not None and b is not None:
                changes[self.bias] = cast_like(b * k.reshape(-1), b)
            return node.replace(**changes), None
        kc = _per_channel(k, w.shape[0])
        if kc is None:
            return None, f"the factor varies over the spatial positions of {node.kind} output channels"
        changes = {self.weight: cast_like(w.astype(np.float64) * kc.reshape((-1,) + (1,) * (w.ndim - 1)), w)}
        if self.bias is not None and b is not None:
            changes[self.bias] = cast_like(b.astype(np.float64) * kc, b)
        return node.replace(**changes), None

    def scale_inputs(self, node: Node, s: np.ndarray) -> tuple[Node | None, str | None]:
        """``node`` computing on ``s * x`` what it computed on ``x`` (``s``: the node's input shape), or
        ``(None, reason)``."""
        s = np.asarray(s, dtype=np.float64)
        w = self.weights(node)
        if self.layout == "elementwise":
            return node.replace(**{self.weight: cast_like(w.astype(np.float64) * s.reshape(w.shape), w)}), None
        if self.layout == "dense":
            return node.replace(**{self.weight: cast_like(w.astype(np.float64) * s.reshape(1, -1), w)}), None
        groups = int(np.asarray(node.params()["groups"]).reshape(-1)[0])
        c_in_g = w.shape[1]
        sc = _per_channel(s, c_in_g * groups)
        if sc is None:
            return None, f"the factor varies over the spatial positions of {node.kind} input channels"
        c_out_g = w.shape[0] // groups
        # Output channel o reads input channels group(o) * c_in_g + j, j < c_in_g; zero padding stays zero.
        rows = np.stack([sc[(o // c_out_g) * c_in_g : (o // c_out_g + 1) * c_in_g] for o in range(w.shape[0])])
        scaled = w.astype(np.float64) * rows.reshape(rows.shape + (1,) * (w.ndim - 2))
        return node.replace(**{self.weight: cast_like(scaled, w)}), None


# -- neurons ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Population(Trait):
    """A population of neurons carrying state from step to step.

    ``gains``: the parameters that multiply the input, the input gain first; ``synapse``: True when the
    kind always has a synaptic current, or the name of the boolean option that adds one; with a synapse,
    ``synapse_gains`` multiply the input too and come first (``spyx.Neuron``: ``w_syn`` into the synapse,
    ``g_x`` straight into the membrane). ``decays``: ``(parameter, continuous)`` pairs, continuous ones
    being time constants that need ``dt``. ``state``: state values per neuron without the synapse (the
    synapse adds one, and so does each true option in ``state_options``). ``initial``: initial-state
    parameters in membrane units. ``bias``: a constant input added each step, if any. ``reset_option``: the
    option naming the reset (``value``/``subtract``/``none``), or ``reset``: the kind's fixed reset; both
    None for NIR's continuous kinds, which reset to ``v_reset`` as their equation says (a profile decides).
    """

    gains: tuple[str, ...] = ()
    synapse: bool | str = False
    synapse_gains: tuple[str, ...] = ()
    decays: tuple[tuple[str, bool], ...] = ()
    state: int = 1
    state_options: tuple[str, ...] = ()
    initial: tuple[str, ...] = ()
    bias: str | None = None
    reset_option: str | None = None
    reset: str | None = None

    def has_synapse(self, node: Node) -> bool:
        if isinstance(self.synapse, str):
            return bool(getattr(node, self.synapse))
        return bool(self.synapse)

    def input_gains(self, node: Node) -> tuple[str, ...]:
        """Every parameter multiplying the input, the one that sets the input's gain first."""
        return (self.synapse_gains if self.has_synapse(node) else ()) + self.gains

    def input_gain(self, node: Node) -> str | None:
        gains = self.input_gains(node)
        return gains[0] if gains else None

    def state_values(self, node: Node) -> int:
        """State values per neuron (membrane, synaptic current, last spikes, adaptation, ...)."""
        return self.state + int(self.has_synapse(node)) + sum(bool(getattr(node, o)) for o in self.state_options)

    def reset_of(self, node: Node) -> str | None:
        """``value``, ``subtract`` or ``none``; None for a continuous kind (NIR: reset to ``v_reset``)."""
        return getattr(node, self.reset_option) if self.reset_option else self.reset

    def leak_free(self, node: Node) -> bool:
        """No decay: no continuous time constant, every discrete decay present equal to 1, no synapse."""
        if self.has_synapse(node):
            return False
        for name, continuous in self.decays:
            value = getattr(node, name)
            if continuous or (value is not None and not np.all(value == 1)):
                return False
        return True

    def problems(self, cls: type[Node]) -> list[str]:
        names = self.gains + self.synapse_gains + tuple(n for n, _ in self.decays) + self.initial
        out = super().problems(cls) + _missing(cls, names + ((self.bias,) if self.bias else ()), "Population")
        for opt in ((self.synapse,) if isinstance(self.synapse, str) else ()) + self.state_options:
            out += _missing_option(cls, opt, "Population")
        out += _missing_option(cls, self.reset_option, "Population")
        if not self.gains:
            out.append("Population declares no input gain")
        if not cls.stateful:
            out.append("Population on a kind that is not stateful")
        if self.synapse_gains and not self.synapse:
            out.append("Population has synapse_gains but no synapse")
        return out


@dataclass(frozen=True, kw_only=True)
class Levels(Trait):
    """Parameters in the units of the input signal: thresholds, reset and leak levels, biases, clamps.
    Dividing the input and these by one positive factor leaves spikes unchanged (and a readout's membrane
    divided by it). In the order the quantization formats report them."""

    params: tuple[str, ...] = ()

    def problems(self, cls: type[Node]) -> list[str]:
        return super().problems(cls) + _missing(cls, self.params, "Levels")


@dataclass(frozen=True, kw_only=True)
class Spiking(Trait):
    """The node emits spikes. ``max_count(node)``: the most spikes per step and element, None when
    unbounded (default 1: binary spikes)."""

    count: Callable[[Node], int | None] | None = None

    def max_count(self, node: Node) -> int | None:
        return 1 if self.count is None else self.count(node)


@dataclass(frozen=True, kw_only=True)
class Continuous(Trait):
    """A continuous-time equation, which needs a time step to run.

    ``discretize(name, node, dt, method, rounding, shape) -> Node``: the discrete node that computes the
    equation over steps of ``dt`` (``method``: ``exact`` zero-order hold or ``euler``; ``rounding``: what to
    do with a delay of a fractional number of steps; ``shape``: the population's shape when the parameters
    are shared scalars). ``inverse(discrete, dt) -> Node`` (optional): the continuous node whose exact
    discretisation at ``dt`` is ``discrete``. ``time_constants``: parameters in seconds.
    """

    discretize: Callable[..., Node]
    inverse: Callable[[Node, float], Node] | None = None
    time_constants: tuple[str, ...] = ()

    def problems(self, cls: type[Node]) -> list[str]:
        out = super().problems(cls) + _missing(cls, self.time_constants, "Continuous")
        if not cls.stateful:
            out.append("Continuous on a kind that is not stateful (an equation over time keeps state)")
        return out


@dataclass(frozen=True, kw_only=True)
class Discrete(Trait):
    """A discrete-time kind whose parameters hold for one time step. ``retime(node, q, where) -> Node``: the
    node for a step ``q`` times as long (None: no rule, the retime pass refuses); ``change``: the line the
    pass reports, formatted with ``q`` and ``inv = 1 / q``."""

    retime: Callable[[Node, float, str], Node] | None = None
    change: str = "re-discretised for a step x {q:g}"

    def describe(self, q: float) -> str:
        return self.change.format(q=q, inv=1 / q)

    def problems(self, cls: type[Node]) -> list[str]:
        out = super().problems(cls)
        if not cls.stateful:
            out.append("Discrete on a kind that is not stateful (a kind without state has no time step)")
        return out


@dataclass(frozen=True, kw_only=True)
class Causal(Trait):
    """The node delays its input by ``param`` (steps, or seconds for a continuous kind) per element: with a
    minimum delay above zero its output at step t does not depend on its input at step t."""

    param: str = ""

    def min_delay(self, node: Node) -> float | None:
        value = getattr(node, self.param)
        return None if value is None or value.size == 0 else float(np.min(value))

    def is_causal(self, node: Node) -> bool:
        d = self.min_delay(node)
        return d is not None and d > 0

    def problems(self, cls: type[Node]) -> list[str]:
        out = super().problems(cls) + _missing(cls, (self.param,), "Causal")
        if not cls.stateful:
            out.append("Causal on a kind that is not stateful (a delay keeps state)")
        return out


# -- scale carriers and shape fields -----------------------------------------------------------------------
def same_factor(factor: np.ndarray, out_shape: Shape) -> np.ndarray | None:
    """The factor passes unchanged (elementwise nodes)."""
    return factor if tuple(factor.shape) == tuple(out_shape) else None


def per_channel_factor(factor: np.ndarray, out_shape: Shape) -> np.ndarray | None:
    """Pooling mixes positions within a channel: the factor must be one value per channel."""
    per_c = factor.reshape(factor.shape[0], -1)
    if per_c.shape[0] != out_shape[0] or np.any(per_c != per_c[:, :1]):
        return None
    return np.broadcast_to(per_c[:, :1].reshape((-1,) + (1,) * (len(out_shape) - 1)), out_shape).copy()


def reshape_factor(factor: np.ndarray, out_shape: Shape) -> np.ndarray | None:
    """A reshape carries the factor reshaped."""
    return factor.reshape(out_shape) if factor.size == int(np.prod(out_shape)) else None


@dataclass(frozen=True, kw_only=True)
class CarriesScale(Trait):
    """Linear in its input (and its own offsets), commuting with a positive per-channel factor: a factor on
    the input reappears on the output as ``transfer(factor, out_shape)`` (None: it cannot)."""

    transfer: Callable[[np.ndarray, Shape], np.ndarray | None] = same_factor


@dataclass(frozen=True, kw_only=True)
class ShapeField(Trait):
    """An optional parameter that stores a shape inference can fill in: ``param`` records the node's
    ``input`` or ``output`` shape, without the channel axis when ``spatial`` (convolutions)."""

    param: str = ""
    records: Literal["input", "output"] = "input"
    spatial: bool = False

    def value(self, shape: Shape | None) -> Shape | None:
        if shape is None:
            return None
        return tuple(shape[1:]) if self.spatial else tuple(shape)

    def problems(self, cls: type[Node]) -> list[str]:
        return super().problems(cls) + _missing(cls, (self.param,), "ShapeField")


# -- the registry's view ------------------------------------------------------------------------------------
def trait_problems(cls: type[Node]) -> list[str]:
    """Every incoherence between the traits of kind ``cls`` and its declaration (empty: coherent)."""
    out: list[str] = []
    seen: set[type] = set()
    for t in cls.traits:
        if not isinstance(t, Trait):
            out.append(f"{t!r} is not a Trait")
            continue
        if type(t) in seen:
            out.append(f"trait {type(t).__name__} is declared twice")
        seen.add(type(t))
        out += t.problems(cls)
    has = {type(t) for t in cls.traits}
    if Population in has and Levels not in has:
        out.append("a Population must declare its Levels (empty for an integrator without any)")
    if Spiking in has and Levels not in has:
        out.append("a Spiking kind must declare the Levels its spikes are tested against")
    return out
