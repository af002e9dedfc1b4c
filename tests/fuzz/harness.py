"""Run fuzz cases in resource-limited processes and classify each outcome.

Layout: the caller starts ``workers`` worker processes (``python -m tests.fuzz.harness --worker``); each
imports spyx once, then for every job it is sent (a ``(seed, index)`` case, or a file) makes the file and
forks a child that sets ``RLIMIT_CPU`` and ``RLIMIT_AS`` (``resource.setrlimit``) and runs ``spyx.load`` +
``spyx.verify`` (and, with ``run``, ``spyx.compile`` and two time steps). Outcomes:

* ``error``: a :class:`spyx.SpyxError` whose message names the file (good);
* ``accepted``: loaded and verified, the independent :mod:`tests.fuzz.oracle` found nothing wrong, and the
  mutation did not make a file that must be rejected (good);
* ``unnamed_error``: a SpyxError that does not name the file;
* ``crash``: any other exception, or the child died of a signal (the signature says where);
* ``hang``: the child ran out of CPU time (SIGXCPU) or wall time;
* ``false_accept``: accepted although the oracle or the mutation says a correct reader must reject it.
"""

from __future__ import annotations

import json
import os
import queue
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOOD = ("error", "accepted")
BAD = ("crash", "hang", "false_accept", "unnamed_error")


# -- the child: one case under limits ----------------------------------------------------------------------


def _signature(e: BaseException) -> str:
    frames = traceback.extract_tb(e.__traceback__)
    ours = [fr for fr in frames if "/spyx/" in fr.filename] or frames
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno} {ours[-1].name}" if ours else "?"
    return f"{type(e).__name__} at {where}"


def _check(path: Path, expect: str, run: bool, emit) -> dict:
    import spyx
    from tests.fuzz.oracle import defects

    emit({"phase": "load"})
    try:
        graph = spyx.load(path)
        spyx.verify(graph)
    except spyx.SpyxError as e:
        msg = str(e)
        outcome = "error" if path.name in msg else "unnamed_error"
        return {"outcome": outcome, "message": msg[:400], "error": type(e).__name__}
    except BaseException as e:  # noqa: BLE001  (everything else is a crash, MemoryError and RecursionError too)
        return {"outcome": "crash", "message": f"{type(e).__name__}: {str(e)[:300]}", "signature": _signature(e)}
    emit({"phase": "oracle"})
    found = defects(path)
    if found or expect == "reject":
        why = "; ".join(found[:3]) or "the mutation makes a file that must be rejected"
        return {"outcome": "false_accept", "message": why[:400]}
    result = {"outcome": "accepted", "message": ""}
    if run:
        emit({"phase": "run"})
        result.update(_run(spyx, graph))
    return result


def _run(spyx, graph) -> dict:
    import numpy as np

    try:
        prog = spyx.compile(graph, dt=1e-3)
        xs = {n: np.zeros((2, 1, *s), np.float32) for n, s in prog.input_shapes.items()}
        outs, _ = prog.run(prog.params, xs)
        np.asarray(next(iter(outs.values())) if isinstance(outs, dict) else outs)
        return {"runs": True}
    except spyx.SpyxError as e:
        return {"runs": False, "message": f"{type(e).__name__}: {str(e)[:300]}"}
    except BaseException as e:  # noqa: BLE001
        return {"outcome": "crash", "message": f"run: {type(e).__name__}: {str(e)[:300]}", "signature": _signature(e)}


def _vm_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def run_limited(path: Path, expect: str, *, cpu_seconds: float, memory_bytes: int, run: bool = False) -> dict:
    """Run one file in a forked child with CPU and address-space limits; the classified outcome."""
    import resource

    r, w = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(r)
        out = os.fdopen(w, "w")

        def emit(obj):
            out.write(json.dumps(obj) + "\n")
            out.flush()

        try:
            cpu = max(1, int(round(cpu_seconds)))
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
            limit = _vm_bytes() + memory_bytes
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            emit(_check(path, expect, run, emit))
        except BaseException as e:  # noqa: BLE001
            try:
                emit({"outcome": "crash", "message": repr(e)[:300], "signature": _signature(e)})
            except BaseException:  # noqa: BLE001
                pass
        os._exit(0)
    os.close(w)
    lines: list[dict] = []
    buf = b""
    deadline = start + 3 * cpu_seconds + 10
    killed = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            killed = True
            break
        ready, _, _ = select.select([r], [], [], left)
        if not ready:
            continue
        chunk = os.read(r, 65536)
        if not chunk:
            break
        buf += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    wall = time.monotonic() - start
    for raw in buf.decode("utf8", "replace").splitlines():
        try:
            lines.append(json.loads(raw))
        except ValueError:
            pass
    phase = next((x["phase"] for x in reversed(lines) if "phase" in x), "start")
    final = next((x for x in reversed(lines) if "outcome" in x), None)
    if final is not None:
        return {**final, "wall": round(wall, 3)}
    if killed:
        return {"outcome": "hang", "message": f"no result after {wall:.0f} s wall time (in {phase})",
                "signature": f"hang (wall) in {phase}", "wall": round(wall, 3)}
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    if sig in (signal.SIGXCPU, signal.SIGKILL):
        return {"outcome": "hang", "message": f"out of CPU time ({cpu_seconds} s) in {phase}",
                "signature": f"hang (cpu) in {phase}", "wall": round(wall, 3)}
    what = signal.Signals(sig).name if sig else f"exit status {status}"
    return {"outcome": "crash", "message": f"child died: {what} in {phase}", "signature": f"{what} in {phase}",
            "wall": round(wall, 3)}


