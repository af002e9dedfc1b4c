"""``verify{max_bytes=...}``: check every invariant (:func:`spyx.ir.verify`); the last stage of the lowering
pipeline (preserves: structure). It changes nothing and raises the :class:`~spyx.errors.VerifyError` kind of
the first problem, listing them all."""

from __future__ import annotations

from dataclasses import dataclass

from spyx.ir.graph import Graph
from spyx.ir.verify import verify
from spyx.limits import MAX_BYTES
from spyx.passes.base import Pass, PassResult

__all__ = ["Verify"]


@dataclass(frozen=True, kw_only=True)
class Verify(Pass):
    """Verify the graph; never changes it."""

    name = "verify"
    description = "check every invariant of the graph (structure, parameters, shapes, sizes, algebraic loops)"
    preserves = "structure"

    max_bytes: int = MAX_BYTES

    def call(self, graph: Graph) -> PassResult:
        verify(graph, max_bytes=self.max_bytes)
        return PassResult(graph, False)
