"""Profiles by name, and the spec syntax ``snntorch{reset=zero,reset_delay=false}``.

Options are parsed with the pass-option machinery (:func:`spyx.passes.registry.parse_spec`,
:func:`~spyx.passes.registry.build_options`): unknown names and badly typed values are an
:class:`~spyx.errors.OptionError` that lists what is valid. ``option@node=value`` sets an option for one node
(its flat name, or a nested graph holding it).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from spyx.errors import OptionError
from spyx.lazy import lazy_class
from spyx.passes.registry import build_options, parse_spec
from spyx.profiles.base import Profile

__all__ = ["PROFILES", "get_profile", "get_profile_class", "list_profiles"]

PROFILES: dict[str, str] = {
    "nir": "spyx.profiles.nir:NirProfile",
    "snntorch": "spyx.profiles.snntorch:SnnTorchProfile",
    "norse": "spyx.profiles.norse:NorseProfile",
    "sinabs": "spyx.profiles.sinabs:SinabsProfile",
    "rockpool": "spyx.profiles.rockpool:RockpoolProfile",
    "spyx1": "spyx.profiles.spyx1:Spyx1Profile",
    "spikingjelly": "spyx.profiles.spikingjelly:SpikingJellyProfile",
    "lava": "spyx.profiles.lava:LavaProfile",
}


def get_profile_class(name: str) -> type[Profile]:
    return lazy_class(PROFILES, name, "profile", " (or auto)")


def get_profile(spec: str | Profile, **options: Any) -> Profile:
    """The profile named by ``spec`` (``"norse"``, ``"sinabs{norm_input=false,min_v_mem@3=-0.2}"``) or a
    Profile as given, with ``options`` (Python values, or strings as in a spec) applied on top."""
    if isinstance(spec, Profile):
        profile = spec
        raw: dict[str, str] = {}
    else:
        items = parse_spec(spec.strip())
        if len(items) != 1:
            raise OptionError(f"a profile spec names one profile, got {spec!r}")
        name, raw = items[0]
        profile = get_profile_class(name)()
    cls = type(profile)
    owner = f"profile {cls.name!r}"
    fields = {f.name for f in dataclasses.fields(cls) if f.name != "node_options"}
    glob: dict[str, Any] = {}
    per_node: dict[str, dict[str, Any]] = {k: dict(v) for k, v in profile.node_options.items()}
    for key, value in {**raw, **options}.items():
        opt, at, node = key.partition("@")
        if opt not in fields:
            raise OptionError(f"{owner} has no option {opt!r}; valid options: {', '.join(sorted(fields))}")
        typed = build_options(cls, {opt: value}, owner)[opt] if isinstance(value, str) else value
        if at:
            if not node:
                raise OptionError(f"{owner}: option {key!r} names no node after '@'")
            per_node.setdefault(node, {})[opt] = typed
        else:
            glob[opt] = typed
    if not glob and not per_node and not profile.node_options:
        return profile
    try:
        return dataclasses.replace(profile, **glob, node_options=per_node)
    except (TypeError, ValueError) as e:
        raise OptionError(f"{owner}: {e}") from e


def list_profiles() -> list[tuple[str, str, list[str]]]:
    """(name, description, ["option: type = default"]) for every profile."""
    import typing

    rows = []
    for name in PROFILES:
        cls = get_profile_class(name)
        hints = typing.get_type_hints(cls)
        opts = [
            f"{f.name}: {getattr(hints[f.name], '__name__', str(hints[f.name]).replace('typing.', ''))} = "
            f"{f.default}"
            for f in dataclasses.fields(cls)
            if f.name != "node_options"
        ]
        rows.append((name, cls.description, opts))
    return rows
