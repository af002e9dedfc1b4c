"""Generate the Spyx 1.0 reference records: run every case of ``compat_cases.py`` with the real ``spyx==1.0.0``.

Run it with the Python of the Spyx 1.0 environment, from a folder that is not the repository root (our ``spyx/``
folder must not shadow the installed package)::

    cd /tmp && /path/to/.venv-spyx1/bin/python /path/to/tests/compat/spyx1_reference.py OUT [--only GLOB ...]

Writes ``OUT/<area>/<case>.npz`` + ``.json`` (see ``compat_record.py``) and ``OUT/manifest.json`` (versions, the
case list, skipped cases and why, failures, timings). Exits 1 when a case that should succeed raised, or an error
case did not raise, so a broken reference fails loudly instead of silently passing the parity tests.
"""

from __future__ import annotations

import argparse
import fnmatch
import importlib
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def _import_real_spyx():
    """The installed Spyx 1.0, never the repository's ``spyx/`` folder."""
    sys.path[:] = [p for p in sys.path if Path(p or os.getcwd()).resolve() != REPO]
    spyx = importlib.import_module("spyx")
    where = Path(spyx.__file__).resolve()
    if where == REPO / "spyx" / "__init__.py":  # (a venv inside the repository, as CI makes, is fine)
        raise SystemExit(f"imported the repository's spyx ({where}); run from outside {REPO}")
    if spyx.__version__ != "1.0.0":
        raise SystemExit(f"expected spyx 1.0.0, found {spyx.__version__} at {where}")
    return spyx


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--only", action="append", default=[], help="fnmatch pattern(s) of case names")
    ap.add_argument("--only-file", type=Path, help="a file of case names, one a line (the tests' selection)")
    args = ap.parse_args(argv)

    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    spyx = _import_real_spyx()
    sys.path.insert(0, str(HERE))
    import compat_cases as C
    import compat_record as R
    import flax
    import jax
    import nir
    import numpy as np

    qwix_ok = bool(spyx.quant.available())
    try:
        import tonic  # noqa: F401

        tonic_ok = True
    except ImportError:
        tonic_ok = False
    have = {"qwix": qwix_ok, "no_qwix": not qwix_ok, "no_tonic": not tonic_ok}

    args.out.mkdir(parents=True, exist_ok=True)
    manifest = {
        "spyx": spyx.__version__, "spyx_file": spyx.__file__, "jax": jax.__version__, "flax": flax.__version__,
        "nir": nir.__version__, "numpy": np.__version__, "python": sys.version.split()[0],
        "qwix": qwix_ok, "qwix_file": getattr(sys.modules.get("qwix"), "__file__", None), "tonic": tonic_ok,
        "cases": {}, "skipped": {}, "failures": {},
    }
    t_all = time.perf_counter()
    if args.only_file:
        args.only += [ln.strip() for ln in args.only_file.read_text().splitlines() if ln.strip()]
    # in the order pytest collects the test_parity_<area> modules, so the tests rarely wait
    order = sorted(C.CASES.values(), key=lambda c: c.area)
    for case in order:
        name = case.name
        if args.only and not any(fnmatch.fnmatchcase(name, p) for p in args.only):
            continue
        missing = [n for n in case.needs if not have[n]]
        if missing:
            why = f"needs {', '.join(missing).replace('no_', 'no ')} in the Spyx 1.0 environment"
            manifest["skipped"][name] = why
            (args.out / case.area).mkdir(parents=True, exist_ok=True)
            R.write_json(args.out / case.area / f"{name}.json", {"skipped": why})
            continue
        rec = C.run_case(name, spyx, catch=True)
        R.save(rec, args.out / case.area, name)
        manifest["cases"][name] = {"area": case.area, "seconds": round(rec.seconds, 4)}
        if case.error is None and rec.error is not None:
            manifest["failures"][name] = rec.error["traceback"]
        elif case.error is not None and (rec.error is None or case.error not in rec.error["mro"]):
            got = "nothing" if rec.error is None else f"{rec.error['type']}: {rec.error['message']}"
            manifest["failures"][name] = f"expected {case.error}, raised {got}"
    manifest["seconds"] = round(time.perf_counter() - t_all, 2)
    R.write_json(args.out / "manifest.json", manifest)
    for name, why in manifest["failures"].items():
        print(f"FAILED {name}:\n{why}\n", file=sys.stderr)
    print(f"{len(manifest['cases'])} cases ({len(manifest['skipped'])} skipped, {len(manifest['failures'])} failed) "
          f"in {manifest['seconds']} s -> {args.out}")
    return 1 if manifest["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
