"""``ResonateFire``: the reset-free resonate-and-fire neuron (a complex membrane), and ``Resonator``, the step,
``parallel`` and ``sequence`` it shares with ``spyx.experimental.RFSSM``."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from spyx.errors import ArgumentError, InputError
from spyx.nn.base import expand
from spyx.nn.neuron import Neuron
from spyx.scan import check_method, linear_recurrence
from spyx.ssm.diagonal import inverse_softplus

__all__ = ["ResonateFire", "Resonator", "COMPLEX_MEMBRANE"]

COMPLEX_MEMBRANE = (
    "its membrane is complex and oscillates (z_t = a z_{t-1} + drive_t with a complex pole a = exp(dt (-lambda + i "
    "omega))); NIR neurons and the spyx IR carry real state only"
)


class Resonator(Neuron):
    r"""A spiking layer whose membrane is the complex linear recurrence ``z_t = a z_{t-1} + drive(x_t)``.

    One step, in this order, for real input ``x`` ``(B, *hidden_shape)`` and complex membrane ``z`` (zero at
    t = 0):

    1. ``z' = a * z + drive(x)`` (no reset: the recurrence stays linear in ``z``);
    2. ``s = spike(Re z' - threshold)`` on the *updated* membrane (as ``PSU_LIF``);
    3. return ``(s, z')``; spikes are real ``{0, 1}`` in ``x``'s float dtype.

    Subclasses define the pole ``a`` (a property, complex64, shape ``hidden_shape`` or ``()``) and ``_drive``.
    :meth:`parallel` evaluates the same recurrence over a whole sequence at once with
    :func:`spyx.scan.linear_recurrence`; :meth:`sequence` continues from a given state (what ``spyx.nn.run``'s
    layer-by-layer schedule calls). State: complex64 ``(B, *hidden_shape)``.
    """

    no_graph_form = COMPLEX_MEMBRANE

    def initial_state(self, batch_size):
        """Complex64 zeros ``(batch_size, *hidden_shape)``."""
        return jnp.zeros((int(batch_size), *self.hidden_shape), jnp.complex64)

    def _drive(self, x):
        return x.astype(jnp.complex64)

    def _spikes(self, z):
        re = jnp.real(z)
        return self.spike(re - self._threshold(re))

    def __call__(self, x, z):
        self._check(x)
        z = expand(self.a, z) * z + self._drive(x).astype(z.dtype)
        return self._spikes(z), z

    def _check_sequence(self, x, what: str) -> None:
        k = len(self.hidden_shape)
        if x.ndim < k + 2 or tuple(x.shape[x.ndim - k:]) != self.hidden_shape:
            raise InputError(
                f"{type(self).__name__}.{what} expects time-major (T, B, *{self.hidden_shape}) input, got "
                f"{tuple(x.shape)}"
            )

    def parallel(self, x, *, method: str = "associative", chunk_size: int = 64):
        """Spikes ``(T, B, *hidden_shape)`` of a whole time-major sequence ``x``, from ``z_{-1} = 0``.

        ``z_t = a z_{t-1} + drive(x_t)`` by :func:`spyx.scan.linear_recurrence` over axis 0 (``method``:
        ``"associative"``, Spyx 1.0's complex ``lax.associative_scan``, by default; ``"sequential"``;
        ``"chunked"``), then ``s_t = spike(Re z_t - threshold)``. Equals the outputs of ``spyx.nn.run(layer, x)``.
        """
        self._check_sequence(x, "parallel")
        method, chunk_size = check_method(method, chunk_size, f"{type(self).__name__}.parallel")
        z = linear_recurrence(self.a, self._drive(x), method=method, chunk_size=chunk_size)
        return self._spikes(z)

    def sequence(self, xs, z):
        """``(spikes, z_T)`` of ``xs`` ``(T, B, *hidden_shape)`` continuing from the membrane ``z``."""
        self._check_sequence(xs, "sequence")
        zs, last = linear_recurrence(self.a, self._drive(xs).astype(z.dtype), z, return_final=True)
        return self._spikes(zs), last


class ResonateFire(Resonator):
    r"""Reset-free resonate-and-fire neuron: a damped complex oscillator per unit, spiking on its real part.

    ``a = exp(dt (-lambda + i omega))`` with ``lambda = softplus(raw_lambda) >= 0`` (so ``|a| = exp(-dt lambda) <=
    1``) and angular frequency ``omega``; the real input is injected into the real part::

        z_t = a z_{t-1} + x_t,   s_t = spike(Re z_t - threshold)

    (steps of :class:`Resonator`). ``dt`` only scales the exponent (the recurrence is already discrete).

    Args:
        hidden_shape: per-sample shape (a tuple).
        lambda_init: ``None``: a per-unit ``raw_lambda = 0.5 + TN(0.25)`` (one draw; the decay ``softplus(raw)``
            lies in (0.69, 1.32)); a number ``lambda0 > 0``: a 0-d ``raw_lambda = log(expm1(lambda0))``.
        omega_init: ``None``: a per-unit ``omega = 1 + TN(0.5)`` (one draw, after ``raw_lambda``'s); a number: a 0-d
            ``omega``.
        threshold: on ``Re z`` (a plain attribute). dt: positive (else :class:`~spyx.ArgumentError`).
        activation: the spike function (default ``spyx.axn.superspike()``).

    Params (float32): ``raw_lambda``, ``omega``. Properties ``decay``, ``a``. ``spyx.experimental.ResonateFire`` is
    this class. NIR: none (complex membrane): ``spyx.nir.to_nir`` raises ``NotImplementedError`` (Spyx 1.0),
    ``spyx.nn.export``/``lower`` raise :class:`~spyx.ExportError`.
    """

    def __init__(self, hidden_shape, lambda_init=None, omega_init=None, threshold=1.0, dt=1.0, activation=None, *,
                 rngs: nnx.Rngs):
        if not dt > 0:
            raise ArgumentError(f"ResonateFire: dt must be positive; got {dt}.")
        super().__init__(hidden_shape, threshold, activation)
        self.dt = dt
        if lambda_init is None:
            raw = nnx.initializers.truncated_normal(stddev=0.25)(rngs.params(), self.hidden_shape) + 0.5
        else:
            raw = inverse_softplus(jnp.full((), float(lambda_init)))
        self.raw_lambda = nnx.Param(raw.astype(jnp.float32))
        if omega_init is None:
            omega = nnx.initializers.truncated_normal(stddev=0.5)(rngs.params(), self.hidden_shape) + 1.0
            self.omega = nnx.Param(omega.astype(jnp.float32))
        else:
            self.omega = nnx.Param(jnp.full((), float(omega_init)))

    @property
    def decay(self):
        """``lambda = softplus(raw_lambda) >= 0``."""
        return jax.nn.softplus(self.raw_lambda[...])

    @property
    def a(self):
        """The pole ``exp(dt (-lambda + i omega))`` (complex64, ``|a| <= 1``)."""
        return jnp.exp(self.dt * (-self.decay + 1j * self.omega[...])).astype(jnp.complex64)
