"""``LRU``: the Linear Recurrent Unit (Orvieto et al. 2023, arXiv 2303.06349), Spyx 1.0's layer and numbers."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from spyx.scan import check_method
from spyx.ssm.diagonal import check_tbd, diagonal_ssm, init_io

__all__ = ["LRU", "lru_eigenvalues"]

COMPLEX_STATE = (
    "its state is complex (x_t = lambda x_{t-1} + B u_t with complex lambda, B and C, read out as Re(C x_t)); NIR "
    "neurons and the spyx IR carry real state only"
)


def lru_eigenvalues(key, d_state: int, r_min: float, r_max: float):
    """``(nu, theta)`` ``(d_state,)`` float32 with ``|lambda|^2 = exp(-2 exp(nu))`` uniform in ``[r_min^2,
    r_max^2)`` and ``theta`` uniform in ``[0, 2 pi)``; ``key`` is split into the two draws, in that order.

    ``r^2 = u (r_max^2 - r_min^2) + r_min^2``, ``nu = log(-log(r^2 + 1e-8) / 2)``, ``theta = 2 pi U``.
    """
    k_u, k_theta = jax.random.split(key)
    r_sq = jax.random.uniform(k_u, (d_state,)) * (r_max**2 - r_min**2) + r_min**2
    nu = jnp.log(-0.5 * jnp.log(r_sq + 1e-8))
    theta = jax.random.uniform(k_theta, (d_state,)) * 2.0 * jnp.pi
    return nu, theta


class LRU(nnx.Module):
    r"""Linear Recurrent Unit: a diagonal complex linear recurrence with a stable radial parameterisation.

    For a time-major real input ``u`` ``[T, B, d_model]``, with ``x_{-1} = 0``::

        lambda = exp(-exp(nu)) * exp(i theta)            (d_state,) complex64, |lambda| < 1 for finite nu
        x_t    = lambda * x_{t-1} + B u_t                 B = B_re + i B_im   (d_state, d_model)
        y_t    = Re(C x_t) + D * u_t                      C = C_re + i C_im   (d_model, d_state); D only if use_skip

    Discrete-time by construction (no ``dt``). The recurrence is :func:`spyx.scan.linear_recurrence`
    (``scan_method="associative"`` by default, as Spyx 1.0's ``lax.associative_scan``).

    Initialisation: one ``rngs.params()`` draw split into ``k_lam, k_B, k_C, k_D``. ``(nu, theta) =
    lru_eigenvalues(k_lam, d_state, r_min, r_max)``; ``B_re, B_im = N(0, 1) / sqrt(2 d_model)`` (``k_B`` split in
    two), row ``s`` scaled by ``gamma_s = sqrt(max(0, 1 - |lambda_s|^2))``; ``C_re, C_im = N(0, 1) / sqrt(2
    d_state)`` (``k_C`` split in two); ``D = N(0, 1)`` from ``k_D`` if ``use_skip`` (else ``D`` is ``None``).

    Args:
        d_model: input and output channels.
        d_state: the diagonal state size.
        r_min: the smallest ``|lambda|`` at initialisation.
        r_max: the largest ``|lambda|`` at initialisation.
        use_skip: add ``D * u``.
        scan_method: (a spyx extra) how the recurrence is evaluated: ``"associative"``, ``"sequential"`` or
            ``"chunked"`` (see :mod:`spyx.scan`); the result is the same up to float rounding.
        scan_chunk_size: (a spyx extra) the chunk length of ``"chunked"``.

    Whole-sequence module: ``__call__(u) -> y``, no ``initial_state``; a non-3-D input raises
    :class:`~spyx.InputError` (a ``ValueError``). NIR: none (complex state); ``spyx.nir.to_nir`` skips it with a
    printed warning, as Spyx 1.0 does, and ``spyx.nn.export``/``lower`` raise :class:`~spyx.ExportError`.
    """

    no_graph_form = COMPLEX_STATE

    def __init__(self, d_model: int, d_state: int = 64, *, r_min: float = 0.0, r_max: float = 1.0,
                 use_skip: bool = True, rngs: nnx.Rngs, scan_method: str = "associative",
                 scan_chunk_size: int = 64):
        self.scan_method, self.scan_chunk_size = check_method(scan_method, scan_chunk_size, "LRU")
        k_lam, k_B, k_C, k_D = jax.random.split(rngs.params(), 4)
        nu, theta = lru_eigenvalues(k_lam, d_state, r_min, r_max)
        self.nu = nnx.Param(nu)
        self.theta = nnx.Param(theta)
        # The "gamma" normalisation keeps the state's variance at initialisation independent of |lambda|.
        gamma = jnp.sqrt(jnp.clip(1.0 - jnp.exp(-jnp.exp(nu)) ** 2, 0.0, None))
        init_io(self, k_B, k_C, k_D, d_model, d_state, use_skip, row_scale=gamma)

    def _complex_matrices(self):
        """``(lambda, B, C)`` as complex64 arrays (Spyx 1.0's name; its tests call it)."""
        lam = jnp.exp(-jnp.exp(self.nu[...])) * jnp.exp(1j * self.theta[...])
        B = (self.B_re[...] + 1j * self.B_im[...]).astype(jnp.complex64)
        C = (self.C_re[...] + 1j * self.C_im[...]).astype(jnp.complex64)
        return lam.astype(jnp.complex64), B, C

    def __call__(self, u):
        check_tbd(u, "LRU", "d_model", self.d_model)
        lam, B, C = self._complex_matrices()
        D = self.D[...] if self.use_skip else None
        return diagonal_ssm(u, lam, B, C, D, method=self.scan_method, chunk_size=self.scan_chunk_size)
