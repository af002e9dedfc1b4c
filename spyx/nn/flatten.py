"""``Flatten``: merge the per-sample axes (channels-last order, as Spyx 1.0)."""

from __future__ import annotations

from flax import nnx

__all__ = ["Flatten"]


class Flatten(nnx.Module):
    """``x (B, ...) -> x.reshape(B, -1)``, row-major over the per-sample axes: for a conv map ``(H, W, C)``
    element ``(h, w, c)`` goes to ``(h W + w) C + c``. Stateless (no ``initial_state``); returns the array.

    NIR's Flatten of the channels-first ``(C, H, W)`` puts it at ``c H W + h W + w`` instead: ``spyx.nn.lower``
    and ``spyx.nn.export`` reconcile the two orders; ``spyx.nir.to_nir`` writes Spyx 1.0's file (a channels-first
    Flatten node, the order difference left to the importer; the ``spyx1`` profile undoes it).
    """

    def __call__(self, x):
        return x.reshape(x.shape[0], -1)
