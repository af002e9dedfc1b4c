"""The one lowering pipeline: a NIR graph (or a loaded file) to the flat, discrete, verified graph the
backend generates code from. Every entry point runs it: ``spyx.compile``, ``spyx.load(path, profile=...)``
(its first stage), ``spyx-convert run`` and ``spyx-convert lower``, ``spyx.nn.from_nir``, export for a peer::

    *profile.fixups()  ->  inline  ->  *profile.flat_fixups()  ->  lower-neurons{profile=P,dt=D}  ->  verify

built from registered passes and run by the project's :class:`~spyx.passes.PassManager` (with
``keep_error_types``: a :class:`~spyx.errors.MissingDtError`, a :class:`~spyx.errors.CompileError` naming a
Delay, a :class:`~spyx.errors.VerifyError` keep their kind; any other failure is a
:class:`~spyx.errors.PassError` naming the pass and those before it). Which profile and which dt are decided
in :mod:`spyx.profiles.resolve`, once. A graph with nothing continuous left is lowered to itself, so there is
no marker against lowering twice.
"""

from __future__ import annotations

from typing import Any

from spyx.ir.graph import Graph
from spyx.limits import MAX_BYTES
from spyx.passes.base import Pass, PassManager
from spyx.passes.inline import Inline
from spyx.passes.verify import Verify
from spyx.profiles.base import LoweredGraph, Profile
from spyx.profiles.lower_neurons import LowerNeurons
from spyx.profiles.resolve import PROFILE_KEY, assumptions, dt_guess, is_auto, resolve_dt, resolve_profile

__all__ = ["lowering_passes", "lower", "prepare"]


def lowering_passes(profile: Profile, dt: float | None = None, *, max_bytes: int = MAX_BYTES) -> list[Pass]:
    """The pipeline's passes for ``profile`` (resolved, not ``auto``) and the caller's ``dt``."""
    return [
        *profile.fixups(),
        Inline(),
        *profile.flat_fixups(),
        LowerNeurons(profile=profile, dt=dt),
        Verify(max_bytes=max_bytes),
    ]


def _notes(manager: PassManager, fixups: int) -> list[str]:
    """What the user should know: every repair the fixups made and the notes of every pass, unprefixed."""
    out: list[str] = []
    for i, (_, result) in enumerate(manager.log):
        if i < fixups:
            out += result.changes
        out += result.notes
    return out


def lower(
    graph: Graph, profile: str | Profile | None = None, *, dt: float | None = None, max_bytes: int = MAX_BYTES,
    **options: Any,
) -> LoweredGraph:
    """Lower ``graph`` through the pipeline: ``LoweredGraph(graph, dt, notes)``.

    ``profile``: ``None`` (the graph's recorded ``spyx.profile``, else ``nir``), a name or spec, a
    :class:`Profile` or ``"auto"``; ``options`` are applied to it (``method="euler"`` for ``nir``). ``dt``: the
    caller's time step, first in the rule of :func:`spyx.profiles.resolve.resolve_dt`.
    """
    chosen, notes = resolve_profile(graph, profile, **options)
    passes = lowering_passes(chosen, dt, max_bytes=max_bytes)
    manager = PassManager(passes, keep_error_types=True)
    result = manager(graph)
    used, _ = resolve_dt(dt, chosen, graph)  # the rule lower-neurons applied
    assumed = assumptions(chosen, options) if is_auto(profile) else []
    assumed += dt_guess(dt, chosen, _before_lowering(manager, graph))
    return LoweredGraph(
        result.graph, used, tuple(notes + _notes(manager, len(chosen.fixups()))), tuple(assumed), chosen.spec()
    )


def _before_lowering(manager: PassManager, graph: Graph) -> Graph:
    """The flat graph ``lower-neurons`` received (its dt rule reads that graph)."""
    before = graph
    for spec, result in manager.log:
        if spec.split("{")[0] == LowerNeurons.name:
            return before
        before = result.graph
    return before


def prepare(graph: Graph, profile: str | Profile | None = None, **options: Any) -> tuple[Graph, Profile, list[str]]:
    """The pipeline's first stage alone, for ``spyx.load(path, profile=...)``: ``graph`` with the profile's
    fixups applied and the profile recorded (``spyx.profile``) for the compile that follows; the profile and
    the notes (detection, repairs)."""
    chosen, notes = resolve_profile(graph, profile, **options)
    manager = PassManager(chosen.fixups(), keep_error_types=True)
    fixed = manager(graph).graph
    notes += _notes(manager, len(chosen.fixups()))
    notes += assumptions(chosen, options) if is_auto(profile) else []
    meta = {**fixed.metadata, PROFILE_KEY: chosen.spec()}
    return Graph(nodes=fixed.nodes, edges=fixed.edges, metadata=meta), chosen, notes
