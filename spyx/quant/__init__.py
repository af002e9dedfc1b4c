"""spyx.quant: quantization, at training time (qwix) and for deployment (integer NIR graphs).

Training-time fake quantization of Flax NNX models with qwix (Spyx 1.0's ``spyx.quant``; qwix is imported on
use, ``pip install 'spyx[quant]'``):

* :func:`quantize` - a quantized copy of an NNX model (``mode="qat"`` to train, ``"ptq"`` for inference);
* :func:`linear_only_rules`, :func:`weights_only_rules`, :func:`spiking_feedforward_rules`,
  :func:`bitnet_ternary_rules` - qwix rule lists; :func:`available` - whether qwix can be imported;
* :func:`binary_activation_error` - how far activations are from the ``int<N>`` grid (0 for spikes; no qwix).

Deployment, on NIR graphs (no qwix):

* :func:`quantize_graph` - integer weights with scales folded into the neurons (the ``quantize-graph``
  pass; ``spyx-convert quantize``), returning the integer graph, the fake-quantized graph and a per-layer
  report;
* :func:`report` - run a float and a quantized graph and compare spikes per layer (needs the backend);
* :mod:`spyx.quant.qat` - QAT whose scales and integers export exactly to an integer NIR graph.

``docs/quantization.md`` ("Which quantization to use when") says which to use and how they connect.
"""

from spyx.quant import loihi2
from spyx.quant.arith import QuantizedArray, fraction12_decay, quantize_with_scale, shift_decay
from spyx.quant.qwix_model import is_qwix_quantized, quantize
from spyx.quant.report import NodeAgreement, QuantReport, report
from spyx.quant.result import LayerReport, NodeFormatReport, QuantizeResult
from spyx.quant.rules import (
    available,
    binary_activation_error,
    bitnet_ternary_rules,
    linear_only_rules,
    spiking_feedforward_rules,
    weights_only_rules,
)


def quantize_graph(graph, **options) -> QuantizeResult:
    """Run the ``quantize-graph`` pass (:class:`spyx.passes.quantize.Quantize`) with ``options`` on ``graph``."""
    from spyx.passes.quantize import quantize_graph as run

    return run(graph, **options)


__all__ = [
    # qwix front end (Spyx 1.0)
    "available",
    "binary_activation_error",
    "bitnet_ternary_rules",
    "is_qwix_quantized",
    "linear_only_rules",
    "quantize",
    "spiking_feedforward_rules",
    "weights_only_rules",
    # integer NIR graphs
    "LayerReport",
    "NodeAgreement",
    "NodeFormatReport",
    "QuantReport",
    "QuantizeResult",
    "QuantizedArray",
    "fraction12_decay",
    "loihi2",
    "quantize_graph",
    "quantize_with_scale",
    "report",
    "shift_decay",
]
