r"""``Cell``: one neuron family's step and its hand-derived backward step, elementwise, shared by every driver.

A cell is the per-element arithmetic of a neuron layer, written once and run by three drivers: a ``lax.scan``
(:mod:`spyx.kernels.scan`), a Pallas kernel (:mod:`spyx.kernels.pallas`) and, for the recurrent layers, a scan
with a matrix product per step (:mod:`spyx.kernels.recurrent`). Every array a cell sees has one shape (a block of
``[BLK]`` lanes in a kernel, ``[M]`` or ``[B, N]`` in a scan); parameters come already broadcast to that shape
and already clipped (``clip01`` of a decay happens outside, where autodiff handles its gradient).

Forward, for step ``t`` with incoming state ``S_t`` (a tuple, ``(V,)`` or ``(V, I)``) and input ``x_t``::

    y_t, S_{t+1} = cell.step(x_t, S_t, params, spike, fb)

``spike`` maps ``u`` to spikes: the surrogate itself in the autodiff reference, its bare forward (the Heaviside
step) in the fused drivers. ``fb`` is the recurrent feedback, a function ``s_t -> s_t @ W`` (``None`` for the
plain layers); its value enters exactly where ``x_t`` does, so its cotangent equals ``x_t``'s.

Backward, in reverse time, with ``lam`` the cotangent of ``S_{t+1}`` (everything downstream of it, summed) and
``gy`` the cotangent of ``y_t``::

    gx_t, lam_t, gparams_t = cell.grad_step(S_t, S_{t+1}, gy, lam, params, fns)

returns the cotangents of ``x_t`` and ``S_t`` and this step's share of each parameter's gradient (the drivers sum
the shares over ``t``). ``fns`` is a :class:`SpikeFns`: the forward ``H`` and the surrogate derivative ``s'``.
``gparams_t`` and ``lam_t`` are what reverse-mode autodiff of ``step`` gives, term by term, with the spike's
cotangent ``g`` turned into ``g * s'(u)`` (``spyx.axn``'s rule); the reset path ``- s * threshold`` is
differentiated like any other term. Only float rounding differs from ``jax.grad`` through the scan (the order
in which cotangents are summed).

The drivers store ``S_{t+1}`` for every step (the *new* states, ``[T, ...]`` per component) and hand
``grad_step`` both ``S_t`` (the previous row, or the initial state at ``t = 0``) and ``S_{t+1}``; a cell whose
output is its state (:class:`~spyx.kernels.li.LICell`) stores nothing beyond its outputs.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import jax.numpy as jnp

from spyx.axn import SpikeFunction, heaviside

__all__ = ["Cell", "NO_SPIKE", "SpikeFns", "add_feedback", "spike_fns"]


@dataclass(frozen=True, eq=False)
class SpikeFns:
    """The two halves of a :class:`spyx.axn.SpikeFunction` as the fused backward uses them.

    Attributes:
        forward: ``u -> s`` (the Heaviside step ``u > 0``, or a ``custom`` forward).
        derivative: ``u -> s'(u)`` in ``u``'s dtype (the factory's surrogate derivative).
    """

    forward: Callable
    derivative: Callable


def _never(u):
    raise RuntimeError("spyx.kernels: a non-spiking cell called its spike function (a bug in the cell)")


NO_SPIKE = SpikeFns(_never, _never)
"""The spike functions of a cell that does not fire (``LI``)."""

_FNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def spike_fns(surrogate: SpikeFunction) -> SpikeFns:
    """The forward and surrogate derivative of ``surrogate``: one :class:`SpikeFns` per surrogate object (held
    as long as the surrogate lives), so that a plan holding it is the same static value on every call and
    compiled kernels are reused."""
    fns = _FNS.get(surrogate)
    if fns is not None:
        return fns
    forward = surrogate.forward if surrogate.forward is not None else heaviside
    derivative = surrogate.derivative

    def deriv(u):
        return jnp.asarray(derivative(u)).astype(u.dtype)

    fns = SpikeFns(forward, deriv)
    _FNS[surrogate] = fns
    return fns


class Cell:
    """Base of the per-family cells (stateless singletons; see the module docstring for the contract).

    Class attributes:
        name: the family (``"lif"``), for messages and kernel names.
        states: names of the state components, in order (``("v",)``, ``("v", "i")``).
        params: names of the parameters, in the order ``step`` and ``grad_step`` take them.
        output_is_state: ``y_t`` is ``S_{t+1}[0]`` (``LI``), so the stored outputs are the stored states.
        spiking: the cell fires (``LI`` does not: its ``spike`` and ``fns`` are never called).
    """

    name: ClassVar[str]
    states: ClassVar[tuple[str, ...]]
    params: ClassVar[tuple[str, ...]]
    output_is_state: ClassVar[bool] = False
    spiking: ClassVar[bool] = True

    def step(self, x, state: tuple, p: tuple, spike: Callable, fb=None) -> tuple:
        """``(y_t, S_{t+1})`` from ``x_t``, ``S_t`` and the parameters."""
        raise NotImplementedError

    def grad_step(self, prev: tuple, new: tuple, gy, lam: tuple, p: tuple, fns: SpikeFns) -> tuple:
        """``(gx_t, lam_t, gparams_t)``: cotangents of ``x_t`` and ``S_t`` and this step's parameter shares."""
        raise NotImplementedError

    def input_cotangent(self, lam: tuple):
        """The cotangent of ``x_t`` (and of the feedback ``fb``) given only ``lam`` (used by the recurrent
        driver to form ``gx_t @ W^T`` before ``grad_step``)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def add_feedback(a, fb, s):
    """``a + fb(s)``: the recurrent feedback of this step's spikes added where the input was (``a`` unchanged
    for the plain layers, ``fb=None``), in the order of ``spyx.nn``'s steps (``... + x + self.feedback(s)``)."""
    return a if fb is None else a + fb(s)
