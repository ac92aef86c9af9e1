#!/usr/bin/env python3
"""The README's summary tables from `mfgrad bench --json` files: per (data set, precision, k), the fastest
mfgrad implementation at the most threads against every peer, the plan's distance from the fastest row
of its block (peers included), the share of the measured FMA peak and the 1 → most threads speed-up.

usage: summarize.py RESULTS.json [MORE.json ...]   (prints Markdown on stdout)
"""
import json
import sys
from collections import defaultdict

PEERS = ["plain_omp", "eigen", "graphblas", "pytorch", "pytorch_autograd"]


def ms(s):
    return f"{s * 1e3:,.0f} ms" if s >= 0.1 else f"{s * 1e3:.1f} ms"


def main(paths):
    rows, peaks = [], {}
    for path in paths:
        doc = json.load(open(path))
        rows += [r for r in doc["results"] if r.get("check") == "passed" and r.get("median_s")]
        for dtype, key in (("float32", "fp32_gflops"), ("float64", "fp64_gflops")):
            for t, v in doc["ceilings"].get(key, {}).items():
                peaks[(dtype, int(t))] = v
    blocks = defaultdict(list)
    for r in rows:
        blocks[(r["dataset"], r["dtype"], r["k"])].append(r)
    by_kind = lambda rs, kind: [r for r in rs if r["kind"] == kind]
    header = ["data", "dtype", "k", "threads", "fastest mfgrad", "time", "% peak"]
    header += [f"vs {p}" for p in PEERS] + ["plan", "plan_estimate", "1 → T"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for (dataset, dtype, k), rs in blocks.items():
        threads = max(r["threads"] for r in rs)
        at = [r for r in rs if r["threads"] == threads]
        mine = by_kind(at, "mfgrad")
        if not mine:
            continue
        best = min(mine, key=lambda r: r["median_s"])
        fastest = min(r["median_s"] for r in at)
        peer_time = {r["impl"]: r["median_s"] for r in by_kind(at, "peer")}
        plans = {r["impl"]: r["median_s"] for r in by_kind(at, "plan")}
        one = [r for r in rs if r["impl"] == best["impl"] and r["threads"] == 1]
        peak = peaks.get((dtype, threads))
        gflops = 6 * k * best["nnz"] / best["median_s"] * 1e-9
        cells = [dataset, dtype, str(k), str(threads), best["impl"], ms(best["median_s"]),
                 f"{100 * gflops / peak:.0f} %" if peak else "-"]
        cells += [f"{peer_time[p] / best['median_s']:.1f}×" if p in peer_time else "-" for p in PEERS]
        cells += [f"+{100 * (plans[p] / fastest - 1):.0f} %" if p in plans else "-" for p in ("plan", "plan_estimate")]
        cells.append(f"{one[0]['median_s'] / best['median_s']:.2f}×" if one and threads > 1 else "-")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
