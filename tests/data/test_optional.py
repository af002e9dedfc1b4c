"""The ``loaders`` extra is optional: ``import spyx.data`` imports neither grain nor tonic, works without
them, and what needs them says which extra to install. The tonic HSD patch is installed whichever of
spyx.data and tonic is imported first (run in fresh interpreters)."""

from __future__ import annotations

import json

import pytest

from tests.data.conftest import HAVE_TONIC, NO_TONIC, run_python

WITHOUT_EXTRA = r"""
import json, sys
sys.modules["grain"] = sys.modules["grain.python"] = sys.modules["tonic"] = None  # as if not installed
import numpy as np
import jax
import spyx.data as sd
from spyx.data import *  # noqa: works without grain: the grain names are left out of __all__
out = {"tonic_installed": sd.tonic_installed, "all": sd.__all__}
x = np.random.default_rng(0).integers(0, 2, (2, 9, 3)).astype(np.uint8)
out["round_trip"] = bool((sd.unpack(sd.pack(x), 9) == x).all())
out["latency"] = np.asarray(sd.latency_code(4)(np.array([1.0, 0.0]))).tolist()
errors = {}
def attempt(name, fn):
    try:
        fn()
        errors[name] = None
    except ImportError as e:
        errors[name] = str(e)
attempt("RateCode", lambda: sd.RateCode)
attempt("SpyxMapDataset", lambda: sd.SpyxMapDataset)
attempt("GrainLoader", lambda: sd.GrainLoader([], 1, False))
attempt("SHD_loader", lambda: sd.SHD_loader())
attempt("NMNIST_loader", lambda: sd.NMNIST_loader())
out["errors"] = errors
print(json.dumps(out))
"""


def test_spyx_data_without_grain_and_tonic():
    out = json.loads(run_python(WITHOUT_EXTRA).strip().splitlines()[-1])
    assert out["tonic_installed"] is False
    assert "RateCode" not in out["all"] and "pack" in out["all"] and "GrainLoader" in out["all"]
    assert out["round_trip"] is True and out["latency"] == [[1, 0], [0, 0], [0, 0], [0, 0]]
    for name, message in out["errors"].items():
        assert message is not None and "pip install 'spyx[loaders]'" in message, (name, message)
    assert "needs grain" in out["errors"]["GrainLoader"] and "needs tonic" in out["errors"]["SHD_loader"]


SPYX_DATA_FIRST = r"""
import json, sys
import spyx.data
first = [m for m in ("grain", "tonic", "h5py") if m in sys.modules]
hooks = sum(type(f).__name__ == "_PatchOnImport" for f in sys.meta_path)
import tonic
from tonic.datasets.hsd import HSD
from spyx.data.tonic_patch import patch_tonic_hsd
print(json.dumps({"imported_by_spyx_data": first, "hook_armed": hooks, "patched": HSD.__getitem__._spyx_patched,
                  "hook_left": sum(type(f).__name__ == "_PatchOnImport" for f in sys.meta_path),
                  "patched_again": patch_tonic_hsd(), "tonic_installed": spyx.data.tonic_installed}))
"""

@pytest.mark.skipif(not HAVE_TONIC, reason=NO_TONIC)
def test_spyx_data_imports_no_extra_and_patches_tonic_when_tonic_loads():
    out = json.loads(run_python(SPYX_DATA_FIRST).strip().splitlines()[-1])
    assert out == {"imported_by_spyx_data": [], "hook_armed": 1, "patched": True, "hook_left": 0,
                   "patched_again": False, "tonic_installed": True}


@pytest.mark.skipif(not HAVE_TONIC, reason=NO_TONIC)
def test_hsd_module_already_imported_is_patched_at_once():
    """Spyx 1.0's own test imports tonic first: install() then patches the loaded module directly. A fresh,
    unpatched copy of tonic's hsd module stands in for it while install() runs."""
    import importlib.util
    import sys

    import tonic.datasets.hsd as loaded

    from spyx.data import tonic_patch

    spec = importlib.util.spec_from_file_location("tonic.datasets.hsd", loaded.__file__)
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    assert not getattr(fresh.HSD.__getitem__, "_spyx_patched", False)  # tonic's stock reader
    sys.modules["tonic.datasets.hsd"] = fresh
    try:
        tonic_patch.install(True)
    finally:
        sys.modules["tonic.datasets.hsd"] = loaded
    assert fresh.HSD.__getitem__._spyx_patched is True
    assert loaded.HSD.__getitem__._spyx_patched is True
