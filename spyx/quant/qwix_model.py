r"""``spyx.quant.quantize``: qwix fake quantization of a Flax NNX model (Spyx 1.0's ``spyx.quant.quantize``).

The model stays a float JAX model that *simulates* integer arithmetic where the rules say: in QAT mode its
weights (and activations, if a rule says so) are rounded to the qtype's grid in the forward pass with
straight-through gradients, so it can be trained; in PTQ mode the weights are replaced by integers and
scales once, for inference. This is training-time quantization; for integer NIR graphs that a chip loads,
see :func:`spyx.quant.quantize_graph` and ``docs/quantization.md`` ("Which quantization to use when").

qwix is imported when :func:`quantize` is called (``pip install 'spyx[quant]'``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from spyx.quant.rules import linear_only_rules, require_qwix

__all__ = ["MODES", "is_qwix_quantized", "quantize"]

MODES = ("qat", "ptq")


def quantize(
    model,
    *example_inputs: Any,
    rules: Iterable[Any] | None = None,
    mode: str = "qat",
    methods: Sequence[str] = ("__call__",),
    **example_kwargs: Any,
):
    """A new, quantized copy of the NNX module ``model``, built by ``qwix.quantize_model``.

    ``example_inputs`` / ``example_kwargs``: arguments of one ``model.__call__`` (qwix traces it once to find
    the ops the rules match). For a stateful spiking model ``__call__(x, state)``, that is one time step:
    ``x`` of shape ``[B, ...]`` and ``model.initial_state(B)``::

        q = spyx.quant.quantize(model, jnp.zeros((B, 128)), model.initial_state(B), mode="ptq")

    ``rules``: qwix ``QuantizationRule`` s (first match wins), default :func:`linear_only_rules` (int8 weights
    and int8 activations of every dense / conv op). ``mode``: ``"qat"`` (``qwix.QtProvider``: fake
    quantization in the forward pass, straight-through gradients; train the result with
    ``nnx.Optimizer(q, tx, wrt=nnx.Param)``) or ``"ptq"`` (``qwix.PtqProvider``: the kernels become
    ``qvalue`` integers with per-output-channel float ``scale``). ``methods``: the model methods to quantize.

    Checks, in this order: qwix importable (``ImportError`` saying how to install it), then ``rules``
    defaulted, then ``mode`` (``ValueError("Unknown quantization mode ...")``).
    """
    qwix = require_qwix()
    rules = linear_only_rules() if rules is None else list(rules)
    if mode == "qat":
        provider = qwix.QtProvider(rules)
    elif mode == "ptq":
        provider = qwix.PtqProvider(rules)
    else:
        raise ValueError(f"Unknown quantization mode {mode!r}; expected 'qat' or 'ptq'.")
    return qwix.quantize_model(model, provider, *example_inputs, methods=tuple(methods), **example_kwargs)


def is_qwix_quantized(layer) -> bool:
    """Whether ``layer`` was quantized by qwix (the test ``spyx.nir.to_nir`` applies before exporting it).

    True if the layer carries qwix's ``qwix_path`` attribute (QAT and PTQ models), or has a ``kernel`` whose
    ``kernel[...]`` raises or is not a JAX/NumPy array (a PTQ kernel is a qwix ``WithAux`` of a ``QArray``).
    NIR stores float weights only, so a quantized layer cannot be exported faithfully.
    """
    import numpy as np

    if hasattr(layer, "qwix_path"):
        return True
    if not hasattr(layer, "kernel"):
        return False
    try:
        value = layer.kernel[...]
    except Exception:  # noqa: BLE001 - any failure to read the kernel as an array means "not a plain kernel"
        return True
    import jax

    return not isinstance(value, jax.Array | np.ndarray)
