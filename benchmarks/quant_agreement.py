"""Spike agreement of quantized corpus graphs with their float originals, and identity with the
fake-quantized graph, for several formats. Prints a table and writes JSON.

    PYTHONPATH=. python benchmarks/quant_agreement.py [--out benchmarks/quant_agreement.json] [--T 60 --B 4]

Inputs: seeded Bernoulli spikes (rate 0.3). "agreement" is the fraction of (t, batch, neuron) entries of the
graph's output spikes equal to the float graph's; "identical" says whether the integer graph (as saved) and
the fake-quantized float graph give exactly the same output spikes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import spyx
from spyx.io.atomic import atomic_write_json
from spyx.passes.quantize import quantize_graph
from spyx.quant.report import random_inputs, report, run_probed

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "nir-corpus"
FILES = [("lif_norse.nir", 1e-4), ("braille_noDelay_bias_zero.nir", 1e-4), ("cnn_sinabs.nir", 1.0)]
FORMATS = [
    ("int8", dict(bits=8)),
    ("int8 pow2", dict(bits=8, pow2=True)),
    ("int4", dict(bits=4)),
    ("int2", dict(bits=2)),
    ("ternary", dict(ternary=True)),
    ("int8 per-tensor", dict(bits=8, granularity="tensor")),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "quant_agreement.json")
    ap.add_argument("--T", type=int, default=60)
    ap.add_argument("--B", type=int, default=4)
    args = ap.parse_args()
    rows = []
    print(f"{'file':<32} {'format':<16} {'out agreement':>14} {'min layer agr.':>15} {'identical':>10}")
    for name, dt in FILES:
        g = spyx.load(args.corpus / name)
        x = random_inputs(g, T=args.T if "cnn" not in name else 12, B=args.B, seed=0, rate=0.3)
        for label, opts in FORMATS:
            r = quantize_graph(g, **opts)
            rep = report(g, r, dt=dt, inputs=x)
            vf, _ = run_probed(r.fake_graph, x, dt=dt, names=[])
            vq, _ = run_probed(r.graph, x, dt=dt, names=[])
            identical = all(np.array_equal(vf[k], vq[k]) for k in vf)
            out_agr = min(o.agreement for o in rep.outputs if o.agreement is not None)
            rows.append(
                dict(
                    file=name,
                    format=label,
                    output_agreement=out_agr,
                    min_layer_agreement=rep.min_agreement,
                    identical_to_fake=identical,
                    T=int(x[next(iter(x))].shape[0]),
                    B=args.B,
                )
            )
            print(f"{name:<32} {label:<16} {out_agr:>14.4f} {rep.min_agreement:>15.4f} {str(identical):>10}")
    atomic_write_json(args.out, rows, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
