"""``Mamba`` (the selective SSM core, Gu & Dao 2023) and ``MambaBlock`` (in-proj, causal depthwise conv, SSM, SiLU
gate, out-proj), Spyx 1.0's layers and numbers."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from spyx.scan import check_method, linear_recurrence
from spyx.ssm.diagonal import check_tbd, skip

__all__ = ["Mamba", "MambaBlock"]

SELECTIVE = (
    "its decay exp(Delta_t A) and input matrix B_t are computed from the input at every step (a selective scan); "
    "NIR neurons have fixed time constants and no node multiplies two signals"
)


class Mamba(nnx.Module):
    r"""Selective state-space layer: a diagonal real recurrence whose step, input and output matrices depend on the
    input.

    For ``u`` ``[T, B, d_inner]`` (real), in this order:

    1. ``[delta | B_t | C_t] = x_proj(u)`` (split on the last axis: ``dt_rank``, ``d_state``, ``d_state``);
    2. ``Delta = softplus(dt_proj(delta))`` ``[T, B, d_inner]``;
    3. ``A = -exp(A_log)`` ``(d_inner, d_state)``; zero-order hold of ``A`` and Euler of ``B``:
       ``A_bar = exp(Delta[..., None] * A)``, ``Bu = (Delta[..., None] * B_t[..., None, :]) * u[..., None]`` (both
       ``[T, B, d_inner, d_state]``);
    4. ``h_t = A_bar_t * h_{t-1} + Bu_t`` (``h_{-1} = 0``) by :func:`spyx.scan.linear_recurrence`;
    5. ``y_t = sum_s C_t[s] h_t[:, s] + D * u_t``.

    Initialisation (one ``rngs.params()`` draw split into ``k_x, k_dt, k_A, k_D``; ``k_A`` is unused, as in Spyx
    1.0): ``x_proj = nnx.Linear(d_inner, dt_rank + 2 d_state, use_bias=False)`` with kernel ``N(0, 1) *
    (1/sqrt(d_inner))`` from ``k_x``; ``dt_proj = nnx.Linear(dt_rank, d_inner)`` with kernel ``N(0, 1) *
    dt_rank^-1/2`` from ``k_dt`` and bias ``softplus^-1(Delta0) = Delta0 + log1p(-exp(-Delta0))``, ``Delta0 =
    exp(U[log dt_min, log dt_max))`` drawn with the same key ``k_dt``; ``A_log = log(1..d_state)`` for every
    channel; ``D = 1 + 0.1 N(0, 1)`` from ``k_D``. The two ``nnx.Linear`` are built with private fixed ``Rngs``
    (not the caller's), so the caller's stream advances by exactly one draw. ``dt_rank = max(1, ceil(d_inner /
    16))`` when ``None``.

    A wrong input (not 3-D, or last axis not ``d_inner``) raises :class:`~spyx.InputError` (a ``ValueError``).
    NIR: none (input-dependent decay).
    """

    no_graph_form = SELECTIVE

    def __init__(self, d_inner: int, d_state: int = 16, dt_rank: int | None = None, *, dt_min: float = 1e-3,
                 dt_max: float = 1e-1, rngs: nnx.Rngs, scan_method: str = "associative",
                 scan_chunk_size: int = 64):
        self.scan_method, self.scan_chunk_size = check_method(scan_method, scan_chunk_size, "Mamba")
        if dt_rank is None:
            dt_rank = max(1, (d_inner + 15) // 16)
        self.d_inner = d_inner
        self.d_state = d_state
        self.dt_rank = dt_rank
        k_x, k_dt, _k_A, k_D = jax.random.split(rngs.params(), 4)

        def x_kernel(_key, shape, dtype=jnp.float32):
            return jax.random.normal(k_x, shape) * (1.0 / jnp.sqrt(d_inner))

        def dt_kernel(_key, shape, dtype=jnp.float32):
            return jax.random.normal(k_dt, shape) * (dt_rank**-0.5)

        def dt_bias(_key, shape, dtype=jnp.float32):
            # log-uniform steps in [dt_min, dt_max], stored so that softplus(bias) is the step
            dt = jnp.exp(jax.random.uniform(k_dt, shape, minval=jnp.log(dt_min), maxval=jnp.log(dt_max)))
            return dt + jnp.log1p(-jnp.exp(-dt))

        self.x_proj = nnx.Linear(d_inner, dt_rank + 2 * d_state, use_bias=False, kernel_init=x_kernel,
                                 rngs=nnx.Rngs(0))
        self.dt_proj = nnx.Linear(dt_rank, d_inner, kernel_init=dt_kernel, bias_init=dt_bias, rngs=nnx.Rngs(1))
        self.A_log = nnx.Param(jnp.log(jnp.tile(jnp.arange(1, d_state + 1, dtype=jnp.float32)[None, :],
                                                (d_inner, 1))))
        self.D = nnx.Param(jnp.ones((d_inner,)) + 0.1 * jax.random.normal(k_D, (d_inner,)))

    def __call__(self, u):
        check_tbd(u, "Mamba", "d_inner", self.d_inner, inline=True)
        r, s = self.dt_rank, self.d_state
        delta, B_t, C_t = jnp.split(self.x_proj(u), (r, r + s), axis=-1)
        dt = jax.nn.softplus(self.dt_proj(delta))
        A = -jnp.exp(self.A_log[...])
        A_bar = jnp.exp(jnp.einsum("tbd,ds->tbds", dt, A))
        Bu = dt[..., None] * B_t[..., None, :] * u[..., None]
        h = linear_recurrence(A_bar, Bu, method=self.scan_method, chunk_size=self.scan_chunk_size)
        return jnp.einsum("tbs,tbds->tbd", C_t, h) + skip(self.D[...], u)


class MambaBlock(nnx.Module):
    r"""A Mamba block without residual or norm: ``u`` ``[T, B, d_model]`` -> ``[T, B, d_model]``.

    ``d_inner = expand * d_model``. In this order:

    1. ``[x | z] = in_proj(u)`` (``nnx.Linear(d_model, 2 d_inner, use_bias=False)``, split in halves);
    2. ``x = conv(x)`` over time: ``nnx.Conv(d_inner, d_inner, kernel_size=(d_conv,), feature_group_count=d_inner,
       padding=((d_conv - 1, 0),))``, a causal depthwise convolution with bias, applied in ``[B, T, C]`` layout;
    3. ``y = ssm(silu(x)) * silu(z)`` with ``ssm = Mamba(d_inner, d_state)`` (its default ``dt_rank``, ``dt_min``,
       ``dt_max``);
    4. ``out_proj(y)`` (``nnx.Linear(d_inner, d_model, use_bias=False)``).

    Construction (= draw) order: ``in_proj``, ``conv``, ``ssm``, ``out_proj``, all from the caller's ``rngs``.
    ``scan_method``/``scan_chunk_size`` (spyx extras) go to the ``Mamba``. NIR: none.
    """

    no_graph_form = "it contains a Mamba selective SSM (" + SELECTIVE + ") and a gate that multiplies two signals"

    def __init__(self, d_model: int, d_state: int = 16, d_conv: int = 4, expand: int = 2, *, rngs: nnx.Rngs,
                 scan_method: str = "associative", scan_chunk_size: int = 64):
        d_inner = d_model * expand
        self.d_model = d_model
        self.d_inner = d_inner
        self.d_conv = d_conv
        self.in_proj = nnx.Linear(d_model, 2 * d_inner, use_bias=False, rngs=rngs)
        self.conv = nnx.Conv(in_features=d_inner, out_features=d_inner, kernel_size=(d_conv,),
                             feature_group_count=d_inner, padding=((d_conv - 1, 0),), rngs=rngs)
        self.ssm = Mamba(d_inner, d_state=d_state, rngs=rngs, scan_method=scan_method,
                         scan_chunk_size=scan_chunk_size)
        self.out_proj = nnx.Linear(d_inner, d_model, use_bias=False, rngs=rngs)

    def __call__(self, u):
        check_tbd(u, "MambaBlock", "d_model", self.d_model, inline=True)
        x, z = jnp.split(self.in_proj(u), 2, axis=-1)
        x = jnp.transpose(self.conv(jnp.transpose(x, (1, 0, 2))), (1, 0, 2))  # nnx.Conv wants [B, T, C]
        y = self.ssm(jax.nn.silu(x)) * jax.nn.silu(z)
        return self.out_proj(y)
