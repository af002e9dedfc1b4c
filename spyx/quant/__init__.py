"""spyx.quant: quantization for deployment.

* :func:`quantize_graph` - integer weights with scales folded into the neurons (the ``quantize-graph`` pass),
  returning
  the integer graph, the fake-quantized graph and a per-layer report;
* :func:`report` - run a float and a quantized graph and compare spikes per layer (needs the backend);
* :mod:`spyx.quant.qat` - quantization-aware training of spyx NNX models with qwix (``pip install
  'spyx[quant]'``), imported on use.
"""

from spyx.quant.arith import QuantizedArray, fraction12_decay, quantize_with_scale, shift_decay
from spyx.quant.report import NodeAgreement, QuantReport, report
from spyx.quant.result import LayerReport, NodeFormatReport, QuantizeResult


def quantize_graph(graph, **options) -> QuantizeResult:
    """Run the ``quantize-graph`` pass (:class:`spyx.passes.quantize.Quantize`) with ``options`` on ``graph``."""
    from spyx.passes.quantize import quantize_graph as run

    return run(graph, **options)


__all__ = [
    "LayerReport",
    "NodeAgreement",
    "NodeFormatReport",
    "QuantReport",
    "QuantizeResult",
    "QuantizedArray",
    "fraction12_decay",
    "quantize_graph",
    "quantize_with_scale",
    "report",
    "shift_decay",
]
