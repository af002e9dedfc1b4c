r"""Spike functions with surrogate gradients (Spyx 1.0's ``spyx.axn``, same names, arguments and numbers).

Every factory returns a :class:`SpikeFunction` ``f``: on the forward pass ``f(x)`` is the exact Heaviside step
``H(x) = 1 where x > 0 else 0`` (``H(0) = 0``; callers pass ``v - threshold``) in ``x``'s dtype; on the
backward pass an upstream cotangent ``g`` becomes ``g * s'(x)``, the factory's surrogate derivative at the
primal input. The forward value is never smoothed. Each function works under ``jit``, ``vmap`` and ``grad``
(a ``jax.custom_vjp`` inside ``jax.jit``) and is hashable, so a compiled program can hold it as a static choice.

=================================  ==========================================  =============
factory (Spyx 1.0 defaults)        surrogate derivative ``s'(x)``               ``s'(0)``
=================================  ==========================================  =============
``superspike(k=25)``               ``1 / (1 + k |x|)^2``                         1
``arctan(k=2)``                    ``1 / (pi (1 + (k pi x)^2))``                 1/pi
``tanh(k=1)``                      ``4 / (e^{-kx} + e^{kx})^2 = sech^2(kx)``     1
``boxcar(width=2, height=0.5)``    ``height`` where ``|x| < width/2`` (strict)   height
``triangular(k=2)``                ``max(0, 1 - |k x|)``                         1
``custom(bwd=identity, fwd=H)``    ``bwd(x)`` (the default gives ``x``)          0
``straight_through()`` (spyx)      ``1``                                         1
=================================  ==========================================  =============

``heaviside(x)`` is a plain function (Spyx 1.0): the step itself, with no surrogate (its gradient is zero).
``tanh`` has no factor ``k`` (its peak is 1 for every ``k``) and ``custom()``'s default backward is the identity
(the gradient equals the input value), both as Spyx 1.0 computes them (``../shared/spyx-api.md`` §3, §15).

spyx extras: ``f(x, strict=False)`` fires where ``x >= 0`` (profiles whose peers test ``>=``), and
:func:`by_name` builds a surrogate from its name, as ``spyx.compile(surrogate=...)`` and the CLI do.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp

__all__ = [
    "Activation",
    "SpikeFunction",
    "heaviside",
    "superspike",
    "arctan",
    "tanh",
    "boxcar",
    "triangular",
    "custom",
    "straight_through",
    "by_name",
]

Activation = Callable[[jax.Array], jax.Array]


def heaviside(x):
    """``1`` where ``x > 0``, else ``0``, in ``x``'s dtype (integer inputs stay integer). No surrogate."""
    x = jnp.asarray(x)
    return (x > 0).astype(x.dtype)


def _ge(x):
    return (x >= 0).astype(x.dtype)


def _make(forward: Callable, derivative: Callable) -> Callable:
    @jax.custom_vjp
    def fn(x):
        return forward(x)

    def fwd(x):
        return forward(x), x

    def bwd(x, g):
        return (g * derivative(x).astype(g.dtype),)

    fn.defvjp(fwd, bwd)
    return jax.jit(fn)


@dataclass(frozen=True, eq=False)
class SpikeFunction:
    """A spike function ``f(x, strict=True)``: ``forward(x)`` (default: the Heaviside step) on the forward pass,
    ``derivative(x)`` times the cotangent on the backward pass.

    Attributes:
        name: the factory name (``"superspike"``), for display and :func:`by_name`.
        options: the factory's arguments, e.g. ``{"k": 25.0}``.
        derivative: ``x -> s'(x)``, elementwise.
        forward: the forward function; ``None`` is the Heaviside step (and allows ``strict=False``).
    """

    name: str
    options: dict
    derivative: Callable
    forward: Callable | None = None
    _gt: Callable = field(init=False, repr=False)
    _ge: Callable = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.forward is not None:
            gt = ge = _make(self.forward, self.derivative)
        else:
            gt = _make(heaviside, self.derivative)
            ge = _make(_ge, self.derivative)
        object.__setattr__(self, "_gt", gt)
        object.__setattr__(self, "_ge", ge)

    def __call__(self, x, *, strict: bool = True):
        """Spikes of ``x`` (1 where ``x > 0``, or ``x >= 0`` with ``strict=False``), same shape and dtype."""
        x = jnp.asarray(x)
        if not jnp.issubdtype(x.dtype, jnp.floating):
            # no gradient flows into integers: the step alone, in the input's dtype (as Spyx 1.0)
            return heaviside(x) if strict else _ge(x)
        return (self._gt if strict else self._ge)(x)

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{self.name}({opts})"


