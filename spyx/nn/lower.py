"""``lower``: a spyx NNX model -> a discrete spyx IR graph (``spyx.Neuron``, ``spyx.AdaptiveNeuron``,
``spyx.Shift``) that the JAX backend runs with the same outputs as :func:`spyx.nn.run`, without a time step.

Spyx 1.0's spiking layers emit the spike of the *incoming* membrane, ``s_t = H(V_t - thr)``. Each is a
``spyx.Neuron`` that integrates and then spikes (``u_t`` is the layer's ``V_{t+1}``, its spike ``H(u_t - thr)``
the layer's ``s_{t+1}``) followed by a one-step ``spyx.Shift``, which gives ``s_t`` (``s_0 = 0`` as ``V_0 = 0 <
thr``; a threshold <= 0 would fire at t = 0 and is refused). The reset:

* LIF / IF / RLIF / RIF (``V' = beta V + x - s thr``): ``reset="subtract", reset_delay=True``, the previous
  spike subtracted undecayed;
* CuBaLIF / RCuBaLIF (``V' = beta (V - s thr) + I'``): ``reset="subtract"`` without delay, the neuron's own
  immediate reset, decayed by the next step (the neuron's ``v`` is the layer's ``V - s thr``);
* PSU_LIF (integrates and spikes in the same step, no reset): ``reset="none"``, no Shift;
* ALIF: ``spyx.AdaptiveNeuron(b=1, rho=gamma)`` (reset by the adapted threshold) then the Shift.

Recurrent layers add ``Shift -> Linear(W^T) -> Neuron``: this step's spikes of the layer are the Shift's output.
See ``docs/nn.md``.
"""

from __future__ import annotations

import numpy as np

from spyx.errors import ParameterError
from spyx.ir import AdaptiveNeuron, Graph, Linear, Neuron, Shift
from spyx.nn.alif import ALIF
from spyx.nn.cuba_lif import CuBaLIF
from spyx.nn.integrate_fire import IF
from spyx.nn.li import LI
from spyx.nn.lif import LIF
from spyx.nn.psu_lif import PSU_LIF, AssociativeLIF
from spyx.nn.recurrent import RIF, RLIF, RCuBaLIF
from spyx.nn.walk import F32, Walk, array, layer_shape, walk

__all__ = ["lower", "threshold_array"]


def threshold_array(w: Walk, name: str, layer, *, shifted: bool) -> np.ndarray:
    """The layer's threshold in IR layout; ``shifted`` layers need it > 0 (their first output is ``s_0 = 0``)."""
    thr = w.neuron_param(layer.threshold, layer_shape(layer)).astype(F32)
    if shifted and np.any(thr <= 0):
        raise ParameterError(
            f"layer {name} ({type(layer).__name__}): threshold must be > 0 to lower (at t = 0 the layer spikes "
            f"where 0 > threshold, which the one-step shift cannot express); got min {thr.min()}"
        )
    return thr


def _spiking(w: Walk, name: str, layer, *, beta, synapse_alpha=None, reset="subtract", shift=True) -> None:
    """``Neuron [-> Shift(1)]``, plus ``Shift -> Linear(W_rec^T) -> Neuron`` for recurrent layers."""
    shape = layer_shape(layer)
    w.expect(name, layer, shape)
    ir = w.ir_shape
    p = {
        "beta": w.decay(beta, shape),
        "bias": np.zeros(ir, F32),
        "v_threshold": threshold_array(w, name, layer, shifted=shift),
    }
    if synapse_alpha is None:
        p["g_x"] = np.ones(ir, F32)
    else:
        p.update(
            g_x=np.zeros(ir, F32),
            alpha=w.decay(synapse_alpha, shape),
            w_syn=np.ones(ir, F32),
            g_prev=np.zeros(ir, F32),
            g_syn=np.ones(ir, F32),
        )
    delayed = reset == "subtract" and synapse_alpha is None
    neuron = Neuron(**p, synapse=synapse_alpha is not None, reset=reset, reset_delay=delayed)
    w.add(name, neuron)
    out = w.add(f"{name}_shift", Shift(steps=np.ones(ir, np.int64)), name) if shift else name
    if hasattr(layer, "recurrent_w"):
        rec = Linear(weight=w.square_weight(array(layer.recurrent_w).T))
        w.add(f"{name}_rec", rec, out)
        w.connect(f"{name}_rec", name)
    w.prev = out


def _lif(w: Walk, name: str, layer) -> None:
    _spiking(w, name, layer, beta=layer.beta)


def _if(w: Walk, name: str, layer) -> None:
    _spiking(w, name, layer, beta=1.0)


def _cuba(w: Walk, name: str, layer) -> None:
    _spiking(w, name, layer, beta=layer.beta, synapse_alpha=layer.alpha)


def _psu(w: Walk, name: str, layer: PSU_LIF) -> None:
    _spiking(w, name, layer, beta=layer.beta, reset="none", shift=False)


def _li(w: Walk, name: str, layer: LI) -> None:
    w.expect(name, layer, layer.layer_shape)
    shape = w.ir_shape
    node = Neuron(
        beta=w.decay(layer.beta, layer.layer_shape),
        g_x=np.ones(shape, F32),
        bias=np.zeros(shape, F32),
        fires=False,
        reset="none",
    )
    w.prev = w.add(name, node)


def _alif(w: Walk, name: str, layer: ALIF) -> None:
    """``AdaptiveNeuron -> Shift(1)``: the node integrates then spikes, so its ``u_t``, ``a_t``, ``s_t`` are the
    layer's ``V_{t+1}``, ``A_{t+1}``, ``s_{t+1}``; ``b = 1`` (Spyx 1.0's ``theta = threshold + A``), ``rho =
    gamma``. Decays are clipped to [0, 1] here as the layer clips them at use."""
    shape = layer_shape(layer)
    w.expect(name, layer, shape)
    ir = w.ir_shape
    node = AdaptiveNeuron(
        beta=w.decay(layer.beta, shape),
        g_x=np.ones(ir, F32),
        v_threshold=threshold_array(w, name, layer, shifted=True),
        b=np.ones(ir, F32),
        rho=w.decay(layer.gamma, shape),
    )
    w.add(name, node)
    w.prev = w.add(f"{name}_shift", Shift(steps=np.ones(ir, np.int64)), name)


DISCRETE_RULES = {
    LIF: _lif,
    RLIF: _lif,
    IF: _if,
    RIF: _if,
    CuBaLIF: _cuba,
    RCuBaLIF: _cuba,
    PSU_LIF: _psu,
    AssociativeLIF: _psu,
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
