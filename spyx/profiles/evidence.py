"""What exporter detection reads from a file: its neuron parameters, gathered once (:class:`Evidence`), and
the answer (:class:`Detection`). Each profile's ``detect(evidence)`` (its own rule, beside its lowering)
says whether the file follows that framework's convention; :func:`spyx.profiles.detect` asks them in order."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spyx.ir.graph import Graph
from spyx.ir.node import Node
from spyx.ir.traits import Continuous, Population, Spiking
from spyx.profiles.common import a64

__all__ = ["Detection", "Evidence", "evidence", "close", "RTOL"]

RTOL = 1e-4


@dataclass(frozen=True)
class Detection:
    """``exporter``: the profile name, or None (no neurons, no known convention, or ambiguous);
    ``candidates``: the profiles the parameters fit; ``evidence``: one human line per finding."""

    exporter: str | None
    candidates: tuple[str, ...] = ()
    evidence: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ambiguous(self) -> bool:
        return self.exporter is None and len(self.candidates) > 1

    def to_dict(self) -> dict:
        return {
            "exporter": self.exporter,
            "candidates": list(self.candidates),
            "evidence": list(self.evidence),
        }


def close(a, b) -> bool:
    a, b = np.broadcast_arrays(a64(a), a64(b))
    return bool(np.allclose(a, b, rtol=RTOL, atol=0))


@dataclass(frozen=True)
class Evidence:
    """The file's NIR neuron nodes (LIF, CubaLIF, LI, IF; nested graphs included) as every rule reads them:
    ``taus`` the membrane time constant of each leaky one, ``rs`` each ``r``, ``spiking`` the taus of the
    spiking leaky ones, ``leak0`` whether every ``v_leak`` is 0, ``what`` the count for messages."""

    graph: Graph
    nodes: dict[str, Node]
    neurons: dict[str, Node]
    taus: dict[str, np.ndarray]
    rs: dict[str, np.ndarray]
    kinds: set[str]
    leak0: bool
    spiking: dict[str, np.ndarray]
    what: str


# the NIR neuron kinds exporters write (CubaLI and I are written by none of them)
_EXPORTED = ("LIF", "CubaLIF", "LI", "IF")


def _membrane_tau(node: Node) -> np.ndarray | None:
    names = node.trait(Continuous).time_constants
    return a64(getattr(node, names[-1])) if names else None


def evidence(graph: Graph) -> Evidence | None:
    """The evidence of ``graph``, or None when it has no neuron any exporter writes."""
    nodes = dict(graph.walk())
    neu = {k: v for k, v in nodes.items() if v.kind in _EXPORTED}
    if not neu:
        return None
    count = sum(
        int(np.prod(np.broadcast_shapes(*(np.shape(p) for p in v.params().values())))) for v in neu.values()
    )
    taus = {k: t for k, v in neu.items() if (t := _membrane_tau(v)) is not None}
    return Evidence(
        graph=graph,
        nodes=nodes,
        neurons=neu,
        taus=taus,
        rs={k: a64(v.r) for k, v in neu.items()},
        kinds={v.kind for v in neu.values()},
        leak0=all(np.all(a64(v.v_leak) == 0) for k, v in neu.items() if k in taus),
        spiking={k: t for k, t in taus.items() if neu[k].has_trait(Spiking) and neu[k].has_trait(Population)},
        what=f"{count} neurons in {len(neu)} node{'s' if len(neu) > 1 else ''}",
    )
