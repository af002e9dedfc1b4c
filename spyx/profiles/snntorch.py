r"""The ``snntorch`` profile: what snnTorch 1.0 computes for a file written by ``snntorch.export_to_nir``.

File convention (``export_nir.py``): dt = 1e-4 hard-coded; Leaky -> LIF(tau = dt/(1-beta), r = tau/dt,
v_leak = 0, v_reset = 0); Synaptic -> CubaLIF(tau_syn = dt/(1-alpha), tau_mem = dt/(1-beta),
r = tau_mem/dt, w_in = tau_syn/dt); RLeaky/RSynaptic -> a sub-graph ``input -> lif <-> w_rec -> output``.

Native step (``_neurons/leaky.py``, ``synaptic.py``, ``rleaky.py``, ``rsynaptic.py``), with
``r = H(mem_{t-1} - thr)``: Leaky subtract ``mem = beta mem + x - r thr``, zero ``mem = beta (1-r) mem + x``;
Synaptic ``syn = alpha syn + x``, ``mem = beta mem + syn`` then ``- r thr`` or ``(1-r) mem`` (the zero reset
lands *after* the integration, as in RLeaky/RSynaptic); ``spk = H(mem - thr)`` (strict);
``reset_delay=False`` additionally applies this step's reset at once ("avoid double reset": the spike test
sees ``mem - r thr``).

Lowering, per neuron (``dt`` = the file's 1e-4 unless given): LIF ``beta = float32(1 - dt/tau)`` clipped to
[0, 1], ``g_x = r dt/tau`` (= 1), bias 0; CubaLIF ``alpha = float32(1 - dt/tau_syn)``,
``w_syn = w_in dt/tau_syn`` (= 1), ``beta = float32(1 - dt/tau_mem)``, ``g_syn = r dt/tau_mem`` (= 1),
``g_x = g_prev = 0``; test ``gt``, binary; ``reset`` as given (``zero`` -> value reset to the file's
v_reset), ``reset_delay`` as given; a zero reset with delay on a CubaLIF or on a LIF in a cycle (RLeaky)
uses ``delayed_reset_on="u"``; subtract without delay sets ``reset_guard``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from spyx.errors import UnsupportedError
from spyx.ir.graph import Graph
from spyx.ir.node import Node
from spyx.profiles.base import Profile
from spyx.profiles.invert import continuous, over, p64
from spyx.profiles.common import F32, a64, make_neuron, node_param, population_shape, snap1
from spyx.profiles.encoding import P, nir_cubalif, nir_lif, plain_options, require, uniform
from spyx.profiles.evidence import Detection, Evidence, close

__all__ = ["SnnTorchProfile", "SNNTORCH_DT"]

SNNTORCH_DT = 1e-4  # export_nir.py: the dt every snnTorch file is written with


@dataclass(frozen=True, kw_only=True)
class SnnTorchProfile(Profile):
    """snnTorch 1.0 Leaky / Synaptic / RLeaky / RSynaptic.

    Options (not in the file; defaults are snnTorch's constructor defaults):
        reset: ``reset_mechanism`` of the layer: ``subtract`` (default), ``zero`` or ``none``.
        reset_delay: the layer's ``reset_delay`` (default True).
        dt: the dt the file was written with (``export_to_nir`` always uses 1e-4).
    """

    name = "snntorch"
    framework = "snnTorch 1.0"
    description = "snnTorch Leaky/Synaptic/RLeaky/RSynaptic as exported by export_to_nir (dt = 1e-4)"
    #: ``spk = H(mem_t - thr)`` on this step's membrane; ``reset_delay`` delays the reset, not the spike
    dynamic_before_transition = True

    reset: Literal["subtract", "zero", "none"] = "subtract"
    reset_delay: bool = True
    dt: float = SNNTORCH_DT

    rules = {"LIF": "_lif", "CubaLIF": "_cubalif"}
    unrecorded = {
        "reset": "the layers' reset_mechanism (subtract, zero or none)",
        "reset_delay": "the layers' reset_delay (true or false)",
    }

    def default_dt(self, graph: Graph) -> float | None:
        return self.dt

    def dt_source(self) -> str:
        return "snnTorch's export_to_nir writes every file with dt = 1e-4"

    @staticmethod
    def detect(ev: Evidence) -> Detection | None:
        """``r == tau/1e-4`` on every LIF/CubaLIF (CubaLIF also ``w_in == tau_syn/1e-4``), ``v_leak == 0``, and no
        non-spiking leaky neuron (``export_to_nir`` writes ``r = tau/dt`` with dt = 1e-4)."""
        if not (
            ev.spiking
            and len(ev.spiking) == len(ev.taus)
            and ev.leak0
            and all(close(ev.rs[k], t / SNNTORCH_DT) for k, t in ev.spiking.items())
            and all(close(v.w_in, a64(v.tau_syn) / SNNTORCH_DT) for v in ev.neurons.values() if v.kind == "CubaLIF")
        ):
            return None
        extra = " and w_in == tau_syn/dt" if "CubaLIF" in ev.kinds else ""
        return Detection(
            "snntorch",
            ("snntorch",),
            (
                f"r == tau/dt{extra} with dt = 1e-4 on all {ev.what}: snnTorch export "
                "(export_to_nir writes dt = 1e-4)",
            ),
        )

    def unsupported(self, name: str, node: Node) -> UnsupportedError:
        return UnsupportedError(
            f"node {name} ({node.kind}): snnTorch exports only LIF and CubaLIF neurons; "
            "use the nir profile for other kinds"
        )

    def _common(self, node: Node) -> tuple[str, bool, dict]:
        reset = {"subtract": "subtract", "zero": "value", "none": "none"}[self.reset]
        delay = self.reset_delay and reset != "none"
        return reset, delay, dict(
            v_threshold=node.v_threshold,
            v_reset=node_param(node, "v_reset"),
            spike_test="gt",
            spike_count="binary",
            reset=reset,
            reset_delay=delay,
            reset_guard=not self.reset_delay and reset == "subtract",
            metadata=node.metadata,
        )

    def _lif(self, name: str, node: Node, dt: float | None, in_cycle: bool) -> Node:
        dt = self.require_dt(dt, name)
        reset, delay, common = self._common(node)
        return make_neuron(
            population_shape(node),
            beta=np.clip((1.0 - dt / a64(node.tau)).astype(F32), 0, 1),
            g_x=snap1(a64(node.r) * dt / a64(node.tau)),
            delayed_reset_on="u" if in_cycle and reset == "value" and delay else "v",
            **common,
        )

    def _cubalif(self, name: str, node: Node, dt: float | None, in_cycle: bool) -> Node:
        dt = self.require_dt(dt, name)
        reset, delay, common = self._common(node)
        return make_neuron(
            population_shape(node),
            synapse=True,
            alpha=np.clip((1.0 - dt / a64(node.tau_syn)).astype(F32), 0, 1),
            w_syn=snap1(a64(node.w_in) * dt / a64(node.tau_syn)),
            beta=np.clip((1.0 - dt / a64(node.tau_mem)).astype(F32), 0, 1),
            g_x=0.0,
            g_prev=0.0,
            g_syn=snap1(a64(node.r) * dt / a64(node.tau_mem)),
            delayed_reset_on="u" if reset == "value" and delay else "v",
            **common,
        )

    def invert_neuron(self, name: str, n: Node, dt: float | None) -> Node:
        """The inverse of :meth:`_lif` / :meth:`_cubalif`: ``tau = dt / (1 - beta)``, ``r = g_x / (1 - beta)``
        (CubaLIF: ``tau_syn = dt / (1 - alpha)``, ``w_in = w_syn / (1 - alpha)``, ``r = g_syn / (1 - beta)``);
        the reset options are the profile's, not the file's."""
        dt = self.require_dt(dt, name)
        beta = p64(n, "beta")
        levels = dict(v_threshold=p64(n, "v_threshold"), v_reset=p64(n, "v_reset"), v_leak=0.0)
        if not n.synapse:
            return continuous("LIF", n, tau=over(dt, 1 - beta), r=over(p64(n, "g_x"), 1 - beta), **levels)
        alpha = p64(n, "alpha")
        return continuous(
            "CubaLIF", n, tau_mem=over(dt, 1 - beta), tau_syn=over(dt, 1 - alpha),
            r=over(p64(n, "g_syn"), 1 - beta), w_in=over(p64(n, "w_syn"), 1 - alpha), **levels,
        )

    def encode_neuron(self, name: str, n: Node, dt: float | None) -> tuple[Node, list[str]]:
        """snnTorch's ``import_from_nir``: LIF -> ``Leaky(beta = 1 - 1e-4/tau, threshold = v_threshold /
        (r 1e-4/tau), reset_mechanism="zero", reset_delay=False)``; CubaLIF -> ``Synaptic(alpha = 1 -
        1e-4/tau_syn, beta = 1 - 1e-4/tau_mem, threshold / (w_in 1e-4/tau_syn))`` (needs r = tau_mem/1e-4);
        one threshold per layer; v_leak must be 0; IF becomes ``Leaky(beta=0.9)`` (a bug), so an IF is written
        as a LIF with tau = 1e30 s, for which the importer's beta is 1 in float32."""
        peer = "snnTorch"
        require(n.fires, name, peer, "snnTorch imports no non-spiking neuron (LI)")
        plain_options(n, name, peer, reset="value", test="gt", count="binary")
        require(
            np.all(P(n, "v_reset") == 0),
            name,
            peer,
            "the zero reset sets v = 0, the node resets to v_reset != 0",
        )
        require(
            np.all(P(n, "bias") == 0), name, peer, "Leaky/Synaptic have no leak or bias (v_leak must be 0)"
        )
        require(n.v_min is None and not np.any(P(n, "v0")), name, peer, "no clamp and no initial membrane")
        beta, thr = P(n, "beta"), P(n, "v_threshold")
        notes = []
        if not n.synapse:
            g = P(n, "g_x")
            require(bool(np.all(g > 0)), name, peer, "the input gain must be positive")
            thr_k = thr / g
            uniform(thr_k, name, peer, "threshold / input gain")
            one = beta >= 1.0
            tau = np.where(one, 1e30, SNNTORCH_DT / np.where(one, 0.5, 1.0 - beta))
            if np.any(one):
                notes.append(
                    f"{name}: beta = 1 written as LIF tau = 1e30 s (snnTorch imports IF as Leaky(beta=0.9))"
                )
            return nir_lif(tau, tau / SNNTORCH_DT, 0.0, thr_k, 0.0), notes
        require(
            bool(np.all(P(n, "g_prev") == 0) and np.all(P(n, "g_x") == 0)),
            name,
            peer,
            "Synaptic's membrane adds this step's current only (g_prev = g_x = 0); NIR's CubaLIF discretised "
            "by the nir profile also feeds i_{t-1} or x_t to the membrane",
        )
        k = P(n, "w_syn") * P(n, "g_syn")
        require(bool(np.all(k > 0)), name, peer, "the synaptic gain must be positive")
        thr_k = thr / k
        uniform(thr_k, name, peer, "threshold / synaptic gain")
        alpha = P(n, "alpha")
        tau_syn, tau_mem = SNNTORCH_DT / (1.0 - alpha), SNNTORCH_DT / (1.0 - beta)
        return nir_cubalif(
            tau_syn, tau_mem, tau_mem / SNNTORCH_DT, 0.0, thr_k, 0.0, tau_syn / SNNTORCH_DT
        ), notes
