r"""Spike functions with surrogate gradients.

Every factory here returns a :class:`SpikeFunction` ``H``: ``H(x)`` is the exact Heaviside step of ``x``
on the forward pass (callers pass ``u - threshold``), and its derivative on the backward pass is the
surrogate ``h(x)`` named by the factory. ``H(x, strict=True)`` (the default, NIR's ``v > v_threshold``)
fires where ``x > 0``; ``H(x, strict=False)`` fires where ``x >= 0`` (profiles with a ``>=`` test).

The derivative at ``x`` is the surrogate, wherever ``x`` lies; the forward value is never smoothed. Each
function works under ``jit``, ``vmap`` and ``grad`` (it is a ``jax.custom_vjp``), keeps the dtype of ``x``
(spikes are 0.0/1.0 in that dtype) and is hashable, so a program can hold it as a static choice.

=============  ===============================================  =========================================
factory        surrogate derivative ``h(x)``                    note
=============  ===============================================  =========================================
heaviside()    ``1``                                            straight-through estimator
superspike(k)  ``1 / (1 + k |x|)^2``                            Zenke & Ganguli 2018, default k = 25
arctan(alpha)  ``alpha / (2 (1 + (pi alpha x / 2)^2))``         snnTorch ``ATan``, default alpha = 2
tanh(k)        ``k (1 - tanh(k x)^2)``                          default k = 1
boxcar(width)  ``1 / width`` where ``|x| <= width / 2``, else 0 unit area
triangular(w)  ``max(0, 1 - |x| / w) / w``                      unit area, default w = 1
custom(f, b)   ``b(x)``                                         forward ``f(x)``, any callable pair
=============  ===============================================  =========================================
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp

__all__ = [
    "SpikeFunction",
    "heaviside",
    "superspike",
    "arctan",
    "tanh",
    "boxcar",
    "triangular",
    "custom",
    "by_name",
]


def _step(x, strict: bool):
    return (x > 0).astype(x.dtype) if strict else (x >= 0).astype(x.dtype)


def _make(forward: Callable, derivative: Callable) -> Callable:
    @jax.custom_vjp
    def fn(x):
        return forward(x)

    def fwd(x):
        return forward(x), x

    def bwd(x, g):
        return (g * derivative(x).astype(g.dtype),)

    fn.defvjp(fwd, bwd)
    return fn


@dataclass(frozen=True, eq=False)
class SpikeFunction:
    """A spike function: ``H(x, strict=True)``; exact step forward, ``derivative(x)`` backward.

    Attributes:
        name: the factory name (``superspike``), for display and ``by_name``.
        options: the factory's arguments, e.g. ``{"k": 25.0}``.
        derivative: ``x -> h(x)``, the surrogate derivative, elementwise.
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
            gt = _make(lambda x: _step(x, True), self.derivative)
            ge = _make(lambda x: _step(x, False), self.derivative)
        object.__setattr__(self, "_gt", gt)
        object.__setattr__(self, "_ge", ge)

    def __call__(self, x, *, strict: bool = True):
        """Spikes of ``x`` (1 where ``x > 0``, or ``x >= 0`` when ``strict=False``), same dtype and shape."""
        x = jnp.asarray(x)
        if not jnp.issubdtype(x.dtype, jnp.floating):
            x = x.astype(jnp.result_type(float))
        return (self._gt if strict else self._ge)(x)

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{self.name}({opts})"


def heaviside() -> SpikeFunction:
    """Straight-through estimator: ``h(x) = 1``."""
    return SpikeFunction("heaviside", {}, lambda x: jnp.ones_like(x))


def superspike(k: float = 25.0) -> SpikeFunction:
    """SuperSpike (fast sigmoid) surrogate: ``h(x) = 1 / (1 + k |x|)^2``."""
    k = float(k)
    return SpikeFunction("superspike", {"k": k}, lambda x: 1.0 / (1.0 + k * jnp.abs(x)) ** 2)


def arctan(alpha: float = 2.0) -> SpikeFunction:
    """Arctangent surrogate (snnTorch ``ATan``): ``h(x) = alpha / (2 (1 + (pi alpha x / 2)^2))``."""
    alpha = float(alpha)
    return SpikeFunction(
        "arctan", {"alpha": alpha}, lambda x: alpha / (2.0 * (1.0 + (math.pi * alpha * x / 2.0) ** 2))
    )


def tanh(k: float = 1.0) -> SpikeFunction:
    """Tanh surrogate: ``h(x) = k (1 - tanh(k x)^2)``, evaluated as ``k / cosh(k x)^2`` (no cancellation)."""
    k = float(k)
    return SpikeFunction("tanh", {"k": k}, lambda x: k / jnp.cosh(k * x) ** 2)


def boxcar(width: float = 1.0) -> SpikeFunction:
    """Rectangular surrogate of unit area: ``h(x) = 1/width`` where ``|x| <= width/2``, else 0."""
    width = float(width)
    if width <= 0:
        raise ValueError(f"boxcar width must be > 0, got {width}")
    return SpikeFunction(
        "boxcar",
        {"width": width},
        lambda x: jnp.where(jnp.abs(x) <= width / 2, 1.0 / width, 0.0).astype(x.dtype),
    )


def triangular(width: float = 1.0) -> SpikeFunction:
    """Triangular surrogate of unit area: ``h(x) = max(0, 1 - |x|/width) / width``."""
    width = float(width)
    if width <= 0:
        raise ValueError(f"triangular width must be > 0, got {width}")
    return SpikeFunction(
        "triangular", {"width": width}, lambda x: jnp.maximum(0.0, 1.0 - jnp.abs(x) / width) / width
    )


def custom(fwd: Callable, bwd: Callable, name: str = "custom") -> SpikeFunction:
    """Any pair: forward ``fwd(x)`` (for both ``strict`` settings), surrogate derivative ``bwd(x)``."""
    return SpikeFunction(name, {}, bwd, forward=fwd)


_FACTORIES = {
    "heaviside": heaviside,
    "superspike": superspike,
    "arctan": arctan,
    "tanh": tanh,
    "boxcar": boxcar,
    "triangular": triangular,
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
