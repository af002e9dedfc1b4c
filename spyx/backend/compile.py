"""``spyx.compile``: a NIR graph (or file) -> :class:`Program`.

Pipeline: ``inline`` -> ``discretize{dt, method, delay_rounding}`` (when the graph has continuous nodes)
-> ``verify`` -> plan. With a peer ``profile`` (argument, or ``spyx.profile`` recorded in the graph's
metadata by ``spyx.load(path, profile=...)``), the profile's lowering (:mod:`spyx.profiles`) replaces
``discretize``. Errors keep their own kind: a continuous graph without ``dt`` raises
:class:`MissingDtError`, a Delay that is not a whole number of steps :class:`CompileError` naming it.
"""

from __future__ import annotations

import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from spyx import axn
from spyx.backend.kernels import trainable_params
from spyx.backend.program import Program
from spyx.backend.schedule import check_schedule, make_plan
from spyx.errors import OptionError, UnsupportedError
from spyx.ir.graph import Graph
from spyx.ir.verify import verify
from spyx.passes.discretize import Discretize
from spyx.passes.inline import inline_graph

__all__ = ["compile", "lower", "resolve_surrogate"]

_PRECISIONS = {"highest": lax.Precision.HIGHEST, "high": lax.Precision.HIGH, "default": lax.Precision.DEFAULT}


def resolve_surrogate(surrogate) -> axn.SpikeFunction:
    """``None`` -> ``superspike(k=25)``; a name -> that factory's defaults; a SpikeFunction as given."""
    if surrogate is None:
        return axn.superspike()
    if isinstance(surrogate, str):
        return axn.by_name(surrogate)
    if isinstance(surrogate, axn.SpikeFunction):
        return surrogate
    raise OptionError(f"surrogate must be None, a name or a spyx.axn.SpikeFunction, got {surrogate!r}")


def _load(source) -> Graph:
    if isinstance(source, Graph):
        return source
    if isinstance(source, str | os.PathLike):
        try:
            from spyx.io import load  # the io package provides it
        except ImportError:
            raise UnsupportedError(
                f"cannot read {os.fspath(source)!r}: spyx.io.load is not available; pass a Graph"
            ) from None
        return load(source)
    raise OptionError(f"compile expects a spyx Graph or a path to a .nir file, got {type(source).__name__}")


def lower(graph, *, dt: float | None = None, method: str = "exact", delay_rounding: str = "error",
          profile: Any = None) -> Graph:
    """The flat, discrete, verified graph that :func:`compile` executes.

    ``profile``: ``None`` (the graph's recorded ``spyx.profile``, else ``nir``), a profile name or spec
    (``"snntorch{reset=zero}"``), a :class:`spyx.profiles.Profile`, or ``"auto"``. The ``nir`` profile is the
    ``discretize`` pass with ``method`` and ``delay_rounding``.
    """
    graph = _load(graph)
    spec = profile if profile is not None else graph.metadata.get("spyx.profile")
    if spec is not None and not (isinstance(spec, str) and spec.strip() == "nir"):
        from spyx.profiles import lower_with_profile

        return lower_with_profile(graph, spec, dt=None if dt is None else float(dt)).graph
    if dt is None:
        from spyx.passes.retime import graph_dt

        dt = graph_dt(graph)  # a dt recorded by the retime pass (metadata "spyx.dt"), else None
    graph, _ = inline_graph(graph)
    graph = Discretize(dt=None if dt is None else float(dt), method=method, delay_rounding=delay_rounding)(
        graph
    ).graph
    return verify(graph)


def compile(  # noqa: A001  (spyx.compile is the public name)
    graph,
    *,
    dt: float | None = None,
    method: str = "exact",
    surrogate: Any = None,
    schedule: str = "layer",
    dtype: Any = None,
    delay_rounding: str = "error",
    precision: str = "highest",
    profile: Any = None,
    scan_unroll: int | None = None,
    parallel_linear: bool = False,
    fused: str = "auto",
) -> Program:
    """Compile a graph (or a path to a ``.nir`` file) into a :class:`Program`.

    Args:
        graph: a :class:`spyx.Graph` or a path (read with ``spyx.io.load``).
        dt: the time step in seconds; required when the graph has continuous-time nodes.
        method: ``"exact"`` (zero-order-hold exact solution) or ``"euler"`` (forward Euler).
        surrogate: the spike function's surrogate gradient (:mod:`spyx.axn`): None (superspike), a name,
            or a ``SpikeFunction``.
        schedule: ``"layer"`` (fast: layers over whole sequences) or ``"step"`` (reference interpreter).
        dtype: cast every float parameter to this dtype (default: keep each parameter's own dtype).
        delay_rounding: ``"error"``, ``"round"``, ``"floor"`` or ``"ceil"``, for delays of fractional steps.
        scan_unroll: ``lax.scan`` unroll factor, a speed knob that leaves results unchanged. None: 1 on CPU,
            32 on GPU/TPU, the faster settings measured by ``benchmarks/forward_throughput.py --unroll``.
        parallel_linear: in the ``layer`` schedule, run reset-free linear neurons (LI, I, CubaLI) as parallel
            prefix scans (``lax.associative_scan``); same function, rounding may differ by ~1 ulp per step.
        fused: in the ``layer`` schedule, run LIF-type and LI neurons on the fused kernels of
            :mod:`spyx.kernels` (``spyx/backend/fused.py``): ``"auto"`` (on GPU, float32), ``"off"``, or
            ``"pallas"``/``"scan"``/``"interpret"`` to force a driver; same function, rounding may differ in the
            last bit where a neuron has a bias.
        precision: matmul/conv precision: ``"highest"`` (faithful float32; default), ``"high"`` or
            ``"default"``.
        profile: whose semantics to import the file with (docs/interop.md): ``None`` (the profile recorded by
            ``spyx.load(path, profile=...)``, else ``"nir"``), ``"snntorch"``, ``"norse"``, ``"sinabs"``,
            ``"rockpool"``, ``"spyx1"``, a spec with options (``"snntorch{reset=zero,reset_delay=false}"``),
            or ``"auto"`` (detect the exporter; refuses to guess on an ambiguous file).
    """
    check_schedule(schedule)
    if precision not in _PRECISIONS:
        raise OptionError(f"precision must be one of {', '.join(_PRECISIONS)}, got {precision!r}")
    spike_fn = resolve_surrogate(surrogate)
    flat = lower(graph, dt=dt, method=method, delay_rounding=delay_rounding, profile=profile)
    if scan_unroll is None:
        scan_unroll = 1 if jax.default_backend() == "cpu" else 32
    if not (isinstance(scan_unroll, int) and scan_unroll >= 1):
        raise OptionError(f"scan_unroll must be an integer >= 1, got {scan_unroll!r}")
    plan = make_plan(
        flat, spike_fn, _PRECISIONS[precision], unroll=scan_unroll, parallel_linear=parallel_linear, fused=fused
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
