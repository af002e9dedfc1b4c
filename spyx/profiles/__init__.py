"""Import semantics by exporter: a *profile* lowers a NIR graph to ``spyx.Neuron``/``spyx.Shift`` so that spyx
computes what the framework that wrote the file computed (docs/interop.md).

``nir`` (default) is NIR's own semantics; ``snntorch``, ``norse``, ``sinabs``, ``rockpool``, ``spyx1`` and
``spikingjelly`` reproduce snnTorch 1.0, Norse 1.1, Sinabs 3.1, Rockpool 3.1, Spyx 1.0 and SpikingJelly 2.0.
Select one by spec text, ``"snntorch{reset=zero,reset_delay=false}"``, or ``"auto"`` (:func:`detect`). Every
graph is lowered by the one pipeline of :mod:`spyx.profiles.pipeline` (:func:`lower`); the profile and the dt
are decided in :mod:`spyx.profiles.resolve`.
"""

from spyx.profiles.api import apply_profile, encode_for, lower_with_profile
from spyx.profiles.base import LoweredGraph, Profile
from spyx.profiles.detect import Detection, detect
from spyx.profiles.pipeline import lower, lowering_passes, prepare
from spyx.profiles.registry import PROFILES, get_profile, get_profile_class, list_profiles
from spyx.profiles.resolve import PROFILE_KEY, resolve_dt, resolve_profile

__all__ = [
    "PROFILES",
    "PROFILE_KEY",
    "Detection",
    "LoweredGraph",
    "Profile",
    "apply_profile",
    "detect",
    "encode_for",
    "get_profile",
    "get_profile_class",
    "list_profiles",
    "lower",
    "lower_with_profile",
    "lowering_passes",
    "prepare",
    "resolve_dt",
    "resolve_profile",
]
