"""The diagonal state-space recurrence shared by :class:`~spyx.ssm.LRU` and :class:`~spyx.ssm.S5Diag`, and the
scans of Spyx 1.0's private test hooks.

A diagonal SSM on a time-major input ``u`` ``[T, B, d_model]`` (real) is, in this order,

1. ``Bu_t = B u_t`` (complex ``[T, B, d_state]``; ``B`` ``(d_state, d_model)`` complex64, ``u`` cast to complex64);
2. ``x_t = lam * x_{t-1} + Bu_t`` with ``x_{-1} = 0`` (``lam`` ``(d_state,)`` complex64, elementwise), computed by
   :func:`spyx.scan.linear_recurrence` over axis 0;
3. ``y_t = Re(C x_t) (+ D * u_t)`` (``C`` ``(d_model, d_state)`` complex64; the skip ``D`` ``(d_model,)`` real).

The products are complex einsums, as in Spyx 1.0, so the float32 results agree with it to the last bits.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from spyx.errors import InputError
from spyx.scan import linear_recurrence

__all__ = [
    "diagonal_ssm",
    "check_tbd",
    "inverse_softplus",
    "_diagonal_scan",
    "_diagonal_scan_reference",
    "_selective_scan",
    "_selective_scan_reference",
]


def inverse_softplus(y):
    """``x`` with ``softplus(x) = y`` (``y > 0``): ``log(expm1(y))``."""
    return jnp.log(jnp.expm1(y))


def check_tbd(u, what: str, name: str, size: int, *, inline: bool = False) -> None:
    """:class:`InputError` unless ``u`` is time-major ``[T, B, <name>]`` with last axis ``size``, in Spyx 1.0's
    wording: ``"LRU expects [T, B, d_model]; got shape ..."`` (``inline=False``; a wrong width adds ``"with
    d_model=2"``) or ``"Mamba expects [T, B, d_inner=8]; got ..."`` (``inline=True``)."""
    shape = getattr(u, "shape", type(u).__name__)
    if inline:
        if getattr(u, "ndim", None) != 3 or u.shape[-1] != size:
            raise InputError(f"{what} expects [T, B, {name}={size}]; got {shape}.")
        return
    if getattr(u, "ndim", None) != 3:
        raise InputError(f"{what} expects [T, B, {name}]; got shape {shape}.")
    if u.shape[-1] != size:
        raise InputError(f"{what} expects [T, B, {name}] with {name}={size}; got shape {shape}.")


def skip(D, u):
    """``D * u`` for a per-channel ``D`` ``(d,)`` and ``u`` ``[T, B, d]`` (no implicit rank promotion)."""
    return jnp.reshape(D, (1, 1, -1)) * u


def init_io(layer, k_B, k_C, k_D, d_model: int, d_state: int, use_skip: bool, row_scale=None) -> None:
    """The complex input/output matrices and skip of a diagonal SSM layer, as Spyx 1.0 draws them (LRU and
    S5Diag share this): ``B_re, B_im = N(0, 1) / sqrt(2 d_model)`` (``k_B`` split in two; row ``s`` times
    ``row_scale[s]`` when given), ``C_re, C_im = N(0, 1) / sqrt(2 d_state)`` (``k_C`` split in two), ``D = N(0, 1)``
    from ``k_D`` when ``use_skip`` (else ``None``)."""
    scale_B = 1.0 / jnp.sqrt(2.0 * d_model)
    kb_re, kb_im = jax.random.split(k_B)
    B_re = jax.random.normal(kb_re, (d_state, d_model)) * scale_B
    B_im = jax.random.normal(kb_im, (d_state, d_model)) * scale_B
    if row_scale is not None:
        B_re, B_im = B_re * row_scale[:, None], B_im * row_scale[:, None]
    layer.B_re, layer.B_im = nnx.Param(B_re), nnx.Param(B_im)
    scale_C = 1.0 / jnp.sqrt(2.0 * d_state)
    kc_re, kc_im = jax.random.split(k_C)
    layer.C_re = nnx.Param(jax.random.normal(kc_re, (d_model, d_state)) * scale_C)
    layer.C_im = nnx.Param(jax.random.normal(kc_im, (d_model, d_state)) * scale_C)
    layer.use_skip = use_skip
    layer.D = nnx.Param(jax.random.normal(k_D, (d_model,))) if use_skip else None
    layer.d_model = d_model
    layer.d_state = d_state


def diagonal_ssm(u, lam, B, C, D=None, *, method: str = "associative", chunk_size: int = 64):
    """Steps 1-3 of the module docstring: ``y`` ``[T, B, d_model]`` (float32 for float32 ``u``)."""
    Bu = jnp.einsum("sn,tbn->tbs", B, u.astype(jnp.complex64))
    x = linear_recurrence(lam, Bu, method=method, chunk_size=chunk_size)
    y = jnp.einsum("ms,tbs->tbm", C, x).real
    return y if D is None else y + skip(D, u)


# -- Spyx 1.0's private scan names (its tests import them, spyx-api.md §2.6) ------------------------------------
def _diagonal_scan(lam, Bu):
    """``x_k = lam x_{k-1} + Bu_k`` over axis 0 of ``Bu`` ``[T, B, S]`` (``lam`` ``[S]``), associative scan."""
    return linear_recurrence(lam, Bu, method="associative")


def _diagonal_scan_reference(lam, Bu):
    """The same recurrence by a sequential ``lax.scan``."""
    return linear_recurrence(lam, Bu, method="sequential")


def _selective_scan(A_bar, Bu_bar):
    """``h_t = A_bar_t h_{t-1} + Bu_bar_t`` with a per-step ``A_bar`` of ``Bu_bar``'s shape, associative scan."""
    return linear_recurrence(A_bar, Bu_bar, method="associative")


def _selective_scan_reference(A_bar, Bu_bar):
    """The same recurrence by a sequential ``lax.scan``."""
    return linear_recurrence(A_bar, Bu_bar, method="sequential")
