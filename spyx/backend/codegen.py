"""Code generation: a lowered graph (flat, discrete, verified) -> :class:`Program`.

The backend only generates code: it reads no files and runs no passes or profiles. The graph it receives has
been through the one lowering pipeline (:mod:`spyx.profiles.pipeline`); ``spyx.compile``
(:mod:`spyx.tools.compile`) is that pipeline followed by :func:`generate`.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from spyx import axn
from spyx.backend.kernels import trainable_params
from spyx.backend.program import Program
from spyx.backend.schedule import check_schedule, make_plan
from spyx.errors import CompileError, OptionError
from spyx.ir.graph import Graph

__all__ = ["generate", "resolve_surrogate", "check_options", "PRECISIONS"]

PRECISIONS = {"highest": lax.Precision.HIGHEST, "high": lax.Precision.HIGH, "default": lax.Precision.DEFAULT}


def resolve_surrogate(surrogate) -> axn.SpikeFunction:
    """``None`` -> ``superspike(k=25)``; a name -> that factory's defaults; a SpikeFunction as given."""
    if surrogate is None:
        return axn.superspike()
    if isinstance(surrogate, str):
        return axn.by_name(surrogate)
    if isinstance(surrogate, axn.SpikeFunction):
        return surrogate
    raise OptionError(f"surrogate must be None, a name or a spyx.axn.SpikeFunction, got {surrogate!r}")


def check_options(schedule: str, precision: str) -> None:
    """:class:`OptionError` for a schedule or precision that does not exist (checked before any lowering)."""
    check_schedule(schedule)
    if precision not in PRECISIONS:
        raise OptionError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")


def generate(
    flat: Graph,
    *,
    surrogate: Any = None,
    schedule: str = "layer",
    dtype: Any = None,
    precision: str = "highest",
    scan_unroll: int | None = None,
    parallel_linear: bool = False,
    fused: str = "auto",
) -> Program:
    """The :class:`Program` of a lowered graph (see :func:`spyx.compile` for the options).

    ``flat`` must be lowered: no nested graph and no continuous-time node (:class:`CompileError` naming them
    otherwise: lower it with :func:`spyx.profiles.lower`, or call :func:`spyx.compile`).
    """
    left = [f"{n} ({node.kind})" for n, node in flat.nodes.items() if isinstance(node, Graph) or node.continuous]
    if left:
        raise CompileError(
            f"the backend generates code from a lowered graph; {', '.join(left[:6])} must be lowered first "
            "(spyx.compile or spyx.profiles.lower)"
        )
    check_options(schedule, precision)
    spike_fn = resolve_surrogate(surrogate)
    if scan_unroll is None:
        scan_unroll = 1 if jax.default_backend() == "cpu" else 32
    if not (isinstance(scan_unroll, int) and scan_unroll >= 1):
        raise OptionError(f"scan_unroll must be an integer >= 1, got {scan_unroll!r}")
    plan = make_plan(
        flat, spike_fn, PRECISIONS[precision], unroll=scan_unroll, parallel_linear=parallel_linear, fused=fused
    )
    params: dict = {}
    for name, node in flat.nodes.items():
        arrays = trainable_params(node)
        if arrays:
            params[name] = {k: _as_jax(v, dtype) for k, v in arrays.items()}
    floats = [v.dtype for p in params.values() for v in p.values()]
    compute = jnp.result_type(*floats) if floats else jnp.dtype(dtype or jnp.float32)
    return Program(graph=flat, params=params, plan=plan, schedule=schedule, dtype=compute, spike_fn=spike_fn)


def _as_jax(value: np.ndarray, dtype):
    # files may store big-endian arrays (kept as read, for bit-exact round trips); XLA takes native order only
    value = np.asarray(value)
    if not value.dtype.isnative:
        value = value.astype(value.dtype.newbyteorder("="))
    if dtype is not None:
        return jnp.asarray(value, dtype=dtype)
    if value.dtype.kind != "f":
        return jnp.asarray(value, dtype=jnp.float32)
    return jnp.asarray(value)
