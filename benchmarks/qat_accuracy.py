"""QAT accuracy on the 4-class burst-order task (tests/quant/qat_task.py) for float, int8 (qwix scales and
power-of-two), int4 and ternary, before and after QAT fine-tuning; and spike flips of the exported integer
graph against the QAT model. Prints a table and writes JSON.

    PYTHONPATH=. python benchmarks/qat_accuracy.py [--hidden 12 --noise 0.08 --burst 0.35] [--out FILE]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from flax import nnx

import spyx.nn as snn
from spyx.io.atomic import atomic_write_json
from spyx.quant.qat import export_quantized, qat_model
from spyx.quant.report import run_probed
from tests.quant.qat_task import DT, C, accuracy, make_model, order_task, train

CONFIGS = [
    ("int8", False),
    ("int8", True),
    ("int4", False),
    ("int4", True),
    ("ternary", False),
    ("ternary", True),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hidden", type=int, default=12)
    ap.add_argument("--noise", type=float, default=0.08)
    ap.add_argument("--burst", type=float, default=0.35)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--qat-steps", type=int, default=80)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "qat_accuracy.json")
    args = ap.parse_args()
    task = dict(noise=args.noise, burst=args.burst)
    x, y = order_task(999, 512, **task)
    model = make_model(hidden=args.hidden)
    train(model, args.steps, **task)
    rows = [dict(format="float", before=None, after=accuracy(model, x, y), flips=None)]
    longer = nnx.clone(model)  # float with the same extra fine-tuning steps as QAT gets: a fair baseline
    train(longer, args.qat_steps, lr=5e-3, seed0=10_000, **task)
    rows.append(dict(format="float +finetune", before=None, after=accuracy(longer, x, y), flips=None))
    print(f"{'format':<15} {'PTQ acc':>8} {'QAT acc':>8} {'spike flips (export vs QAT)':>28}")
    for r in rows:
        print(f"{r['format']:<15} {'':>8} {r['after']:>8.3f}")
    for fmt, pow2 in CONFIGS:
        label = fmt + (" pow2" if pow2 else "")
        qm, _ = qat_model(model, x[0], fmt, pow2=pow2)
        before = accuracy(qm, x, y)
        train(qm, args.qat_steps, lr=5e-3, seed0=10_000, **task)
        after = accuracy(qm, x, y)
        ex = export_quantized(qm, (C,), fmt=fmt, dt=DT, pow2=pow2)
        hidden, _ = qat_model(snn.Sequential(qm.layers[0], qm.layers[1]), x[0], fmt, pow2=pow2)
        xs = x[:, :128]
        s_qat = np.asarray(snn.run(hidden, xs)[0])
        vals, _ = run_probed(ex.graph, {"input": np.asarray(xs)}, dt=DT, names=["1_lif_delay"])
        flips = int(np.count_nonzero(vals["1_lif_delay"] != s_qat))
        rows.append(
            dict(
                format=label,
                before=before,
                after=after,
                flips=flips,
                entries=int(s_qat.size),
                spikes=int(s_qat.sum()),
            )
        )
        n = f"{flips} of {s_qat.size} ({int(s_qat.sum())} spikes)"
        print(f"{label:<15} {before:>8.3f} {after:>8.3f} {n:>28}")
    atomic_write_json(args.out, dict(config=vars(args) | {"out": str(args.out)}, rows=rows), indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