# -- the worker process ----------------------------------------------------------------------------------------


def _worker(config: dict) -> None:
    import spyx  # noqa: F401  (imported once here, so that every forked child starts warm)
    from tests.fuzz.mutations import corpus_files, make_case

    corpus = corpus_files(Path(config["corpus"]))
    folder = Path(tempfile.mkdtemp(prefix="spyx-fuzz-"))
    keep = Path(config["keep"]) if config.get("keep") else None
    for line in sys.stdin:
        job = json.loads(line)
        if "file" in job:
            path, info = Path(job["file"]), {"mutation": "file", "expect": job.get("expect", "any")}
        else:
            try:
                case = make_case(config["seed"], job["index"], corpus, folder)
            except Exception as e:  # noqa: BLE001  (a bug in the fuzzer itself; reported, not hidden)
                print(json.dumps({"index": job["index"], "outcome": "generator_error", "message": repr(e)}),
                      flush=True)
                continue
            path = case.path
            info = {"index": case.index, "source": case.source, "mutation": case.mutation,
                    "detail": case.detail, "expect": case.expect}
        result = run_limited(path, info["expect"], cpu_seconds=config["cpu_seconds"],
                             memory_bytes=config["memory_bytes"], run=config.get("run", False))
        result = {**info, **result}
        if keep is not None and result["outcome"] in BAD and "index" in info:
            keep.mkdir(parents=True, exist_ok=True)
            (keep / f"seed{config['seed']}-case{info['index']}.nir").write_bytes(path.read_bytes())
        if "file" not in job:
            path.unlink(missing_ok=True)
        print(json.dumps(result), flush=True)


# -- the caller ------------------------------------------------------------------------------------------------


class Pool:
    """``workers`` worker processes; :meth:`map` sends jobs and returns the results in job order."""

    def __init__(self, *, seed: int = 0, corpus: Path, workers: int = 2, cpu_seconds: float = 10,
                 memory_bytes: int = 4 * 2**30, run: bool = False, keep: Path | None = None):
        config = {"seed": seed, "corpus": str(corpus), "cpu_seconds": cpu_seconds, "memory_bytes": memory_bytes,
                  "run": run, "keep": str(keep) if keep else None}
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu")}
        self.procs = [
            subprocess.Popen([sys.executable, "-m", "tests.fuzz.harness", "--worker", json.dumps(config)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
            for _ in range(max(1, workers))
        ]

    def map(self, jobs: list[dict], progress=None) -> list[dict]:
        todo: queue.Queue = queue.Queue()
        for i, job in enumerate(jobs):
            todo.put((i, job))
        results: list[dict | None] = [None] * len(jobs)
        done = [0]
        lock = threading.Lock()

        def serve(proc):
            while True:
                try:
                    i, job = todo.get_nowait()
                except queue.Empty:
                    return
                proc.stdin.write(json.dumps(job) + "\n")
                proc.stdin.flush()
                line = proc.stdout.readline()
                results[i] = json.loads(line) if line else {**job, "outcome": "worker_died"}
                with lock:
                    done[0] += 1
                    if progress is not None:
                        progress(done[0], len(jobs), results[i])
                if not line:
                    return

        threads = [threading.Thread(target=serve, args=(p,)) for p in self.procs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return [r if r is not None else {"outcome": "not_run"} for r in results]

    def close(self) -> None:
        for p in self.procs:
            if p.stdin:
                p.stdin.close()
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def fuzz(seed: int, cases: int = 0, *, corpus: Path, start: int = 0, indices=None, **pool_options) -> list[dict]:
    """Run cases ``start .. start + cases - 1`` of ``seed`` (or the given ``indices``); one result per case."""
    progress = pool_options.pop("progress", None)
    todo = list(indices) if indices is not None else list(range(start, start + cases))
    with Pool(seed=seed, corpus=corpus, **pool_options) as pool:
        return pool.map([{"index": i} for i in todo], progress=progress)


def summary(results: list[dict]) -> dict:
    """Counts by outcome, by mutation family, and the distinct signatures of the bad outcomes."""
    outcomes = Counter(r["outcome"] for r in results)
    families = Counter("byte" if r.get("mutation", "").startswith("byte") else "h5py" for r in results)
    signatures = Counter(
        f"{r['outcome']}: {r.get('signature') or r.get('mutation')}" for r in results if r["outcome"] not in GOOD
    )
    return {"cases": len(results), "outcomes": dict(outcomes), "families": dict(families),
            "bad_signatures": dict(signatures.most_common())}


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        _worker(json.loads(sys.argv[2]))
    else:
        sys.exit("usage: python -m tests.fuzz.harness --worker CONFIG (started by tests.fuzz.harness.Pool)")
