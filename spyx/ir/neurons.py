r"""Continuous-time neuron kinds of NIR 1.0, with their equations as NIR defines them.

These nodes are *equations*, not programs: they say nothing about the time step, the discretisation or the
order of operations within a step. Each kind declares its NIR discretisation (and its inverse) as its
:class:`~spyx.ir.traits.Continuous` trait, which the ``discretize`` pass (the ``nir`` profile) applies; a
peer profile lowers them its own way. Both give :class:`spyx.ir.discrete.Neuron`; ``docs/semantics.md``
gives the rules, :mod:`spyx.passes.discretize` the derivations.

All parameters share the neuron population's shape (e.g. ``(38,)`` or ``(16, 16, 16)`` after a conv), or are
all 0-d scalars shared by every neuron: the population then takes the shape of its input.
Spiking kinds spike when ``v > v_threshold`` (strict) and then set ``v = v_reset``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyx.ir.discrete import Neuron
from spyx.ir.node import Node, Shape, param, register, same_shape_check
from spyx.ir.traits import Continuous, Levels, Population, Spiking

F64 = np.float64


# -- the NIR discretisation (derivations in spyx.passes.discretize) ----------------------------------------
def _full(node: Node, name: str, shape) -> np.ndarray:
    return np.broadcast_to(np.asarray(getattr(node, name), dtype=F64), shape)


def _dtype(node: Node) -> np.dtype:
    floats = [v.dtype for v in node.params().values() if v.dtype.kind == "f"]
    return np.result_type(*floats) if floats else np.dtype(np.float32)


def cuba_gain(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``K = b (e^{-a} - e^{-b}) / (b - a)``, ``a = dt/tau_syn``, ``b = dt/tau_mem``; stable at ``a ~ b``."""
    d = b - a
    safe = np.where(d == 0, 1.0, d)
    ratio = np.where(d == 0, 1.0, -np.expm1(-safe) / safe)
    return b * np.exp(-a) * ratio


def integrator_factors(node: Node, dt: float, method: str, shape) -> dict[str, np.ndarray]:
    """I, IF: ``beta = 1``, ``g_x = r dt``, no bias (exact and Euler agree)."""
    return {"beta": np.ones(shape), "g_x": _full(node, "r", shape) * dt, "bias": np.zeros(shape)}


def leaky_factors(node: Node, dt: float, method: str, shape) -> dict[str, np.ndarray]:
    """LI, LIF: exact ``beta = exp(-dt/tau)``, ``g_x = r (1 - beta)``, ``bias = (1 - beta) v_leak``; Euler
    ``1 - dt/tau``, ``r dt/tau``, ``v_leak dt/tau``."""
    r, b, leak = _full(node, "r", shape), dt / _full(node, "tau", shape), _full(node, "v_leak", shape)
    if method == "exact":
        return {"beta": np.exp(-b), "g_x": r * -np.expm1(-b), "bias": -np.expm1(-b) * leak}
    return {"beta": 1.0 - b, "g_x": r * b, "bias": leak * b}


def cuba_factors(node: Node, dt: float, method: str, shape) -> dict[str, np.ndarray]:
    """CubaLI, CubaLIF: the two-state zero-order hold (exact) or one Euler step, as derived in
    :mod:`spyx.passes.discretize`."""
    r = _full(node, "r", shape)
    a, b = dt / _full(node, "tau_syn", shape), dt / _full(node, "tau_mem", shape)
    leak, w_in = _full(node, "v_leak", shape), _full(node, "w_in", shape)
    if method == "exact":
        k = cuba_gain(a, b)
        one_m_beta = -np.expm1(-b)
        return {
            "alpha": np.exp(-a), "w_syn": w_in * -np.expm1(-a), "beta": np.exp(-b), "g_prev": r * k,
            "g_x": r * w_in * (one_m_beta - k), "g_syn": np.zeros(shape), "bias": one_m_beta * leak,
        }
    return {
        "alpha": 1.0 - a, "w_syn": w_in * a, "beta": 1.0 - b, "g_prev": r * b,
        "g_x": np.zeros(shape), "g_syn": np.zeros(shape), "bias": leak * b,
    }


