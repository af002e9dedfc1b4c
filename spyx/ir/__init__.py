"""The spyx graph IR: declared node kinds, graphs, shape inference, verification, text form."""

from spyx.ir.adaptive import AdaptiveNeuron
from spyx.ir.algorithms import feedback_edges, is_causal, sccs, to_networkx, topological_order
from spyx.ir.conv import Conv1d, Conv2d
from spyx.ir.delay import Delay
from spyx.ir.discrete import Neuron, Shift
from spyx.ir.flatten import Flatten
from spyx.ir.graph import Edge, Graph
from spyx.ir.linear import Affine, Linear, Scale
from spyx.ir.loihi import LavaLIF
from spyx.ir.neurons import IF, LI, LIF, CubaLI, CubaLIF, I
from spyx.ir.node import Node, Shape, kind_class, param, register, registered_kinds
from spyx.ir.pool import AvgPool2d, SumPool2d
from spyx.ir.ports import Input, Output
from spyx.ir.refractory import RefractoryLIF
from spyx.ir.shapes import NodeShapes, infer_shapes
from spyx.ir.text import to_text
from spyx.ir.threshold import Threshold
from spyx.ir.verify import diagnose, verify

__all__ = [
    "AdaptiveNeuron", "Affine", "AvgPool2d", "Conv1d", "Conv2d", "CubaLI", "CubaLIF", "Delay", "Edge",
    "Flatten", "Graph", "I", "IF", "Input", "LavaLIF", "LI", "LIF", "Linear", "Neuron", "Node", "NodeShapes", "Output",
    "RefractoryLIF", "Scale", "Shape", "Shift", "SumPool2d", "Threshold", "diagnose", "feedback_edges",
    "infer_shapes", "is_causal", "kind_class", "param", "register", "registered_kinds", "sccs", "to_networkx",
    "to_text", "topological_order", "verify",
]
