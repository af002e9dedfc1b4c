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

from spyx.errors import MissingDtError, OptionError, ShapeError
from spyx.ir.delay import delay_steps
from spyx.ir.graph import Graph
from spyx.ir.neurons import cuba_gain
from spyx.ir.node import Node
from spyx.ir.shapes import infer_shapes
from spyx.ir.traits import Continuous
from spyx.passes.base import Pass, PassResult
from spyx.passes.inline import inline_graph

__all__ = ["Discretize", "delay_steps", "cuba_gain", "discretize_node", "continuous_nodes"]


def discretize_node(name: str, node: Node, dt: float, method: str, rounding: str, shape=None) -> Node:
    """The discrete node of a continuous one, by its kind's :class:`~spyx.ir.traits.Continuous` trait."""
    return node.trait(Continuous).discretize(name, node, dt, method, rounding, shape)


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
        changes: list[str] = []
        if any(isinstance(n, Graph) for n in graph.nodes.values()):
            graph, inlined = inline_graph(graph)
            changes.extend(f"inline: {c}" for c in inlined)
        nodes = dict(graph.nodes)
        shapes = None
        for name, node in graph.nodes.items():
            if not node.continuous:
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
            nodes[name] = discretize_node(name, node, float(self.dt), self.method, self.delay_rounding, shape)
            changes.append(f"{name}: {node.kind} -> {nodes[name].kind} (dt={self.dt}, {self.method})")
        if not changes:
            return PassResult(graph, False)
        return PassResult(graph.with_nodes(nodes), True, tuple(changes))
