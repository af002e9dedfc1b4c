"""The reverse direction: ``encode_for`` / ``spyx.save(..., profile=)`` / ``spyx-convert convert
--to-profile``
write a graph so that the peer's own NIR importer builds the model spyx runs; the peer then runs it natively
(tests/interop/peers/import_run.py in the peers' Python) and its output is compared with spyx's."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner
from spyx_cli.main import main

import spyx
from spyx.errors import ExportError
from spyx.ir import LIF, Affine, Graph
from spyx.profiles import encode_for

from .conftest import ROOT
from .spec import profile_spec

pytestmark = pytest.mark.interop
F = np.float32


def import_and_run(python, peer, model, x_path, out, dt):
    r = subprocess.run(
        [
            python,
            "-m",
            "tests.interop.peers.import_run",
            peer,
            str(model),
            str(x_path),
            str(out),
            "--dt",
            str(dt),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return r.returncode, (np.load(out) if r.returncode == 0 else None), r.stderr


def _lif(n, tau, thr, r):
    return LIF(
        tau=np.full(n, tau, F),
        r=np.full(n, r, F),
        v_leak=np.zeros(n, F),
        v_threshold=np.full(n, thr, F),
        v_reset=np.zeros(n, F),
    )


def nir_graph():
    rng = np.random.default_rng(0)
    return Graph.sequential(
        [
            ("fc1", Affine(weight=rng.normal(0, 1, (8, 6)).astype(F), bias=np.zeros(8, F))),
            ("lif1", _lif(8, 5e-3, 0.3, 2.0)),
            ("fc2", Affine(weight=rng.normal(0, 1, (4, 8)).astype(F), bias=rng.normal(0, 0.1, 4).astype(F))),
            ("lif2", _lif(4, 1e-2, 0.2, 2.0)),
        ],
        input_shape=(6,),
    )


@pytest.mark.parametrize("peer", ["snntorch", "norse"])
def test_nir_model_runs_in_peer_as_in_spyx(peers_python_exe, tmp_path, peer):
    """A model with NIR semantics (exact discretisation at dt) imported by the peer gives spyx's spikes."""
    dt = 1e-3
    g = nir_graph()
    x = (np.random.default_rng(1).random((60, 3, 6)) < 0.3).astype(F)
    np.save(tmp_path / "x.npy", x)
    prog = spyx.compile(g, dt=dt)
    want = np.asarray(prog.run(prog.params, x)[0])
    assert want.sum() > 20
    spyx.save(g, tmp_path / "m.nir", profile=peer, dt=dt)
    code, got, err = import_and_run(
        peers_python_exe, peer, tmp_path / "m.nir", tmp_path / "x.npy", tmp_path / "y.npy", dt
    )
    assert code == 0, err
    np.testing.assert_array_equal(got, want)
    # the plain NIR file is not read that way by the peer: the encoding is what makes it agree
    spyx.save(g, tmp_path / "plain.nir")
    code, plain, _ = import_and_run(
        peers_python_exe, peer, tmp_path / "plain.nir", tmp_path / "x.npy", tmp_path / "p.npy", dt
    )
    assert code != 0 or not np.array_equal(plain, want)


ROUND_TRIPS = [
    ("snntorch", "leaky_zero_nodelay"),
    ("snntorch", "synaptic_zero_nodelay"),
    ("sinabs", "lif_norm_input_expleak"),
    ("sinabs", "conv_sumpool_flatten"),
    ("rockpool", "lif_cuba"),
    ("rockpool", "lif_cuba_bias"),
]


@pytest.mark.parametrize(("peer", "case"), ROUND_TRIPS)
def test_peer_file_round_trips_through_the_peer_importer(
    peer_fixtures, peers_python_exe, tmp_path, peer, case
):
    """peer export -> spyx (peer profile) -> encode_for(peer) -> peer import == the peer's original output."""
    cdir = peer_fixtures / peer / case
    meta = json.loads((cdir / "meta.json").read_text())
    g = spyx.load(cdir / "model.nir", profile=profile_spec(meta))
    enc, notes = encode_for(g, peer, dt=meta["dt"])
    assert notes and peer in notes[0]
    spyx.save(enc, tmp_path / "m.nir")
    code, got, err = import_and_run(
        peers_python_exe, peer, tmp_path / "m.nir", cdir / "input.npy", tmp_path / "y.npy", meta["dt"]
    )
    assert code == 0, err
    want = np.load(cdir / "output.npy")
    if meta["output_kind"] == "spikes":
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


@pytest.mark.parametrize(
    ("peer", "case", "target", "why"),
    [
        ("snntorch", "leaky_subtract_delay", "snntorch", "reset=subtract with reset_delay"),
        ("sinabs", "iaf_multispike_subtract", "sinabs", "min_v_mem = -v_threshold"),
        ("sinabs", "lif_no_norm_expleak_minv", "sinabs", "no min_v_mem on ExpLeak"),
        ("rockpool", "lif_neuron", "rockpool", "crashes on LIF"),
    ],
)
def test_what_the_importer_cannot_build_is_an_export_error(peer_fixtures, tmp_path, peer, case, target, why):
    cdir = peer_fixtures / peer / case
    g = spyx.load(cdir / "model.nir", profile=profile_spec(json.loads((cdir / "meta.json").read_text())))
    with pytest.raises(ExportError, match=why):
        encode_for(g, target, dt=1e-3)
    with pytest.raises(ExportError, match="reset=subtract"):  # NIR semantics resets to a value
        encode_for(nir_graph(), "sinabs", dt=1e-3)


