r"""``discretize``: lower continuous-time NIR nodes to ``spyx.Neuron`` / ``spyx.Shift`` (the NIR profile).

The input is held constant over each step (zero-order hold): ``x(s) = x_t`` for ``s`` in the step that ends
at ``t``. ``method=exact`` solves the linear ODEs exactly over one step of length ``dt``; ``method=euler``
takes one forward-Euler step of the same ODEs (derivatives evaluated at the start of the step). Every
spiking kind then tests ``u > v_threshold`` (strict) and resets ``v := v_reset`` in the same step (reset
``value``, binary spikes, no clamp). The factors are computed in float64 from the stored parameters and
stored in the dtype of the original parameters.

======  ==============================  ===============  ================  =====================
kind    exact: beta                     exact: g_x       bias              euler
======  ==============================  ===============  ================  =====================
I, IF   1                               ``r dt``         0                 same as exact
LI, LIF ``exp(-dt/tau)``                ``r (1-beta)``   ``(1-beta) v_l``  ``beta = 1 - dt/tau``,
                                                                           ``g_x = r dt/tau``,
                                                                           ``bias = v_l dt/tau``
======  ==============================  ===============  ================  =====================

CubaLI / CubaLIF, ``tau_s I' = -I + w_in x``, ``tau_m v' = v_leak - v + r I``. With ``a = dt/tau_s``,
``b = dt/tau_m``, ``alpha = e^{-a}``, ``beta = e^{-b}`` and ``x`` constant over the step, the synapse is
``I(s) = alpha_s I_0 + w_in x (1 - alpha_s)``, so ``alpha``, ``w_syn = w_in (1 - alpha)``. Variation of
constants for ``v`` over the step gives

    ``v_1 = beta v_0 + (1-beta) v_leak + r [ K I_0 + w_in (1 - beta - K) x ]``,
    ``K = (1/tau_m) \int_0^dt e^{-(dt-s)/tau_m} e^{-s/tau_s} ds = b (alpha - beta) / (b - a)``,

so ``g_prev = r K`` (gain of ``i_{t-1}``), ``g_x = r w_in (1 - beta - K)``, ``g_syn = 0``. ``K`` is evaluated
as ``b e^{-a} (-expm1(-(b - a)) / (b - a))``, which is stable as ``tau_s -> tau_m`` and equals its limit
``b e^{-b}`` when ``tau_s == tau_m`` (the factor ``-expm1(-d)/d`` is set to 1 at ``d = 0``).
Euler: ``alpha = 1 - a``, ``w_syn = w_in a``, ``beta = 1 - b``, ``g_prev = r b``, ``g_x = 0``,
``bias = v_leak b`` (the membrane sees the synaptic current at the start of the step).

``Delay(tau)`` becomes ``Shift`` of ``round(tau/dt)`` steps; a ``tau/dt`` that is not an integer within 1e-6
(relative) is an error unless ``delay_rounding`` is ``round``, ``floor`` or ``ceil``.

Nested graphs are inlined first (the pass runs ``inline`` itself). Nodes that are already discrete are
kept as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from spyx.errors import CompileError, MissingDtError, OptionError, ShapeError
from spyx.ir.discrete import Neuron, Shift
from spyx.ir.graph import Graph
from spyx.ir.node import Node
from spyx.ir.shapes import infer_shapes
from spyx.passes.base import Pass, PassResult

__all__ = ["Discretize", "neuron_factors", "delay_steps", "cuba_gain"]

F64 = np.float64


def _dtype(node: Node) -> np.dtype:
    floats = [v.dtype for v in node.params().values() if v.dtype.kind == "f"]
    return np.result_type(*floats) if floats else np.dtype(np.float32)


def _full(node: Node, name: str, shape) -> np.ndarray:
    return np.broadcast_to(np.asarray(getattr(node, name), dtype=F64), shape)


def cuba_gain(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``K = b (e^{-a} - e^{-b}) / (b - a)``, ``a = dt/tau_syn``, ``b = dt/tau_mem``; stable at ``a ~ b``."""
    d = b - a
    safe = np.where(d == 0, 1.0, d)
    ratio = np.where(d == 0, 1.0, -np.expm1(-safe) / safe)
    return b * np.exp(-a) * ratio


def neuron_factors(node: Node, dt: float, method: str, shape=None) -> dict[str, np.ndarray]:
    """The ``spyx.Neuron`` parameters (float64) of a continuous neuron node for one step ``dt``."""
    kind = node.kind
    synapse = kind in ("CubaLI", "CubaLIF")
    if shape is None:
        shape = tuple((node.tau_mem if synapse else (node.r if kind in ("I", "IF") else node.tau)).shape)
    r = _full(node, "r", shape)
    out: dict[str, np.ndarray] = {}
    if kind in ("I", "IF"):
        out.update(beta=np.ones(shape), g_x=r * dt, bias=np.zeros(shape))
    elif kind in ("LI", "LIF"):
        b = dt / _full(node, "tau", shape)
        leak = _full(node, "v_leak", shape)
        if method == "exact":
            beta = np.exp(-b)
            out.update(beta=beta, g_x=r * -np.expm1(-b), bias=-np.expm1(-b) * leak)
        else:
            out.update(beta=1.0 - b, g_x=r * b, bias=leak * b)
    else:
        a = dt / _full(node, "tau_syn", shape)
        b = dt / _full(node, "tau_mem", shape)
        leak = _full(node, "v_leak", shape)
        w_in = _full(node, "w_in", shape)
        if method == "exact":
            k = cuba_gain(a, b)
            one_m_beta = -np.expm1(-b)
            out.update(
                alpha=np.exp(-a),
                w_syn=w_in * -np.expm1(-a),
                beta=np.exp(-b),
                g_prev=r * k,
                g_x=r * w_in * (one_m_beta - k),
                g_syn=np.zeros(shape),
                bias=one_m_beta * leak,
            )
        else:
            out.update(
                alpha=1.0 - a,
                w_syn=w_in * a,
                beta=1.0 - b,
                g_prev=r * b,
                g_x=np.zeros(shape),
                g_syn=np.zeros(shape),
                bias=leak * b,
            )
    if node.spiking:
        out["v_threshold"] = _full(node, "v_threshold", shape)
        out["v_reset"] = _full(node, "v_reset", shape)
    return out


