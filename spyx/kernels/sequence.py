r"""``run_cell``: a whole sequence of one neuron family, by the chosen implementation, under one ``custom_vjp``.

Steps, for ``x`` ``[T, B, *hidden]`` (``feat = (B, *hidden)``):

1. states are checked to be ``feat``-shaped (``None``: zeros); parameters are cast to ``x``'s dtype,
   decays clipped to [0, 1] (``jnp.clip``, as ``spyx.nn``'s ``clip01``), and every parameter broadcast to
   ``feat`` explicitly; all of this is ordinary JAX, so autodiff sums a broadcast parameter's gradient back
   to its shape and applies the clip's gradient;
2. :func:`spyx.kernels.dispatch.resolve_impl` picks ``pallas``, ``scan`` or ``autodiff``;
3. ``autodiff``: ``lax.scan`` of ``cell.step`` with the surrogate itself; otherwise the arrays are flattened to
   ``[T, M]`` / ``[M]`` and :func:`fused` runs the Pallas or scan driver, whose backward is the cell's
   hand-derived reverse pass.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from spyx.axn import SpikeFunction
from spyx.errors import InputError, OptionError
from spyx.kernels.cell import NO_SPIKE, Cell, SpikeFns, spike_fns
from spyx.kernels.config import KernelConfig
from spyx.kernels.dispatch import resolve_impl
from spyx.kernels.pallas import pallas_backward, pallas_forward
from spyx.kernels.scan import scan_backward, scan_forward

__all__ = ["Plan", "autodiff_sequence", "check_config", "fused", "prepare", "run_cell"]


@dataclass(frozen=True)
class Plan:
    """The static half of a fused call: which cell, spike functions, driver and kernel layout."""

    cell: Cell
    fns: SpikeFns
    impl: str
    config: KernelConfig
    interpret: bool

    def forward(self, x, states, params, *, save: bool):
        if self.impl == "pallas":
            return pallas_forward(self.cell, self.fns, x, states, params, save=save, config=self.config,
                                  interpret=self.interpret)
        return scan_forward(self.cell, self.fns, x, states, params, save=save, unroll=int(self.config.scan_unroll))

    def backward(self, seq, states0, params, gy, gfinals):
        if self.impl == "pallas":
            return pallas_backward(self.cell, self.fns, seq, states0, params, gy, gfinals, config=self.config,
                                   interpret=self.interpret)
        return scan_backward(self.cell, self.fns, seq, states0, params, gy, gfinals,
                             unroll=int(self.config.scan_unroll))


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def fused(plan: Plan, x, states, params):
    """``(y [T, M], finals)`` of ``plan.cell`` over ``x`` ``[T, M]`` from ``states`` and ``params`` (tuples of
    ``[M]``); differentiable in ``x``, ``states`` and ``params`` by the cell's reverse pass."""
    y, finals, _ = plan.forward(x, states, params, save=False)
    return y, finals


def _fused_fwd(plan, x, states, params):
    y, finals, seq = plan.forward(x, states, params, save=True)
    return (y, finals), (seq, states, params)


def _fused_bwd(plan, res, cts):
    seq, states, params = res
    gy, gfinals = cts
    gx, gstates, gparams = plan.backward(seq, states, params, gy, gfinals)
    return gx, gstates, gparams


fused.defvjp(_fused_fwd, _fused_bwd)


def autodiff_sequence(cell: Cell, spike, x, states, params, fb=None, *, unroll: int = 1):
    """The reference: ``lax.scan`` over ``t`` of ``cell.step(x_t, S_t, params, spike, fb)`` (``spike`` the
    surrogate itself), differentiated by JAX. Returns ``(y [T, ...], finals)``."""

    def body(state, xt):
        y, new = cell.step(xt, state, params, spike, fb)
        return new, y

    finals, y = jax.lax.scan(body, tuple(states), x, unroll=unroll)
    return y, tuple(finals)


@functools.cache
def _default_spike():
    """``spyx.axn.superspike()``, spyx.nn's default spike function, made once."""
    from spyx.axn import superspike

    return superspike()


