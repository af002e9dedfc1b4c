r"""The ``rockpool`` profile: what Rockpool 3.1's torch modules compute for a file written by
``rockpool.nn.modules.to_nir``.

Native step: LIFTorch ``isyn = isyn + x``; ``vmem = alpha vmem``; ``isyn = beta isyn``;
``vmem = vmem + isyn + bias``; ``n = (v >= thr) floor(v/thr)`` capped at ``max_spikes_per_dt``;
``vmem -= n thr``. LIFNeuronTorch ``v = alpha v + x + bias``; ExpSynTorch ``isyn = (isyn + x) beta``, output
isyn. Decays ``exp(-dt/tau)`` in float32 as torch computes ``exp(reciprocal(tau) * -dt)``.

File convention (``nn/modules/torch/nir.py``): LIFTorch -> CubaLIF(tau_syn, tau_mem,
r = tau_mem exp(-dt/tau_mem)/dt, v_leak = 0); LIFNeuronTorch -> LIF(same r); ExpSynTorch -> LI(tau,
r = tau exp(-dt/tau)/dt). Not written: bias (v_leak is zeros), max_spikes_per_dt, w_rec. dt is recoverable
from ``r dt / tau = exp(-dt/tau)``.

Lowering: CubaLIF ``alpha = w_syn = exp(-dt/tau_syn)``, ``g_syn = 1``, ``g_x = g_prev = 0``,
``beta = exp(-dt/tau_mem)``, ``bias`` as given, test ``ge``, ``multi`` capped at ``max_spikes_per_dt``, reset
subtract; LIF ``beta = exp(-dt/tau)``, ``g_x = 1``; LI ``beta = g_x = exp(-dt/tau)``, not spiking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyx.errors import UnsupportedError
from spyx.ir.graph import Graph
from spyx.ir.node import Node
from spyx.profiles.base import Profile
from spyx.profiles.common import a64, make_neuron, population_shape, torch_exp_decay

__all__ = ["RockpoolProfile", "rockpool_dt_from_r"]


def rockpool_dt_from_r(tau: float, r: float) -> float:
    """Invert ``r = tau exp(-dt/tau) / dt`` for dt (monotonic decreasing in dt) by bisection."""
    lo, hi = 1e-9 * tau, 10 * tau
    for _ in range(200):
        mid = float(np.sqrt(lo * hi))
        if tau * np.exp(-mid / tau) / mid > r:
            lo = mid
        else:
            hi = mid
    return float(np.sqrt(lo * hi))


def _tau_r(node: Node) -> tuple[np.ndarray, np.ndarray]:
    tau = a64(node.tau_mem if node.kind == "CubaLIF" else node.tau)
    return np.ravel(tau), np.ravel(np.broadcast_to(a64(node.r), tau.shape))


@dataclass(frozen=True, kw_only=True)
class RockpoolProfile(Profile):
    """Rockpool 3.1 LIFTorch / LIFNeuronTorch / ExpSynTorch.

    Options (defaults are Rockpool's own):
        bias: the neurons' bias (default 0; the exporter writes v_leak = 0 in its place).
        max_spikes_per_dt: the multi-spike cap (default 2**16).
        dt: None (default): recovered from the file's ``r`` (``r dt/tau = exp(-dt/tau)``).
    """

    name = "rockpool"
    framework = "Rockpool 3.1"
    description = "Rockpool LIFTorch/LIFNeuronTorch/ExpSynTorch as exported by to_nir (dt recovered from r)"

    bias: float = 0.0
    max_spikes_per_dt: int = 2**16
    dt: float | None = None

    def default_dt(self, graph: Graph) -> float | None:
        if self.dt is not None:
            return self.dt
        for node in graph.nodes.values():
            if node.kind in ("CubaLIF", "LIF", "LI"):
                tau, r = _tau_r(node)
                return rockpool_dt_from_r(float(tau[0]), float(r[0]))
        return None

    def dt_source(self) -> str:
        return "recovered from the file's r = tau*exp(-dt/tau)/dt" if self.dt is None else "the dt option"

    def neuron(self, name: str, node: Node, dt: float | None, in_cycle: bool) -> Node:
        dt = self.require_dt(dt, name)
        shape = population_shape(node)
        base = dict(v_threshold=getattr(node, "v_threshold", None), spike_test="ge", spike_count="multi",
                    max_spikes=int(self.max_spikes_per_dt), reset="subtract", v_reset=0.0, metadata=node.metadata)
        if node.kind == "CubaLIF":
            a_s = torch_exp_decay(dt, node.tau_syn)
            return make_neuron(shape, synapse=True, alpha=a_s, w_syn=a_s, g_prev=0.0, g_syn=1.0, g_x=0.0,
                               beta=torch_exp_decay(dt, node.tau_mem), bias=self.bias, **base)
        if node.kind == "LIF":
            return make_neuron(shape, beta=torch_exp_decay(dt, node.tau), g_x=1.0, bias=self.bias, **base)
        if node.kind == "LI":
            b = torch_exp_decay(dt, node.tau)
            return make_neuron(shape, beta=b, g_x=b, fires=False, reset="none", metadata=node.metadata)
        raise UnsupportedError(f"node {name} ({node.kind}): Rockpool exports no {node.kind}; use the nir profile")
