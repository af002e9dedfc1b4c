"""Which framework wrote a NIR file, from its neuron parameters alone (no exporter writes its name).

Rules, in this order, over every LIF/CubaLIF/LI/IF node including nested graphs (relative tolerance 1e-4):

1. **snntorch**: ``r == tau/1e-4`` on every LIF/CubaLIF (CubaLIF: ``r == tau_mem/1e-4`` and
   ``w_in == tau_syn/1e-4``), ``v_leak == 0`` (``export_to_nir`` writes ``r = tau/dt`` with dt = 1e-4).
2. **spyx1**: an LI feeding a Threshold (Spyx 1.0's PSU_LIF), or ``r < 1`` on every LIF/CubaLIF with one
   ``dt = tau (1 - r)`` for all of them (Spyx 1.0 writes ``r = beta``, ``tau = dt/(1-beta)``).
3. **rockpool**: ``r != 1`` and ``r dt/tau == exp(-dt/tau)`` for one dt recovered from every neuron.
4. ``r == 1`` everywhere: **sinabs** if every tau >= 1 (time steps) and there is no CubaLIF; **norse** if
   every tau < 1 (seconds; Norse 1.1 even writes ``dt * tau``).
5. IF-only graphs with ``r == 1`` are **ambiguous**: Sinabs, Norse and Spyx 1.0 all write ``IF(r = 1)``.

A graph without neurons, or one that fits no exporter's convention, has no exporter (``nir`` semantics).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spyx.ir.graph import Graph
from spyx.profiles.common import a64
from spyx.profiles.rockpool import rockpool_dt_from_r
from spyx.profiles.snntorch import SNNTORCH_DT

__all__ = ["Detection", "detect"]

RTOL = 1e-4


@dataclass(frozen=True)
class Detection:
    """``exporter``: the profile name, or None (no neurons, no known convention, or ambiguous);
    ``candidates``: the profiles the parameters fit; ``evidence``: one human line per finding."""

    exporter: str | None
    candidates: tuple[str, ...] = ()
    evidence: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ambiguous(self) -> bool:
        return self.exporter is None and len(self.candidates) > 1

    def to_dict(self) -> dict:
        return {
            "exporter": self.exporter,
            "candidates": list(self.candidates),
            "evidence": list(self.evidence),
        }


def _close(a, b) -> bool:
    a, b = np.broadcast_arrays(a64(a), a64(b))
    return bool(np.allclose(a, b, rtol=RTOL, atol=0))


def detect(graph: Graph) -> Detection:
    """The exporter of ``graph`` by the rules in this module's docstring."""
    nodes = dict(graph.walk())
    neu = {k: v for k, v in nodes.items() if v.kind in ("LIF", "CubaLIF", "LI", "IF")}
    if not neu:
        return Detection(None, (), ("no LIF/CubaLIF/LI/IF nodes: nothing identifies an exporter",))
    count = sum(
        int(np.prod(np.broadcast_shapes(*(np.shape(p) for p in v.params().values())))) for v in neu.values()
    )
    what = f"{count} neurons in {len(neu)} node{'s' if len(neu) > 1 else ''}"
    taus = {k: a64(v.tau_mem if v.kind == "CubaLIF" else v.tau) for k, v in neu.items() if v.kind != "IF"}
    rs = {k: a64(v.r) for k, v in neu.items()}
    kinds = {v.kind for v in neu.values()}
    leak0 = all(np.all(a64(v.v_leak) == 0) for v in neu.values() if v.kind != "IF")
    spiking = {k: t for k, t in taus.items() if neu[k].kind in ("LIF", "CubaLIF")}
    # 1. snnTorch
    if (
        spiking
        and len(spiking) == len(taus)
        and leak0
        and all(_close(rs[k], t / SNNTORCH_DT) for k, t in spiking.items())
        and all(_close(v.w_in, a64(v.tau_syn) / SNNTORCH_DT) for v in neu.values() if v.kind == "CubaLIF")
    ):
        extra = " and w_in == tau_syn/dt" if "CubaLIF" in kinds else ""
        return Detection(
            "snntorch",
            ("snntorch",),
            (
                f"r == tau/dt{extra} with dt = 1e-4 on all {what}: snnTorch export "
                "(export_to_nir writes dt = 1e-4)",
            ),
        )
    # 2. Spyx 1.0
    li_thr = [
        (a, b)
        for _, sub in [("", graph), *[(k, v) for k, v in nodes.items() if isinstance(v, Graph)]]
        for a, b in (sub.edge_nodes(e) for e in sub.edges)
        if sub.nodes[a].kind == "LI" and sub.nodes[b].kind == "Threshold"
    ]
    if li_thr:
        return Detection(
            "spyx1",
            ("spyx1",),
            (f"LI -> Threshold pair ({li_thr[0][0]} -> {li_thr[0][1]}): Spyx 1.0's PSU_LIF export",),
        )
    if spiking and all(np.all(rs[k] < 1) for k in spiking):
        dts = np.concatenate(
            [np.ravel(t * (1 - np.broadcast_to(rs[k], t.shape))) for k, t in spiking.items()]
        )
        if np.allclose(dts, dts[0], rtol=RTOL):
            return Detection(
                "spyx1",
                ("spyx1",),
                (
                    f"r < 1 and tau*(1 - r) == {dts[0]:.6g} on all {what}: Spyx 1.0 export (r = beta, "
                    f"tau = dt/(1-beta), dt = {dts[0]:.6g})",
                ),
            )
    # 3. Rockpool
    if taus and any(np.any(rs[k] != 1) for k in taus):
        dts = np.array(
            [
                rockpool_dt_from_r(ti, ri)
                for k, t in taus.items()
                for ti, ri in zip(np.ravel(t), np.ravel(np.broadcast_to(rs[k], t.shape)), strict=True)
            ]
        )
        if leak0 and np.allclose(dts, dts[0], rtol=1e-3):
            return Detection(
                "rockpool",
                ("rockpool",),
                (f"r == tau*exp(-dt/tau)/dt with one dt = {dts[0]:.6g} on all {what}: Rockpool export",),
            )
        return Detection(
            None,
            (),
            (
                f"r != 1 on some of {what} but the values fit no exporter's convention; "
                "read with NIR semantics",
            ),
        )
    # 4./5. r == 1 everywhere
    if all(np.all(r == 1) for r in rs.values()):
        if not taus:
            return Detection(
                None,
                ("sinabs", "norse", "spyx1"),
                (
                    f"IF nodes with r == 1 only ({what}): Sinabs, Norse and Spyx 1.0 all write "
                    "IF(r = 1, v_threshold); "
                    "the file cannot tell them apart",
                ),
            )
        all_t = np.concatenate([np.ravel(t) for t in taus.values()])
        if np.all(all_t >= 1) and "CubaLIF" not in kinds and leak0:
            return Detection(
                "sinabs",
                ("sinabs",),
                (
                    f"r == 1, v_leak == 0 and every tau >= 1 (time steps, min {all_t.min():.4g}) "
                    f"on all {what}: "
                    "Sinabs export",
                ),
            )
        if np.all(all_t < 1):
            return Detection(
                "norse",
                ("norse",),
                (
                    f"r == 1 and every tau < 1 s (max {all_t.max():.3g}) on all {what}: Norse export "
                    "(norse.to_nir writes r = 1 and tau = dt*tau)",
                ),
            )
    return Detection(
        None,
        (),
        (f"{what} mix conventions (r == 1 and tau both above and below 1); read with NIR semantics",),
    )
