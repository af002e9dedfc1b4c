"""``spyx.compile``: a NIR graph (or file) -> :class:`~spyx.backend.Program`, through the one lowering pipeline.

``compile`` = :func:`spyx.profiles.pipeline.lower` (``fixups -> inline -> lower-neurons{profile, dt} ->
verify``) followed by :func:`spyx.backend.generate`. The profile is the ``profile`` argument, else the one
recorded by ``spyx.load(path, profile=...)``, else ``nir``, whose lowering is the ``discretize`` pass
(``method``, ``delay_rounding``); the dt is chosen by the rule of :mod:`spyx.profiles.resolve`. Errors keep
their own kind: a continuous graph without ``dt`` raises :class:`MissingDtError`, a Delay that is not a whole
number of steps :class:`CompileError` naming it.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from typing import Any

import jax

from spyx.backend.codegen import check_options, generate, resolve_surrogate
from spyx.backend.program import Program
from spyx.errors import AssumptionWarning, OptionError
from spyx.io import load as read_file
from spyx.io.nirgraph import from_nir_graph, is_nir_graph
from spyx.ir.graph import Graph
from spyx.profiles.base import LoweredGraph
from spyx.profiles.pipeline import lower as lower_graph
from spyx.profiles.resolve import PROFILE_KEY

__all__ = ["compile", "lower", "lowered"]


def _source(graph) -> Graph:
    if isinstance(graph, Graph):
        return graph
    if is_nir_graph(graph):  # what nir.read and every peer's exporter return
        return from_nir_graph(graph)
    if isinstance(graph, str | os.PathLike):
        return read_file(graph)
    raise OptionError(
        f"compile expects a spyx Graph, a nir.NIRGraph or a path to a .nir file, got {type(graph).__name__}"
    )


def _profile_options(profile: Any, method: str, delay_rounding: str) -> dict[str, Any]:
    """``method`` and ``delay_rounding`` are options of the ``nir`` profile (its lowering is discretize)."""
    if profile is None or (isinstance(profile, str) and profile.strip() == "nir"):
        return {"method": method, "delay_rounding": delay_rounding}
    return {}


def lowered(graph, *, dt: float | None = None, method: str = "exact", delay_rounding: str = "error",
            profile: Any = None, warn: bool = False) -> LoweredGraph:
    """The lowering pipeline's result for :func:`compile`'s arguments: ``LoweredGraph(graph, dt, notes)``;
    ``warn``: issue each of its assumptions as an :class:`~spyx.errors.AssumptionWarning` (for the caller's
    caller: the user's line)."""
    source = _source(graph)
    recorded = source.metadata.get(PROFILE_KEY) if profile is None else profile
    options = _profile_options(recorded, method, delay_rounding)
    low = lower_graph(source, profile, dt=None if dt is None else float(dt), **options)
    for line in low.assumptions if warn else ():  # what the result rests on that the file does not say
        warnings.warn(line.partition(": ")[2], AssumptionWarning, stacklevel=4)
    return low


def lower(graph, *, dt: float | None = None, method: str = "exact", delay_rounding: str = "error",
          profile: Any = None) -> Graph:
    """The flat, discrete, verified graph that :func:`compile` executes (the lowering pipeline's result).

    ``profile``: ``None`` (the graph's recorded ``spyx.profile``, else ``nir``), a profile name or spec
    (``"snntorch{reset=zero}"``), a :class:`spyx.profiles.Profile`, or ``"auto"``. The ``nir`` profile is the
    ``discretize`` pass with ``method`` and ``delay_rounding``.

    Every option ``"auto"`` took at the framework's default, and a dt that is only the framework's default,
    is issued as an :class:`~spyx.errors.AssumptionWarning` naming the option to set
    (:mod:`spyx.profiles.resolve`).
    """
    return lowered(graph, dt=dt, method=method, delay_rounding=delay_rounding, profile=profile, warn=True).graph


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
        graph: a :class:`spyx.Graph`, a ``nir.NIRGraph`` or a path (read with ``spyx.io.load``).
        dt: the time step in seconds; required when the graph has continuous-time nodes (unless the graph
            records one or the profile has a default: :mod:`spyx.profiles.resolve`).
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
    check_options(schedule, precision)
    spike_fn = resolve_surrogate(surrogate)
    low = lowered(graph, dt=dt, method=method, delay_rounding=delay_rounding, profile=profile, warn=True)
    flat = low.graph
    if scan_unroll is None:
        scan_unroll = 1 if jax.default_backend() == "cpu" else 32
    program = generate(
        flat,
        surrogate=spike_fn,
        schedule=schedule,
        dtype=dtype,
        precision=precision,
        scan_unroll=scan_unroll,
        parallel_linear=parallel_linear,
        fused=fused,
    )
    return dataclasses.replace(program, profile=low.profile)  # spyx.save(program) writes for this profile
