r"""The ``lava`` profile: what Lava (lava-nc) computes for a NIR graph converted by the NIR paper's converter
(neuromorphs/NIR ``paper/nir_to_lava.py``, ``ImportConfig(dt=1e-4, fixed_pt=...)``), in floating point
(``PyLifModelFloat``) or bit-accurate Loihi fixed point (``PyLifModelBitAcc``).

Converter (``_nir_node_to_lava``): a LIF becomes a Dense of weight ``dt / tau`` (the input "correction")
feeding a Lava ``LIF(du=1.0, dv=dt/tau, vth=v_threshold, bias_mant=0, bias_exp=0)``; an Affine becomes a
Dense (its bias must be 0). ``r``, ``v_leak`` and ``v_reset`` are not read. The paper's single-neuron run
(``paper/01_lif/lif_lava.ipynb`` at commit c4a6b81, which wrote ``lif_lava_*.csv``) used one Dense of weight
``dt / tau`` between the input and the LIF; here a weight layer feeding the LIF and the correction are that
one Dense (``W * dt / tau``).

Lava's step (lava-nc/lava ``src/lava/proc/lif/models.py``, ``src/lava/proc/dense/models.py``), in order:

1. Dense: sends the ``a`` it accumulated at the previous step (``a_buff``, zero at t = 0), then accumulates
   this step's ``W s``: **the input reaches the LIF one step late** (a ``spyx.Shift`` of one step in front
   of each population);
2. current: ``u = u (1 - du) + a`` (float) -- with the converter's ``du = 1``, ``u = a``;
3. voltage: ``v = v (1 - dv) + u + bias`` with *this* step's ``u`` (no bias from the converter);
4. spike: ``s = v > vth`` (strict); 5. reset: ``v = 0`` where ``s`` (the monitor then records ``v``: the
   membrane after the reset, so a spiking step shows 0).

Float mode (``fixed_pt=false``, the default): ``spyx.Neuron`` with ``beta = 1 - dt/tau``, ``g_x = dt/tau``
(float32, as the converter's NumPy computes them from the file's float32 ``tau``), ``v_threshold``, value
reset to 0, strict test, no bias, v starts at 0. Lava keeps ``u``, ``v`` in float64; spyx in the program's
dtype (float32: the NIR paper's trace is reproduced within 1e-8).

Fixed mode (``fixed_pt=true``): ``spyx.LavaLIF`` (:mod:`spyx.ir.loihi`, the bit-accurate integer step) with
the converter's integers from :func:`spyx.quant.loihi2.lif_codes` (``du = 4095``, ``dv = int(dt/tau *
4095)``, ``vth = int(v_threshold * 131071) >> 9``), and the feeding weight layer's weights replaced by
:func:`spyx.quant.loihi2.dense_weights` (``int(W * dt/tau * 256)``, 8-bit as the Dense keeps them; bias 0).
Each population must be fed only by weight layers that feed nothing else. Its ``v`` trace is Lava's integer
``v``.

Not modelled: Lava's Dense treats its input as binary spikes (``num_message_bits = 0``); spyx multiplies by
the value, the same for 0/1 spikes. Only LIF is converted (the converter's Lava path has no other neuron).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from spyx.errors import UnsupportedError
from spyx.ir.discrete import Shift
from spyx.ir.graph import Graph
from spyx.ir.loihi import LavaLIF
from spyx.ir.node import Node
from spyx.ir.traits import WeightLayer
from spyx.profiles.base import Profile
from spyx.profiles.common import F32, make_neuron, population_shape
from spyx.quant.loihi2 import dense_weights, input_gain, lif_codes

__all__ = ["LavaProfile", "LAVA_DT"]

LAVA_DT = 1e-4  # the converter's ImportConfig.dt


@dataclass(frozen=True, kw_only=True)
class LavaProfile(Profile):
    """Lava LIF (``PyLifModelFloat`` / ``PyLifModelBitAcc``) behind the NIR paper's converter.

    Options (defaults are the converter's ``ImportConfig``, except ``fixed_pt``):
        fixed_pt: bit-accurate Loihi fixed point (Lava's ``fixed_pt`` tag) instead of floating point
            (``floating_pt``); default false.
        dt: the converter's dt (default 1e-4); the file does not store it.
    """

    name = "lava"
    framework = "Lava 0.8 (NIR paper converter)"
    description = "Lava LIF via the NIR paper's nir_to_lava converter (float or bit-accurate Loihi fixed point)"
    #: Lava's LIF updates u and v (the dynamics) with this step's input, then tests and resets (the
    #: transition) in the same step, as ``run_spk`` calls ``subthr_dynamics`` before ``spiking_activation``.
    dynamic_before_transition: ClassVar[bool] = True

    fixed_pt: bool = False
    dt: float = LAVA_DT

    peer = "Lava"
    rules = {"LIF": "_lif"}

    def default_dt(self, graph: Graph) -> float | None:
        return self.dt

    def dt_source(self) -> str:
        return "the NIR paper converter's default; the file does not store dt"

    def _lif(self, name: str, node: Node, dt: float | None, in_cycle: bool) -> Node:
        dt = self.require_dt(dt, name)
        shape = population_shape(node)
        tau = np.broadcast_to(np.asarray(node.tau, F32), shape)
        if self.fixed_pt:
            c = lif_codes(tau, np.broadcast_to(np.asarray(node.v_threshold, F32), shape), dt)
            z = np.zeros(shape, np.int64)
            return LavaLIF(du=c.du, dv=c.dv, vth=c.vth, bias_mant=z, bias_exp=z, metadata=node.metadata)
        gain = input_gain(tau, dt)
        return make_neuron(
            shape,
            beta=F32(1) - gain,  # 1 - dv in float32, as Lava's ``1 - self.dv`` on the float32 dv
            g_x=gain,
            v_threshold=node.v_threshold,
            v_reset=0.0,
            spike_test="gt",
            spike_count="binary",
            reset="value",
            metadata=node.metadata,
        )

    def lower_nodes(self, graph: Graph, dt: float | None) -> tuple[Graph, list[str]]:
        """The base lowering, then for each LIF population: in fixed point its feeding weight layers get
        Lava's integer weights, and a one-step Shift (the Dense's ``a_buff``) is put in front of it."""
        lowered, changes = super().lower_nodes(graph, dt)
        pops = [n for n, node in graph.nodes.items() if node.kind in self.rules]  # what _lif lowered
        if not pops:
            return lowered, changes
        nodes, edges = dict(lowered.nodes), list(lowered.edges)
        for name in pops:
            feeders = [a for a, b in edges if b == name]
            if self.for_node(name).fixed_pt:  # fixed_pt@node=... may set it per population
                gain = input_gain(np.asarray(graph.nodes[name].tau, F32), self.require_dt(dt, name))
                for src in feeders:
                    nodes[src] = self._integer_weights(src, name, nodes[src], gain, edges)
                    changes.append(f"{src}: weights -> Lava Dense integers int(w * dt/tau * 256), 8-bit")
            delay = f"{name}.dense"
            nodes[delay] = Shift(
                steps=np.ones(nodes[name].shape, np.int64), metadata={"spyx.profile.note": "Lava Dense a_buff"}
            )
            edges = [(a, delay) if b == name else (a, b) for a, b in edges]
            edges.append((delay, name))
            changes.append(f"{name}: input delayed one step (Lava's Dense sends last step's accumulation)")
        return Graph(nodes=nodes, edges=tuple(edges), metadata=lowered.metadata), changes

    def _integer_weights(self, src: str, pop: str, node: Node, gain, edges) -> Node:
        layer = node.trait(WeightLayer)
        if layer is None:
            raise UnsupportedError(
                f"node {pop} (LIF): lava{{fixed_pt=true}} needs a weight layer (Lava Dense) feeding it; "
                f"{src} ({node.kind}) is not one. Put an Affine in front, or use fixed_pt=false"
            )
        consumers = {b for a, b in edges if a == src}
        if consumers != {pop}:
            raise UnsupportedError(
                f"node {src} ({node.kind}) feeds {', '.join(sorted(consumers))}: lava{{fixed_pt=true}} folds "
                f"{pop}'s dt/tau into its integer weights, so it must feed {pop} only"
            )
        if layer.bias is not None and np.any(getattr(node, layer.bias)):
            raise UnsupportedError(
                f"node {src} ({node.kind}): Lava's Dense has no bias (the converter requires 0); fold it away "
                "or use another profile"
            )
        w = np.asarray(layer.weights(node))
        g = np.asarray(gain, np.float64)
        if layer.layout == "dense":
            g_rows = np.broadcast_to(g.reshape(-1), (w.shape[0],))
        elif np.ptp(g) == 0:
            g_rows = np.full(w.shape[0] if w.ndim else 1, g.reshape(-1)[0])
        else:
            raise UnsupportedError(
                f"node {src} ({node.kind}): per-neuron dt/tau of {pop} differs across a {layer.layout} layer; "
                "lava{fixed_pt=true} folds it per output channel only for dense layers"
            )
        q = dense_weights(w, g_rows if w.ndim else None).astype(w.dtype)
        changes = {layer.weight: q}
        if layer.bias is not None:
            changes[layer.bias] = np.zeros_like(np.asarray(getattr(node, layer.bias)))
        return node.replace(**changes)
