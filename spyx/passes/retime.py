r"""``retime{dt=...,from_dt=...}``: change the time step of a graph (preserves: approximate).

The time step a graph was made for is recorded in the top-level graph metadata under :data:`DT_KEY`
(``"spyx.dt"``, seconds, a float). ``spyx.compile`` uses it when no ``dt`` is given. This pass:

* **Continuous-time nodes** (LIF, CubaLIF, ... Delay) are equations without a step; they are kept as they
  are. A ``Delay`` must be a whole number of new steps, since discretising it would otherwise round it.
* **Discrete nodes** need the old step: ``metadata["spyx.dt"]``, else the ``from_dt`` option (an error
  when both are given and disagree, and when neither is). With ``q = dt / dt_old``:

  - ``spyx.Shift``: ``steps * dt_old / dt`` (an error unless a whole number).
  - ``spyx.Neuron``: its reset-free dynamics are read as the exact zero-order-hold discretisation of a
    linear continuous-time system and re-discretised at the new step. Per neuron, with the input ``x``
    and a constant 1 appended to the state ``z = (i, v)``, one step is the matrix

    .. math:: E = \begin{pmatrix} \alpha & 0 & w_{syn} & 0 \\ g_{prev} + g_{syn}\alpha & \beta &
              g_{syn} w_{syn} + g_x & bias \\ 0 & 0 & 1 & 0 \\ 0 & 0 & 0 & 1 \end{pmatrix}

    and the new step is :math:`E^q` (for a neuron without synapse, the 2x2 corner of ``v``:
    ``beta' = beta^q``, ``g_x' = g_x (1 - beta^q) / (1 - beta)``, the same factor for ``bias``, ``q`` when
    ``beta = 1``). The new parameters read back as ``alpha' = E^q[0,0]``, ``w_syn' = E^q[0,2]``,
    ``beta' = E^q[1,1]``, ``bias' = E^q[1,3]``; ``g_syn`` is kept and ``g_prev``, ``g_x`` take the rest.
    Thresholds, resets, ``v_min`` and every option are unchanged.

What is preserved, exactly: for a reset-free neuron (non-spiking, or before its first spike) whose input is
held constant over each new step, the state at the common sample times ``t = k dt`` is the same as before
(up to float rounding; tested against closed forms). Spikes and resets happen on the step grid, so spike
times move by up to one step; they converge to the continuous-time solution as ``dt`` shrinks. Decays must
be in ``(0, 1]`` (``0`` is allowed without a synapse; ``q`` must then be > 0); a non-integer ``q`` with a
negative decay has no real solution and is an error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyx.errors import MissingDtError, OptionError, UnsupportedError
from spyx.ir.graph import Graph
from spyx.ir.restep import _REL, retime_neuron, whole_steps
from spyx.ir.traits import Causal, Discrete
from spyx.passes.base import Pass, PassResult

__all__ = ["Retime", "DT_KEY", "retime_neuron", "graph_dt"]

DT_KEY = "spyx.dt"


def graph_dt(graph: Graph) -> float | None:
    """The time step recorded in ``graph.metadata["spyx.dt"]``, or None."""
    value = graph.metadata.get(DT_KEY)
    return None if value is None else float(np.asarray(value).reshape(-1)[0])


def _has_discrete(graph: Graph) -> bool:
    return any(n.has_trait(Discrete) for _, n in graph.walk())


def _retime_nodes(graph: Graph, q: float | None, dt: float, prefix: str, changes: list[str]) -> Graph:
    nodes = dict(graph.nodes)
    for name, node in graph.nodes.items():
        where = f"node {prefix}{name} ({node.kind})"
        discrete, causal = node.trait(Discrete), node.trait(Causal)
        if isinstance(node, Graph):
            nodes[name] = _retime_nodes(node, q, dt, f"{prefix}{name}.", changes)
        elif node.continuous and causal is not None:  # a delay in seconds: kept, but whole steps of dt
            value = getattr(node, causal.param)
            whole_steps(value.astype(np.float64) / dt, f"{where}: {causal.param} at dt={dt:g}", value.dtype)
        elif discrete is not None and q is not None and q != 1.0:
            if discrete.retime is None:
                raise UnsupportedError(f"{where}: retime has no rule to re-discretise this kind for another step")
            nodes[name] = discrete.retime(node, q, where)
            changes.append(f"{prefix}{name}: {discrete.describe(q)}")
    if all(nodes[k] is graph.nodes[k] for k in nodes):
        return graph
    return graph.with_nodes(nodes)


@dataclass(frozen=True, kw_only=True)
class Retime(Pass):
    """Change the time step: record it for continuous graphs, re-discretise discrete nodes."""

    name = "retime"
    description = "change the time step: record spyx.dt; re-discretise spyx.Neuron/Shift (exact if linear)"
    preserves = "approximate"

    dt: float
    from_dt: float | None = None

    def __post_init__(self) -> None:
        if not self.dt > 0:
            raise OptionError(
                f"pass 'retime' needs a time step dt > 0 in seconds, e.g. retime{{dt=1e-3}}; got {self.dt}"
            )
        if self.from_dt is not None and not self.from_dt > 0:
            raise OptionError(f"pass 'retime': from_dt must be > 0 seconds, got {self.from_dt}")

    def call(self, graph: Graph) -> PassResult:
        recorded = graph_dt(graph)
        if (
            recorded is not None
            and self.from_dt is not None
            and not np.isclose(recorded, self.from_dt, rtol=_REL)
        ):
            raise OptionError(
                f"retime: from_dt={self.from_dt:g} contradicts the graph's recorded {DT_KEY}={recorded:g}; "
                "leave from_dt out, or fix the metadata"
            )
        old = recorded if recorded is not None else self.from_dt
        q = None
        if _has_discrete(graph):
            if old is None:
                raise MissingDtError(
                    f"retime: the graph has discrete nodes (spyx.Neuron/spyx.Shift) but no recorded "
                    f"{DT_KEY}; "
                    "give the step they were made for, e.g. retime{dt=5e-4,from_dt=1e-3}"
                )
            q = self.dt / old
        changes: list[str] = []
        new = _retime_nodes(graph, q, self.dt, "", changes)
        if recorded is not None and np.isclose(recorded, self.dt, rtol=_REL) and new is graph:
            return PassResult(graph, False)
        meta = dict(graph.metadata)
        meta[DT_KEY] = float(self.dt)
        changes.append(f"{DT_KEY} = {self.dt:g}" + (f" (was {old:g})" if old is not None else ""))
        return PassResult(Graph(nodes=new.nodes, edges=new.edges, metadata=meta), True, tuple(changes))