def superspike(k: float = 25) -> SpikeFunction:
    """SuperSpike (fast sigmoid, Zenke & Ganguli 2018): ``s'(x) = 1 / (1 + k |x|)^2``."""
    return SpikeFunction("superspike", {"k": k}, lambda x: 1 / (1 + k * jnp.abs(x)) ** 2)


def arctan(k: float = 2) -> SpikeFunction:
    """Arctangent: ``s'(x) = 1 / (pi (1 + (k pi x)^2))`` (``1/pi`` at 0, Spyx 1.0's formula)."""
    return SpikeFunction("arctan", {"k": k}, lambda x: 1 / (math.pi * (1 + (k * math.pi * x) ** 2)))


def tanh(k: float = 1) -> SpikeFunction:
    """Tanh: ``s'(x) = 4 / (e^{-kx} + e^{kx})^2 = sech^2(kx)`` (no factor ``k``: the peak is 1 for every ``k``)."""
    return SpikeFunction("tanh", {"k": k}, lambda x: 4 / (jnp.exp(-k * x) + jnp.exp(k * x)) ** 2)


def boxcar(width: float = 2, height: float = 0.5) -> SpikeFunction:
    """Rectangle: ``s'(x) = height`` where ``|x| < width / 2`` (strict: 0 on the edges), else 0."""
    return SpikeFunction(
        "boxcar",
        {"width": width, "height": height},
        lambda x: jnp.where(jnp.abs(x) < width / 2, height, 0.0).astype(x.dtype),
    )


def triangular(k: float = 2) -> SpikeFunction:
    """Triangle: ``s'(x) = max(0, 1 - |k x|)``."""
    return SpikeFunction("triangular", {"k": k}, lambda x: jnp.maximum(0.0, 1 - jnp.abs(k * x)))


def _identity(x):
    return x


def custom(bwd: Callable = _identity, fwd: Callable = heaviside) -> SpikeFunction:
    """Any pair, **backward first** (Spyx 1.0's order): forward ``fwd(x)``, surrogate derivative ``bwd(x)``.

    ``custom()`` with no arguments has ``bwd`` the identity, so the gradient of ``sum(custom()(x))`` is ``x``
    itself (Spyx 1.0 calls it straight-through; :func:`straight_through` is the ``s'(x) = 1`` estimator).
    """
    forward = None if fwd is heaviside else fwd
    return SpikeFunction("custom", {}, bwd, forward=forward)


def straight_through() -> SpikeFunction:
    """The straight-through estimator: ``s'(x) = 1`` (a spyx extra)."""
    return SpikeFunction("straight_through", {}, jnp.ones_like)


_FACTORIES = {
    "superspike": superspike,
    "arctan": arctan,
    "tanh": tanh,
    "boxcar": boxcar,
    "triangular": triangular,
    "straight_through": straight_through,
}


def by_name(name: str, **options) -> SpikeFunction:
    """A surrogate by factory name (``"superspike"``) with options; OptionError listing the names."""
    from spyx.errors import OptionError

    if name not in _FACTORIES:
        raise OptionError(f"unknown surrogate {name!r}; available: {', '.join(sorted(_FACTORIES))}")
    try:
        return _FACTORIES[name](**options)
    except (TypeError, ValueError) as e:
        raise OptionError(f"surrogate {name!r}: {e}") from e
