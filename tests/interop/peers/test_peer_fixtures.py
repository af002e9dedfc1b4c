"""The peer fixtures reproduce with numpy_ref (the executable specification of each peer profile).

Needs the peer frameworks (see tests/interop/conftest.py); skips without them.
A case whose peer export is known to fail or lose information must keep failing the same way: if a peer
fixes its
exporter, the test says so and the case list should be updated.
"""

from __future__ import annotations

import pytest

from .numpy_ref import check_case

# cases where the peer's own exporter crashes or silently loses nodes/weights (docs/interop-research.md)
KNOWN_BAD = {
    ("snntorch", "scalar_beta_export_crash"): "no export",
    ("snntorch", "skip_merge"): "lossy export",
    ("norse", "lifbox_default_params"): "no export",
    ("norse", "lif_recurrent"): "no export",
    ("norse", "conv_flatten"): "no export",
    ("norse", "skip_merge"): "lossy export",
    ("sinabs", "lif_scalar_threshold_crash"): "no export",
    ("sinabs", "iaf_recurrent"): "no export",
    ("sinabs", "merge_skip"): "no export",
    ("rockpool", "lif_has_rec"): "lossy export",
}
pytestmark = pytest.mark.interop


@pytest.mark.parametrize("peer", ["snntorch", "norse", "sinabs", "rockpool"])
def test_peer_cases_reproduce(peer_fixtures, peer):
    """The fixtures come from tests/interop/conftest.py (generated once per session by the real peers)."""
    rows = [check_case(m.parent) for m in sorted((peer_fixtures / peer).glob("*/meta.json"))]
    assert rows, f"no fixtures written for {peer}"
    wrong = []
    for r in rows:
        expected = KNOWN_BAD.get((peer, r["case"]), "exact")
        if r["status"] != expected:
            wrong.append(f"{r['case']}: expected {expected}, got {r['status']} ({r['detail']})")
    assert not wrong, "\n".join(wrong)


def test_spikingjelly_cases_reproduce(spikingjelly_fixtures):
    rows = [check_case(m.parent) for m in sorted((spikingjelly_fixtures / "spikingjelly").glob("*/meta.json"))]
    assert rows, "no fixtures written for spikingjelly"
    want = {"lif_soft_reset": "no export"}  # export_to_nir refuses soft reset
    wrong = [
        f"{r['case']}: {r['status']} ({r['detail']})" for r in rows if r["status"] != want.get(r["case"], "exact")
    ]
    assert not wrong, "\n".join(wrong)
