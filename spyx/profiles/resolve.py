"""Which profile, and which time step: the two decisions of the lowering pipeline, each made in one place.

**Profile.** The ``profile`` argument (a name, a spec ``"snntorch{reset=zero}"``, a :class:`Profile`, or
``"auto"``), else the one recorded in the graph's metadata under :data:`PROFILE_KEY` (by
``spyx.load(path, profile=...)``), else ``nir``. ``auto`` runs :func:`spyx.profiles.detect` and refuses an
ambiguous file.

**dt** (:func:`resolve_dt`), first that applies:

1. the ``dt`` the caller gives (``spyx.compile(dt=)``, ``--dt``);
2. the profile's own ``dt`` option when the user set it (``snntorch{dt=1e-3}``);
3. the step recorded in the graph (metadata ``spyx.dt``: written by the ``retime`` pass, by
   ``spyx.save`` of a spyx model, and by every lowering);
4. the profile's default: the framework's own (snnTorch 1e-4, Norse 1e-3, Sinabs one step) or the one
   recovered from the file's parameters (Rockpool, Spyx 1.0); the ``nir`` profile has none;
5. none: lowering a graph with continuous nodes then raises :class:`~spyx.errors.MissingDtError`.

Before this rule the recorded ``spyx.dt`` was ignored under a peer profile; a dt taken from 2. to 4. under a
peer profile is reported as a note, as before.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spyx.errors import OptionError
from spyx.ir.graph import Graph
from spyx.passes.retime import DT_KEY, graph_dt
from spyx.profiles.base import Profile
from spyx.profiles.detect import detect
from spyx.profiles.registry import get_profile

__all__ = ["PROFILE_KEY", "resolve_profile", "resolve_dt"]

PROFILE_KEY = "spyx.profile"  # graph metadata: the profile spec a loaded graph is to be compiled with


def resolve_profile(graph: Graph, spec: str | Profile | None, **options: Any) -> tuple[Profile, list[str]]:
    """The profile for ``graph`` and the notes of the choice (see the module docstring)."""
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


def resolve_dt(dt: float | None, profile: Profile, graph: Graph) -> tuple[float | None, list[str]]:
    """The time step to lower ``graph`` with under ``profile``, and a note saying where it came from when
    it was not given (peer profiles only: under ``nir`` a recorded step is simply the graph's own)."""
    if dt is not None:
        if not (np.isfinite(dt) and dt > 0):
            raise OptionError(f"dt must be a positive number of seconds, got {dt!r}")
        return float(dt), []
    chosen, source = profile.dt_option(), "the profile's dt option"
    if chosen is None:
        chosen, source = graph_dt(graph), f"recorded in the graph's {DT_KEY}"
    if chosen is None:
        chosen, source = profile.default_dt(graph), profile.dt_source()
    if chosen is None:
        return None, []
    return float(chosen), ([] if profile.native_nir else [f"{profile.name}: dt = {chosen:g} ({source})"])
