"""``run_file``: run a model file (or graph) on NumPy inputs and return NumPy outputs; what the CLI calls."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

from spyx.backend.compile import compile as compile_graph
from spyx.backend.population import perturb_params, run_population
from spyx.errors import InputError
from spyx.sharding import make_mesh

__all__ = ["RunResult", "run_file"]


@dataclass(frozen=True)
class RunResult:
    """Outputs by Output node name (``(T, B, *shape)``, or ``(T, *shape)`` when the input had no batch axis;
    with a population, a leading member axis ``(P, T, ...)``), neuron traces by ``"node.v"`` / ``"node.i"``
    (when asked), and a summary (shapes, spike counts, wall time, population and devices)."""

    outputs: dict[str, np.ndarray]
    states: dict[str, np.ndarray] | None
    summary: dict


def _batched(prog, inputs) -> tuple[dict, bool]:
    names = prog.input_names
    if not isinstance(inputs, Mapping):
        if len(names) != 1:
            raise InputError(f"this graph has {len(names)} inputs ({', '.join(names)}); pass a dict by name")
        inputs = {names[0]: inputs}
    out, unbatched = {}, set()
    for n, x in inputs.items():
        x = np.asarray(x)
        shape = prog.input_shapes.get(n)
        if shape is not None and x.ndim == len(shape) + 1:
            x, _ = x[:, None], unbatched.add(n)
        out[n] = x
    if unbatched and len(unbatched) != len(out):
        raise InputError("give every input as (T, *shape) or every input as (T, B, *shape), not a mix")
    return out, bool(unbatched)


def run_file(
    model: Any,
    inputs: np.ndarray | Mapping[str, np.ndarray],
    *,
    dt: float | None = None,
    method: str = "exact",
    states: bool = False,
    surrogate: Any = None,
    schedule: str = "layer",
    dtype: Any = None,
    delay_rounding: str = "error",
    population: int | None = None,
    perturb: float = 0.0,
    seed: int = 0,
) -> RunResult:
    """Compile ``model`` (path or Graph) and run it on ``inputs``.

    ``inputs`` is ``(T, B, *input_shape)`` or ``(T, *input_shape)`` (one sample), or a dict by input name.
    With ``population=P``: ``P`` members run at once (:func:`spyx.backend.run_population`), member 0 with the
    file's parameters and members ``1..P-1`` with every float parameter scaled by ``1 + perturb * N(0, 1)``
    (:func:`~spyx.backend.population.perturb_params`, key ``PRNGKey(seed)``; ``perturb=0`` gives ``P``
    copies, each equal to the single run); the members are split over ``gcd(P, jax.device_count())``
    devices (a mesh ``population`` axis). Outputs and traces get a leading member axis.
    Raises :class:`InputError` naming the expected shape, :class:`MissingDtError` when dt is needed.
    """
    prog = compile_graph(
        model,
        dt=dt,
        method=method,
        surrogate=surrogate,
        schedule=schedule,
        dtype=dtype,
        delay_rounding=delay_rounding,
    )
    xs, unbatched = _batched(prog, inputs)
    start = time.perf_counter()
    devices = 1
    if population is None:
        result = jax.jit(prog.run_traced if states else prog.run)(prog.params, xs)
    else:
        params = perturb_params(prog.params, population, sigma=perturb, key=jax.random.PRNGKey(seed))
        devices = math.gcd(population, jax.device_count())
        mesh = make_mesh(population=devices, data=1)
        result = run_population(prog, params, xs, mesh=mesh, traced=states)
    jax.block_until_ready(result)
    wall = time.perf_counter() - start
    outs = result[0]
    if not isinstance(outs, dict):
        outs = {prog.output_names[0]: outs}
    batch = 0 if population is None else 1  # the batch axis after time (and members)

    def unbatch(v):
        v = np.asarray(v)
        return np.take(v, 0, axis=batch + 1) if unbatched else v

    outputs = {k: unbatch(v) for k, v in outs.items()}
    traces = None
    if states:
        traces = {}
        for node, entries in result[2].items():
            for k, v in entries.items():
                traces[f"{node}.{k}"] = unbatch(v)
    spiking = {n for n, node in prog.graph.nodes.items() if getattr(node, "spiking", False)}
    summary = {
        "dt": dt,
        "method": method,
        "schedule": schedule,
        "inputs": {k: list(np.shape(v)) for k, v in xs.items()},
        "outputs": {k: list(v.shape) for k, v in outputs.items()},
        "spike_counts": {
            k: float(np.sum(v))
            for k, v in outputs.items()
            if any(s in spiking for s in prog.graph.predecessors(k))
        },
        "wall_time_s": wall,
        "population": population,
        "devices": devices,
    }
    return RunResult(outputs=outputs, states=traces, summary=summary)
