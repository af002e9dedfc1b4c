r"""``spyx.bench``: "faster" and "cheaper" as a table (Spyx 1.0's ``spyx.bench``, ``../shared/spyx-api.md`` §12).

:func:`benchmark` measures one model on one input size and returns a :class:`BenchResult`; :func:`compare` sweeps
several models over several sequence lengths; :func:`format_table` prints the results. What each field is, and how
it is measured:

============================  ========================================================================================
field                         how
============================  ========================================================================================
``fwd_latency_ms``            median over ``n_iters`` timed calls of the ``jax.jit``-compiled forward, each timed with
                              ``time.perf_counter`` around the call and ``jax.block_until_ready`` of its outputs, after
                              ``n_warmup`` untimed calls (the first of which compiles)
``fwd_bwd_latency_ms``        the same for ``jax.value_and_grad`` of ``mean(float32(outputs))`` w.r.t. the parameters
``throughput_elem_ts_per_s``  ``seq_len * batch / forward seconds`` (sample-time-steps per second)
``flops``                     XLA's cost model of the compiled forward (``jit(f).lower(...).compile()
                              .cost_analysis()["flops"]``): what the optimised HLO would execute, a count, not a
                              measurement; ``None`` where the backend gives none
``mfu``                       ``flops / forward seconds / peak``: ``peak`` is ``peak_flops=`` when given, else the
                              dense float32 peak of the first :data:`PEAK_FLOPS` key found in the device kind
                              (``None`` for CPUs and chips not in the table, e.g. the H200)
``peak_mem_mb``               the device's ``memory_stats()`` peak (``peak_bytes_in_use``, else ``bytes_in_use``,
                              else ``peak_bytes``), else the bytes of ``jax.live_arrays()``, in MiB, after timing
``spike_rate``                fraction of nonzero outputs of the last timed forward call (a spike-rate energy proxy:
                              synaptic events scale with it; about 1 for a real-valued readout)
============================  ========================================================================================

The model is driven over a time-major input ``normal(key, (seq_len, batch, *input_shape))``:

1. ``run_fn(model, x)`` when given (the first element of a tuple it returns, so ``run_fn=spyx.nn.run`` works);
2. else the module's ``parallel`` method when it has one (``PSU_LIF``, ``ParallelResetLIF``, ...: the parallel
   path is what a user of such a layer runs);
3. else ``spyx.nn.run(model, x)[0]``.

A model is an ``nnx.Module`` (a layer, a ``Sequential``), a compiled :class:`spyx.Program` (driven by
``program.run(params, x)``; ``input_shape`` is its per-sample input shape), or a zero-argument thunk returning
either (so :func:`compare` builds a fresh model per point). Parameters are the function's arguments (``nnx.Param``
leaves of a module, ``program.params`` of a program), so the gradient is taken with respect to them.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from spyx.errors import ArgumentError

__all__ = ["BenchResult", "benchmark", "compare", "format_table", "PEAK_FLOPS", "ModuleOrThunk"]

ModuleOrThunk = nnx.Module | Callable[[], nnx.Module]

# Dense float32 peaks (FLOP/s) by a case-insensitive substring of ``device.device_kind``; the first match wins, so
# order matters. Spyx 1.0's table, kept as is so that ``mfu`` means the same number (it has no H200 or B200 entry:
# pass ``peak_flops=`` for those).
PEAK_FLOPS: tuple[tuple[str, float], ...] = (
    ("a100", 19.5e12),
    ("h100", 67.0e12),
    ("v100", 15.7e12),
    ("mi250", 45.3e12),
    ("mi300", 61.3e12),
    ("radeon", 10.0e12),
    ("gfx1151", 5.0e12),
)

_MEMORY_KEYS = ("peak_bytes_in_use", "bytes_in_use", "peak_bytes")


class NotAModelError(ArgumentError, TypeError):
    """``benchmark`` was given something that is not a model (a ``TypeError``, as Spyx 1.0 raised)."""


@dataclasses.dataclass
class BenchResult:
    """One measurement; field order and names are Spyx 1.0's (see the module docstring for each)."""

    name: str
    device: str
    seq_len: int
    batch: int
    param_count: int
    fwd_latency_ms: float
    fwd_bwd_latency_ms: float | None
    throughput_elem_ts_per_s: float
    spike_rate: float
    peak_mem_mb: float | None = None
    flops: float | None = None
    mfu: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# ------------------------------------------------------------------------------------------------ the model


def _is_program(obj) -> bool:
    from spyx.backend.program import Program

    return isinstance(obj, Program)


