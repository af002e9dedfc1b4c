"""Time of ``spyx.verify`` (shape inference included) against graph size: chains and nesting depth.

Graphs (built in memory, then also written and read back with ``spyx.load`` for the file column):
  chain N   ``input -> lif0 -> lif1 -> ... -> output``, N nodes in all; the LIFs have 0-d (shared)
            parameters as norse writes them, so every population takes its shape from upstream, and the nodes
            are listed in HDF5 name order (``input, lif0, lif1, lif10, lif100, ...``), the order a file has;
  nested D  D graphs inside each other, each ``input -> lif -> inner -> output`` (the innermost holds only
            ``input -> lif -> output``), shared-parameter LIFs again.

Each graph is verified ``--repeats`` times; the table shows the best time. ``--out`` writes the JSON
(default ``benchmarks/results/verify_scaling.json``) atomically.

    PYTHONPATH=. python benchmarks/verify_scaling.py
    PYTHONPATH=. python benchmarks/verify_scaling.py --chains 100,1000,10000 --depths 2,10,50 --repeats 3
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

F = np.float32


def _lif():
    from spyx.ir import LIF

    return LIF(tau=F(0.01), r=F(1), v_leak=F(0), v_threshold=F(1), v_reset=F(0))


def chain(n: int, width: int = 4):
    """A chain of ``n`` nodes ``input -> lif0 -> ... -> output`` in file (name) order; only the Input
    declares a shape, every LIF (0-d parameters) takes it from upstream."""
    from spyx.ir import Graph, Input, Output

    nodes, order = {"input": Input(shape=np.array([width]))}, ["input"]
    for i in range(max(1, n - 2)):
        nodes[f"lif{i}"] = _lif()
        order.append(f"lif{i}")
    nodes["output"] = Output(shape=np.array([width]))
    order.append("output")
    edges = tuple(zip(order[:-1], order[1:], strict=True))
    return Graph(nodes={k: nodes[k] for k in sorted(nodes)}, edges=edges)


def nested(depth: int, width: int = 4):
    """``depth`` graphs inside each other, each ``input -> lif -> inner -> output``."""
    from spyx.ir import Graph, Input, Output

    def ports():
        return {"input": Input(shape=np.array([width])), "output": Output(shape=np.array([width]))}

    g = Graph(nodes={**ports(), "lif": _lif()}, edges=(("input", "lif"), ("lif", "output")))
    for _ in range(depth - 1):
        g = Graph(nodes={**ports(), "inner": g, "lif": _lif()},
                  edges=(("input", "lif"), ("lif", "inner"), ("inner", "output")))
    return g


def _best(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def measure(kind: str, size: int, repeats: int, folder: Path) -> dict:
    import spyx

    graph = chain(size) if kind == "chain" else nested(size)
    verify_s = _best(lambda: spyx.verify(graph), repeats)
    path = folder / f"{kind}{size}.nir"
    spyx.save(graph, path)
    load_s = _best(lambda: spyx.load(path), repeats)
    nodes = sum(1 for _ in graph.walk())
    return {"graph": kind, "size": size, "nodes": nodes, "verify_s": round(verify_s, 5),
            "load_verify_s": round(load_s, 5), "file_bytes": path.stat().st_size}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chains", default="100,300,1000,3000,10000")
    ap.add_argument("--depths", default="2,5,10,20,50")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "verify_scaling.json")
    args = ap.parse_args(argv)
    from spyx.io import atomic_write_json

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind, sizes in (("chain", args.chains), ("nested", args.depths)):
            for size in (int(s) for s in sizes.split(",") if s):
                rows.append(measure(kind, size, args.repeats, Path(tmp)))
                r = rows[-1]
                print(f"{r['graph']:7s} {r['size']:6d}  nodes {r['nodes']:6d}  verify {1e3 * r['verify_s']:9.2f} ms"
                      f"  load+verify {1e3 * r['load_verify_s']:9.2f} ms  ({r['file_bytes']} bytes)", flush=True)
    import spyx

    atomic_write_json(args.out, {
        "benchmark": "verify_scaling",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "spyx": spyx.__version__,
        "repeats": args.repeats,
        "rows": rows,
    })
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
