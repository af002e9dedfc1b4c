"""Recurrent spiking layers ``RIF``, ``RLIF``, ``RCuBaLIF``: the plain layers plus a learned feedback of the
layer's own spikes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from spyx.errors import ParameterError
from spyx.nn.cuba_lif import CuBaLIF
from spyx.nn.integrate_fire import IF
from spyx.nn.lif import LIF

__all__ = ["RIF", "RLIF", "RCuBaLIF"]


def _recurrent_weight(shape, rngs, what: str):
    if len(shape) != 1:
        raise ParameterError(f"{what}: recurrent layers need a 1-D neuron shape (N,), got {shape}")
    if rngs is None:
        raise ParameterError(f"{what}: pass rngs=nnx.Rngs(seed) to initialise the recurrent weight")
    n = shape[0]
    return nnx.Param(jax.nn.initializers.orthogonal()(rngs.params(), (n, n), jnp.float32))


class RLIF(LIF):
    r"""Recurrent LIF: the :class:`LIF` step with input ``x_t + S_t @ W_rec``, where ``S_t = H(V_t - thr)`` is
    this step's spike (from the current membrane), so

    ``S_t = H(V_t - thr)``; ``V_{t+1} = beta * V_t + x_t + S_t @ W_rec - S_t * thr``; output ``S_t``.

    ``W_rec`` is an ``nnx.Param`` of shape ``(N, N)`` (rows: presynaptic, as an ``nnx.Linear`` kernel),
    orthogonal at init. Shape ``(N,)`` only. IR: ``Neuron -> Shift(1) -> out`` with
    ``Shift -> Linear(W_rec^T) -> Neuron``; NIR adds ``Delay -> Linear(W_rec^T) -> LI``.
    """

    def __init__(self, shape, *, rngs: nnx.Rngs | None = None, **kwargs):
        super().__init__(shape, **kwargs)
        self.w_rec = _recurrent_weight(self.shape, rngs, "RLIF")

    def feedback(self, s):
        return s @ self.w_rec[...]


class RIF(IF):
    r"""Recurrent IF: ``S_t = H(V_t - thr)``; ``V_{t+1} = V_t + x_t + S_t @ W_rec - S_t * thr``; output
    ``S_t``. ``W_rec``: ``nnx.Param`` (N, N), rows presynaptic. Lowered as :class:`RLIF` with ``beta = 1``."""

    def __init__(self, shape, *, rngs: nnx.Rngs | None = None, **kwargs):
        super().__init__(shape, **kwargs)
        self.w_rec = _recurrent_weight(self.shape, rngs, "RIF")

    def feedback(self, s):
        return s @ self.w_rec[...]


class RCuBaLIF(CuBaLIF):
    r"""Recurrent current-based LIF: the feedback enters the synapse,

    ``S_t = H(V_t - thr)``; ``I_{t+1} = alpha * I_t + x_t + S_t @ W_rec``; ``V_{t+1} = beta * V_t + I_{t+1} -
    S_t * thr``; output ``S_t``. ``W_rec``: ``nnx.Param`` (N, N), rows presynaptic."""

    def __init__(self, shape, *, rngs: nnx.Rngs | None = None, **kwargs):
        super().__init__(shape, **kwargs)
        self.w_rec = _recurrent_weight(self.shape, rngs, "RCuBaLIF")

    def feedback(self, s):
        return s @ self.w_rec[...]
