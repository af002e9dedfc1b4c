"""``spyx-convert run --profile auto`` on every peer fixture, with no option and no ``--dt``: the run either
reproduces the exporter, or stderr names the assumption that made it differ and the option that fixes it
(issue 13: no silent wrong answer). Files the peer's exporter mangled (``KNOWN_BAD``) are the peer's bug;
IF-only files must be refused, and nothing written."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from click.testing import CliRunner
from spyx_cli.main import main

from spyx.profiles import get_profile

from .conftest import cases, spyx1_python
from .spec import profile_spec
from .test_peer_profiles import AMBIGUOUS, KNOWN_BAD

pytestmark = pytest.mark.interop

PEERS = ("snntorch", "norse", "sinabs", "rockpool", "spyx1")


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def matches(got: np.ndarray, want: np.ndarray, kind: str) -> bool:
    """test_peer_profiles' tolerance: spikes bit for bit, readouts within 1e-5 relative."""
    if got.shape != want.shape:
        return False
    if kind == "spikes":
        return bool(np.array_equal(got, want))
    return float(np.max(np.abs(got - want))) <= 1e-5 * max(float(np.max(np.abs(want))), 1e-30)


def differing_options(meta: dict) -> set[str]:
    """The options the exporter's model set to something other than the profile's default (globally or for
    a node): each is one the file cannot carry, so auto must name it when the run differs."""
    want = get_profile(profile_spec(meta))
    default = type(want)()
    out = {f.name for f in dataclasses.fields(want) if f.name != "node_options"
           and getattr(want, f.name) != getattr(default, f.name)}
    for over in want.node_options.values():
        out |= {k for k, v in over.items() if v != getattr(default, k)}
    return out & set(want.unrecorded)


@pytest.fixture(scope="module")
def all_cases(request, peer_fixtures):
    """Every fixture of the four torch peers, and of Spyx 1.0 when its environment exists."""
    roots = {p: peer_fixtures for p in PEERS[:4]}
    if spyx1_python()[0] is not None:
        roots["spyx1"] = request.getfixturevalue("spyx1_fixtures")
    rows = []
    for peer, root in roots.items():
        rows += [(peer, cdir, meta) for cdir, meta in cases(root, peer)
                 if (peer, meta["case"]) not in KNOWN_BAD and (cdir / "model.nir").exists()]
    return rows


def test_auto_reproduces_or_names_the_fix(all_cases, tmp_path):
    exact, explained, refused, wrong = [], [], [], []
    for peer, cdir, meta in all_cases:
        out = tmp_path / f"{peer}-{meta['case']}.npy"
        code, stdout, stderr = cli("run", cdir / "model.nir", "--profile", "auto",
                                   "--input", cdir / "input.npy", "--output", out)
        label = f"{peer}/{meta['case']}"
        if (peer, meta["case"]) in AMBIGUOUS:
            assert code == 2 and "cannot tell" in stderr and "--profile" in stderr, label  # OptionError: usage
            assert not out.exists(), label
            refused.append(label)
            continue
        assert code == 0, (label, stderr)
        assert f"profile auto: {peer}" in stdout, (label, stdout)
        if matches(np.load(out), np.load(cdir / "output.npy"), meta["output_kind"]):
            exact.append(label)
            continue
        notes = [line for line in stderr.splitlines() if line.startswith(("note: ", "warning: "))]
        missing = [o for o in differing_options(meta)
                   if not any(f"assumed {peer} {o}=" in n and f"--profile '{peer}{{{o}=" in n for n in notes)]
        used_dt = float(re.search(r"dt=([0-9.e+-]+)", stdout.split("model ", 1)[1]).group(1))
        if not np.isclose(used_dt, meta["dt"], rtol=1e-6):
            if not any(n.startswith("warning: ") and "is a guess" in n and "--dt" in n for n in notes):
                missing.append(f"dt (ran at {used_dt:g}, the model at {meta['dt']:g})")
        if missing or not notes:
            wrong.append(f"{label}: differs and stderr does not name {missing or 'anything'}:\n{stderr}")
        else:
            explained.append(label)
    assert not wrong, "\n".join(wrong)
    # the fixtures cover each outcome: some exact, some only with an option, IF-only ones refused
    assert len(exact) >= 10 and len(explained) >= 10 and refused, (exact, explained, refused)


@pytest.mark.parametrize(("peer", "case"), [("snntorch", "leaky_zero_nodelay"), ("norse", "lif_cuba_dt2e-4")])
def test_the_named_fix_reproduces(all_cases, tmp_path, peer, case):
    """Running with the options the notes name (and the --dt the warning asks for) gives the peer's output."""
    [(cdir, meta)] = [(c, m) for p, c, m in all_cases if p == peer and m["case"] == case]
    out = tmp_path / "y.npy"
    code, _, stderr = cli("run", cdir / "model.nir", "--profile", profile_spec(meta), "--dt", meta["dt"],
                          "--input", cdir / "input.npy", "--output", out)
    assert code == 0, stderr
    assert matches(np.load(out), np.load(cdir / "output.npy"), meta["output_kind"])
    assert "profile auto" not in stderr  # a named profile assumes nothing silently: it was chosen
