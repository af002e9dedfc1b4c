"""``run_command``: the library side of ``spyx-convert run`` (files in, files out, summary lines back)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spyx.errors import InputError, OptionError, ReadError

__all__ = ["run_command", "read_inputs", "random_spikes"]


def read_inputs(path: Path) -> np.ndarray | dict[str, np.ndarray]:
    """An ``.npy`` array or an ``.npz`` of named arrays; errors name the file."""
    path = Path(path)
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


def random_spikes(spec: str, input_shapes: dict[str, tuple[int, ...]], seed: int) -> dict[str, np.ndarray]:
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
    return {n: (rng.random((t, b, *s)) < p).astype(np.float32) for n, s in input_shapes.items()}


def run_command(model, *, input_path=None, random_input=None, output_path=None, dt=None, method="exact",
                profile="nir", schedule="layer", delay_rounding="error", states_path=None, repair=False,
                seed=0, population=None, perturb=0.0) -> list[str]:
    """Load, compile, run, write outputs (and traces) atomically; return the summary lines to print.

    ``population=N`` runs ``N`` members at once (``run_file``'s population, perturbed by ``perturb``); the
    outputs written get a leading member axis ``(N, T, B, ...)``.
    """
    from spyx.backend.run import run_file
    from spyx.io import atomic_save_npy, atomic_save_npz, read_nir

    if (input_path is None) == (random_input is None):
        raise OptionError("give exactly one of --input FILE or --random-input T,B[,P]")
    if population is not None and population < 1:
        raise OptionError(f"--population must be >= 1, got {population}")
    if perturb and population is None:
        raise OptionError("--perturb needs --population N (it perturbs members 1..N-1)")
    # a peer profile fixes its exporter's file slips (e.g. a batch axis in port types) before verifying
    loaded = read_nir(model, repair=repair, verify=profile in ("nir", "", None))
    lines = [f"note: {r}" for r in loaded.repairs]
    graph, dt, notes = _apply_profile(loaded.graph, profile, dt)
    lines += notes
    compile_kw = dict(dt=dt, method=method, schedule=schedule, delay_rounding=delay_rounding)
    if input_path is not None:
        inputs = read_inputs(Path(input_path))
    else:
        shapes = {name: node.declared_input_shape() for name, node in graph.inputs.items()}
        inputs = random_spikes(random_input, shapes, seed)
    result = run_file(graph, inputs, states=states_path is not None, population=population, perturb=perturb,
                      seed=seed, **compile_kw)
    if output_path is not None:
        output_path = Path(output_path)
        if len(result.outputs) == 1:
            if output_path.suffix == ".npz":
                atomic_save_npz(output_path, result.outputs)
            else:
                atomic_save_npy(output_path, next(iter(result.outputs.values())))
        else:
            if output_path.suffix != ".npz":
                raise InputError(f"the graph has {len(result.outputs)} outputs ({', '.join(result.outputs)}); "
                                 f"write them to an .npz file, not {output_path.name}")
            atomic_save_npz(output_path, result.outputs)
    if states_path is not None:
        atomic_save_npz(Path(states_path), result.states or {})
    s = result.summary
    lines.append(f"model {model}: dt={s['dt']} method={s['method']} schedule={s['schedule']} profile={profile}")
    if population is not None:
        lines.append(f"population {population} members (perturb={perturb:g}) on {s['devices']} device(s)")
    for name, shape in s["inputs"].items():
        lines.append(f"input {name}: {tuple(shape)}")
    for name, shape in s["outputs"].items():
        count = s["spike_counts"].get(name)
        extra = f", {count:g} spikes" if count is not None else ""
        lines.append(f"output {name}: {tuple(shape)}{extra}")
    lines.append(f"wall time {s['wall_time_s']:.3f} s (including JIT compilation)")
    if output_path is not None:
        lines.append(f"wrote {output_path}")
    if states_path is not None:
        lines.append(f"wrote {states_path} ({len(result.states or {})} traces)")
    return lines


def _apply_profile(graph, profile: str, dt):
    """The graph and dt after applying an import profile; the default ``nir`` profile changes nothing."""
    if profile in ("nir", "", None):
        return graph, dt, []
    from spyx.profiles import apply_profile

    return apply_profile(graph, profile, dt=dt)
