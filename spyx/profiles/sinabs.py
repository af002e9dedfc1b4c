r"""The ``sinabs`` profile: what Sinabs 3.1 computes for a file written by ``sinabs.to_nir``.

Native step (``layers/functional/lif.py`` ``lif_forward_single``), tau in *time steps*,
``alpha = float32(exp(-1/tau))``: synapse ``i = alpha_syn (i + x)`` if ``tau_syn`` else ``i = x``;
``v = alpha_mem v + (1 - alpha_mem if norm_input else 1) i``; spikes; reset; then the clamp
``v = max(v, min_v_mem)``. IAF: ``alpha_mem = 1``. MultiSpike ``(v > 0) trunc(v/thr)`` (= ``ge`` + floor for
thr > 0), SingleSpike ``v >= thr``; MembraneSubtract ``v - s thr``, MembraneReset ``v := 0``. ExpLeak
(``spike_fn=None``) outputs ``v`` *before* the clamp.

File convention (``sinabs/nir.py``): IAF -> IF(r = 1), LIF -> LIF(tau, r = 1, v_leak = 0), ExpLeak ->
LI(tau, r = 1, v_leak = 0). Not written: spike_fn, reset_fn, min_v_mem, norm_input, tau_syn.

Lowering (dt is one step): LIF ``beta = float32(exp(-1/tau))``, ``g_x = 1 - beta`` (norm_input) or 1, test
``ge``, ``multi`` (MultiSpike) or binary (SingleSpike), reset subtract or value 0, ``v_min = min_v_mem``; with
``tau_syn``: ``alpha = w_syn = exp(-1/tau_syn)``, ``g_syn`` = the input gain, ``g_x = 0``. IF: ``beta = 1``,
``g_x = 1``. LI: the LIF formulas, not spiking, ``output_pre_clamp``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from spyx.ir.graph import Graph
from spyx.ir.node import Node
from spyx.profiles.base import Profile
from spyx.profiles.invert import continuous, over, p64
from spyx.profiles.common import F32, make_neuron, population_shape
from spyx.profiles.encoding import P, nir_if, nir_li, nir_lif, plain_options, require
from spyx.profiles.evidence import Detection, Evidence

__all__ = ["SinabsProfile"]


def sinabs_decay(tau) -> np.ndarray:
    return np.exp(F32(-1.0) / np.asarray(tau, F32)).astype(F32)


@dataclass(frozen=True, kw_only=True)
class SinabsProfile(Profile):
    """Sinabs 3.1 IAF / LIF / ExpLeak (``*Squeeze`` layers).

    Options (defaults are Sinabs's own):
        norm_input: scale the input by ``1 - alpha`` (None: Sinabs's per-layer default, True for LIF, False
            for ExpLeak; IAF never normalises).
        min_v_mem: the lower membrane clamp (None: none, Sinabs's default).
        spike_fn: ``multi`` (MultiSpike, default) or ``single`` (SingleSpike).
        reset_fn: ``subtract`` (MembraneSubtract, default) or ``zero`` (MembraneReset).
        tau_syn: the LIF layers' synaptic time constant in steps (None: no synapse, the default); the
            exporter drops it.
        dt: only labels the step (tau is in steps); default 1.
    """

    name = "sinabs"
    framework = "Sinabs 3.1"
    description = "Sinabs IAF/LIF/ExpLeak as exported by sinabs.to_nir (tau in time steps)"
    #: ``lif_forward_single`` integrates, then spikes from the new ``v``
    dynamic_before_transition = True

    norm_input: bool | None = None
    min_v_mem: float | None = None
    spike_fn: Literal["multi", "single"] = "multi"
    reset_fn: Literal["subtract", "zero"] = "subtract"
    tau_syn: float | None = None
    dt: float = 1.0

    peer = "Sinabs"
    rules = {"IF": "_if", "LIF": "_leaky", "LI": "_leaky"}
    unrecorded = {
        "norm_input": "the layers' norm_input (true or false; default true for LIF, false for ExpLeak)",
        "min_v_mem": "the layers' min_v_mem clamp (a number; default none)",
        "spike_fn": "the layers' spike_fn (multi: MultiSpike, single: SingleSpike)",
        "reset_fn": "the layers' reset_fn (subtract: MembraneSubtract, zero: MembraneReset)",
        "tau_syn": "the LIF layers' tau_syn in steps (a number; default none: no synapse)",
    }

    @staticmethod
    def detect(ev: Evidence) -> Detection | None:
        """``r == 1``, ``v_leak == 0``, every tau >= 1 (time steps), no CubaLIF (asked once ``r == 1``
        everywhere)."""
        all_t = np.concatenate([np.ravel(t) for t in ev.taus.values()])
        if not (np.all(all_t >= 1) and "CubaLIF" not in ev.kinds and ev.leak0):
            return None
        return Detection(
            "sinabs",
            ("sinabs",),
            (
                f"r == 1, v_leak == 0 and every tau >= 1 (time steps, min {all_t.min():.4g}) "
                f"on all {ev.what}: "
                "Sinabs export",
            ),
        )

    def default_dt(self, graph: Graph) -> float | None:
        return self.dt

    def dt_source(self) -> str:
        return "Sinabs counts tau in time steps"

    def _base(self, node: Node) -> dict:
        return dict(
            spike_test="ge",
            spike_count="multi" if self.spike_fn == "multi" else "binary",
            reset="value" if self.reset_fn == "zero" else "subtract",
            v_min=self.min_v_mem,
            metadata=node.metadata,
        )

    def _if(self, name: str, node: Node, dt: float | None, in_cycle: bool) -> Node:
        base = self._base(node)
        return make_neuron(
            population_shape(node), beta=1.0, g_x=1.0, v_threshold=node.v_threshold, v_reset=0.0, **base
        )

    def _leaky(self, name: str, node: Node, dt: float | None, in_cycle: bool) -> Node:
        """LIF and LI (ExpLeak): the same leak; LI does not spike and outputs its membrane before the clamp."""
        shape, base = population_shape(node), self._base(node)
        beta = sinabs_decay(node.tau)
        norm = node.spiking if self.norm_input is None else self.norm_input  # LIF normalises, ExpLeak not
        gain = (F32(1) - beta) if norm else np.float64(1.0)
        if not node.spiking:
            return make_neuron(
                shape,
                beta=beta,
                g_x=gain,
                fires=False,
                output_pre_clamp=True,
                **{**base, "reset": "none"},
            )
        if self.tau_syn is not None:
            a_s = sinabs_decay(self.tau_syn)
            return make_neuron(
                shape,
                synapse=True,
                alpha=a_s,
                w_syn=a_s,
                g_prev=0.0,
                g_syn=gain,
                g_x=0.0,
                beta=beta,
                v_threshold=node.v_threshold,
                v_reset=0.0,
                **base,
            )
        return make_neuron(shape, beta=beta, g_x=gain, v_threshold=node.v_threshold, v_reset=0.0, **base)

    def invert_neuron(self, name: str, n: Node, dt: float | None) -> Node:
        """The inverse of :meth:`_if` / :meth:`_leaky`: ``tau = -1 / ln(beta)`` in steps (Sinabs's decay
        ``exp(-1/tau)``), ``beta = 1`` an IF; ``r = 1``, ``v_reset = 0`` (Sinabs resets to zero or subtracts)."""
        beta = p64(n, "beta")
        if not n.fires:
            return continuous("LI", n, tau=over(-1.0, np.log(beta)), r=1.0, v_leak=0.0)
        levels = dict(v_threshold=p64(n, "v_threshold"), v_reset=0.0)
        if np.all(beta == 1):
            return continuous("IF", n, r=1.0, **levels)
        return continuous("LIF", n, tau=over(-1.0, np.log(beta)), r=1.0, v_leak=0.0, **levels)

    def encode_neuron(self, name: str, n: Node, dt: float | None) -> tuple[Node, list[str]]:
        """Sinabs's ``from_nir``: IF -> ``IAFSqueeze(spike_threshold, min_v_mem = -v_threshold)``; LIF ->
        ``LIFSqueeze(tau_mem = tau, norm_input=False)``; LI -> ``ExpLeakSqueeze(tau, norm_input=False)``; all
        MultiSpike (``>=``, floor) with MembraneSubtract, tau in steps (``beta = exp(-1/tau)``). The membrane
        is
        scaled by the input gain ``k = g_x`` (threshold / k); an LI's output is its membrane, so it needs
        ``g_x = 1``."""
        peer = "Sinabs"
        require(not n.synapse, name, peer, "its importer builds no synapse (tau_syn is not read)")
        plain_options(n, name, peer, reset="subtract", test="ge", count="multi")
        require(
            n.max_spikes == 0 or n.max_spikes >= 2**16 or not n.fires, name, peer, "MultiSpike has no cap"
        )
        beta, g, b = P(n, "beta"), P(n, "g_x"), P(n, "bias")
        require(np.all(b == 0), name, peer, "Sinabs layers have no bias (v_leak must be 0)")
        require(not np.any(P(n, "v0")), name, peer, "its layers start at 0")
        require(bool(np.all(g > 0)), name, peer, "the input gain must be positive")
        if not n.fires:
            require(
                bool(np.allclose(g, 1.0, rtol=1e-6)),
                name,
                peer,
                "ExpLeak(norm_input=False) has input gain 1 and outputs its membrane; this node's gain is "
                f"{np.ravel(g)[0]:.4g} (fold it into the feeding weights first)",
            )
            require(n.v_min is None, name, peer, "the importer sets no min_v_mem on ExpLeak")
            return nir_li(-1.0 / np.log(beta), 1.0, 0.0), []
        thr = P(n, "v_threshold") / g
        if np.all(beta == 1):
            vmin = P(n, "v_min", None)
            require(
                vmin is not None and np.allclose(vmin / g, -thr, rtol=1e-6),
                name,
                peer,
                "its importer clamps IF membranes at min_v_mem = -v_threshold; the node's clamp differs",
            )
            return nir_if(1.0, thr, 0.0), []
        require(n.v_min is None, name, peer, "the importer sets no min_v_mem on LIF")
        require(bool(np.all((beta > 0) & (beta < 1))), name, peer, "mixed leaky and non-leaky neurons")
        return nir_lif(-1.0 / np.log(beta), 1.0, 0.0, thr, 0.0), [f"{name}: tau written in time steps"]
