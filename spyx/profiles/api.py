"""The profile entry points used by ``spyx.compile``, ``spyx.load``/``save`` and ``spyx-convert``: thin names
over the one lowering pipeline (:mod:`spyx.profiles.pipeline`) and the export encoding."""

from __future__ import annotations

from typing import Any

from spyx.errors import OptionError
from spyx.ir.graph import Graph
from spyx.profiles.base import LoweredGraph, Profile
from spyx.profiles.encode import encode_graph
from spyx.profiles.pipeline import lower
from spyx.profiles.registry import get_profile
from spyx.profiles.resolve import PROFILE_KEY, resolve_profile

__all__ = ["resolve_profile", "lower_with_profile", "apply_profile", "encode_for", "PROFILE_KEY"]


def lower_with_profile(
    graph: Graph, spec: str | Profile | None = None, *, dt: float | None = None, **options: Any
) -> LoweredGraph:
    """The flat, discrete, verified graph of ``graph`` under a profile: :func:`spyx.profiles.pipeline.lower`."""
    return lower(graph, spec, dt=dt, **options)


def apply_profile(
    graph: Graph, spec: str | Profile, dt: float | None = None
) -> tuple[Graph, float | None, list[str]]:
    """``(lowered graph, dt, notes)``: the discrete graph ``spyx-convert run --profile`` executes."""
    out = lower(graph, spec, dt=dt)
    return out.graph, out.dt, list(out.notes)


def encode_for(graph: Graph, spec: str | Profile, dt: float | None = None) -> tuple[Graph, list[str]]:
    """``graph`` (NIR semantics) with its neuron parameters written the way ``spec``'s importer reads them,
    so that the peer runs the model spyx runs with the ``nir`` profile. ``(graph, notes)``."""
    if isinstance(spec, str) and spec.strip() == "auto":
        raise OptionError("encode_for needs a named profile (snntorch, norse, sinabs, rockpool), not auto")
    return encode_graph(graph, get_profile(spec), dt)
