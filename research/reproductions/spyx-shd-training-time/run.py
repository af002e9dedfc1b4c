"""Reproduce the Spyx paper's SHD training-time table: one Adam train step of the SHD network (128 inputs, two LIF
layers of H, 20 LI readouts) for batch 64/128/256 and hidden 128/512, with our spyx, Spyx 1.0 and SpikingJelly.

The measurement is ``benchmarks/train_throughput.py --shd-grid`` (each framework in its own process, medians of
timed steps after warm-ups, every step waited for); this script runs it and turns its JSON into the study's table,
adding the time of one SHD training epoch (8156 samples, the last partial batch dropped) implied by each step time.

    python research/reproductions/spyx-shd-training-time/run.py --spyx1-path SITE1 --sj-path SITE2   # GPU machine
    python research/reproductions/spyx-shd-training-time/run.py --tiny --spyx1-path ... --sj-path ...  # CPU smoke
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
SHD_TRAIN_SAMPLES = 8156


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batches", default="64,128,256")
    p.add_argument("--hiddens", default="128,512")
    p.add_argument("--T", type=int, default=256, help="time steps per sample (the benchmark's SHD T)")
    p.add_argument("--tiny", action="store_true", help="CPU smoke size: batches 8,16, hiddens 32,64, T 16, 5 iters")
    p.add_argument("--spyx1-path", type=Path)
    p.add_argument("--sj-path", type=Path)
    p.add_argument("--sj-impls", default="triton")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--out", type=Path, default=HERE / "results" / "shd_training_time.json")
    args = p.parse_args()
    if args.tiny:
        args.batches, args.hiddens, args.T, args.iters, args.warmup = "8,16", "32,64", 16, 5, 2

    cmd = [sys.executable, str(ROOT / "benchmarks" / "train_throughput.py"), "--shd-grid",
           f"{args.batches}:{args.hiddens}", "--shd-T", str(args.T), "--warmup", str(args.warmup), "--iters",
           str(args.iters), "--out", str(args.out), "--sj-impls", args.sj_impls]
    if args.spyx1_path:
        cmd += ["--spyx1-path", str(args.spyx1_path)]
    if args.sj_path:
        cmd += ["--sj-path", str(args.sj_path)]
    subprocess.run(cmd, check=True)
    data = json.loads(args.out.read_text())
    text = table(data)
    print(text)
    args.out.with_suffix(".md").write_text(text + "\n")


def table(data: dict) -> str:
    """Markdown: one row per (batch, hidden), one column per framework: median ms per train step and the implied
    epoch time in seconds."""
    rows = [r for r in data["rows"] if r["workload"].startswith("shd_train_b")]
    frameworks = list(dict.fromkeys(f"{r['framework']}:{r['variant']}" for r in rows))
    head = "| batch | hidden | " + " | ".join(f"{f} ms/step (s/epoch)" for f in frameworks) + " |"
    lines = [f"device: {data['meta'].get('gpu') or data['meta']['device']}; jax {data['meta']['jax']}; "
             f"torch {data['meta'].get('torch', '-')}; T = {rows[0]['T'] if rows else '-'}; "
             f"median of {data['meta']['iters']} steps after {data['meta']['warmup']} warm-ups", "",
             head, "|" + "---|" * (2 + len(frameworks))]
    for w in dict.fromkeys(r["workload"] for r in rows):
        ws = {f"{r['framework']}:{r['variant']}": r for r in rows if r["workload"] == w}
        any_row = next(iter(ws.values()))
        cells = []
        for f in frameworks:
            r = ws.get(f)
            if r is None or r["median_ms"] != r["median_ms"]:
                cells.append(f"failed ({r['error']})" if r and r.get("error") else "-")
                continue
            epoch = (SHD_TRAIN_SAMPLES // r["batch"]) * r["median_ms"] / 1e3
            cells.append(f"{r['median_ms']:.2f} ({epoch:.2f})")
        lines.append(f"| {any_row['batch']} | {any_row['hidden']} | " + " | ".join(cells) + " |")
    failed = [r for r in data["rows"] if r["workload"] == "worker_failed"]
    if failed:
        lines += ["", "Failed runs:"] + [f"- {r['framework']}:{r['variant']}: {r['error']}" for r in failed]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
