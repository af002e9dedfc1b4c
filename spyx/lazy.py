"""A name -> ``"module:Class"`` table whose classes are imported on first use.

Passes, profiles and hardware targets are all looked up by name from text (the CLI, option strings) and
must not import their modules (and their dependencies) before they are asked for.
"""

from __future__ import annotations

import importlib

from spyx.errors import OptionError

__all__ = ["lazy_class"]


def lazy_class(table: dict[str, str], name: str, what: str, hint: str = "", *, plural: str | None = None):
    """The class registered under ``name`` in ``table``; :class:`OptionError` listing the valid names."""
    if name not in table:
        listed = ", ".join(sorted(table))
        raise OptionError(f"unknown {what} {name!r}; available {plural or what + 's'}: {listed}{hint}")
    module, cls = table[name].split(":")
    return getattr(importlib.import_module(module), cls)