def _resolve(module):
    if isinstance(module, nnx.Module) or _is_program(module):
        return module
    if callable(module):
        built = module()
        if isinstance(built, nnx.Module) or _is_program(built):
            return built
        raise NotAModelError(
            f"benchmark thunk must return an nnx.Module (or a spyx.Program), got {type(built).__name__}"
        )
    raise NotAModelError(
        f"expected an nnx.Module or a zero-arg thunk, got {type(module).__name__} (a spyx.Program works too)"
    )


def _first(out):
    return out[0] if isinstance(out, tuple) else out


def _split(model, run_fn):
    """``(forward(params, x) -> outputs, params)`` for a module or a program."""
    if _is_program(model):
        if run_fn is not None:
            return (lambda p, x: _first(run_fn(model, p, x))), model.params
        return (lambda p, x: model.run(p, x)[0]), model.params
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)

    def forward(p, x):
        m = nnx.merge(graphdef, p, rest)
        if run_fn is not None:
            return _first(run_fn(m, x))
        parallel = getattr(m, "parallel", None)
        if callable(parallel):
            return _first(parallel(x))
        from spyx.nn.run import run

        return run(m, x)[0]

    return forward, params


def _param_count(params) -> int:
    return int(sum(math.prod(jnp.shape(leaf)) for leaf in jax.tree.leaves(params)))


# ------------------------------------------------------------------------------------------------ measuring


def _median_ms(fn, args, n_warmup: int, n_iters: int):
    """``(median milliseconds, last outputs)`` of ``n_iters`` timed calls after ``n_warmup`` untimed ones."""
    for _ in range(n_warmup):
        jax.block_until_ready(fn(*args))
    times, out = [], None
    for _ in range(n_iters):
        t0 = time.perf_counter()
        out = jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times), out


def _flops(jitted, *args) -> float | None:
    """XLA's cost-model FLOPs of the compiled ``jitted(*args)``; ``None`` where the backend reports none."""
    try:
        cost = jitted.lower(*args).compile().cost_analysis()
        if isinstance(cost, list | tuple):
            cost = cost[0] if cost else None
        value = float(cost["flops"]) if cost and "flops" in cost else 0.0
    except Exception:  # noqa: BLE001  (a backend without a cost model: the field is "unknown", not an error)
        return None
    return value if value > 0 else None


def _peak_mem_mb(device) -> float | None:
    try:
        stats = device.memory_stats() or {}
    except Exception:  # noqa: BLE001  (backends without memory statistics)
        stats = {}
    for k in _MEMORY_KEYS:
        if stats.get(k) is not None:
            return float(stats[k]) / 2**20
    try:
        return float(sum(a.nbytes for a in jax.live_arrays())) / 2**20
    except Exception:  # noqa: BLE001
        return None


def _peak(device, peak_flops: float | None) -> float | None:
    if peak_flops is not None:
        return float(peak_flops)
    kind = str(getattr(device, "device_kind", "")).lower()
    return next((peak for key, peak in PEAK_FLOPS if key in kind), None)


def _spike_rate(outputs) -> float:
    leaves = [jnp.ravel(leaf) for leaf in jax.tree.leaves(outputs)]
    if not leaves:
        return float("nan")
    return float(jnp.mean(jnp.concatenate(leaves) != 0))


def _mean_f32(outputs):
    leaves = [jnp.ravel(leaf).astype(jnp.float32) for leaf in jax.tree.leaves(outputs)]
    return jnp.mean(jnp.concatenate(leaves))


