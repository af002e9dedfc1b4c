r"""Re-discretising discrete kinds for another time step: the ``retime`` of their
:class:`~spyx.ir.traits.Discrete` trait (the ``retime`` pass applies it; :mod:`spyx.passes.retime` has the
derivation and what is preserved).

``spyx.Shift``: ``steps / q`` (an error unless a whole number). ``spyx.Neuron``: the reset-free dynamics read
as the exact zero-order hold of a linear system, raised to the power ``q`` (the ratio of new to old step).
"""

from __future__ import annotations

import numpy as np

from spyx.errors import ParameterError, UnsupportedError
from spyx.ir.node import Node
from spyx.ir.traits import cast_like

__all__ = ["retime_neuron", "retime_shift", "whole_steps"]

_REL = 1e-9


def whole_steps(value: np.ndarray, what: str, stored: np.dtype) -> np.ndarray:
    """``value`` rounded to integers; an error unless each is within the storage type's rounding of one."""
    rel = max(_REL, 8 * float(np.finfo(stored).eps)) if np.dtype(stored).kind == "f" else _REL
    value = np.asarray(value, dtype=np.float64)
    rounded = np.rint(value)
    off = np.abs(value - rounded) > rel * np.maximum(1.0, np.abs(value))
    if np.any(off):
        bad = value[off].reshape(-1)[:3]
        raise UnsupportedError(
            f"{what} is not a whole number of steps ({', '.join(f'{b:.6g}' for b in bad)})"
        )
    return rounded


def _decay_power(x: np.ndarray, q: float, name: str, where: str) -> tuple[np.ndarray, np.ndarray]:
    """(x**q, (x**q - 1) / (x - 1)) elementwise, float64; the ratio is q where x == 1 and 1 where x == 0."""
    if np.any(x < 0):
        raise ParameterError(f"{where}: {name} has negative values; retime needs decays in [0, 1]")
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.log(x)
        power = np.exp(q * lam)
        ratio = np.where(x == 1.0, q, np.expm1(q * lam) / np.expm1(lam))
    power = np.where(x == 0.0, 0.0, power)
    ratio = np.where(x == 0.0, 1.0, ratio)
    return power, ratio


def _synapse_power(rows: np.ndarray, q: float, where: str) -> np.ndarray:
    """E**q for each unique parameter row (alpha, c, beta, w_syn, d, bias) of a synaptic neuron."""
    from scipy.linalg import fractional_matrix_power

    out = np.empty_like(rows)
    for j, (alpha, c, beta, w_syn, d, bias) in enumerate(rows):
        e = np.array(
            [[alpha, 0.0, w_syn, 0.0], [c, beta, d, bias], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]],
            dtype=np.float64,
        )
        if float(q).is_integer():
            p = np.linalg.matrix_power(e, int(q))
        else:
            if alpha <= 0 or beta <= 0:
                raise ParameterError(f"{where}: decays must be > 0 for a non-integer step ratio {q:g}")
            p = fractional_matrix_power(e, q)
            if np.iscomplexobj(p):
                p = p.real
        out[j] = (p[0, 0], p[1, 0], p[1, 1], p[0, 2], p[1, 2], p[1, 3])
    return out


def retime_neuron(node: Node, q: float, where: str = "neuron") -> Node:
    """A ``spyx.Neuron`` re-discretised for a step ``q`` times the old one (see the module docstring)."""
    f64 = {k: v.astype(np.float64) for k, v in node.params().items()}
    if not node.synapse:
        beta_q, ratio = _decay_power(f64["beta"], q, "beta", where)
        return node.replace(
            beta=cast_like(beta_q, node.beta),
            g_x=cast_like(f64["g_x"] * ratio, node.g_x),
            bias=cast_like(f64["bias"] * ratio, node.bias),
        )
    for name in ("alpha", "beta"):
        if np.any(f64[name] < 0):
            raise ParameterError(f"{where}: {name} has negative values; retime needs decays in [0, 1]")
    c = f64["g_prev"] + f64["g_syn"] * f64["alpha"]
    d = f64["g_syn"] * f64["w_syn"] + f64["g_x"]
    stacked = np.stack([f64["alpha"], c, f64["beta"], f64["w_syn"], d, f64["bias"]], axis=-1).reshape(-1, 6)
    unique, inverse = np.unique(stacked, axis=0, return_inverse=True)
    powered = _synapse_power(unique, q, where)[inverse.reshape(-1)].reshape(*node.shape, 6)
    alpha, c, beta, w_syn, d, bias = (powered[..., j] for j in range(6))
    g_syn = f64["g_syn"]
    return node.replace(
        alpha=cast_like(alpha, node.alpha),
        w_syn=cast_like(w_syn, node.w_syn),
        beta=cast_like(beta, node.beta),
        bias=cast_like(bias, node.bias),
        g_prev=cast_like(c - g_syn * alpha, node.g_prev),
        g_x=cast_like(d - g_syn * w_syn, node.g_x),
    )


def retime_shift(node: Node, q: float, where: str = "shift") -> Node:
    """A ``spyx.Shift`` for a step ``q`` times the old one: ``steps / q`` steps, which must be whole."""
    steps = whole_steps(node.steps.astype(np.float64) / q, f"{where}: steps x {1 / q:g}", np.dtype(np.float64))
    return node.replace(steps=steps.astype(node.steps.dtype))
