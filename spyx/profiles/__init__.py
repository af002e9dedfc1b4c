"""Import semantics by exporter: a *profile* lowers a NIR graph to ``spyx.Neuron``/``spyx.Shift`` so that spyx
computes what the framework that wrote the file computed (docs/interop.md).

``nir`` (default) is NIR's own semantics; ``snntorch``, ``norse``, ``sinabs``, ``rockpool`` and ``spyx1``
reproduce snnTorch 1.0, Norse 1.1, Sinabs 3.1, Rockpool 3.1 and Spyx 1.0. Select one by spec text,
``"snntorch{reset=zero,reset_delay=false}"``, or ``"auto"`` (:func:`detect`).
"""

from spyx.profiles.api import PROFILE_KEY, apply_profile, encode_for, lower_with_profile, resolve_profile
from spyx.profiles.base import LoweredGraph, Profile
from spyx.profiles.detect import Detection, detect
from spyx.profiles.registry import PROFILES, get_profile, get_profile_class, list_profiles

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
    "lower_with_profile",
    "resolve_profile",
]