def test_convert_to_profile_cli(peers_python_exe, tmp_path):
    dt = 1e-3
    spyx.save(nir_graph(), tmp_path / "in.nir")
    out = tmp_path / "norse.nir"
    result = CliRunner().invoke(
        main,
        ["convert", str(tmp_path / "in.nir"), str(out), "--to-profile", "norse", "--dt", str(dt)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    assert "encode for norse" in result.stdout
    x = (np.random.default_rng(2).random((50, 2, 6)) < 0.3).astype(F)
    np.save(tmp_path / "x.npy", x)
    code, got, err = import_and_run(
        peers_python_exe, "norse", out, tmp_path / "x.npy", tmp_path / "y.npy", dt
    )
    assert code == 0, err
    prog = spyx.compile(nir_graph(), dt=dt)
    np.testing.assert_array_equal(got, np.asarray(prog.run(prog.params, x)[0]))
    # an export the importer cannot build writes nothing
    result = CliRunner().invoke(
        main,
        [
            "convert",
            str(tmp_path / "in.nir"),
            str(tmp_path / "s.nir"),
            "--to-profile",
            "sinabs",
            "--dt",
            str(dt),
        ],
    )
    assert result.exit_code == 1 and "reset=subtract" in result.stderr and not (tmp_path / "s.nir").exists()


def test_snntorch_importer_crashes_on_recurrent_files(peer_fixtures, peers_python_exe, tmp_path):
    """Peer bug (documented): snnTorch 1.0's import_from_nir (nirtorch 2.6) fails on its own RLeaky export."""
    cdir = peer_fixtures / "snntorch" / "rleaky_zero_nodelay"
    code, _, err = import_and_run(
        peers_python_exe, "snntorch", cdir / "model.nir", cdir / "input.npy", tmp_path / "y.npy", 1e-4
    )
    assert code != 0 and "has no attribute 'items'" in err


SJ_ROUND_TRIPS = ["lif_no_decay_input_vreset", "if_mlp_dt_1e-3", "cubalif_if", "conv_lif_pool"]


@pytest.mark.parametrize("case", SJ_ROUND_TRIPS)
def test_spikingjelly_file_round_trips_through_its_importer(
    spikingjelly_fixtures, spikingjelly_python_exe, tmp_path, case
):
    """SpikingJelly export -> spyx (spikingjelly profile) -> encode_for -> import_from_nir(dt) == SpikingJelly's
    own output, and == spyx's run of the encoded file."""
    cdir = spikingjelly_fixtures / "spikingjelly" / case
    meta = json.loads((cdir / "meta.json").read_text())
    g = spyx.load(cdir / "model.nir", profile=profile_spec(meta))
    enc, notes = encode_for(g, "spikingjelly", dt=meta["dt"])
    assert notes and "spikingjelly" in notes[0]
    spyx.save(enc, tmp_path / "m.nir")
    code, got, err = import_and_run(
        spikingjelly_python_exe, "spikingjelly", tmp_path / "m.nir", cdir / "input.npy", tmp_path / "y.npy", meta["dt"]
    )
    assert code == 0, err
    want = np.load(cdir / "output.npy")
    assert want.sum() >= 10
    np.testing.assert_array_equal(got, want)


def test_spyx_model_runs_in_spikingjelly_as_in_spyx(spikingjelly_python_exe, tmp_path):
    """A graph spyx lowers with SpikingJelly's step but parameters no SpikingJelly file has (input gains != 1,
    so the membrane is rescaled on export), written for import_from_nir, gives spyx's spikes there."""
    from spyx.ir import IF

    dt = 1e-3
    rng = np.random.default_rng(7)
    lif = LIF(
        tau=np.full(8, 4 * dt, F),
        r=np.full(8, 2.5, F),
        v_leak=np.full(8, -0.1, F),
        v_threshold=np.full(8, 0.5, F),
        v_reset=np.full(8, -0.1, F),
    )  # r = 2.5: neither decay_input rule (r = 1 or tau/dt): export rescales the membrane
    iff = IF(r=np.full(4, 2.0 / dt, F), v_threshold=np.full(4, 0.8, F), v_reset=np.zeros(4, F))
    g = Graph.sequential(
        [
            ("fc1", Affine(weight=rng.normal(0, 1, (8, 6)).astype(F), bias=np.full(8, 0.2, F))),
            ("lif", lif),
            ("fc2", Affine(weight=rng.normal(0, 1, (4, 8)).astype(F), bias=np.zeros(4, F))),
            ("if", iff),
        ],
        input_shape=(6,),
    )
    spyx.save(g, tmp_path / "src.nir")
    src = spyx.load(tmp_path / "src.nir", profile="spikingjelly")
    x = (rng.random((60, 3, 6)) < 0.3).astype(F)
    np.save(tmp_path / "x.npy", x)
    prog = spyx.compile(src, dt=dt)
    want = np.asarray(prog.run(prog.params, x)[0])
    assert want.sum() > 20
    spyx.save(src, tmp_path / "m.nir", profile="spikingjelly", dt=dt)
    code, got, err = import_and_run(
        spikingjelly_python_exe, "spikingjelly", tmp_path / "m.nir", tmp_path / "x.npy", tmp_path / "y.npy", dt
    )
    assert code == 0, err
    np.testing.assert_array_equal(got, want)
    # the source file itself is refused by the importer (r = 2.5 is neither 1 nor tau/dt): the encoding matters
    code, _, err = import_and_run(
        spikingjelly_python_exe, "spikingjelly", tmp_path / "src.nir", tmp_path / "x.npy", tmp_path / "p.npy", dt
    )
    assert code != 0 and "nir.LIF.r must equal 1 or tau / dt" in err
