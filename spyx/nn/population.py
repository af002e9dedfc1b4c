"""``PopulationCode``: sum groups of ``num_classes`` consecutive outputs."""

from __future__ import annotations

import jax

__all__ = ["PopulationCode"]


def PopulationCode(num_classes: int):  # noqa: N802  (Spyx 1.0's name for a factory)
    """A jitted ``f(x)``: reshape ``x`` (row-major) to ``(-1, num_classes)`` and sum the last axis.

    The result is 1-D of length ``x.size / num_classes`` (the batch structure is not kept), as Spyx 1.0:
    ``PopulationCode(2)(arange(12).reshape(2, 6)) == [1, 5, 9, 13, 17, 21]``.
    """

    @jax.jit
    def population_code(x):
        return x.reshape(-1, num_classes).sum(axis=-1)

    return population_code
