"""``RFSSM`` (alias ``ResonateFireSSM``): a resonate-and-fire neuron with S5/HiPPO (or LRU) poles and a decoupled
reset, after S5-RF (arXiv 2504.00719) and PRF (arXiv 2410.03530). Spyx 1.0's experimental layer and numbers."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import nnx

from spyx.errors import ArgumentError
from spyx.nn.base import expand
from spyx.phasor.resonate_fire import Resonator
from spyx.ssm.diagonal import inverse_softplus
from spyx.ssm.lru import lru_eigenvalues
from spyx.ssm.s5 import hippo_legs_diagonal

__all__ = ["RFSSM", "ResonateFireSSM", "POLE_INITS"]

POLE_INITS = ("hippo", "lru")


class RFSSM(Resonator):
    r"""Resonate-and-fire spiking SSM: per-unit complex poles on an SSM spectrum and an imaginary-axis reset.

    ``a = exp(step * (-lambda + i omega))`` with ``lambda = softplus(raw_lambda) >= 0`` and ``step =
    exp(log_dt) > 0`` (so ``|a| <= 1``); the drive is the real input plus a learnable constant on the imaginary
    axis, ``drive(x) = x + i reset``::

        z_t = a z_{t-1} + (x_t + i reset),   s_t = spike(Re z_t - threshold)

    (steps of :class:`~spyx.phasor.resonate_fire.Resonator`). The reset does not depend on ``z`` (PRF's decoupled
    reset), so the recurrence stays linear and :meth:`parallel` equals the step loop for any ``reset``.

    Initialisation over ``n = prod(hidden_shape)`` units in flattened order, reshaped to ``hidden_shape``; one
    ``rngs.params()`` draw in both modes:

    * ``pole_init="hippo"``: ``lambda = 1/2``, ``omega_k = pi k`` (HiPPO-LegS ``-1/2 + i pi k``), ``log_dt ~ U[log
      dt_min, log dt_max)``;
    * ``pole_init="lru"``: ``(nu, theta)`` from the LRU sampler (:func:`spyx.ssm.lru.lru_eigenvalues` with
      ``r_min``, ``r_max``), ``lambda = exp(nu)``, ``omega = theta``, ``log_dt = 0`` (so ``|a| = exp(-exp(nu))``).

    Params (float32): ``raw_lambda = softplus^-1(lambda)``, ``omega``, ``log_dt``, ``reset = reset_init``
    everywhere. Properties ``decay``, ``step``, ``a``. Another ``pole_init`` raises :class:`~spyx.ArgumentError` (a
    ``ValueError``). State: complex64 ``(B, *hidden_shape)``. NIR: none (complex membrane); ``spyx.nir.to_nir``
    skips it with a printed warning, as Spyx 1.0 does, ``spyx.nn.export``/``lower`` raise
    :class:`~spyx.ExportError`.
    """

    def __init__(self, hidden_shape, *, pole_init: str = "hippo", reset_init: float = 0.0, threshold=1.0,
                 dt_min: float = 1e-3, dt_max: float = 1e-1, r_min: float = 0.4, r_max: float = 0.999,
                 activation=None, rngs: nnx.Rngs):
        if pole_init not in POLE_INITS:
            raise ArgumentError(f"RFSSM: pole_init must be 'hippo' or 'lru'; got {pole_init!r}.")
        super().__init__(hidden_shape, threshold, activation)
        shape = self.hidden_shape
        n = math.prod(shape)
        if pole_init == "hippo":
            legs = hippo_legs_diagonal(n)
            decay, omega = -legs.real, legs.imag
            log_dt = jax.random.uniform(rngs.params(), (n,), minval=math.log(dt_min), maxval=math.log(dt_max))
        else:
            # |a| = exp(-step * lambda) with step = 1 is the LRU's exp(-exp(nu)): lambda = exp(nu), omega = theta
            nu, omega = lru_eigenvalues(rngs.params(), n, r_min, r_max)
            decay, log_dt = jnp.exp(nu), jnp.zeros((n,))
        self.raw_lambda = nnx.Param(inverse_softplus(decay).astype(jnp.float32).reshape(shape))
        self.omega = nnx.Param(omega.astype(jnp.float32).reshape(shape))
        self.log_dt = nnx.Param(log_dt.astype(jnp.float32).reshape(shape))
        self.reset = nnx.Param(jnp.full(shape, float(reset_init), dtype=jnp.float32))

    @property
    def decay(self):
        """``lambda = softplus(raw_lambda) >= 0``."""
        return jax.nn.softplus(self.raw_lambda[...])

    @property
    def step(self):
        """The per-unit step ``exp(log_dt) > 0``."""
        return jnp.exp(self.log_dt[...])

    @property
    def a(self):
        """The pole ``exp(step (-lambda + i omega))`` (complex64, ``|a| <= 1``)."""
        return jnp.exp(self.step * (-self.decay + 1j * self.omega[...])).astype(jnp.complex64)

    def _drive(self, x):
        """``x + i reset`` as complex64 (Spyx 1.0's name; its tests call it)."""
        return x.astype(jnp.complex64) + 1j * expand(self.reset, x).astype(jnp.complex64)


ResonateFireSSM = RFSSM