def _discretizer(factors):
    """The Continuous trait's ``discretize`` for a kind whose factors come from ``factors``: a
    ``spyx.Neuron`` with the strict test and the same-step reset to ``v_reset`` of NIR."""

    def discretize(name: str, node: Node, dt: float, method: str, rounding: str, shape=None) -> Neuron:
        if shape is None:
            shape = tuple(getattr(node, node._shape_param).shape)
        out = factors(node, dt, method, shape)
        if node.spiking:
            out["v_threshold"] = _full(node, "v_threshold", shape)
            out["v_reset"] = _full(node, "v_reset", shape)
        dtype = _dtype(node)
        return Neuron(
            **{k: v.astype(dtype) for k, v in out.items()},
            synapse="alpha" in out,
            fires=node.spiking,
            spike_test="gt",
            spike_count="binary",
            reset="value",
            reset_delay=False,
            metadata=node.metadata,
        )

    return discretize


def _levels(n: Neuron, spiking: bool) -> dict[str, np.ndarray]:
    return {"v_threshold": n.v_threshold, "v_reset": n.v_reset} if spiking else {}


def _one_minus(decay: np.ndarray) -> np.ndarray:
    return -np.expm1(np.log(decay))  # 1 - decay, without cancellation for decays near 1


def integrator_inverse(spiking: bool):
    """I, IF from ``beta = 1``: ``r = g_x / dt`` (and the spiking levels)."""

    def inverse(n: Neuron, dt: float) -> dict[str, np.ndarray]:
        t = n.g_x.dtype
        return {"r": (n.g_x.astype(F64) / dt).astype(t), **_levels(n, spiking)}

    return inverse


def leaky_inverse(spiking: bool):
    """LI, LIF from the exact factors: ``tau = -dt / ln(beta)``, ``r = g_x / (1 - beta)``,
    ``v_leak = bias / (1 - beta)``."""

    def inverse(n: Neuron, dt: float) -> dict[str, np.ndarray]:
        beta, t = n.beta.astype(F64), n.beta.dtype
        one_m = _one_minus(beta)
        return {
            "tau": (-dt / np.log(beta)).astype(t), "r": (n.g_x / one_m).astype(t),
            "v_leak": (n.bias / one_m).astype(t), **_levels(n, spiking),
        }

    return inverse


def cuba_inverse(spiking: bool):
    """CubaLI, CubaLIF from the exact factors: ``tau_syn``, ``tau_mem`` from ``alpha``, ``beta``;
    ``w_in = w_syn / (1 - alpha)``, ``r = g_prev / K``, ``v_leak = bias / (1 - beta)``."""

    def inverse(n: Neuron, dt: float) -> dict[str, np.ndarray]:
        alpha, beta, t = n.alpha.astype(F64), n.beta.astype(F64), n.beta.dtype
        tau_syn, tau_mem = -dt / np.log(alpha), -dt / np.log(beta)
        return {
            "tau_syn": tau_syn.astype(t), "tau_mem": tau_mem.astype(t),
            "r": (n.g_prev / cuba_gain(dt / tau_syn, dt / tau_mem)).astype(t),
            "v_leak": (n.bias / _one_minus(beta)).astype(t), "w_in": (n.w_syn / _one_minus(alpha)).astype(t),
            **_levels(n, spiking),
        }

    return inverse


