"""Small hand-built graphs for the pass tests (float32 parameters with simple values)."""

from __future__ import annotations

import numpy as np

from spyx.ir import LIF, Affine, CubaLIF, Graph, Input, Linear, Neuron, Output, Scale

F = np.float32


def arr(*values, dtype=F):
    return np.asarray(values, dtype=dtype)


def ramp(rows: int, cols: int, start: float = 0.1) -> np.ndarray:
    return (
        start * np.arange(1, rows * cols + 1, dtype=np.float64).reshape(rows, cols) / (rows * cols)
    ).astype(F)


def lif(n: int, *, r: float = 2.0, thr: float = 0.5, leak: float = 0.1) -> LIF:
    full = lambda v: np.full(n, v, dtype=F)  # noqa: E731
    return LIF(tau=full(0.01), r=full(r), v_leak=full(leak), v_threshold=full(thr), v_reset=full(-0.1))


def cubalif(n: int, *, w_in: float = 2.0, thr: float = 1.0) -> CubaLIF:
    full = lambda v: np.full(n, v, dtype=F)  # noqa: E731
    return CubaLIF(
        tau_syn=full(0.005),
        tau_mem=full(0.01),
        r=full(1.5),
        v_leak=full(0.0),
        v_threshold=full(thr),
        v_reset=full(0.0),
        w_in=full(w_in),
    )


def neuron(n: int, *, synapse: bool = False, g: float = 0.5, thr: float = 0.8) -> Neuron:
    full = lambda v: np.full(n, v, dtype=F)  # noqa: E731
    extra = {}
    if synapse:
        extra = dict(alpha=full(0.8), w_syn=full(g), g_prev=full(0.0), g_syn=full(1.0))
    return Neuron(
        beta=full(0.9),
        g_x=full(0.0 if synapse else g),
        bias=full(0.05),
        v_threshold=full(thr),
        v_reset=full(0.0),
        synapse=synapse,
        **extra,
    )


def chain(*layers, n_in: int = 2, metadata=None) -> Graph:
    return Graph.sequential(list(layers), input_shape=(n_in,), metadata=metadata)


def recurrent(neuron_node=None, n: int = 3) -> Graph:
    """input(2) -> fc -> lif <-> w_rec, lif -> output."""
    nodes = {
        "input": Input(shape=np.array([2])),
        "fc": Affine(weight=ramp(n, 2), bias=np.full(n, 0.1, dtype=F)),
        "lif": neuron_node if neuron_node is not None else lif(n),
        "w_rec": Linear(weight=ramp(n, n, -0.2)),
        "output": Output(shape=np.array([n])),
    }
    edges = (("input", "fc"), ("fc", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output"))
    return Graph(nodes=nodes, edges=edges)


def scaled_mlp() -> Graph:
    """input(2) -> scale -> fc1 -> fc2 -> scale2 -> lif -> output: everything fuse/fold can touch."""
    return chain(
        ("scale", Scale(scale=arr(2.0, -0.5))),
        ("fc1", Affine(weight=ramp(3, 2), bias=arr(0.1, 0.2, 0.3))),
        ("fc2", Linear(weight=ramp(3, 3, 0.3))),
        ("scale2", Scale(scale=arr(1.5, 0.5, 2.0))),
        ("lif", lif(3)),
    )
