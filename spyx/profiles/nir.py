"""The ``nir`` profile (the default): NIR's own continuous-time semantics, discretised by the ``discretize``
pass (zero-order hold, ``exact`` or ``euler``; see ``spyx/passes/discretize.py`` and docs/semantics.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from spyx.ir.graph import Graph
from spyx.profiles.base import LoweredGraph, Profile

__all__ = ["NirProfile"]


@dataclass(frozen=True, kw_only=True)
class NirProfile(Profile):
    """NIR as specified: every neuron integrates its ODE over dt, strict ``>`` test, reset to ``v_reset``."""

    name = "nir"
    framework = "NIR"
    description = "NIR's continuous-time semantics, discretised exactly (zero-order hold) or by forward Euler"

    method: Literal["exact", "euler"] = "exact"
    delay_rounding: Literal["error", "round", "floor", "ceil"] = "error"

    def lower(self, graph: Graph, dt: float | None = None) -> LoweredGraph:
        from spyx.ir.verify import verify
        from spyx.passes.discretize import Discretize
        from spyx.passes.inline import inline_graph

        graph, _ = inline_graph(graph)
        graph = Discretize(
            dt=None if dt is None else float(dt), method=self.method, delay_rounding=self.delay_rounding
        )(graph).graph
        return LoweredGraph(verify(graph), dt, ())

    def encode(self, graph: Graph, dt: float | None) -> tuple[Graph, list[str]]:
        return graph, []