def benchmark(
    module,
    input_shape,
    *,
    seq_len: int,
    batch: int,
    n_warmup: int = 3,
    n_iters: int = 20,
    backward: bool = True,
    run_fn=None,
    name: str | None = None,
    key=None,
    dtype=jnp.float32,
    peak_flops: float | None = None,
) -> BenchResult:
    """Measure one model at one size; see the module docstring for every field.

    Args:
        module: an ``nnx.Module``, a ``spyx.Program``, or a zero-argument callable returning one.
        input_shape: the per-sample input shape (no time or batch axis).
        seq_len, batch: the input is ``(seq_len, batch, *input_shape)``, time-major, ``normal(key, ...)``.
        n_warmup: untimed calls before timing (the first compiles).
        n_iters: timed calls; the median is reported (``>= 1``).
        backward: also time forward + backward (``False``: ``fwd_bwd_latency_ms = None``).
        run_fn: ``run_fn(model, x)`` drives the model (a program: ``run_fn(program, params, x)``); a tuple's
            first element is taken.
        name: the row label (default ``type(module).__name__``).
        key: ``jax.random`` key of the input (default ``PRNGKey(0)``).
        dtype: the input dtype.
        peak_flops: spyx extra; the FLOP/s that ``mfu`` is relative to (default: the :data:`PEAK_FLOPS` table).

    Raises:
        TypeError: (``NotAModelError``) ``module`` is not a model or a thunk returning one.
        ValueError: (``ArgumentError``) ``n_iters < 1``.
    """
    model = _resolve(module)
    if int(n_iters) < 1:
        raise ArgumentError(f"n_iters must be >= 1, got {n_iters}")
    if int(n_warmup) < 0:
        raise ArgumentError(f"n_warmup must be >= 0, got {n_warmup}")
    key = jax.random.PRNGKey(0) if key is None else key
    name = type(model).__name__ if name is None else name
    device = jax.devices()[0]
    x = jax.random.normal(key, (int(seq_len), int(batch), *tuple(input_shape)), dtype)

    forward, params = _split(model, run_fn)
    fwd = jax.jit(forward)
    flops = _flops(fwd, params, x)
    fwd_ms, outputs = _median_ms(fwd, (params, x), n_warmup, n_iters)
    rate = _spike_rate(outputs)

    bwd_ms = None
    if backward:
        grad = jax.jit(jax.value_and_grad(lambda p, x: _mean_f32(forward(p, x))))
        bwd_ms, _ = _median_ms(grad, (params, x), n_warmup, n_iters)

    seconds = fwd_ms / 1e3
    peak = _peak(device, peak_flops)
    return BenchResult(
        name=name,
        device=f"{device.platform}:{device.device_kind}",
        seq_len=int(seq_len),
        batch=int(batch),
        param_count=_param_count(params),
        fwd_latency_ms=fwd_ms,
        fwd_bwd_latency_ms=bwd_ms,
        throughput_elem_ts_per_s=(seq_len * batch / seconds) if seconds > 0 else float("inf"),
        spike_rate=rate,
        peak_mem_mb=_peak_mem_mb(device),
        flops=flops,
        mfu=(flops / seconds / peak) if flops is not None and peak and seconds > 0 else None,
    )


def compare(
    modules: dict,
    input_shape,
    *,
    seq_lens,
    batch: int,
    n_warmup: int = 3,
    n_iters: int = 20,
    backward: bool = True,
    run_fn=None,
    key=None,
    dtype=jnp.float32,
    peak_flops: float | None = None,
) -> list[BenchResult]:
    """:func:`benchmark` of every ``label -> model`` of ``modules`` at every length of ``seq_lens``: sequence length
    outer, models inner (in dict order), one ``key`` (default ``PRNGKey(0)``) for all. A thunk gives a fresh model
    per point; an instance is reused."""
    key = jax.random.PRNGKey(0) if key is None else key
    return [
        benchmark(m, input_shape, seq_len=T, batch=batch, n_warmup=n_warmup, n_iters=n_iters, backward=backward,
                  run_fn=run_fn, name=label, key=key, dtype=dtype, peak_flops=peak_flops)
        for T in seq_lens
        for label, m in modules.items()
    ]


_COLUMNS = (
    ("name", "name"), ("device", "device"), ("seq", "seq_len"), ("batch", "batch"), ("params", "param_count"),
    ("fwd_ms", "fwd_latency_ms"), ("fwd_bwd_ms", "fwd_bwd_latency_ms"), ("elem_ts/s", "throughput_elem_ts_per_s"),
    ("spike_rate", "spike_rate"), ("mem_mb", "peak_mem_mb"), ("flops", "flops"), ("mfu", "mfu"),
)


def _cell(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if v == 0.0:
            return "0"
        if abs(v) >= 1e6 or abs(v) < 1e-3:
            return f"{v:.3e}"
        return f"{v:.3f}"
    return str(v)


def format_table(results) -> str:
    """A plain-text table of ``results``: a header, a rule of dashes, one line per result (columns ``name, device,
    seq, batch, params, fwd_ms, fwd_bwd_ms, elem_ts/s, spike_rate, mem_mb, flops, mfu``; ``None`` prints ``-``;
    floats ``%.3f``, or ``%.3e`` from 1e6 up and below 1e-3). ``"(no results)"`` for an empty list."""
    results = list(results)
    if not results:
        return "(no results)"
    rows = [[_cell(getattr(r, field)) for _, field in _COLUMNS] for r in results]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, (h, _) in enumerate(_COLUMNS)]
    lines = ["  ".join(h.ljust(w) for (h, _), w in zip(_COLUMNS, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)
