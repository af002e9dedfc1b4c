"""Every peer fixture through spyx (JAX): ``spyx.compile(load(model.nir), profile="<peer>{<native options>}",
dt=<meta dt>)`` must give the spikes the peer computed, bit for bit (readouts within 1e-5 relative). The
peers' own export failures are asserted as failures of the peer (docs/interop.md, "Peer bugs"), and
``profile="auto"`` must pick the exporter or refuse to guess."""

from __future__ import annotations

import numpy as np
import pytest

import spyx
from spyx.errors import OptionError
from spyx.profiles import detect, get_profile, resolve_profile

from .conftest import TORCH_PEERS, cases
from .spec import profile_spec

pytestmark = pytest.mark.interop

# the peer's exporter crashes ("no export") or writes a file that lacks nodes/weights ("lossy export")
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
    ("spyx1", "lif_li_readout"): "lossy export",
    ("spikingjelly", "lif_soft_reset"): "no export",  # "NIR does not distinguish soft reset"
}
# files whose parameters are another exporter's convention too: detection gives that exporter's name
# (SpikingJelly LIF(decay_input=True, v_reset=0) writes r = 1, tau = tau_steps dt < 1 s, as Norse 1.1 does)
MISDETECTED = {
    ("spikingjelly", "lif_decay_input_only"): "norse",
    ("spikingjelly", "lif_pulse"): "norse",
}
# IF-only files: Sinabs, Norse and Spyx 1.0 all write IF(r = 1), so auto must refuse
AMBIGUOUS = {
    ("sinabs", "iaf_multispike_subtract"),
    ("sinabs", "iaf_min_v_mem"),
    ("sinabs", "iaf_singlespike_reset"),
    ("sinabs", "conv_sumpool_flatten"),
    ("spyx1", "if_mlp"),
}


def run_case(cdir, meta) -> tuple[str, str]:
    """(status, detail): exact | MISMATCH | lossy export | no export."""
    if not (cdir / "model.nir").exists():
        return "no export", meta.get("export_error", "")
    graph = spyx.load(cdir / "model.nir", profile=profile_spec(meta))
    prog = spyx.compile(graph, dt=meta["dt"])
    x, want = np.load(cdir / "input.npy"), np.load(cdir / "output.npy")
    got = np.asarray(prog.run(prog.params, x)[0])
    if got.shape != want.shape:
        ok, detail = False, f"shape {got.shape} vs native {want.shape}"
    elif meta["output_kind"] == "spikes":
        bad = int(np.sum(got != want))
        ok, detail = bad == 0, f"{bad}/{want.size} spike entries differ (native {want.sum():.0f} spikes)"
    else:
        rel = float(np.max(np.abs(got - want)) / max(float(np.max(np.abs(want))), 1e-30))
        ok, detail = rel <= 1e-5, f"max rel err {rel:.2e}"
    if ok:
        return "exact", detail
    return ("lossy export" if meta.get("export_error") else "MISMATCH"), detail


def _check_peer(root, peer):
    rows = cases(root, peer)
    assert rows, f"no fixtures written for {peer}"
    wrong, exact = [], 0
    for cdir, meta in rows:
        status, detail = run_case(cdir, meta)
        expected = KNOWN_BAD.get((peer, meta["case"]), "exact")
        if status != expected:
            wrong.append(
                f"{meta['case']}: expected {expected}, got {status} ({detail}; {profile_spec(meta)})"
            )
        if expected != "exact":  # the failure is the peer's, recorded by the generator
            assert meta.get("export_error"), f"{peer}/{meta['case']}: no export error recorded"
        exact += status == "exact"
    assert not wrong, "\n".join(wrong)
    assert exact >= 1


@pytest.mark.parametrize("peer", TORCH_PEERS)
def test_torch_peer_fixtures_reproduce(peer_fixtures, peer):
    _check_peer(peer_fixtures, peer)


def test_spyx1_fixtures_reproduce(spyx1_fixtures):
    _check_peer(spyx1_fixtures, "spyx1")


def _check_detection(root, peer):
    for cdir, meta in cases(root, peer):
        if not (cdir / "model.nir").exists():
            continue
        from spyx.io import read_nir

        graph = read_nir(cdir / "model.nir").graph
        found = detect(graph)
        assert found.evidence, meta["case"]
        if (peer, meta["case"]) in AMBIGUOUS:
            assert found.exporter is None and peer in found.candidates, (meta["case"], found)
            with pytest.raises(OptionError, match="cannot tell"):
                resolve_profile(graph, "auto")
        else:
            want = MISDETECTED.get((peer, meta["case"]), peer)
            assert found.exporter == want, (meta["case"], found)
            profile, notes = resolve_profile(graph, "auto")
            assert profile.name == want and want in notes[0]


@pytest.mark.parametrize("peer", TORCH_PEERS)
def test_auto_detects_torch_peers(peer_fixtures, peer):
    _check_detection(peer_fixtures, peer)


def test_auto_detects_spyx1(spyx1_fixtures):
    _check_detection(spyx1_fixtures, "spyx1")


def test_spikingjelly_fixtures_reproduce(spikingjelly_fixtures):
    _check_peer(spikingjelly_fixtures, "spikingjelly")
    for cdir, meta in cases(spikingjelly_fixtures, "spikingjelly"):  # none is trivially all zeros
        assert (cdir / "model.nir").exists() or meta.get("export_error")
        assert np.load(cdir / "output.npy").sum() >= 10, meta["case"]


def test_spikingjelly_spike_timing_is_its_profiles(spikingjelly_fixtures):
    """SpikingJelly itself, one neuron, pulses far above threshold: each spike in the pulse's own step, as the
    profile states (``dynamic_before_transition`` True: a lag of 0 steps, False would be 1)."""
    cdir = spikingjelly_fixtures / "spikingjelly" / "lif_pulse"
    x, y = np.load(cdir / "input.npy")[..., 0], np.load(cdir / "output.npy")[..., 0]
    lag = 0 if get_profile("spikingjelly").dynamic_before_transition else 1
    np.testing.assert_array_equal(y, np.roll(x > 0, lag, axis=0).astype(y.dtype))


def test_auto_detects_spikingjelly(spikingjelly_fixtures):
    _check_detection(spikingjelly_fixtures, "spikingjelly")


def test_auto_with_default_options_reproduces(peer_fixtures):
    """A file whose model used the framework's defaults runs right with ``profile="auto"`` and no options."""
    cdir = (
        peer_fixtures / "snntorch" / "leaky_subtract_delay"
    )  # snnTorch defaults: subtract, reset_delay=True
    meta_dt = 1e-4
    prog = spyx.compile(spyx.load(cdir / "model.nir", profile="auto"), dt=meta_dt)
    got = np.asarray(prog.run(prog.params, np.load(cdir / "input.npy"))[0])
    np.testing.assert_array_equal(got, np.load(cdir / "output.npy"))
    # and the nir profile does not: the file is not meant with NIR semantics
    prog = spyx.compile(spyx.load(cdir / "model.nir"), dt=meta_dt)
    assert not np.array_equal(
        np.asarray(prog.run(prog.params, np.load(cdir / "input.npy"))[0]), np.load(cdir / "output.npy")
    )
