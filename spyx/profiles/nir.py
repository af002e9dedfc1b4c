"""The ``nir`` profile (the default): NIR's own continuous-time semantics. Its lowering is the ``discretize``
pass (zero-order hold, ``exact`` or ``euler``; each kind's discretisation is its
:class:`~spyx.ir.traits.Continuous` trait; see ``spyx/passes/discretize.py`` and docs/semantics.md). A NIR
file means what NIR says, so there is nothing to fix before lowering and nothing to re-encode on export."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from spyx.ir.graph import Graph
from spyx.ir.node import Node
from spyx.passes.base import Pass
from spyx.passes.discretize import Discretize
from spyx.profiles.base import Profile
from spyx.profiles.invert import nir_continuous

__all__ = ["NirProfile"]


@dataclass(frozen=True, kw_only=True)
class NirProfile(Profile):
    """NIR as specified: every neuron integrates its ODE over dt, strict ``>`` test, reset to ``v_reset``."""

    name = "nir"
    framework = "NIR"
    description = "NIR's continuous-time semantics, discretised exactly (zero-order hold) or by forward Euler"
    native_nir = True
    #: ``discretize`` integrates over dt, then tests the spike on the new membrane
    dynamic_before_transition = True

    method: Literal["exact", "euler"] = "exact"
    delay_rounding: Literal["error", "round", "floor", "ceil"] = "error"

    def fixups(self) -> list[Pass]:
        return []

    def lower_nodes(self, graph: Graph, dt: float | None) -> tuple[Graph, list[str]]:
        step = None if dt is None else float(dt)
        result = Discretize(dt=step, method=self.method, delay_rounding=self.delay_rounding)(graph)
        return result.graph, list(result.changes)

    def invert_neuron(self, name: str, neuron: Node, dt: float | None) -> Node:
        """The NIR kind whose exact discretisation is ``neuron`` (its :class:`~spyx.ir.traits.Continuous`
        inverse): :func:`spyx.profiles.invert.nir_continuous`."""
        return nir_continuous(name, neuron, dt)
