"""``spyx-convert run --profile`` and ``inspect``'s exporter detection on real peer files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from spyx_cli.main import main

pytestmark = pytest.mark.interop


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_run_with_snntorch_profile_matches_native(peer_fixtures, tmp_path):
    cdir = peer_fixtures / "snntorch" / "leaky_zero_nodelay"
    out = tmp_path / "y.npy"
    code, stdout, stderr = cli(
        "run",
        cdir / "model.nir",
        "--profile",
        "snntorch{reset=zero,reset_delay=false}",
        "--dt",
        "1e-4",
        "--input",
        cdir / "input.npy",
        "--output",
        out,
    )
    assert code == 0, stderr
    assert "profile=snntorch{reset=zero,reset_delay=false}" in stdout
    np.testing.assert_array_equal(np.load(out), np.load(cdir / "output.npy"))
    # the same file under the default (subtract) reading is a different model
    code, _, _ = cli(
        "run",
        cdir / "model.nir",
        "--profile",
        "snntorch",
        "--input",
        cdir / "input.npy",
        "--output",
        tmp_path / "z.npy",
    )
    assert code == 0
    assert not np.array_equal(np.load(tmp_path / "z.npy"), np.load(cdir / "output.npy"))


def test_run_norse_file_with_batch_axis_and_auto(peer_fixtures, tmp_path):
    cdir = peer_fixtures / "norse" / "lif_cuba_dt2e-4"
    out = tmp_path / "y.npy"
    code, stdout, stderr = cli(
        "run",
        cdir / "model.nir",
        "--profile",
        "auto",
        "--dt",
        "2e-4",
        "--input",
        cdir / "input.npy",
        "--output",
        out,
    )
    assert code == 0, stderr
    assert "profile auto: norse" in stdout and "batch axis" in stdout + stderr  # the reader's note: stderr
    np.testing.assert_array_equal(np.load(out), np.load(cdir / "output.npy"))


def test_run_auto_refuses_ambiguous_file(peer_fixtures, tmp_path):
    cdir = peer_fixtures / "sinabs" / "iaf_multispike_subtract"
    code, _, stderr = cli(
        "run",
        cdir / "model.nir",
        "--profile",
        "auto",
        "--input",
        cdir / "input.npy",
        "--output",
        tmp_path / "y.npy",
    )
    assert code == 2 and "cannot tell" in stderr and "sinabs" in stderr  # OptionError: name a --profile
    assert not (tmp_path / "y.npy").exists()


def test_run_unknown_profile_option_lists_valid(peer_fixtures, tmp_path):
    cdir = peer_fixtures / "snntorch" / "leaky_zero_nodelay"
    code, _, stderr = cli(
        "run",
        cdir / "model.nir",
        "--profile",
        "snntorch{reset_mechanism=zero}",
        "--input",
        cdir / "input.npy",
    )
    assert code != 0 and "reset_delay" in stderr and "reset_mechanism" in stderr


@pytest.mark.parametrize(
    ("peer", "case"),
    [
        ("snntorch", "synaptic_zero_delay"),
        ("rockpool", "lif_cuba"),
        ("sinabs", "lif_tau_syn"),
        ("norse", "lifbox_dt1e-3"),
    ],
)
def test_inspect_shows_detection(peer_fixtures, peer, case):
    model = peer_fixtures / peer / case / "model.nir"
    code, stdout, stderr = cli("inspect", model, "--format", "json")
    assert code == 0, stderr
    det = json.loads(stdout)["detection"]
    assert det["exporter"] == peer and det["candidates"] == [peer] and det["evidence"]
    code, stdout, _ = cli("inspect", model)
    assert code == 0 and "exporter: " in stdout and det["evidence"][0] in stdout


def test_inspect_ambiguous_file(peer_fixtures):
    code, stdout, _ = cli(
        "inspect", peer_fixtures / "sinabs" / "iaf_min_v_mem" / "model.nir", "--format", "json"
    )
    det = json.loads(stdout)["detection"]
    assert code == 0 and det["exporter"] is None and set(det["candidates"]) == {"sinabs", "norse", "spyx1"}
