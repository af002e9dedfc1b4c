"""Reading a file the HDF5 library might never finish: in a separate process, with a time limit.

:func:`read_guarded` decides where :func:`spyx.io.hdf5.read_file` runs:

* ``"auto"`` (default; ``$SPYX_READ_ISOLATE`` overrides the default): :func:`spyx.io.precheck.looks_damaged`
  looks at the bytes first (pure Python, no HDF5). Damage the library is known to loop on is refused at
  once; a file that merely looks damaged (wrong size, damaged superblock) is read in a separate process;
  anything else is read here, at full speed.
* ``"always"``: every file in a separate process, without the look first (about 0.3 s more per file; for
  untrusted input).
* ``"never"``: every file here.

The separate process is a fresh Python (``subprocess``, so it is safe in a multi-threaded JAX process) that
imports only h5py, NumPy and the few spyx modules the reader needs, limits its own CPU time and address
space (``resource.setrlimit``), reads, and hands the tree back pickled. The parent waits at most
:data:`spyx.limits.READ_SECONDS` (``$SPYX_READ_SECONDS`` overrides it) plus one second per 100 MB of file,
and a few seconds for the process to start; then it kills the reader and raises
:class:`ReadError` naming the file and saying that it gave up (exit code 2 in ``spyx-convert``). Ctrl-C
while waiting kills the reader too.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from spyx import errors
from spyx.errors import ReadError
from spyx.limits import READ_SECONDS

__all__ = ["read_guarded", "read_isolated", "POLICIES"]

POLICIES = ("auto", "always", "never")

_SPYX_ROOT = str(Path(__file__).resolve().parents[2])

# The reader process: stub the spyx packages (their __init__ files import JAX), register the NIR node
# kinds, limit itself, read, and write ("ok", tree, version) or ("error", class name, message) to stdout.
_BOOT = r"""
import os, pickle, resource, sys, types
root, path, source, max_bytes, seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
sys.path.insert(0, root)
for name in ("spyx", "spyx.io", "spyx.ir"):
    pkg = types.ModuleType(name)
    pkg.__path__ = [os.path.join(root, *name.split("."))]
    sys.modules[name] = pkg
out = sys.stdout.buffer
try:
    import spyx.errors
    from pathlib import Path
    for kind in ("ports", "linear", "neurons", "conv", "pool", "flatten", "delay", "threshold", "graph"):
        __import__("spyx.ir." + kind)
    from spyx.io.hdf5 import read_file
    cpu = max(1, int(seconds) + 1)
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        cpu = min(cpu, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, hard))
    result = ("ok", *read_file(Path(path), source, max_bytes))
except spyx.errors.SpyxError as e:
    result = ("error", type(e).__name__, str(e))
except BaseException as e:
    result = ("error", "ReadError", f"{source}: cannot read the file ({type(e).__name__}: {e})")
out.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
out.flush()
"""


def _policy(isolate: str | None) -> str:
    policy = isolate or os.environ.get("SPYX_READ_ISOLATE") or "auto"
    if policy not in POLICIES:
        raise errors.OptionError(f"isolate must be one of {', '.join(POLICIES)}, got {policy!r}")
    return policy


def read_guarded(
    p: Path, source: str, max_bytes: int, *, isolate: str | None = None
) -> tuple[dict[str, Any], str | None]:
    """The file's tree and version, read where the policy says (see the module docstring)."""
    from spyx.io.hdf5 import read_file
    from spyx.io.precheck import looks_damaged

    policy = _policy(isolate)
    if policy == "never" or not p.is_file():  # (read_file says what is missing)
        return read_file(p, source, max_bytes)
    if policy == "always":  # the time limit bounds everything; no need to look first
        return read_isolated(p, source, max_bytes, why="isolated reads requested")
    why = looks_damaged(p, source)  # raises ReadError for damage the library loops on
    if why is not None:
        return read_isolated(p, source, max_bytes, why=why)
    return read_file(p, source, max_bytes)


def read_isolated(p: Path, source: str, max_bytes: int, *, why: str, seconds: float | None = None):
    """:func:`spyx.io.hdf5.read_file` in a fresh process that is killed after ``seconds``."""
    if seconds is None:
        base = float(os.environ.get("SPYX_READ_SECONDS") or READ_SECONDS)
        seconds = base + p.stat().st_size / 100e6
    cmd = [sys.executable, "-c", _BOOT, _SPYX_ROOT, str(p), source, str(max_bytes), str(seconds)]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=seconds + 5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise ReadError(_gave_up(source, time.monotonic() - start, why)) from None
    except BaseException:  # Ctrl-C while waiting: the reader goes too
        proc.kill()
        proc.wait()
        raise
    try:
        result = pickle.loads(out)
    except Exception:  # noqa: BLE001  (no result: the reader died)
        result = None
    if result is None:
        if proc.returncode in (-9, -24) or proc.returncode == 137:  # SIGKILL / SIGXCPU: its CPU time ran out
            raise ReadError(_gave_up(source, time.monotonic() - start, why))
        tail = err.decode("utf8", "replace").strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        raise ReadError(f"{source}: the isolated reader died ({tail[0]}); the file looks damaged ({why})")
    if result[0] == "ok":
        return result[1], result[2]
    cls = getattr(errors, result[1], ReadError)
    if not (isinstance(cls, type) and issubclass(cls, errors.SpyxError)):
        cls = ReadError
    raise cls(result[2])


def _gave_up(source: str, seconds: float, why: str) -> str:
    return (
        f"{source}: gave up after {seconds:.0f} s: the HDF5 library did not finish reading the file, which "
        f"looks damaged ({why}); it was read in a separate process, which was stopped"
    )
