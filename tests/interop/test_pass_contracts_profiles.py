"""Pass contracts under every profile: the passes declared ``preserves: exact`` keep a peer file's meaning
under *its* profile, not only under ``nir``. Each fixture goes through ``convert --profile <its spec>`` with
every exact pass, and the written file, run without naming a profile (it records one), must still give the
peer's output. Before ``convert --profile`` two Spyx 1.0 files (recurrent sub-graphs) broke under ``inline``:
convert read them as NIR, and the profile's rewiring of the sub-graph had nothing left to act on."""

from __future__ import annotations

import numpy as np
import pytest

from spyx.io import read_nir
from spyx.ir.graph import Graph
from spyx.passes import list_passes
from spyx.tools.convert import convert_command
from spyx.tools.run import run_file

from .conftest import cases, spyx1_python
from .spec import profile_spec
from .test_auto_profile import matches
from .test_peer_profiles import KNOWN_BAD

pytestmark = pytest.mark.interop

EXACT = [name for name, _, preserves, _ in list_passes() if preserves == "exact"]


def _pipeline() -> str:
    """Every exact pass once; ``inline`` first so that the others see the flat graph too."""
    rest = [p for p in EXACT if p != "inline"]
    return ",".join(["inline", *rest] if "inline" in EXACT else rest)


def _nested(path) -> bool:
    return any(isinstance(n, Graph) for n in read_nir(path).graph.nodes.values())


def test_every_exact_pass_is_covered():
    assert {"inline", "dce", "cse"} <= set(EXACT), EXACT


def test_exact_passes_keep_each_file_under_its_profile(request, peer_fixtures, tmp_path):
    roots = {"snntorch": peer_fixtures, "norse": peer_fixtures, "sinabs": peer_fixtures, "rockpool": peer_fixtures}
    if spyx1_python()[0] is not None:
        roots["spyx1"] = request.getfixturevalue("spyx1_fixtures")
    pipeline, wrong, checked = _pipeline(), [], 0
    for peer, root in roots.items():
        usable = [(c, m) for c, m in cases(root, peer)
                  if (peer, m["case"]) not in KNOWN_BAD and (c / "model.nir").exists()]
        # the files whose meaning the passes can lose (a nested graph: inline and outline change the nesting
        # the profile's fixups read), and one plain file per peer (CI time: each case is a compile)
        picked = [u for i, u in enumerate(usable) if i == 0 or _nested(u[0] / "model.nir")]
        for cdir, meta in picked:
            dst = tmp_path / f"{peer}-{meta['case']}.nir"
            convert_command(cdir / "model.nir", dst, passes=pipeline, profile=profile_spec(meta))
            got = run_file(dst, np.load(cdir / "input.npy"), dt=meta["dt"]).outputs  # the recorded profile
            if not matches(next(iter(got.values())), np.load(cdir / "output.npy"), meta["output_kind"]):
                wrong.append(f"{peer}/{meta['case']} ({profile_spec(meta)})")
            checked += 1
    assert not wrong, f"{pipeline} changed the run of: " + ", ".join(wrong)
    assert checked >= len(roots) + 2  # one per peer and the nested ones (snnTorch RLeaky, Spyx 1.0 RLIF)
