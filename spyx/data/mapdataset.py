"""``SpyxMapDataset``: any ``len`` + ``getitem`` source as a ``grain.MapDataset``.

Needs grain (the ``loaders`` extra); ``spyx.data`` imports this module on first use of the name.
"""

from __future__ import annotations

from spyx.data.deps import require_grain

grain = require_grain("spyx.data.SpyxMapDataset")

__all__ = ["SpyxMapDataset"]


class SpyxMapDataset(grain.MapDataset):
    """A ``grain.MapDataset`` whose ``len(ds)`` and ``ds[i]`` are those of ``source`` (e.g. a ``TonicSource``).

    Slices give grain's sliced view (``ds[2:5]``), as for every ``MapDataset``.
    """

    def __init__(self, source):
        super().__init__()
        self._source = source

    def __len__(self) -> int:
        return len(self._source)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self.slice(index)
        return self._source[index]

    def __str__(self) -> str:
        return f"SpyxMapDataset({self._source!r})"
