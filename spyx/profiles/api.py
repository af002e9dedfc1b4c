"""The profile entry points used by ``spyx.compile``, ``spyx.load``/``save`` and ``spyx-convert``."""

from __future__ import annotations

from typing import Any

from spyx.errors import OptionError
from spyx.ir.graph import Graph
from spyx.profiles.base import LoweredGraph, Profile
from spyx.profiles.detect import detect
from spyx.profiles.registry import get_profile

__all__ = ["resolve_profile", "lower_with_profile", "apply_profile", "encode_for", "PROFILE_KEY"]

PROFILE_KEY = "spyx.profile"  # graph metadata: the profile spec a loaded graph is to be compiled with


def resolve_profile(graph: Graph, spec: str | Profile | None, **options: Any) -> tuple[Profile, list[str]]:
    """The profile for ``graph``: ``spec`` (a name, a spec, a Profile, ``"auto"``), else the one recorded in
    the graph's metadata (``spyx.profile``), else ``nir``. ``auto`` runs :func:`detect` and raises
    :class:`OptionError` when the file is ambiguous."""
    if spec is None:
        spec = graph.metadata.get(PROFILE_KEY, "nir")
    if isinstance(spec, str) and spec.strip() == "auto":
        found = detect(graph)
        if found.exporter is not None:
            return get_profile(found.exporter, **options), [
                f"profile auto: {found.exporter} ({found.evidence[0]})"
            ]
        if found.ambiguous:
            raise OptionError(
                f"profile auto: cannot tell the exporter apart, candidates {', '.join(found.candidates)} "
                f"({'; '.join(found.evidence)}); pass --profile NAME (Python: profile=NAME)"
            )
        return get_profile("nir", **options), [f"profile auto: nir ({found.evidence[0]})"]
    return get_profile(spec, **options), []


def lower_with_profile(
    graph: Graph, spec: str | Profile | None = None, *, dt: float | None = None, **options: Any
) -> LoweredGraph:
    """The flat, discrete, verified graph of ``graph`` under a profile (see :func:`resolve_profile`)."""
    profile, notes = resolve_profile(graph, spec, **options)
    out = profile.lower(graph, dt)
    return LoweredGraph(out.graph, out.dt, (*notes, *out.notes))


def apply_profile(
    graph: Graph, spec: str | Profile, dt: float | None = None
) -> tuple[Graph, float | None, list[str]]:
    """``(lowered graph, dt, notes)``: the discrete graph ``spyx-convert run --profile`` executes."""
    out = lower_with_profile(graph, spec, dt=dt)
    return out.graph, out.dt, list(out.notes)


def encode_for(graph: Graph, spec: str | Profile, dt: float | None = None) -> tuple[Graph, list[str]]:
    """``graph`` (NIR semantics) with its neuron parameters written the way ``spec``'s importer reads them,
    so that the peer runs the model spyx runs with the ``nir`` profile. ``(graph, notes)``."""
    if isinstance(spec, str) and spec.strip() == "auto":
        raise OptionError("encode_for needs a named profile (snntorch, norse, sinabs, rockpool), not auto")
    profile = get_profile(spec)
    return profile.encode(graph, dt)
