"""The big fuzz run of the NIR reader (issue 14): mutate the corpus files and classify every outcome.

    PYTHONPATH=. python scripts/fuzz.py --cases 10000 --seed 1 --workers 2 --out fuzz.json --keep fuzz-cases/

Each case ``(seed, index)`` is rebuilt exactly from its two numbers (``--start I --cases 1`` reruns one).
Cases run in worker processes with ``--cpu-seconds`` of CPU time and ``--memory-gib`` of address space each
(``tests/fuzz/harness.py`` says how outcomes are classified). Prints the counts per outcome and the
signatures of the bad ones; exits 1 when any case crashed, hung, was a false accept or an unnamed error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fuzz.harness import BAD, fuzz, summary  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start", type=int, default=0, help="first case index")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--cpu-seconds", type=float, default=10.0)
    ap.add_argument("--memory-gib", type=float, default=4.0)
    ap.add_argument("--run", action="store_true", help="also compile and run every accepted graph for 2 steps")
    ap.add_argument("--corpus", type=Path,
                    default=Path(os.environ.get("SPYX_NIR_CORPUS") or ROOT.parent / "shared" / "nir-corpus"))
    ap.add_argument("--out", type=Path, default=None, help="write every case's result as JSON here")
    ap.add_argument("--keep", type=Path, default=None, help="copy the files of bad cases into this folder")
    ap.add_argument("--rerun", type=Path, default=None,
                    help="rerun only the bad cases of an earlier --out file (its seed)")
    args = ap.parse_args(argv)
    if not any(args.corpus.glob("*.nir")):
        print(f"no .nir files in {args.corpus} (set --corpus or SPYX_NIR_CORPUS)", file=sys.stderr)
        return 2
    start = time.perf_counter()
    last = [0.0]

    def progress(done, total, result):
        now = time.perf_counter()
        if now - last[0] > 10 or done == total:
            last[0] = now
            print(f"  {done}/{total} cases, {now - start:.0f} s", file=sys.stderr, flush=True)

    indices = None
    if args.rerun:
        earlier = json.loads(args.rerun.read_text())
        args.seed = earlier["seed"]
        indices = [r["index"] for r in earlier["results"] if r["outcome"] in BAD and "index" in r]
        args.start, args.cases = 0, len(indices)
    results = fuzz(args.seed, args.cases, corpus=args.corpus, start=args.start, indices=indices, workers=args.workers,
                   cpu_seconds=args.cpu_seconds, memory_bytes=int(args.memory_gib * 2**30), run=args.run,
                   keep=args.keep, progress=progress)
    wall = time.perf_counter() - start
    s = summary(results)
    what = f"{len(indices)} cases rerun from {args.rerun}" if indices is not None else (
        f"cases {args.start}..{args.start + args.cases - 1}")
    print(f"seed {args.seed}, {what}: {wall:.0f} s wall")
    for outcome, n in sorted(s["outcomes"].items(), key=lambda kv: -kv[1]):
        print(f"  {outcome:15s} {n:6d}  ({100 * n / len(results):.1f} %)")
    if args.run:
        ran = Counter(r.get("runs") for r in results if r["outcome"] == "accepted")
        print(f"  accepted and ran: {ran.get(True, 0)}, accepted but compile/run raised a spyx error: "
              f"{ran.get(False, 0)}")
    for sig, n in s["bad_signatures"].items():
        print(f"  {n:5d}  {sig}")
    bad = [r for r in results if r["outcome"] in BAD]
    for r in bad[:30]:
        print(f"  case {r.get('index')}: {r['outcome']} {r.get('mutation')} [{r.get('source')}] "
              f"{r.get('detail', '')}: {r.get('message', '')[:200]}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"seed": args.seed, "start": args.start, "wall_s": round(wall, 1),
                                        "summary": s, "results": results}, indent=1) + "\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
