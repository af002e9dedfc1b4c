"""``Flatten``: merge the per-sample axes (channels-last in NNX)."""

from __future__ import annotations

from spyx.errors import ParameterError
from spyx.nn.base import Layer

__all__ = ["Flatten"]


class Flatten(Layer):
    """Reshape ``(*batch, *sample)`` to ``(*batch, prod(sample))`` in row-major order of the NNX
    (channels-last) layout: for a conv map ``(H, W, C)`` element ``(h, w, c)`` goes to ``(h W + w) C + c``.

    ``batch_dims`` leading axes are kept (1 for :func:`spyx.nn.run`'s ``(B, ...)`` steps; 0 inside
    ``nnx.vmap``).
    NIR's Flatten of the channels-first ``(C, H, W)`` puts it at ``c H W + h W + w`` instead; the lowering
    reconciles the two orders (see :func:`spyx.nn.lower`). Stateless.
    """

    def __init__(self, batch_dims: int = 1):
        if batch_dims < 0:
            raise ParameterError(f"Flatten batch_dims must be >= 0, got {batch_dims}")
        self.batch_dims = int(batch_dims)

    def __call__(self, x, state=()):
        return x.reshape(*x.shape[: self.batch_dims], -1), state
