"""Session plumbing for the Spyx 1.0 parity tests: find the Spyx 1.0 Python, start the reference generator, wait
for one case's record, and compare it with ours.

The generator (``spyx1_reference.py``) runs in a subprocess with the Spyx 1.0 environment's Python, from a temporary
folder (so our ``spyx/`` never shadows the installed package), and writes one record per case as it goes. The
tests compute our side in-process meanwhile and wait only for the case they compare, so the two sides overlap.

Environment variables:

* ``SPYX1_PYTHON``: the Python of an environment with ``spyx==1.0.0`` (default: ``.venv-spyx1/bin/python`` in the
  repository, or in the main checkout when this is a git worktree).
* ``SPYX_COMPAT_BORROW_QWIX=0``: do not lend our ``qwix`` to the Spyx 1.0 environment (it has no PyPI release, so
  that environment usually lacks it; by default, when our environment has it and the Python versions match, the
  generator gets a folder holding only a link to our ``qwix`` package on its ``PYTHONPATH``).
* ``SPYX_COMPAT_OURS=spyx1``: self-check of the harness: "ours" is a second run of the real Spyx 1.0 instead of our
  package; every test must then pass.
* ``SPYX_COMPAT_REFERENCE=DIR``: reuse reference records already generated into ``DIR`` (no subprocess).
"""

from __future__ import annotations

import fnmatch

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from . import compat_cases as C
from . import compat_record as R

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
GENERATOR = HERE / "spyx1_reference.py"
WAIT_S = 900  # for one case's record, while the generator is alive


def _main_checkout(root: Path) -> Path | None:
    """The main checkout of a git worktree (``.git`` is a file there), else None."""
    git = root / ".git"
    if not git.is_file():
        return None
    text = git.read_text().strip()
    if not text.startswith("gitdir:"):
        return None
    gitdir = Path(text.split(":", 1)[1].strip())
    common = gitdir / "commondir"
    if not common.is_file():
        return None
    return (gitdir / common.read_text().strip()).resolve().parent


def spyx1_python() -> tuple[str | None, str]:
    cands = [os.environ.get("SPYX1_PYTHON"), str(ROOT / ".venv-spyx1" / "bin" / "python")]
    main = _main_checkout(ROOT)
    if main is not None:
        cands.append(str(main / ".venv-spyx1" / "bin" / "python"))
    for py in filter(None, cands):
        if Path(py).exists():
            return py, ""
    return None, ("Spyx 1.0 environment not found (set SPYX1_PYTHON, or create .venv-spyx1 with "
                  "`python -m venv .venv-spyx1 && .venv-spyx1/bin/pip install spyx==1.0.0`; scripts/test.sh does)")


def have_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _qwix_shim(python: str, folder: Path) -> str | None:
    """A folder with a link to our qwix package, when the Spyx 1.0 Python lacks qwix and has our Python version."""
    if os.environ.get("SPYX_COMPAT_BORROW_QWIX", "1") == "0" or not have_module("qwix"):
        return None
    code = "import sys; print(*sys.version_info[:2])\ntry:\n import qwix\nexcept ImportError:\n print('no')"
    probe = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=folder).stdout.split()
    if probe != [*map(str, sys.version_info[:2]), "no"]:
        return None
    shim = folder / "qwix-shim"
    shim.mkdir(exist_ok=True)
    link = shim / "qwix"
    if not link.exists():
        link.symlink_to(Path(importlib.util.find_spec("qwix").origin).parent)
    return str(shim)


