"""Run numpy_ref on the shared NIR corpus (../shared/nir-corpus) and print what each profile computes.

python -m tests.interop.peers.corpus_check [CORPUS_DIR [FIXTURE_DIR]]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from .numpy_ref import Program, flatten_graph, read_nir, read_nir_repaired

DEFAULT = Path(__file__).resolve().parents[4] / "shared" / "nir-corpus"


def lif_norse(corpus: Path) -> None:
    g = read_nir(corpus / "lif_norse.nir")
    csv = np.loadtxt(corpus / "lif_exact.csv", delimiter=",")
    x = csv[:, 0].reshape(-1, 1, 1).astype(np.float32)
    exact = np.flatnonzero(csv[:, 2])
    print(f"lif_norse.nir: nodes {[(k, type(v).__name__) for k, v in g.nodes.items()]}")
    lif = next(v for v in g.nodes.values() if type(v).__name__ == "LIF")
    print(f"  tau={lif.tau} r={lif.r} v_leak={lif.v_leak} v_th={lif.v_threshold} v_reset={lif.v_reset}")
    print(f"  exact solution spikes at {exact.tolist()}")
    runs = {
        "norse (dt=1e-4, file tau not scaled)": ("norse", 1e-4, {"tau_written_times_dt": False}),
        "snntorch (dt=1e-4, zero reset, reset_delay=False)": (
            "snntorch",
            1e-4,
            {"reset": "zero", "reset_delay": False},
        ),
        "snntorch (dt=1e-4, defaults: subtract, reset_delay=True)": ("snntorch", 1e-4, {}),
        "nir exact ZOH (dt=1e-4)": ("nir", 1e-4, {}),
        "nir euler (dt=1e-4)": ("nir", 1e-4, {"discretization": "euler"}),
    }
    for name, (prof, dt, opt) in runs.items():
        y = Program(g, prof, dt, opt, dtype=np.float64).run(x)
        print(f"  {name:58s} spikes at {np.flatnonzero(y[:, 0, 0]).tolist()}")
    for f in ("lif_norse.csv", "lif_snntorch.csv"):
        c = np.loadtxt(corpus / f, delimiter=",")
        print(f"  paper {f:16s} spikes at {np.flatnonzero(c[:, 2]).tolist()}")


def braille(corpus: Path) -> None:
    g = read_nir(corpus / "braille_noDelay_bias_zero.nir")
    nodes, edges = flatten_graph(g)
    print(f"braille_noDelay_bias_zero.nir: {len(nodes)} nodes, edges {edges}")
    for k, v in nodes.items():
        if type(v).__name__ == "CubaLIF":
            dt = 1e-4
            r_ok = np.allclose(v.r, v.tau_mem / dt, rtol=1e-5)
            w_ok = np.allclose(v.w_in, v.tau_syn / dt, rtol=1e-5)
            alpha, beta = 1 - dt / v.tau_syn, 1 - dt / v.tau_mem
            print(
                f"  {k}: CubaLIF{np.shape(v.tau_mem)} r==tau_mem/1e-4: {r_ok}, w_in==tau_syn/1e-4: {w_ok}, "
                f"alpha=1-dt/tau_syn in [{alpha.min():.4f}, {alpha.max():.4f}], "
                f"beta in [{beta.min():.4f}, {beta.max():.4f}], "
                f"v_th={np.unique(v.v_threshold)}, v_reset={np.unique(v.v_reset)}, "
                f"v_leak={np.unique(v.v_leak)}"
            )
        elif hasattr(v, "weight"):
            b = getattr(v, "bias", None)
            nonzero = b is not None and bool(np.any(b != 0))
            print(f"  {k}: {type(v).__name__}{np.shape(v.weight)} bias nonzero: {nonzero}")
    rng = np.random.default_rng(0)
    x = (rng.random((256, 1, 12)) < 0.1).astype(np.float32)
    prog = Program(g, "snntorch", 1e-4, {"reset": "zero", "reset_delay": False})
    print(f"  cut (recurrent) edges: {sorted(prog.cut)}; order: {prog.order}")
    y = prog.run(x)
    print(f"  random input (256 steps, p=0.1): output spikes per class {y.sum(axis=(0, 1)).tolist()}")
    import nir

    sub = corpus / "braille_noDelay_bias_zero_subgraph.nir"
    try:
        nir.read(str(sub))
        print("  subgraph file: nir.read OK")
    except Exception as exc:
        print(f"  {sub.name}: nir.read fails: {type(exc).__name__}: {exc}")
    g2, repairs = read_nir_repaired(sub)
    print(f"  {sub.name}: read with h5py repair {repairs}; nodes {sorted(flatten_graph(g2)[0])}")
    y2 = Program(g2, "snntorch", 1e-4, {"reset": "zero", "reset_delay": False}).run(x)
    print(f"  same random input through the _subgraph file: identical output: {bool(np.array_equal(y, y2))}")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    corpus = Path(argv[0]) if argv else DEFAULT
    lif_norse(corpus)
    braille(corpus)
    if len(argv) > 1:  # a fixture directory: check exporter detection on it too
        detect_all(Path(argv[1]), corpus)
    return 0


def detect_all(fixture_dir: Path, corpus: Path) -> None:
    """Run detect_exporter over every fixture's model.nir and the corpus files; print hits and misses."""
    from .numpy_ref import detect_exporter

    hits = total = 0
    for f in sorted(fixture_dir.glob("*/*/model.nir")):
        peer = f.parent.parent.name
        guess, why = detect_exporter(read_nir(f))
        ok = peer in guess.split("|")
        hits += ok
        total += 1
        if not ok or "|" in guess:
            print(f"  {peer}/{f.parent.name}: detected {guess} ({why})")
    print(f"detect_exporter: {hits}/{total} fixtures attributed to their peer (ambiguous sets count as hits)")
    for name in ("lif_norse.nir", "braille_noDelay_bias_zero.nir", "cnn_sinabs.nir", "scnn_mnist_spyx.nir"):
        print(f"  corpus {name}: {detect_exporter(read_nir(corpus / name))}")


if __name__ == "__main__":
    raise SystemExit(main())
