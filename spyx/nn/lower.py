"""``lower``: a spyx NNX model -> a discrete spyx IR graph (``spyx.Neuron``, ``spyx.AdaptiveNeuron``,
``spyx.Shift``) that the JAX backend runs with the same outputs as :func:`spyx.nn.run`, without a time step.

Every spiking layer of the Spyx design (spike from the current membrane, subtractive reset) is the
snnTorch-form ``spyx.Neuron(reset="subtract", reset_delay=True)`` followed by ``spyx.Shift(1)``: the neuron's
``u_t`` is the layer's ``V_{t+1}`` and its spike ``s_t = H(V_{t+1} - thr)`` is the layer's ``S_{t+1}``, so
shifting it by one step gives ``S_t`` (``S_0 = 0`` because ``thr > 0``). The neuron's ``v`` state is the
layer's membrane state, step for step. ``ALIF`` is the same with ``spyx.AdaptiveNeuron`` (adaptive threshold,
reset by the adapted threshold) in place of ``spyx.Neuron``. See ``docs/nn.md``.
"""

from __future__ import annotations

import numpy as np

from spyx.ir import AdaptiveNeuron, Graph, Linear, Neuron, Shift
from spyx.nn.alif import ALIF
from spyx.nn.cuba_lif import CuBaLIF
from spyx.nn.integrate_fire import IF
from spyx.nn.li import LI
from spyx.nn.lif import LIF
from spyx.nn.psu_lif import PSU_LIF
from spyx.nn.recurrent import RIF, RLIF, RCuBaLIF
from spyx.nn.walk import F32, Walk, array, walk

__all__ = ["lower"]


def _spiking(w: Walk, name: str, layer, *, beta, synapse_alpha=None, reset: str = "subtract") -> None:
    """``Neuron -> Shift(1)``, plus ``Shift -> Linear(W_rec^T) -> Neuron`` for recurrent layers."""
    w.expect(name, layer, layer.shape)
    shape = w.ir_shape
    p = {
        "beta": w.decay(beta, layer.shape),
        "bias": np.zeros(shape, F32),
        "v_threshold": np.full(shape, layer.threshold, F32),
    }
    if synapse_alpha is None:
        p["g_x"] = np.ones(shape, F32)
    else:
        p.update(
            g_x=np.zeros(shape, F32),
            alpha=w.decay(synapse_alpha, layer.shape),
            w_syn=np.ones(shape, F32),
            g_prev=np.zeros(shape, F32),
            g_syn=np.ones(shape, F32),
        )
    neuron = Neuron(**p, synapse=synapse_alpha is not None, reset=reset, reset_delay=reset == "subtract")
    w.add(name, neuron)
    shift = w.add(f"{name}_shift", Shift(steps=np.ones(shape, np.int64)), name)
    if hasattr(layer, "w_rec"):
        rec = Linear(weight=w.square_weight(array(layer.w_rec).T))
        w.add(f"{name}_rec", rec, shift)
        w.connect(f"{name}_rec", name)
    w.prev = shift


def _lif(w: Walk, name: str, layer) -> None:
    _spiking(w, name, layer, beta=layer.beta)


def _if(w: Walk, name: str, layer) -> None:
    _spiking(w, name, layer, beta=1.0)


def _cuba(w: Walk, name: str, layer) -> None:
    _spiking(w, name, layer, beta=layer.beta, synapse_alpha=layer.alpha)


def _psu(w: Walk, name: str, layer: PSU_LIF) -> None:
    _spiking(w, name, layer, beta=layer.beta, reset="none")


def _li(w: Walk, name: str, layer: LI) -> None:
    w.expect(name, layer, layer.shape)
    shape = w.ir_shape
    node = Neuron(
        beta=w.decay(layer.beta, layer.shape),
        g_x=np.ones(shape, F32),
        bias=np.zeros(shape, F32),
        fires=False,
        reset="none",
    )
    w.prev = w.add(name, node)


def _alif(w: Walk, name: str, layer: ALIF) -> None:
    """``AdaptiveNeuron -> Shift(1)``: the node integrates then spikes (snnTorch timing), so its ``u_t``,
    ``a_t``, ``s_t`` are the layer's ``V_{t+1}``, ``a_{t+1}``, ``S_{t+1}`` and the shift gives ``S_t``
    (``S_0 = 0`` because ``thr > 0``). Decays are clipped to [0, 1] here as the layer clips them at use."""
    w.expect(name, layer, layer.shape)
    shape = w.ir_shape
    node = AdaptiveNeuron(
        beta=w.decay(layer.beta, layer.shape),
        g_x=np.ones(shape, F32),
        v_threshold=np.full(shape, layer.threshold, F32),
        b=np.full(shape, layer.adaptation, F32),
        rho=w.decay(layer.rho, layer.shape),
    )
    w.add(name, node)
    w.prev = w.add(f"{name}_shift", Shift(steps=np.ones(shape, np.int64)), name)


DISCRETE_RULES = {
    LIF: _lif,
    RLIF: _lif,
    IF: _if,
    RIF: _if,
    CuBaLIF: _cuba,
    RCuBaLIF: _cuba,
    PSU_LIF: _psu,
    LI: _li,
    ALIF: _alif,
}


def lower(model, input_shape) -> Graph:
    """The discrete spyx IR graph of a spyx NNX ``model`` (a layer or a ``Sequential``).

    ``input_shape`` is the per-sample input shape as the model sees it (NNX layout, channels-last for conv
    inputs, no batch or time axis). The graph's Input and Output shapes are channels-first (NIR layout);
    1-D signals are the same in both. ``spyx.compile(lower(model, s)).run(params, x)`` equals
    ``spyx.nn.run(model, x)`` (spikes identical, membranes to float rounding).

    Raises ``UnsupportedError`` naming the first layer that has no lowering, ``ShapeError`` if
    ``input_shape`` does not fit the model.
    """
    return walk(model, input_shape, DISCRETE_RULES, metadata={"source": "spyx.nn.lower"})