class Generator:
    """One run of the reference generator into ``out`` (started at construction, read case by case)."""

    def __init__(self, python: str, out: Path, work: Path, *, only: list[str] | None = None,
                 borrow_qwix: bool = True):
        self.out = out
        args = [python, str(GENERATOR), str(out)]
        if only is not None:
            (work / f"{out.name}.only").write_text("\n".join(only) + "\n")
            args += ["--only-file", str(work / f"{out.name}.only")]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.update(JAX_PLATFORMS="cpu", PYTHONHASHSEED="0")
        shim = _qwix_shim(python, work) if borrow_qwix else None
        if shim:
            env["PYTHONPATH"] = shim
        self.borrowed_qwix = shim is not None
        self.log = open(work / f"{out.name}.log", "w+")
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(args, cwd=work, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.seconds = None

    def _tail(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-4000:]

    def wait_for(self, name: str) -> dict:
        """The JSON meta of case ``name`` (waits until the generator wrote it)."""
        area = C.CASES[name].area
        path = self.out / area / f"{name}.json"
        deadline = time.monotonic() + WAIT_S
        while not path.exists():
            if self.proc.poll() is not None and not path.exists():
                raise RuntimeError(f"the Spyx 1.0 reference generator ended (exit {self.proc.returncode}) without "
                                   f"writing {name}:\n{self._tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no reference record for {name} after {WAIT_S} s:\n{self._tail()}")
            time.sleep(0.05)
        return json.loads(path.read_text())

    def record(self, name: str) -> R.Record | str:
        """The reference record, or the reason the generator skipped the case."""
        meta = self.wait_for(name)
        if meta.get("skipped"):
            return meta["skipped"]
        return R.load(self.out / C.CASES[name].area, name)

    def finish(self) -> dict:
        rc = self.proc.wait(timeout=WAIT_S)
        if self.seconds is None:
            self.seconds = time.perf_counter() - self.t0
        manifest = self.out / "manifest.json"
        if rc not in (0, 1) or not manifest.exists():
            raise RuntimeError(f"reference generator failed (exit {rc}):\n{self._tail()}")
        return json.loads(manifest.read_text())


class Stored:
    """Reference records generated earlier into a folder (``SPYX_COMPAT_REFERENCE``)."""

    def __init__(self, out: Path):
        self.out = out
        self.borrowed_qwix = False
        self.seconds = 0.0

    def record(self, name: str):
        path = self.out / C.CASES[name].area / f"{name}.json"
        if not path.exists():
            return f"not in the stored reference {self.out}"
        meta = json.loads(path.read_text())
        return meta["skipped"] if meta.get("skipped") else R.load(self.out / C.CASES[name].area, name)

    def finish(self) -> dict:
        return json.loads((self.out / "manifest.json").read_text())


def start_reference(python: str, work: Path, only: list[str] | None = None):
    """The reference records: generated now (only the ``only`` cases when given), or stored earlier."""
    stored = os.environ.get("SPYX_COMPAT_REFERENCE")
    if stored:
        return Stored(Path(stored))
    return Generator(python, work / "reference", work, only=only)


def ours_source(python: str, work: Path, only: list[str] | None = None):
    """Where "ours" comes from: our spyx in-process (None), or a second Spyx 1.0 run (the self-check)."""
    if os.environ.get("SPYX_COMPAT_OURS") == "spyx1":
        return Generator(python, work / "ours-spyx1", work, only=only)
    return None


def selected_cases(session) -> list[str]:
    """The case names of this session's selected parity tests (in collection order)."""
    from .test_reference_golden import CASES_USED

    out = []
    for item in session.items:
        path = Path(str(item.fspath))
        if path.parent != HERE:
            continue
        name = getattr(getattr(item, "callspec", None), "params", {}).get("name")
        if name in C.CASES:
            out.append(name)
        elif path.name == "test_reference_golden.py":
            out += CASES_USED
    return list(dict.fromkeys(out))


# ------------------------------------------------------------------------------------------------ one case


# Spyx 1.0 modules that spyx does not have yet (issue 15: the research surface); their cases skip until they exist.
# Keys are module paths below ``spyx`` (dotted for a submodule): a case whose name starts with that path (after the
# ``errors.`` area prefix) skips while ``spyx.<path>`` cannot be imported. Every module of the contract exists now;
# the mechanism stays for the next one.
NOT_YET: dict[str, int] = {}

# Differences from Spyx 1.0 that spyx makes on purpose, per case: (fnmatch patterns of record paths, why). Each is
# documented in docs/nn.md ("Spyx 1.0's NIR functions"). Every other path of these cases is still compared.
KNOWN_DEVIATIONS = {
    "nir.to_nir.psu_lif": (["graph/nodes/*/tau"], "beta = 1 is written tau = 2^30 dt, not inf (NIR readers, "
                           "spyx's included, reject inf; every reader decodes 1 - dt/tau to exactly 1)"),
    "nir.to_nir.single_layer_and_dt": (["*_beta_one/nodes/*/tau"], "beta = 1: tau = 2^30 dt, not inf (as above)"),
    "nir.from_nir.flat_rnn_motif": (["graph_after/*", "graph_after", "printed_info"],
                                    "from_nir does not mutate the caller's graph (Spyx 1.0 rewrites it in place)"),
    "nir.from_nir.duplicate_edge": (["graph_after/*", "graph_after", "printed_info"],
                                    "from_nir does not mutate the caller's graph (Spyx 1.0 rewrites it in place)"),
    # spyx.bench reports XLA's cost model of the program it runs; our neuron steps compile to fewer operations than
    # Spyx 1.0's (e.g. 78 vs 94 FLOPs for LIF((4,)), T=5, B=2). The dense-layer case (the same nnx program on both
    # sides) is compared, and tests/bench checks FLOPs against a hand count.
    "bench.benchmark.LIF": (["flops"], "XLA FLOPs of our (smaller) LIF program"),
    "bench.benchmark.PSU_LIF_parallel": (["flops"], "XLA FLOPs of our (smaller) PSU_LIF.parallel program"),
    "bench.benchmark.sequential_run_fn_tuple": (["flops"], "XLA FLOPs of our (smaller) LIF/LI programs"),
}


def known_deviation(name: str, problem: str) -> bool:
    patterns, _ = KNOWN_DEVIATIONS.get(name, ((), ""))
    path = problem.split(": ", 1)[0]
    return any(fnmatch.fnmatchcase(path, p) for p in patterns)


def skip_reason(name: str, ref_meta_skip: str | None, ours_is_spyx1: bool) -> str | None:
    if ref_meta_skip:
        return f"the Spyx 1.0 reference did not run it: {ref_meta_skip}"
    if ours_is_spyx1:
        return None
    parts = name.split(".")[1:] if name.startswith("errors.") else name.split(".")
    if "resonatefire" in name.lower():  # to_nir of a phasor.ResonateFire
        parts = ["phasor"]
    for module, issue in NOT_YET.items():
        if parts[: module.count(".") + 1] == module.split(".") and not have_module(f"spyx.{module}"):
            return f"spyx.{module} does not exist yet (issue {issue})"
    needs = C.CASES[name].needs
    if "qwix" in needs and not have_module("qwix"):
        return "needs qwix in our environment (pip install 'spyx[quant]')"
    if "no_qwix" in needs and have_module("qwix"):
        return "checks the error raised without qwix, and our environment has qwix"
    if "no_tonic" in needs and have_module("tonic"):
        return "checks the error raised without tonic, and our environment has tonic"
    return None


def check(name: str, reference, ours) -> None:
    """Compare case ``name``: the reference record with ours (computed now, or read from a second generator)."""
    import pytest

    case = C.CASES[name]
    ref = reference.record(name)
    reason = skip_reason(name, ref if isinstance(ref, str) else None, ours is not None)
    if reason:
        pytest.skip(reason)
    if ours is None:
        import spyx

        mine = C.run_case(name, spyx, catch=False)
    else:
        mine = ours.record(name)
        if isinstance(mine, str):
            pytest.skip(mine)
    if case.error is not None:
        problems = R.compare_error(ref, mine, case.fragment)
    elif ref.error is not None:
        pytest.fail(f"{name}: the Spyx 1.0 reference raised (a harness or contract problem):\n"
                    f"{ref.error['traceback']}")
    else:
        problems = R.compare(ref, mine, case.exact)
        if ours is None:
            problems = [p for p in problems if not known_deviation(name, p)]
    if problems:
        shown = "\n  ".join(problems[:60])
        more = f"\n  ... and {len(problems) - 60} more" if len(problems) > 60 else ""
        pytest.fail(f"{name}: {len(problems)} difference(s) from Spyx 1.0 (rtol {R.RTOL}, atol {R.ATOL}; spikes "
                    f"exact):\n  {shown}{more}", pytrace=False)
