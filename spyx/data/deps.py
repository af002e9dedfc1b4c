"""The optional dependencies of :mod:`spyx.data`: grain and tonic (the ``loaders`` extra).

Nothing here imports them at module import: ``import spyx.data`` must stay cheap and must work without
them (the encoders and the bit packing need only NumPy and JAX). The classes that need them call
:func:`require_grain` / :func:`require_tonic` when they are built or first used.
"""

from __future__ import annotations

import importlib.util

__all__ = ["EXTRA_HINT", "require_grain", "require_tonic", "tonic_installed"]

EXTRA_HINT = "pip install 'spyx[loaders]'"


def _findable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a parent package that fails to import, or a None entry in sys.modules
        return False


#: Whether tonic can be imported (found on the path; tonic itself is not imported to find out).
tonic_installed: bool = _findable("tonic")


def require_grain(what: str):
    """``grain.python`` (grain's class-based API: MapTransform, MapDataset, IndexSampler, DataLoader, Batch).

    Raises ``ImportError`` naming ``what`` and the extra to install when grain is missing.
    """
    try:
        import grain.python as grain
    except ImportError as err:
        raise ImportError(f"{what} needs grain, which is not installed: {EXTRA_HINT}") from err
    return grain


def require_tonic(what: str):
    """The ``tonic`` package (with the HSD reader patch applied); ``ImportError`` naming the extra if missing."""
    try:
        import tonic
        import tonic.datasets
        import tonic.transforms
    except ImportError as err:
        raise ImportError(f"{what} needs tonic, which is not installed: {EXTRA_HINT}") from err
    from spyx.data.tonic_patch import patch_tonic_hsd

    patch_tonic_hsd()
    return tonic
