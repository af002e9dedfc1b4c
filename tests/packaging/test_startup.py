"""Start-up cost of ``spyx-convert``: the commands that only read and write files (``--version``, ``--help``,
``inspect``, ``validate``, ``convert``, ``passes``) never import JAX or flax, and ``--version`` stays well
under the 0.7 s of CPU that a new user notices (issue 13). Each case runs this checkout's CLI in a fresh
interpreter, as the installed ``spyx-convert`` script would."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]

# This checkout's cli/ as spyx_cli (the editable install may point at another checkout; tests/conftest.py
# does the same in-process), then the command; at exit, the heavy modules that were imported.
_BOOT = f"""
import importlib.util, sys
sys.path.insert(0, {str(ROOT)!r})
spec = importlib.util.spec_from_file_location(
    "spyx_cli", {str(ROOT / "cli" / "__init__.py")!r}, submodule_search_locations=[{str(ROOT / "cli")!r}])
mod = importlib.util.module_from_spec(spec); sys.modules["spyx_cli"] = mod; spec.loader.exec_module(mod)
from spyx_cli.main import main
sys.argv[0] = "spyx-convert"
try:
    main()
finally:
    heavy = [m for m in ("jax", "jaxlib", "flax", "optax") if m in sys.modules]
    sys.stderr.write("HEAVY=" + ",".join(heavy) + "\\n")
"""


def _cli(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess, float]:
    """Run the CLI; the result and the child's CPU time (user + sys), in seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", _BOOT, *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done, cpu


def _heavy(stderr: str) -> list[str]:
    (line,) = [ln for ln in stderr.splitlines() if ln.startswith("HEAVY=")]
    return [m for m in line.removeprefix("HEAVY=").split(",") if m]


@pytest.fixture(scope="module")
def nir_file(tmp_path_factory) -> Path:
    import spyx
    from spyx.ir import LIF, Affine, Graph

    f = np.float32
    graph = Graph.sequential(
        [("fc", Affine(weight=np.full((2, 3), 0.5, f), bias=np.zeros(2, f))),
         ("lif", LIF(tau=np.full(2, 0.01, f), r=np.ones(2, f), v_leak=np.zeros(2, f), v_threshold=np.ones(2, f),
                     v_reset=np.zeros(2, f)))],
        input_shape=(3,),
    )
    path = tmp_path_factory.mktemp("startup") / "model.nir"
    spyx.save(graph, path)
    return path


def test_file_commands_do_not_import_jax(nir_file, tmp_path):
    commands = [
        ["--version"], ["--help"], ["inspect", "--help"], ["passes"],
        ["inspect", str(nir_file)], ["inspect", str(nir_file), "--format", "json"], ["validate", str(nir_file)],
        ["convert", str(nir_file), str(tmp_path / "out.nir"), "--passes", "inline"],
    ]
    for args in commands:
        done, _ = _cli(*args, cwd=tmp_path)
        assert done.returncode == 0, (args, done.stderr)
        assert _heavy(done.stderr) == [], f"spyx-convert {' '.join(args)} imported {_heavy(done.stderr)}"
    assert (tmp_path / "out.nir").stat().st_size > 0
    # the check can fail: `run` does need JAX, and the same probe sees it
    done, _ = _cli("run", str(nir_file), "--random-input", "2,1", "--dt", "1e-3", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "jax" in _heavy(done.stderr)


def test_version_takes_under_0_7_s_of_cpu(tmp_path):
    times = []
    for _ in range(3):
        done, cpu = _cli("--version", cwd=tmp_path)
        assert done.returncode == 0 and "version" in done.stdout, done.stderr
        times.append(cpu)
    assert min(times) < 0.7, f"spyx-convert --version took {min(times):.2f} s of CPU (best of 3)"


def test_lazy_package_keeps_every_public_name():
    # a fresh interpreter: `import spyx` loads no submodule, then every name of __all__ resolves, the Spyx 1.0
    # spellings work, and importing the module spyx.tools.compile does not hide the function of that name
    code = """
import sys, types, spyx
assert "spyx.ir" not in sys.modules and "jax" not in sys.modules, sorted(m for m in sys.modules if "spyx" in m)
from spyx import nn, axn, fn
assert spyx.nn.LIF is nn.LIF and callable(axn.superspike) and isinstance(fn, types.ModuleType)
missing = [n for n in spyx.__all__ if not hasattr(spyx, n)]
assert not missing, missing
assert set(spyx.__all__) <= set(dir(spyx))
import spyx.tools.compile
from spyx.tools import compile
assert callable(compile) and not isinstance(compile, types.ModuleType)
assert spyx.compile is compile is spyx.tools.compile
assert spyx.jnp is __import__("jax.numpy").numpy and isinstance(spyx.__version__, str)
assert spyx.passes.PASSES and spyx.backend.Program is spyx.Program  # submodules outside __all__ too
try:
    spyx.no_such_thing
except AttributeError:
    pass
else:
    raise AssertionError("spyx.no_such_thing resolved")
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "JAX_PLATFORMS": "cpu"}, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
