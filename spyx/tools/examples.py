"""Built-in example graphs (made here from seeded random weights, no files from outside the repository)
and the ``spyx-convert demo`` job."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from spyx.io import read_nir, write_nir
from spyx.io.atomic import atomic_save_npy, atomic_save_npz
from spyx.ir import LI, Affine, CubaLIF, Graph, Input, Output
from spyx.tools.compile import compile as compile_graph
from spyx.tools.result import ToolResult

__all__ = ["recurrent_snn", "demo", "demo_command"]

DEMO_DT = 1e-3


def recurrent_snn(n_in: int = 12, n_hidden: int = 38, n_out: int = 7, seed: int = 0) -> Graph:
    """A Braille-reader-shaped recurrent SNN in NIR primitives (continuous time, for dt = 1 ms):
    ``input -> fc1 -> CubaLIF (with recurrent Affine) -> fc2 -> LI readout -> output``."""
    rng = np.random.default_rng(seed)
    f32 = np.float32

    def dense(n_o, n_i, gain):
        return Affine(weight=(rng.standard_normal((n_o, n_i)) * gain / np.sqrt(n_i)).astype(f32),
                      bias=np.zeros(n_o, f32))

    ones = lambda n: np.ones(n, f32)  # noqa: E731
    hidden = CubaLIF(tau_syn=ones(n_hidden) * f32(5e-3), tau_mem=ones(n_hidden) * f32(10e-3), r=ones(n_hidden),
                     v_leak=np.zeros(n_hidden, f32), v_threshold=ones(n_hidden), v_reset=np.zeros(n_hidden, f32),
                     w_in=ones(n_hidden) * f32(8.0))
    readout = LI(tau=ones(n_out) * f32(20e-3), r=ones(n_out), v_leak=np.zeros(n_out, f32))
    nodes = {
        "input": Input(shape=np.array([n_in])),
        "fc1": dense(n_hidden, n_in, 4.0),
        "lif1": hidden,
        "w_rec": dense(n_hidden, n_hidden, 0.5),
        "fc2": dense(n_out, n_hidden, 2.0),
        "li": readout,
        "output": Output(shape=np.array([n_out])),
    }
    edges = [("input", "fc1"), ("fc1", "lif1"), ("lif1", "w_rec"), ("w_rec", "lif1"), ("lif1", "fc2"),
             ("fc2", "li"), ("li", "output")]
    return Graph(nodes=nodes, edges=tuple(edges), metadata={"spyx.example": "recurrent_snn"})


def demo(outdir: str | Path) -> list[str]:
    """Write the example as NIR, read it back, compile it for dt = 1 ms and run 200 steps of random spikes.

    Returns the lines to print. Files: ``example.nir``, ``input.npy``, ``output.npy``, ``states.npz``.
    """
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    graph = recurrent_snn()
    path = out / "example.nir"
    write_nir(graph, path)
    loaded = read_nir(path)
    lines.append(f"wrote {path} and read it back: {len(loaded.graph.nodes)} nodes, "
                 f"parameters identical: {loaded.graph == graph}")
    rng = np.random.default_rng(0)
    x = (rng.random((200, 4, 12)) < 0.2).astype(np.float32)
    atomic_save_npy(out / "input.npy", x)
    program = compile_graph(loaded.graph, dt=DEMO_DT)
    t0 = time.perf_counter()
    y, _, traces = program.run_traced(program.params, x)
    y = np.asarray(y)
    elapsed = time.perf_counter() - t0
    atomic_save_npy(out / "output.npy", y)
    atomic_save_npz(out / "states.npz", {f"{k}.{s}": np.asarray(v) for k, d in traces.items() for s, v in d.items()})
    lines.append(f"compiled for dt = {DEMO_DT} s (exact discretisation) and ran input (T=200, B=4, 12) "
                 f"in {elapsed:.2f} s "
                 "(including JIT compilation)")
    lines.append(f"output {out / 'output.npy'}: shape {y.shape}, readout range [{y.min():.3f}, {y.max():.3f}]")
    lines.append(f"membrane traces of {', '.join(sorted(traces))} in {out / 'states.npz'}")
    lines.append("next: spyx-convert inspect " + str(path))
    return lines


def demo_command(outdir: str | Path) -> ToolResult:
    """``spyx-convert demo``: :func:`demo` with the files it writes."""
    out = Path(outdir)
    result = ToolResult(demo(out))
    result.files = [out / n for n in ("example.nir", "input.npy", "output.npy", "states.npz")]
    return result
