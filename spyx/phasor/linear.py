"""``PhasorLinear``, ``PhasorActivation``, ``PhasorReadout``: the layers of a phasor network (Bybee, Frady & Sommer
2022), with Spyx 1.0's API and numbers."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from spyx.errors import InputError

__all__ = ["ComplexInputError", "PhasorActivation", "PhasorLinear", "PhasorReadout", "COMPLEX_SIGNALS"]

COMPLEX_SIGNALS = "it computes with complex weights and signals; NIR and the spyx IR carry real signals only"


class ComplexInputError(InputError, TypeError):
    """A real input where a complex one is needed (a ``TypeError``, as Spyx 1.0 raises)."""


class PhasorLinear(nnx.Module):
    r"""Complex dense layer ``z @ kernel + bias`` with the complex parameters stored as real and imaginary parts.

    ``kernel = kernel_re + i kernel_im`` ``(in, out)`` and ``bias = bias_re + i bias_im`` ``(out,)`` are assembled
    at each call from float32 ``nnx.Param``\ s, so the gradients an optimiser sees are real (the gradient of a
    real loss with respect to a complex parameter would be the conjugate Wirtinger derivative, which optax does
    not undo).

    Initialisation (complex Glorot, one ``rngs.params()`` draw split in two): ``kernel_re, kernel_im = N(0, 1) *
    sqrt(1 / (2 in))``; ``bias_re = bias_im = 0`` if ``use_bias``, else both attributes are ``None``.

    ``__call__(z)``: ``z`` complex64/complex128 ``[..., in]`` -> complex ``[..., out]``; a real ``z`` raises
    :class:`ComplexInputError` (a ``TypeError``) pointing at :func:`spyx.phasor.real_to_phasor`. NIR: none.
    """

    no_graph_form = COMPLEX_SIGNALS

    def __init__(self, in_features: int, out_features: int, use_bias: bool = True, *, rngs: nnx.Rngs):
        k_re, k_im = jax.random.split(rngs.params())
        scale = jnp.sqrt(1.0 / (2.0 * in_features))
        self.kernel_re = nnx.Param(jax.random.normal(k_re, (in_features, out_features)) * scale)
        self.kernel_im = nnx.Param(jax.random.normal(k_im, (in_features, out_features)) * scale)
        self.use_bias = use_bias
        if use_bias:
            self.bias_re = nnx.Param(jnp.zeros((out_features,), jnp.float32))
            self.bias_im = nnx.Param(jnp.zeros((out_features,), jnp.float32))
        else:
            self.bias_re = None
            self.bias_im = None

    @property
    def kernel(self):
        """The complex64 kernel ``kernel_re + i kernel_im``."""
        return (self.kernel_re[...] + 1j * self.kernel_im[...]).astype(jnp.complex64)

    @property
    def bias(self):
        """The complex64 bias, or ``None`` without one."""
        if not self.use_bias:
            return None
        return (self.bias_re[...] + 1j * self.bias_im[...]).astype(jnp.complex64)

    def __call__(self, z):
        if z.dtype not in (jnp.complex64, jnp.complex128):
            raise ComplexInputError(
                f"PhasorLinear expects a complex input; got dtype {z.dtype}. Use spyx.phasor.real_to_phasor(x) on "
                "the input first."
            )
        out = z @ self.kernel
        if not self.use_bias:
            return out
        return out + jnp.reshape(self.bias, (1,) * (out.ndim - 1) + (-1,))  # no implicit rank promotion


class PhasorActivation(nnx.Module):
    """Projection onto the unit circle, ``z / (|z| + eps)``: keeps the phase, drops the magnitude (``eps`` keeps
    ``0`` at ``0``). NIR: none."""

    no_graph_form = "it divides a complex signal by its magnitude; NIR and the spyx IR carry real signals only"

    def __init__(self, eps: float = 1e-8):
        self.eps = eps

    def __call__(self, z):
        return z / (jnp.abs(z) + self.eps).astype(z.dtype)


class PhasorReadout(nnx.Module):
    """Real logits from phasors: ``Re(proj(z))`` with ``proj = PhasorLinear(in, out, use_bias=False)`` (one draw).
    NIR: none."""

    no_graph_form = COMPLEX_SIGNALS

    def __init__(self, in_features: int, out_features: int, *, rngs: nnx.Rngs):
        self.proj = PhasorLinear(in_features, out_features, use_bias=False, rngs=rngs)

    def __call__(self, z):
        return jnp.real(self.proj(z))
