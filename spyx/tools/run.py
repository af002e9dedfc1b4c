"""Running a graph: :func:`run_file` (a model file or graph on NumPy inputs, NumPy outputs back) and
:func:`run_command`, the library side of ``spyx-convert run`` (files in, files out, summary lines back)."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import numpy as np

from spyx.backend.population import perturb_params, run_population
from spyx.errors import InputError, OptionError, ReadError
from spyx.io import atomic_save_npy, atomic_save_npz, read_nir
from spyx.io.nirdata import is_nirdata_path, read_traces, write_traces
from spyx.sharding import make_mesh
from spyx.passes.retime import graph_dt
from spyx.profiles.resolve import PROFILE_KEY
from spyx.tools.compile import compile as compile_graph
from spyx.tools.compile import lowered
from spyx.tools.result import ToolResult

__all__ = ["RunResult", "run_file", "run_command", "read_inputs", "random_spikes", "silent_outputs"]


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
            x = x[:, None]
            unbatched.add(n)
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
    profile: Any = None,
    population: int | None = None,
    perturb: float = 0.0,
    seed: int = 0,
) -> RunResult:
    """Compile ``model`` (path or Graph, with ``profile``: :func:`spyx.compile`) and run it on ``inputs``.

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
        profile=profile,
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
    spiking = {n for n, node in prog.graph.nodes.items() if node.spiking}
    summary = {
        "dt": dt if dt is not None else graph_dt(prog.graph),
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


def read_inputs(path: Path, dt: float | None = None) -> np.ndarray | dict[str, np.ndarray]:
    """An ``.npy`` array, an ``.npz`` of named arrays, or a NIRData ``.h5`` (:mod:`spyx.io.nirdata`: the node
    of each graph Input, its one observable; ``EventData`` binned to ``dt``); errors name the file."""
    path = Path(path)
    if is_nirdata_path(path):
        return _one_observable(read_traces(path, dt=dt), path)
    if not path.is_file():
        raise ReadError(f"{path}: input file not found")
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ReadError(f"{path}: not a NumPy .npy/.npz file ({e})") from None
    if isinstance(data, np.lib.npyio.NpzFile):
        with data:
            return {k: data[k] for k in data.files}
    return data


def _one_observable(traces: dict, path: Path) -> dict[str, np.ndarray]:
    """Input name -> array from a trace file: each node's single observable."""
    out = {}
    for node, observables in traces.items():
        if len(observables) != 1:
            raise InputError(f"{path}: node {node} has observables {', '.join(observables)}; an input needs one")
        out[node] = next(iter(observables.values()))
    return out


def random_spikes(spec: str, input_shapes: Mapping[str, tuple[int, ...] | None], seed: int) -> dict[str, np.ndarray]:
    """Seeded Bernoulli spikes from ``"T,B[,P]"`` for every input."""
    parts = spec.split(",")
    try:
        t, b = int(parts[0]), int(parts[1])
        p = float(parts[2]) if len(parts) > 2 else 0.1
    except (IndexError, ValueError):
        raise OptionError(f"--random-input must be T,B or T,B,P (e.g. 100,8,0.1), got {spec!r}") from None
    if t < 1 or b < 1 or not 0 <= p <= 1:
        raise OptionError(f"--random-input needs T >= 1, B >= 1 and 0 <= P <= 1, got {spec!r}")
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in input_shapes.items():
        if shape is None:
            raise InputError(f"input {name} declares no shape; give --input FILE instead of --random-input")
        out[name] = (rng.random((t, b, *shape)) < p).astype(np.float32)
    return out


def silent_outputs(outputs: Mapping[str, np.ndarray], *, time_axis: int = 0, profile: Any = None) -> list[str]:
    """A ``warning:`` line for every output that is zero, or the same, at every step: the run did something
    the user rarely means (no input reached it), most often because the file was read with the wrong profile
    options or dt. Outputs of a single step say nothing and are skipped."""
    lines = []
    reading = f"--profile {profile}" if profile not in (None, "") else "the nir profile"
    for name, v in outputs.items():
        v = np.asarray(v)
        steps = v.shape[time_axis] if v.ndim > time_axis else 0
        if steps < 2 or v.size == 0:
            continue
        if not np.any(v):
            what = "zero at every step"
        elif np.all(v == np.take(v, [0], axis=time_axis)):
            what = "the same at every step"
        else:
            continue
        lines.append(
            f"warning: output {name} is {what} ({steps} steps): nothing the input did reached it; "
            f"the usual cause is a reading that is not the model's ({reading}: see the notes above; "
            "--profile NAME{option=value}, --dt SECONDS), else inputs too weak to make a spike"
        )
    return lines


def _check_run_options(input_path, random_input, population, perturb) -> None:
    if (input_path is None) == (random_input is None):
        raise OptionError("give exactly one of --input FILE or --random-input T,B[,P]")
    if population is not None and population < 1:
        raise OptionError(f"--population must be >= 1, got {population}")
    if perturb and population is None:
        raise OptionError("--perturb needs --population N (it perturbs members 1..N-1)")


def _write_outputs(outputs: dict[str, np.ndarray], path: Path, dt: float | None = None) -> None:
    """One output as ``.npy`` (or ``.npz``), several as ``.npz`` by name (an error naming them otherwise); to
    an ``.h5`` path as NIRData, each Output node's observable ``output`` (:mod:`spyx.io.nirdata`)."""
    if is_nirdata_path(path):
        write_traces(path, {k: {"output": v} for k, v in outputs.items()}, dt)
        return
    if len(outputs) == 1 and path.suffix != ".npz":
        atomic_save_npy(path, next(iter(outputs.values())))
        return
    if path.suffix != ".npz":
        raise InputError(f"the graph has {len(outputs)} outputs ({', '.join(outputs)}); "
                         f"write them to an .npz file, not {path.name}")
    atomic_save_npz(path, outputs)


def _with_batch(result: RunResult, graph, inputs, which: str) -> dict[str, np.ndarray]:
    """``result.outputs`` (or ``.states``) as written; for NIRData, whose samples axis is not optional, with
    the batch axis of one sample put back where the input had none (``run_file`` drops it)."""
    arrays = (result.outputs if which == "outputs" else result.states) or {}
    if result.summary["population"] is not None:
        return arrays  # the member axis is refused for NIRData in run_command
    name, node = next(iter(graph.inputs.items()))
    x = inputs.get(name) if isinstance(inputs, Mapping) else inputs
    shape = node.declared_input_shape()
    one = x is not None and shape is not None and np.ndim(x) == len(shape) + 1
    return {k: v[:, None] for k, v in arrays.items()} if one else arrays


def _by_node(states: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    out: dict[str, dict[str, np.ndarray]] = {}
    for key, value in states.items():
        node, name = key.rsplit(".", 1)
        out.setdefault(node, {})[name] = value
    return out


def _summary_lines(model, s: dict, profile, population, perturb) -> list[str]:
    lines = [f"model {model}: dt={s['dt']} method={s['method']} schedule={s['schedule']} profile={profile}"]
    if population is not None:
        lines.append(f"population {population} members (perturb={perturb:g}) on {s['devices']} device(s)")
    lines += [f"input {name}: {tuple(shape)}" for name, shape in s["inputs"].items()]
    for name, shape in s["outputs"].items():
        count = s["spike_counts"].get(name)
        extra = f", {count:g} spikes" if count is not None else ""
        lines.append(f"output {name}: {tuple(shape)}{extra}")
    lines.append(f"wall time {s['wall_time_s']:.3f} s (including JIT compilation)")
    return lines


def run_command(model, *, input_path=None, random_input=None, output_path=None, dt=None, method="exact",
                profile=None, schedule="layer", delay_rounding="error", states_path=None, repair=False,
                seed=0, population=None, perturb=0.0) -> ToolResult:
    """Load, lower (one pipeline: the profile's fixups, inline, lower-neurons, verify), compile, run, write
    outputs (and traces) atomically; the summary lines to print.

    ``population=N`` runs ``N`` members at once (``run_file``'s population, perturbed by ``perturb``); the
    outputs written get a leading member axis ``(N, T, B, ...)``.
    """
    _check_run_options(input_path, random_input, population, perturb)
    if population is not None and any(p is not None and is_nirdata_path(p) for p in (output_path, states_path)):
        raise OptionError("--population: NIRData (.h5) has no member axis; write the outputs to .npy/.npz")
    # verified after the profile's fixups repair its exporter's file slips (e.g. a batch axis in port types)
    # profile None: the one the file records (spyx.profile, written by convert/quantize --profile), else nir
    loaded = read_nir(model, repair=repair, verify=profile in ("nir", "", None))
    out = ToolResult([f"note: {r}" for r in loaded.repairs])
    low = lowered(loaded.graph, dt=dt, method=method, delay_rounding=delay_rounding, profile=profile or None)
    shown = profile or loaded.graph.metadata.get(PROFILE_KEY, "nir")
    shown += f" -> {low.profile}" if shown == "auto" else ""
    out.lines += low.notes
    out.warnings += low.assumptions
    if input_path is not None:
        inputs = read_inputs(Path(input_path), low.dt)
    else:
        shapes = {name: node.declared_input_shape() for name, node in low.graph.inputs.items()}
        inputs = random_spikes(random_input, shapes, seed)
    result = run_file(low.graph, inputs, dt=low.dt, method=method, schedule=schedule, delay_rounding=delay_rounding,
                      states=states_path is not None, population=population, perturb=perturb, seed=seed)
    out.warnings += silent_outputs(result.outputs, time_axis=0 if population is None else 1, profile=low.profile)
    if output_path is not None:
        nirdata = is_nirdata_path(output_path)
        outs = _with_batch(result, low.graph, inputs, "outputs") if nirdata else result.outputs
        _write_outputs(outs, Path(output_path), low.dt)
    if states_path is not None and is_nirdata_path(states_path):  # node -> v, i, ... as NIRData observables
        write_traces(states_path, _by_node(_with_batch(result, low.graph, inputs, "states")), low.dt)
    elif states_path is not None:
        atomic_save_npz(Path(states_path), result.states or {})
    out.lines += _summary_lines(model, result.summary, shown, population, perturb)
    if output_path is not None:
        out.wrote(output_path)
    if states_path is not None:
        out.files.append(Path(states_path))
        out.lines.append(f"wrote {states_path} ({len(result.states or {})} traces)")
    out.data = {"model": str(model), "profile": str(profile), **result.summary, "files": [str(f) for f in out.files]}
    return out