def _state(s, feat, dtype, what, name):
    if s is None:
        return jnp.zeros(feat, dtype)
    s = jnp.asarray(s)
    if tuple(s.shape) != feat:
        raise InputError(f"{what}: initial state {name} has shape {tuple(s.shape)}, expected {feat} (the input's "
                         f"[B, *hidden] after its time axis)")
    return s.astype(dtype)


def _param(p, feat, dtype, decay: bool, what, name):
    p = jnp.asarray(p).astype(dtype)
    if decay:
        p = jnp.clip(p, 0, 1)
    if p.ndim > len(feat):
        raise InputError(f"{what}: {name} has shape {tuple(p.shape)}, more axes than the state {feat}")
    p = jnp.reshape(p, (1,) * (len(feat) - p.ndim) + tuple(p.shape))
    try:
        return jnp.broadcast_to(p, feat)
    except ValueError:
        raise InputError(f"{what}: {name} of shape {tuple(p.shape)} does not broadcast to the state {feat}") from None


def prepare(cell: Cell, x, states, params, surrogate, *, decays, what):
    """Step 1 of the module docstring: ``(x, states, params, surrogate, fns)`` with states ``feat``-shaped,
    parameters cast, clipped (indices ``decays``) and broadcast to ``feat``, the default surrogate filled in, and
    ``fns`` its :class:`~spyx.kernels.cell.SpikeFns` (``None`` when it is not a ``spyx.axn`` spike function)."""
    x = jnp.asarray(x)
    if x.ndim < 2 or not jnp.issubdtype(x.dtype, jnp.floating):
        raise InputError(f"{what}: x must be a float array [T, B, *hidden]; got {x.dtype} of shape {x.shape}")
    feat = tuple(x.shape[1:])
    dtype = x.dtype
    states = tuple(_state(s, feat, dtype, what, n) for s, n in zip(states, cell.states, strict=True))
    params = tuple(_param(p, feat, dtype, k in decays, what, n)
                   for k, (p, n) in enumerate(zip(params, cell.params, strict=True)))
    if not cell.spiking:
        return x, states, params, surrogate, NO_SPIKE
    if surrogate is None:
        surrogate = _default_spike()
    fns = spike_fns(surrogate) if isinstance(surrogate, SpikeFunction) else None
    return x, states, params, surrogate, fns


def check_config(config, what):
    """``config`` or the default :class:`~spyx.kernels.KernelConfig` (an OptionError for anything else)."""
    if config is None:
        return KernelConfig()
    if not isinstance(config, KernelConfig):
        raise OptionError(f"{what}: config must be a spyx.kernels.KernelConfig, got {config!r}")
    return config


def run_cell(cell: Cell, x, states, params, surrogate, *, decays, impl, interpret, config, what):
    """``(y [T, B, *hidden], finals)`` of ``cell`` over ``x`` (see the module docstring for the steps).

    Args:
        cell: the family. x: ``[T, B, *hidden]`` floats. states: initial states (``None``: zeros), in
            ``cell.states`` order. params: in ``cell.params`` order; those at indices ``decays`` are clipped to
            [0, 1]. surrogate: a spike function (``None``: ``spyx.axn.superspike()``). impl, interpret, config:
            see :mod:`spyx.kernels.dispatch` and :class:`~spyx.kernels.KernelConfig`. what: the public
            function's name, for messages.
    """
    config = check_config(config, what)
    kind = resolve_impl(impl, interpret, has_pallas=True, what=what)
    x, states, params, surrogate, fns = prepare(cell, x, states, params, surrogate, decays=decays, what=what)
    if fns is None and impl == "pallas":
        raise OptionError(f"{what}: impl='pallas' needs a spyx.axn spike function (its surrogate derivative); got "
                          f"{surrogate!r}. Use impl='auto' or 'autodiff' for other activations")
    feat = tuple(x.shape[1:])
    m = math.prod(feat)
    if kind == "autodiff" or fns is None or x.shape[0] == 0 or m == 0:
        return autodiff_sequence(cell, surrogate, x, states, params, unroll=int(config.scan_unroll))
    plan = Plan(cell, fns, kind, config, bool(interpret))
    t_len = x.shape[0]
    y, finals = fused(plan, x.reshape(t_len, m), tuple(s.reshape(m) for s in states),
                      tuple(p.reshape(m) for p in params))
    return y.reshape(x.shape), tuple(f.reshape(feat) for f in finals)
