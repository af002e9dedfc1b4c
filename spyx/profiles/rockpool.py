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

from spyx.ir.graph import Graph
from spyx.ir.node import Node
from spyx.ir.traits import Continuous, Population
from spyx.profiles.base import Profile
from spyx.profiles.invert import continuous, over, p64
from spyx.profiles.common import a64, make_neuron, population_shape, torch_exp_decay
from spyx.profiles.encoding import P, nir_cubalif, plain_options, require
from spyx.profiles.evidence import Detection, Evidence

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


def _membrane_tau(node: Node) -> str | None:
    """The membrane time constant of a continuous population (``tau``, ``tau_mem``), None without one."""
    cont = node.trait(Continuous)
    if cont is None or not cont.time_constants or not node.has_trait(Population):
        return None
    return cont.time_constants[-1]


def _tau_r(node: Node) -> tuple[np.ndarray, np.ndarray]:
    tau = a64(getattr(node, _membrane_tau(node)))
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
    #: ``vmem = vmem + isyn + bias`` first, then ``n = floor(v/thr)`` on it
    dynamic_before_transition = True

    bias: float = 0.0
    max_spikes_per_dt: int = 2**16
    dt: float | None = None

    peer = "Rockpool"
    rules = {"CubaLIF": "_cubalif", "LIF": "_lif", "LI": "_li"}
    unrecorded = {
        "bias": "the neurons' bias (a number; the exporter writes v_leak = 0 in its place)",
        "max_spikes_per_dt": "the multi-spike cap per step (an integer; 1 for single spikes)",
    }

    @staticmethod
    def detect(ev: Evidence) -> Detection | None:
        """``r != 1`` somewhere and ``r dt/tau == exp(-dt/tau)`` for one dt recovered from every neuron,
        ``v_leak == 0``."""
        if not (ev.taus and any(np.any(ev.rs[k] != 1) for k in ev.taus)):
            return None
        dts = np.array(
            [
                rockpool_dt_from_r(ti, ri)
                for k, t in ev.taus.items()
                for ti, ri in zip(np.ravel(t), np.ravel(np.broadcast_to(ev.rs[k], t.shape)), strict=True)
            ]
        )
        if not (ev.leak0 and np.allclose(dts, dts[0], rtol=1e-3)):
            return None
        return Detection(
            "rockpool",
            ("rockpool",),
            (f"r == tau*exp(-dt/tau)/dt with one dt = {dts[0]:.6g} on all {ev.what}: Rockpool export",),
        )

    def default_dt(self, graph: Graph) -> float | None:
        if self.dt is not None:
            return self.dt
        for node in graph.nodes.values():
            if _membrane_tau(node) is not None:  # CubaLIF, LIF, LI
                tau, r = _tau_r(node)
                return rockpool_dt_from_r(float(tau[0]), float(r[0]))
        return None

    def dt_source(self) -> str:
        return "recovered from the file's r = tau*exp(-dt/tau)/dt" if self.dt is None else "the dt option"

    def _base(self, node: Node) -> dict:
        return dict(
            v_threshold=getattr(node, "v_threshold", None),
            spike_test="ge",
            spike_count="multi",
            max_spikes=int(self.max_spikes_per_dt),
            reset="subtract",
            v_reset=0.0,
            metadata=node.metadata,
        )

    def _cubalif(self, name: str, node: Node, dt: float | None, in_cycle: bool) -> Node:
        dt = self.require_dt(dt, name)
        a_s = torch_exp_decay(dt, node.tau_syn)
        return make_neuron(
            population_shape(node),
            synapse=True,
            alpha=a_s,
            w_syn=a_s,
            g_prev=0.0,
            g_syn=1.0,
            g_x=0.0,
            beta=torch_exp_decay(dt, node.tau_mem),
            bias=self.bias,
            **self._base(node),
        )

    def _lif(self, name: str, node: Node, dt: float | None, in_cycle: bool) -> Node:
        dt = self.require_dt(dt, name)
        beta = torch_exp_decay(dt, node.tau)
        return make_neuron(population_shape(node), beta=beta, g_x=1.0, bias=self.bias, **self._base(node))

    def _li(self, name: str, node: Node, dt: float | None, in_cycle: bool) -> Node:
        b = torch_exp_decay(self.require_dt(dt, name), node.tau)
        return make_neuron(population_shape(node), beta=b, g_x=b, fires=False, reset="none", metadata=node.metadata)

    def invert_neuron(self, name: str, n: Node, dt: float | None) -> Node:
        """The inverse of :meth:`_lif` / :meth:`_li` / :meth:`_cubalif`: ``tau = -dt / ln(beta)`` (and
        ``tau_syn`` from ``alpha``), ``r = tau exp(-dt/tau) / dt``, Rockpool's export, from which the dt is
        recovered on loading; ``w_in = 1``, ``v_leak = 0``."""
        dt = self.require_dt(dt, name)
        beta = p64(n, "beta")
        tau = over(-dt, np.log(beta))
        r = tau * beta / dt
        if not n.fires:
            return continuous("LI", n, tau=tau, r=r, v_leak=0.0)
        levels = dict(v_threshold=p64(n, "v_threshold"), v_reset=0.0, v_leak=0.0)
        if n.synapse:
            tau_syn = over(-dt, np.log(p64(n, "alpha")))
            return continuous("CubaLIF", n, tau_mem=tau, tau_syn=tau_syn, r=r, w_in=1.0, **levels)
        return continuous("LIF", n, tau=tau, r=r, **levels)

    def encode_neuron(self, name: str, n: Node, dt: float | None) -> tuple[Node, list[str]]:
        """Rockpool's ``from_nir``: CubaLIF -> ``LIFTorch(tau_mem, tau_syn, threshold, bias = v_leak,
        dt = min(tau_mem / (1 + r)))``, i.e. ``i = alpha (i + x)``, ``v = beta v + i + bias``, multi-spike
        ``>=`` with subtraction. Its LIF branch reads ``node.tau_mem`` (crashes on every LIF) and its LI
        branch
        truncates tau to an integer, so only CubaLIF is written: ``r = tau_mem/dt - 1`` gives the importer dt,
        the membrane is scaled by ``k = g_syn w_syn / alpha``."""
        peer = "Rockpool"
        dt = self.require_dt(dt, name)
        require(
            n.fires and n.synapse,
            name,
            peer,
            "its importer crashes on LIF (reads node.tau_mem) and truncates "
            "LI tau to an integer; only CubaLIF imports",
        )
        plain_options(n, name, peer, reset="subtract", test="ge", count="multi")
        require(
            n.max_spikes in (0, 2**16),
            name,
            peer,
            "the importer builds the default max_spikes_per_dt = 2**16",
        )
        require(n.v_min is None and not np.any(P(n, "v0")), name, peer, "no clamp and no initial membrane")
        alpha, beta = P(n, "alpha"), P(n, "beta")
        require(
            bool(np.all(P(n, "g_prev") == 0) and np.all(P(n, "g_x") == 0)),
            name,
            peer,
            "LIFTorch's membrane adds this step's current only",
        )
        k = P(n, "g_syn") * P(n, "w_syn") / alpha
        require(bool(np.all(k > 0)), name, peer, "the synaptic gain must be positive")
        tau_mem, tau_syn = -dt / np.log(beta), -dt / np.log(alpha)
        return nir_cubalif(
            tau_syn, tau_mem, tau_mem / dt - 1.0, P(n, "bias") / k, P(n, "v_threshold") / k, 0.0, 1.0
        ), [f"{name}: the importer recovers dt = tau_mem/(1 + r) = {dt:g}"]
