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

**What was assumed** (:func:`assumptions`, :func:`dt_guess`). A file records a model's parameters, not every
option of the framework that ran it (snnTorch's ``reset_mechanism``, Sinabs's ``min_v_mem``; each profile
lists its own in ``Profile.unrecorded``). ``auto`` takes those at the framework's default, and every one it
took is reported as a ``note:`` line naming the option, its value and the ``--profile`` spec that changes it.
A dt that is the framework's default rather than a value the file determines (Norse; Spyx 1.0 without a LIF)
is a ``warning:`` under every peer profile. The lowering returns these lines apart from its notes
(``LoweredGraph.assumptions``): the CLI prints them on stderr before the run's summary, ``spyx.compile`` and
``spyx.lower`` issue each as an :class:`~spyx.errors.AssumptionWarning`.
"""

from __future__ import annotations

from typing import Any

import dataclasses
import typing

import numpy as np

from spyx.errors import OptionError
from spyx.ir.graph import Graph
from spyx.passes.retime import DT_KEY, graph_dt
from spyx.profiles.base import Profile
from spyx.profiles.detect import detect
from spyx.profiles.registry import get_profile

__all__ = ["PROFILE_KEY", "resolve_profile", "resolve_dt", "assumptions", "dt_guess", "is_auto"]

PROFILE_KEY = "spyx.profile"  # graph metadata: the profile spec a loaded graph is to be compiled with


def resolve_profile(graph: Graph, spec: str | Profile | None, **options: Any) -> tuple[Profile, list[str]]:
    """The profile for ``graph`` and the notes of the choice (see the module docstring)."""
    if spec is None:
        spec = graph.metadata.get(PROFILE_KEY, "nir")
    if is_auto(spec) and PROFILE_KEY in graph.metadata:  # the reading a spyx tool recorded wins over guessing
        recorded = str(graph.metadata[PROFILE_KEY])
        return get_profile(recorded, **options), [f"profile auto: {recorded} (recorded in the file's {PROFILE_KEY})"]
    if is_auto(spec):
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


def is_auto(spec: Any) -> bool:
    return isinstance(spec, str) and spec.strip() == "auto"


def _other_value(cls: type, name: str, value: Any) -> str:
    """A value of option ``name`` other than ``value``, for the override example (``zero`` for ``reset``)."""
    hint = typing.get_type_hints(cls).get(name)
    choices = [c for c in typing.get_args(hint) if typing.get_origin(hint) is typing.Literal and c != value]
    if choices:
        return str(choices[0])
    if isinstance(value, bool):
        return str(not value).lower()
    return "VALUE"


def _fmt(value: Any) -> str:
    return "none" if value is None else (str(value).lower() if isinstance(value, bool) else str(value))


def assumptions(profile: Profile, set_options: typing.Iterable[str] = ()) -> list[str]:
    """One ``note:`` line per option of ``profile.unrecorded`` that ``auto`` took at its default: neither in
    the spec nor in ``set_options`` nor set for any node. Each names the value and the spec that changes it."""
    given = set(set_options) | {k for over in profile.node_options.values() for k in over}
    fields = {f.name: f for f in dataclasses.fields(profile)}
    lines = []
    for name, what in profile.unrecorded.items():
        value = getattr(profile, name)
        if name in given or value != fields[name].default:
            continue
        other = f"{profile.name}{{{name}={_other_value(type(profile), name, value)}}}"
        lines.append(
            f"note: profile auto assumed {profile.name} {name}={_fmt(value)}, {profile.framework}'s default: "
            f"the file does not record {what}; if the model used another, pass --profile '{other}' "
            f"(Python: profile=\"{other}\")"
        )
    return lines


def dt_guess(dt: float | None, profile: Profile, graph: Graph) -> list[str]:
    """A ``warning:`` line when the lowering's dt (no ``dt`` given, none in the profile's options or the
    graph) is ``profile``'s default for a file that does not determine it (:meth:`Profile.dt_guessed`)."""
    if dt is not None or profile.dt_option() is not None or graph_dt(graph) is not None:
        return []
    guess = profile.default_dt(graph)
    if guess is None or not profile.dt_guessed(graph):
        return []
    return [
        f"warning: {profile.name}: dt = {guess:g} s is a guess ({profile.dt_source()}); if the model ran at "
        f"another step, pass --dt SECONDS (Python: dt=)"
    ]
