"""Which implementation runs a fused neuron sequence: ``impl="auto" | "pallas" | "scan" | "autodiff"``.

* ``"pallas"``: the fused Pallas kernels (Triton lowering), forward and backward one pass each over ``T``.
  Needs a GPU, or ``interpret=True`` (Pallas interpret mode: the same kernel body run by XLA, for testing on
  CPU; slow).
* ``"scan"``: the same cell arithmetic driven by ``jax.lax.scan``, with the same hand-derived backward
  (a reverse scan) under the same ``jax.custom_vjp``. Runs everywhere.
* ``"autodiff"``: the reference: ``lax.scan`` of the step with the surrogate itself, differentiated by JAX.
  Used whatever ``impl`` says when the spike function is not a ``spyx.axn`` :class:`~spyx.axn.SpikeFunction`
  (its surrogate derivative is then unknown), and for empty sequences.
* ``"auto"``: ``"pallas"`` when JAX's default backend is a GPU and a kernel exists for the layer, else
  ``"scan"``.
"""

from __future__ import annotations

import jax

from spyx.errors import OptionError

__all__ = ["IMPLS", "resolve_impl"]

IMPLS = ("auto", "pallas", "scan", "autodiff")


def resolve_impl(impl: str, interpret: bool, *, has_pallas: bool, what: str) -> str:
    """The implementation to run (``"pallas"``, ``"scan"`` or ``"autodiff"``) for the request ``impl``.

    Raises:
        OptionError: an unknown ``impl``; ``"pallas"`` for a layer without a kernel; ``"pallas"`` off GPU
            without ``interpret=True``.
    """
    if impl not in IMPLS:
        raise OptionError(f"{what}: impl={impl!r} is not one of {', '.join(map(repr, IMPLS))}")
    if impl == "auto":
        return "pallas" if has_pallas and jax.default_backend() == "gpu" else "scan"
    if impl != "pallas":
        return impl
    if not has_pallas:
        raise OptionError(f"{what}: there is no Pallas kernel for this layer; use impl='scan' or impl='auto'")
    if not interpret and jax.default_backend() != "gpu":
        raise OptionError(
            f"{what}: impl='pallas' compiles a GPU kernel but JAX's default backend is "
            f"{jax.default_backend()!r}; pass interpret=True to run it in Pallas interpret mode, or impl='scan'"
        )
    return "pallas"