def delay_steps(name: str, node: Node, dt: float, rounding: str) -> np.ndarray:
    """Integer steps of a Delay; CompileError naming the node if ``tau/dt`` is fractional (rounding=error)."""
    ratio = np.asarray(node.delay, dtype=F64) / dt
    nearest = np.round(ratio)
    # Within 1e-6 (relative) of a whole number is that number in every mode: float32 delays such as
    # 1e-3 / 1e-3 = 1.0000000475 must not ceil to 2.
    whole = np.abs(ratio - nearest) <= 1e-6 * np.maximum(np.abs(ratio), 1.0)
    if rounding == "error" and not np.all(whole):
        worst = float(ratio[~whole].reshape(-1)[0])
        raise CompileError(
            f"node {name} (Delay): delay/dt = {worst:.6g} is not a whole number of steps (dt={dt}); "
            "choose a dt that divides the delays or pass delay_rounding=round|floor|ceil"
        )
    rounded = {"error": np.round, "round": np.round, "floor": np.floor, "ceil": np.ceil}[rounding](ratio)
    steps = np.where(whole, nearest, rounded)
    return steps.astype(np.int64)


def _lower(name: str, node: Node, dt: float, method: str, rounding: str, shape=None) -> Node:
    if node.kind == "Delay":
        return Shift(steps=delay_steps(name, node, dt, rounding), metadata=node.metadata)
    dtype = _dtype(node)
    factors = {k: v.astype(dtype) for k, v in neuron_factors(node, dt, method, shape).items()}
    return Neuron(
        **factors,
        synapse="alpha" in factors,
        fires=node.spiking,
        spike_test="gt",
        spike_count="binary",
        reset="value",
        reset_delay=False,
        metadata=node.metadata,
    )


_LOWERED = ("I", "IF", "LI", "LIF", "CubaLI", "CubaLIF", "Delay")


def continuous_nodes(graph: Graph, prefix: str = "") -> list[tuple[str, str]]:
    """(path, kind) of every continuous-time node, nested graphs included."""
    return [
        (path, node.kind)
        for path, node in graph.walk(prefix)
        if node.continuous and not isinstance(node, Graph)
    ]


@dataclass(frozen=True, kw_only=True)
class Discretize(Pass):
    """Lower I/IF/LI/LIF/CubaLI/CubaLIF to ``spyx.Neuron`` and Delay to ``spyx.Shift`` for step ``dt``."""

    name = "discretize"
    description = (
        "lower continuous NIR neurons and delays to discrete steps of dt (zero-order hold; exact or euler)"
    )
    preserves = "approximate"

    dt: float | None = None
    method: Literal["exact", "euler"] = "exact"
    delay_rounding: Literal["error", "round", "floor", "ceil"] = "error"

    def requires(self, graph: Graph) -> None:
        if self.method not in ("exact", "euler"):
            raise OptionError(f"discretize: method must be exact or euler, got {self.method!r}")
        if self.delay_rounding not in ("error", "round", "floor", "ceil"):
            raise OptionError(
                f"discretize: delay_rounding must be error, round, floor or ceil, got {self.delay_rounding!r}"
            )
        if self.dt is not None and not (np.isfinite(self.dt) and self.dt > 0):
            raise OptionError(f"discretize: dt must be a positive number, got {self.dt!r}")
        if self.dt is None:
            found = continuous_nodes(graph)
            if found:
                listed = ", ".join(f"{p}: {k}" for p, k in found[:6]) + (", ..." if len(found) > 6 else "")
                raise MissingDtError(f"graph has continuous-time nodes ({listed}); pass dt (CLI: --dt)")

    def call(self, graph: Graph) -> PassResult:
        from spyx.passes.inline import inline_graph

        changes: list[str] = []
        if any(isinstance(n, Graph) for n in graph.nodes.values()):
            graph, inlined = inline_graph(graph)
            changes.extend(f"inline: {c}" for c in inlined)
        nodes = dict(graph.nodes)
        shapes = None
        for name, node in graph.nodes.items():
            if node.kind not in _LOWERED:
                continue
            shape = None
            if getattr(node, "shared", lambda: False)():  # scalar parameters: the population is its input's
                shapes = shapes or infer_shapes(graph, diagnostics=[])
                shape = shapes[name].input
                if shape is None:
                    raise ShapeError(
                        f"node {name} ({node.kind}): its parameters are scalars and no input shape "
                        "reaches it; give the neurons per-neuron parameters or an upstream node with a "
                        "known shape"
                    )
            nodes[name] = _lower(name, node, float(self.dt), self.method, self.delay_rounding, shape)
            changes.append(f"{name}: {node.kind} -> {nodes[name].kind} (dt={self.dt}, {self.method})")
        if not changes:
            return PassResult(graph, False)
        return PassResult(graph.with_nodes(nodes), True, tuple(changes))
