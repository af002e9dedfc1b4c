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

from spyx.errors import MissingDtError, OptionError, ParameterError, UnsupportedError
from spyx.ir.graph import Graph
from spyx.ir.node import Node
from spyx.passes.base import Pass, PassResult
from spyx.passes.weights import cast_like

__all__ = ["Retime", "DT_KEY", "retime_neuron", "graph_dt"]

DT_KEY = "spyx.dt"
_REL = 1e-9


def graph_dt(graph: Graph) -> float | None:
    """The time step recorded in ``graph.metadata["spyx.dt"]``, or None."""
    value = graph.metadata.get(DT_KEY)
    return None if value is None else float(np.asarray(value).reshape(-1)[0])


def _whole(value: np.ndarray, what: str, stored: np.dtype) -> np.ndarray:
    """``value`` rounded to integers; an error unless each is within the storage type's rounding of one."""
    rel = max(_REL, 8 * float(np.finfo(stored).eps)) if np.dtype(stored).kind == "f" else _REL
    value = np.asarray(value, dtype=np.float64)
    rounded = np.rint(value)
    off = np.abs(value - rounded) > rel * np.maximum(1.0, np.abs(value))
    if np.any(off):
        bad = value[off].reshape(-1)[:3]
        raise UnsupportedError(
            f"{what} is not a whole number of steps ({', '.join(f'{b:.6g}' for b in bad)})"
        )
    return rounded


def _decay_power(x: np.ndarray, q: float, name: str, where: str) -> tuple[np.ndarray, np.ndarray]:
    """(x**q, (x**q - 1) / (x - 1)) elementwise, float64; the ratio is q where x == 1 and 1 where x == 0."""
    if np.any(x < 0):
        raise ParameterError(f"{where}: {name} has negative values; retime needs decays in [0, 1]")
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.log(x)
        power = np.exp(q * lam)
        ratio = np.where(x == 1.0, q, np.expm1(q * lam) / np.expm1(lam))
    power = np.where(x == 0.0, 0.0, power)
    ratio = np.where(x == 0.0, 1.0, ratio)
    return power, ratio


def _synapse_power(rows: np.ndarray, q: float, where: str) -> np.ndarray:
    """E**q for each unique parameter row (alpha, c, beta, w_syn, d, bias) of a synaptic neuron."""
    from scipy.linalg import fractional_matrix_power

    out = np.empty_like(rows)
    for j, (alpha, c, beta, w_syn, d, bias) in enumerate(rows):
        e = np.array(
            [[alpha, 0.0, w_syn, 0.0], [c, beta, d, bias], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]],
            dtype=np.float64,
        )
        if float(q).is_integer():
            p = np.linalg.matrix_power(e, int(q))
        else:
            if alpha <= 0 or beta <= 0:
                raise ParameterError(f"{where}: decays must be > 0 for a non-integer step ratio {q:g}")
            p = fractional_matrix_power(e, q)
            if np.iscomplexobj(p):
                p = p.real
        out[j] = (p[0, 0], p[1, 0], p[1, 1], p[0, 2], p[1, 2], p[1, 3])
    return out


def retime_neuron(node: Node, q: float, where: str = "neuron") -> Node:
    """A ``spyx.Neuron`` re-discretised for a step ``q`` times the old one (see the module docstring)."""
    f64 = {k: v.astype(np.float64) for k, v in node.params().items()}
    if not node.synapse:
        beta_q, ratio = _decay_power(f64["beta"], q, "beta", where)
        return node.replace(
            beta=cast_like(beta_q, node.beta),
            g_x=cast_like(f64["g_x"] * ratio, node.g_x),
            bias=cast_like(f64["bias"] * ratio, node.bias),
        )
    for name in ("alpha", "beta"):
        if np.any(f64[name] < 0):
            raise ParameterError(f"{where}: {name} has negative values; retime needs decays in [0, 1]")
    c = f64["g_prev"] + f64["g_syn"] * f64["alpha"]
    d = f64["g_syn"] * f64["w_syn"] + f64["g_x"]
    stacked = np.stack([f64["alpha"], c, f64["beta"], f64["w_syn"], d, f64["bias"]], axis=-1).reshape(-1, 6)
    unique, inverse = np.unique(stacked, axis=0, return_inverse=True)
    powered = _synapse_power(unique, q, where)[inverse.reshape(-1)].reshape(*node.shape, 6)
    alpha, c, beta, w_syn, d, bias = (powered[..., j] for j in range(6))
    g_syn = f64["g_syn"]
    return node.replace(
        alpha=cast_like(alpha, node.alpha),
        w_syn=cast_like(w_syn, node.w_syn),
        beta=cast_like(beta, node.beta),
        bias=cast_like(bias, node.bias),
        g_prev=cast_like(c - g_syn * alpha, node.g_prev),
        g_x=cast_like(d - g_syn * w_syn, node.g_x),
    )


def _has_discrete(graph: Graph) -> bool:
    return any(n.kind in ("spyx.Neuron", "spyx.Shift") for _, n in graph.walk())


def _retime_nodes(graph: Graph, q: float | None, dt: float, prefix: str, changes: list[str]) -> Graph:
    nodes = dict(graph.nodes)
    for name, node in graph.nodes.items():
        where = f"node {prefix}{name} ({node.kind})"
        if isinstance(node, Graph):
            nodes[name] = _retime_nodes(node, q, dt, f"{prefix}{name}.", changes)
        elif node.kind == "Delay":
            _whole(node.delay.astype(np.float64) / dt, f"{where}: delay at dt={dt:g}", node.delay.dtype)
        elif node.kind == "spyx.Shift" and q is not None and q != 1.0:
            steps = _whole(
                node.steps.astype(np.float64) / q, f"{where}: steps x {1 / q:g}", np.dtype(np.float64)
            )
            nodes[name] = node.replace(steps=steps.astype(node.steps.dtype))
            changes.append(f"{prefix}{name}: steps x {1 / q:g}")
        elif node.kind == "spyx.Neuron" and q is not None and q != 1.0:
            nodes[name] = retime_neuron(node, q, where)
            changes.append(f"{prefix}{name}: re-discretised for a step x {q:g}")
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
