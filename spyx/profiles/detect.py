"""Which framework wrote a NIR file, from its neuron parameters alone (no exporter writes its name).

Each profile says whether a file follows its framework's convention (its ``detect(evidence)``, beside its
lowering); this module asks them in an order that makes the answer unique, and adds the rules that concern
several at once. First the file's metadata (:func:`written_by_spyx`): a file a spyx tool wrote says so
(``spyx.version``, the demo's ``spyx.example``, ``source = spyx.nn.export``) and is NIR as NIR means it,
unless it was encoded for Spyx 1.0's importer (``encoding = spyx1``). Then over every LIF/CubaLIF/LI/IF
node including nested graphs (relative tolerance 1e-4):

1. **snntorch**: ``r == tau/1e-4`` on every LIF/CubaLIF (CubaLIF: ``r == tau_mem/1e-4`` and
   ``w_in == tau_syn/1e-4``), ``v_leak == 0`` (``export_to_nir`` writes ``r = tau/dt`` with dt = 1e-4).
2. **spyx1**: an LI feeding a Threshold (Spyx 1.0's PSU_LIF), or ``r < 1`` on every LIF/CubaLIF with one
   ``dt = tau (1 - r)`` for all of them (Spyx 1.0 writes ``r = beta``, ``tau = dt/(1-beta)``).
3. **rockpool**: ``r != 1`` and ``r dt/tau == exp(-dt/tau)`` for one dt recovered from every neuron; ``r != 1``
   that fits none of these is no exporter's convention.
4. ``r == 1`` everywhere: **sinabs** if every tau >= 1 (time steps) and there is no CubaLIF; **norse** if
   what Norse 1.1's ``to_nir`` writes: ``tau = dt * tau_true`` (below 1e-3 for any dt <= 1 ms and tau < 1 s)
   and ``w_in == 1`` on every CubaLIF. A file with ``r == 1`` and time constants in seconds (``tau = 0.02``)
   is what anyone writes by hand for NIR semantics: no exporter.
5. IF-only graphs with ``r == 1`` are **ambiguous**: Sinabs, Norse and Spyx 1.0 all write ``IF(r = 1)``.

A graph without neurons, or one that fits no exporter's convention, has no exporter (``nir`` semantics).
"""

from __future__ import annotations

import numpy as np

from spyx.ir.graph import Graph
from spyx.profiles.evidence import Detection, evidence
from spyx.profiles.registry import get_profile_class

__all__ = ["Detection", "detect", "written_by_spyx", "ORDER", "SPYX_KEYS"]

#: the profiles asked while some ``r != 1``, then (``r == 1`` everywhere) the others
ORDER = ("spikingjelly", "snntorch", "spyx1", "rockpool")
ORDER_UNIT_R = ("sinabs", "norse")


#: metadata keys only spyx's own writers set (a NIR file of another exporter carries none of them)
SPYX_KEYS = ("spyx.version", "spyx.example")


def written_by_spyx(graph: Graph) -> Detection | None:
    """The answer for a file a spyx tool wrote (its metadata says so), else None."""
    meta = graph.metadata
    encoding = meta.get("encoding", meta.get("spyx.encoding"))
    if str(meta.get("source", "")).startswith("spyx.") and encoding == "spyx1":
        return Detection("spyx1", ("spyx1",), (f"metadata source = {meta['source']}, encoding = spyx1",))
    found = [k for k in SPYX_KEYS if k in meta]
    if str(meta.get("source", "")).startswith("spyx."):
        found.append(f"source = {meta['source']}")
    if not found:
        return None
    version = f" {meta['spyx.version']}" if "spyx.version" in meta else ""
    return Detection(None, (), (f"written by spyx{version} (metadata {', '.join(found)}): NIR semantics",))


def detect(graph: Graph) -> Detection:
    """The exporter of ``graph`` by the rules in this module's docstring."""
    own = written_by_spyx(graph)
    if own is not None:
        return own
    ev = evidence(graph)
    if ev is None:
        return Detection(None, (), ("no LIF/CubaLIF/LI/IF nodes: nothing identifies an exporter",))
    for name in ORDER:
        found = get_profile_class(name).detect(ev)
        if found is not None:
            return found
    if ev.taus and any(np.any(ev.rs[k] != 1) for k in ev.taus):
        return Detection(
            None,
            (),
            (
                f"r != 1 on some of {ev.what} but the values fit no exporter's convention; "
                "read with NIR semantics",
            ),
        )
    if all(np.all(r == 1) for r in ev.rs.values()):
        if not ev.taus:
            return Detection(
                None,
                ("sinabs", "norse", "spyx1"),
                (
                    f"IF nodes with r == 1 only ({ev.what}): Sinabs, Norse and Spyx 1.0 all write "
                    "IF(r = 1, v_threshold); "
                    "the file cannot tell them apart",
                ),
            )
        for name in ORDER_UNIT_R:
            found = get_profile_class(name).detect(ev)
            if found is not None:
                return found
    return Detection(
        None,
        (),
        (
            f"r == 1 on all {ev.what} but no exporter's convention fits (Sinabs: every tau >= 1 step; "
            "Norse 1.1: tau = dt*tau below 1e-3 s, CubaLIF w_in == 1): hand-written or NIR-native; "
            "read with NIR semantics",
        ),
    )
