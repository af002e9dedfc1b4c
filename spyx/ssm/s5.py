"""``S5Diag``: a diagonal S4D/S5 layer initialised from the HiPPO-LegS spectrum, Spyx 1.0's layer and numbers."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from spyx.scan import check_method
from spyx.ssm.diagonal import check_tbd, diagonal_ssm, init_io, inverse_softplus
from spyx.ssm.lru import COMPLEX_STATE

__all__ = ["S5Diag", "hippo_legs_diagonal"]


def hippo_legs_diagonal(n: int):
    """The diagonal HiPPO-LegS eigenvalues ``-1/2 + i pi k``, ``k = 0..n-1``, complex64 ``(n,)``."""
    k = jnp.arange(n, dtype=jnp.float32)
    return (-0.5 + 1j * jnp.pi * k).astype(jnp.complex64)


class S5Diag(nnx.Module):
    r"""Diagonal S4D/S5 layer: a continuous-time diagonal system discretised by zero-order hold.

    Continuous eigenvalues and step, per state ``s``::

        A     = -softplus(A_re_raw) + i A_im          Re A <= 0 for any A_re_raw, so |lambda| <= 1
        Delta = exp(log_dt)

    Zero-order hold (exact for an input held constant over a step)::

        lambda = exp(A Delta)
        B_bar  = f * B,   f = (lambda - 1) / A  where |A| >= 1e-4,  else f = Delta  (the limit as A -> 0)

    then the :class:`~spyx.ssm.LRU` recurrence and readout with ``(lambda, B_bar, C, D)``::

        x_t = lambda * x_{t-1} + B_bar u_t,   x_{-1} = 0;     y_t = Re(C x_t) + D * u_t

    Initialisation: ``A_re_raw = softplus^-1(1/2) = log(e^{1/2} - 1)`` and ``A_im = pi k`` (HiPPO-LegS, no draw);
    one ``rngs.params()`` draw split into ``k_dt, k_B, k_C, k_D``: ``log_dt ~ U[log dt_min, log dt_max)``;
    ``B_re, B_im = N(0, 1) / sqrt(2 d_model)`` (no ``gamma``); ``C``, ``D`` as in LRU.

    Args: as :class:`~spyx.ssm.LRU`, with ``dt_min``, ``dt_max`` (the range of ``Delta`` at initialisation)
    instead of ``r_min``, ``r_max``. Input ``[T, B, d_model]``, output likewise (float32). NIR: none (complex
    state); ``spyx.nir.to_nir`` skips it with a printed warning (Spyx 1.0), ``spyx.nn.export``/``lower`` raise
    :class:`~spyx.ExportError`.
    """

    no_graph_form = COMPLEX_STATE

    def __init__(self, d_model: int, d_state: int = 64, *, dt_min: float = 1e-3, dt_max: float = 1e-1,
                 use_skip: bool = True, rngs: nnx.Rngs, scan_method: str = "associative",
                 scan_chunk_size: int = 64):
        self.scan_method, self.scan_chunk_size = check_method(scan_method, scan_chunk_size, "S5Diag")
        k_dt, k_B, k_C, k_D = jax.random.split(rngs.params(), 4)
        legs = hippo_legs_diagonal(d_state)
        # A_re = -softplus(raw) keeps the continuous eigenvalue in the closed left half-plane whatever the
        # optimiser does to raw (the HiPPO real part, -1/2, is the initial value).
        self.A_re_raw = nnx.Param(inverse_softplus(-legs.real))
        self.A_im = nnx.Param(legs.imag)
        self.log_dt = nnx.Param(
            jax.random.uniform(k_dt, (d_state,), minval=jnp.log(dt_min), maxval=jnp.log(dt_max))
        )
        init_io(self, k_B, k_C, k_D, d_model, d_state, use_skip)

    def _complex_matrices(self):
        """``(lambda, B_bar, C)`` complex64: the zero-order-hold discretisation (Spyx 1.0's name)."""
        A = (-jax.nn.softplus(self.A_re_raw[...]) + 1j * self.A_im[...]).astype(jnp.complex64)
        dt = jnp.exp(self.log_dt[...]).astype(A.dtype)
        lam = jnp.exp(A * dt)
        B = (self.B_re[...] + 1j * self.B_im[...]).astype(jnp.complex64)
        C = (self.C_re[...] + 1j * self.C_im[...]).astype(jnp.complex64)
        # (e^{A dt} - 1) / A is 0/0 at A = 0, where its limit is dt. The unselected branch divides by 1 there so
        # that neither the value nor the gradient of jnp.where sees a NaN.
        near_zero = jnp.abs(A) < 1e-4
        factor = jnp.where(near_zero, dt, (lam - 1.0) / jnp.where(near_zero, jnp.ones_like(A), A))
        return lam, factor[:, None] * B, C

    def __call__(self, u):
        check_tbd(u, "S5Diag", "d_model", self.d_model)
        lam, B_bar, C = self._complex_matrices()
        D = self.D[...] if self.use_skip else None
        return diagonal_ssm(u, lam, B_bar, C, D, method=self.scan_method, chunk_size=self.scan_chunk_size)