@dataclass(frozen=True, eq=False, kw_only=True)
class _Population(Node):
    stateful = True
    _shape_param = ""

    def shared(self) -> bool:
        """Whether every parameter is a 0-d scalar shared by the whole population (norse 1.1 writes these)."""
        cached = self.__dict__.get("_shared")  # parameters are frozen, so this is computed once per node
        if cached is None:
            cached = all(getattr(self, n).ndim == 0 for n in self.param_names() if getattr(self, n) is not None)
            object.__setattr__(self, "_shared", cached)
        return cached

    def declared_input_shape(self) -> Shape | None:
        arr = getattr(self, self._shape_param)
        if arr is None or self.shared():
            return None  # scalar parameters fit any population: the input decides its shape
        return tuple(arr.shape)

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        return input_shape if self.shared() else self.declared_input_shape()

    def check(self) -> list[str]:
        return super().check() + same_shape_check(self, self.param_names())


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class I(_Population):  # noqa: E742
    r"""Integrator: :math:`\dot v = R I`; outputs ``v``."""

    kind = "I"
    _shape_param = "r"
    traits = (
        Population(gains=("r",)),
        Levels(params=()),
        Continuous(discretize=_discretizer(integrator_factors), inverse=integrator_inverse(False)),
    )
    r: object = param()


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class IF(_Population):
    r"""Integrate-and-fire: :math:`\dot v = R I`; spike when ``v > v_threshold``, then ``v = v_reset``."""

    kind = "IF"
    _shape_param = "v_threshold"
    traits = (
        Population(gains=("r",)),
        Levels(params=("v_threshold", "v_reset")),
        Spiking(),
        Continuous(discretize=_discretizer(integrator_factors), inverse=integrator_inverse(True)),
    )
    r: object = param()
    v_threshold: object = param()
    v_reset: object = param()


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class LI(_Population):
    r"""Leaky integrator: :math:`\tau \dot v = (v_{leak} - v) + R I`; outputs ``v``."""

    kind = "LI"
    _shape_param = "tau"
    traits = (
        Population(gains=("r",), decays=(("tau", True),)),
        Levels(params=("v_leak",)),
        Continuous(
            discretize=_discretizer(leaky_factors),
            inverse=leaky_inverse(False),
            time_constants=("tau",),
        ),
    )
    tau: object = param(positive=True)
    r: object = param()
    v_leak: object = param()


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class LIF(_Population):
    r"""Leaky integrate-and-fire: :math:`\tau \dot v = (v_{leak} - v) + R I`; spike when
    ``v > v_threshold``, then ``v = v_reset``."""

    kind = "LIF"
    _shape_param = "tau"
    traits = (
        Population(gains=("r",), decays=(("tau", True),)),
        Levels(params=("v_threshold", "v_reset", "v_leak")),
        Spiking(),
        Continuous(
            discretize=_discretizer(leaky_factors),
            inverse=leaky_inverse(True),
            time_constants=("tau",),
        ),
    )
    tau: object = param(positive=True)
    r: object = param()
    v_leak: object = param()
    v_threshold: object = param()
    v_reset: object = param()


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class CubaLI(_Population):
    r"""Current-based leaky integrator: :math:`\tau_{syn} \dot I = -I + w_{in} S`,
    :math:`\tau_{mem} \dot v = (v_{leak} - v) + R I`; outputs ``v``."""

    kind = "CubaLI"
    _shape_param = "tau_mem"
    traits = (
        Population(gains=("w_in",), synapse=True, decays=(("tau_syn", True), ("tau_mem", True))),
        Levels(params=("v_leak",)),
        Continuous(
            discretize=_discretizer(cuba_factors),
            inverse=cuba_inverse(False),
            time_constants=("tau_syn", "tau_mem"),
        ),
    )
    tau_syn: object = param(positive=True)
    tau_mem: object = param(positive=True)
    r: object = param()
    v_leak: object = param()
    w_in: object = param()


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class CubaLIF(_Population):
    r"""Current-based LIF: :math:`\tau_{syn} \dot I = -I + w_{in} S`,
    :math:`\tau_{mem} \dot v = (v_{leak} - v) + R I`; spike when ``v > v_threshold``, then ``v = v_reset``."""

    kind = "CubaLIF"
    _shape_param = "tau_mem"
    traits = (
        Population(gains=("w_in",), synapse=True, decays=(("tau_syn", True), ("tau_mem", True))),
        Levels(params=("v_threshold", "v_reset", "v_leak")),
        Spiking(),
        Continuous(
            discretize=_discretizer(cuba_factors),
            inverse=cuba_inverse(True),
            time_constants=("tau_syn", "tau_mem"),
        ),
    )
    tau_syn: object = param(positive=True)
    tau_mem: object = param(positive=True)
    r: object = param()
    v_leak: object = param()
    v_threshold: object = param()
    v_reset: object = param()
    w_in: object = param()
