#!/usr/bin/env python3
"""The cost of calling mfgrad from Python, and mfgrad against plain PyTorch, in one run.

Rows, all on the same data, factors and plan, at each thread count:

  C++ call            Plan::evaluate timed inside C++ (Plan.native_seconds): no Python at all
  Python call         mfgrad.Plan.evaluate on NumPy arrays, gradients written in place
  mfgrad.torch        MaskedMFLossFunction forward + backward on tensors that require grad
  plain PyTorch       autograd on the plain expression (gathers and sums, mfgrad.torch.plain_loss),
                      forward + backward over slices of --chunk entries (the whole of Ω at once needs
                      about 1.3 KB per entry at k = 64)

The C++ and Python calls alternate, in both orders, so drift of the machine's speed falls on both
alike; the binding overhead is the difference of their medians, flagged as noise when either spread
(MAD) passes NOISY percent — then rerun on a quiet machine.
Results are checked against plain PyTorch under the library's tolerance rule (include/mfgrad/check.hpp);
the exit status is 1 when they disagree. Run from the repository root after building:

  PYTHONPATH=build/python python3 bench/python/bench_python.py --data netflix-25m --k 64
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

import mfgrad

OVERHEAD_LIMIT = 2.0  # percent of the C++ call
WIDTH = 48  # of the first column
NOISY = 5.0  # percent MAD beyond which an overhead of a few percent cannot be told from noise


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="netflix-25m", help="a preset (mfgrad.presets()) or a ratings file")
    parser.add_argument("--k", type=int, default=64)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--threads", default=str(len(os.sched_getaffinity(0))),
                        help="comma-separated thread counts (default: every hardware thread)")
    parser.add_argument("--lam", type=float, default=0.05)
    parser.add_argument("--reps", type=int, default=9, help="timed repetitions of each mfgrad row")
    parser.add_argument("--torch-reps", type=int, default=3, help="timed repetitions of the plain PyTorch row")
    parser.add_argument("--chunk", type=int, default=1 << 20, help="entries per slice for plain PyTorch")
    parser.add_argument("--plan", choices=["estimate", "measure"], default="measure")
    parser.add_argument("--no-torch", action="store_true", help="leave out the two PyTorch rows")
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args()
    args.threads = [int(t) for t in args.threads.split(",")]
    if not args.no_torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            parser.error("PyTorch is not installed (Debian: python3-torch); --no-torch leaves its rows out")
    if args.reps < 1 or args.torch_reps < 1 or args.chunk < 1 or min(args.threads) < 1:
        parser.error("--reps, --torch-reps, --chunk and --threads must be positive")
    return args


def ms(seconds):
    return f"{seconds * 1e3:10.2f} ms" if seconds < 1 else f"{seconds:10.3f} s "


def summary(times):
    median = statistics.median(times)
    mad = statistics.median(abs(t - median) for t in times)
    return median, mad


def time_calls(plan, U, V, lam, grad_u, grad_v, reps):
    """Interleaved C++ and Python calls (ABBA order); returns the times of each."""
    native, python = [], []
    for r in range(reps):
        for order in ((0, 1) if r % 2 == 0 else (1, 0)):
            if order == 0:
                native.append(plan.native_seconds(U, V, lam, grad_u, grad_v, repetitions=1)[0])
            else:
                start = time.perf_counter()
                plan.evaluate(U, V, lam, grad_u, grad_v)
                python.append(time.perf_counter() - start)
    return native, python


def torch_rows(args, obs, plan, U, V, threads):
    """Times of mfgrad.torch and of plain PyTorch, and plain PyTorch's (loss, grad_u, grad_v)."""
    import torch

    import mfgrad.torch as mt

    dtype = torch.float32 if args.dtype == "float32" else torch.float64
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        Ut = torch.nn.Parameter(torch.from_numpy(U.copy()))
        Vt = torch.nn.Parameter(torch.from_numpy(V.copy()))

        def mfgrad_step():
            Ut.grad = Vt.grad = None
            mt.MaskedMFLossFunction.apply(Ut, Vt, plan, args.lam).backward()

        rows, cols, values = mt.entries(obs, dtype=dtype)

        def plain_step():
            Ut.grad = Vt.grad = None
            loss = 0.0
            for start in range(0, max(obs.nnz, 1), args.chunk):
                part = slice(start, start + args.chunk)
                piece = mt.plain_loss(Ut, Vt, rows[part], cols[part], values[part], args.lam if start == 0 else 0.0)
                piece.backward()
                loss += piece.item()
            return loss

        times = {}
        for name, step, reps in (("mfgrad.torch", mfgrad_step, args.reps), ("plain", plain_step, args.torch_reps)):
            step()  # warm-up
            times[name] = []
            for _ in range(reps):
                start = time.perf_counter()
                step()
                times[name].append(time.perf_counter() - start)
        loss = plain_step()
        return times, (loss, Ut.grad.numpy(), Vt.grad.numpy())
    finally:
        torch.set_num_threads(previous)


def worst_ratio(obs, U, V, lam, got, want):
    """Largest |got − want| / bound over the loss and every gradient element (≤ 1: within the rule)."""
    loss_bound, gu_bound, gv_bound = mfgrad.error_bounds(obs, U, V, lam)
    ratios = [abs(got[0] - want[0]) / loss_bound]
    for g, w, bound in ((got[1], want[1], gu_bound), (got[2], want[2], gv_bound)):
        ratios.append(float(np.max(np.abs(g.astype(np.float64) - w) / bound, initial=0.0)))
    return max(ratios)


def main():
    args = parse_args()
    dtype = np.float32 if args.dtype == "float32" else np.float64
    start = time.perf_counter()
    obs = mfgrad.load_dataset(args.data)
    m, n = obs.shape
    U = mfgrad.random_factor(m, args.k, seed=1, dtype=dtype)  # the factors `mfgrad bench` uses
    V = mfgrad.random_factor(n, args.k, seed=2, dtype=dtype)
    grad_u, grad_v = np.empty_like(U), np.empty_like(V)
    print(f"# {obs.description}; loaded in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    flops = 6 * args.k * obs.nnz
    print(f"{args.data}, {args.dtype}, k = {args.k}, lambda = {args.lam} ({obs.nnz:,} entries, {6 * args.k} flops each); "
          f"mfgrad {mfgrad.__version__}, SIMD {mfgrad.simd_arch()}")
    print(f"  {'call':<{WIDTH}} {'threads':>7} {'median':>13} {'MAD':>6} {'GFLOP/s':>9} {'vs C++':>8}")
    report = {"data": args.data, "dtype": args.dtype, "k": args.k, "nnz": obs.nnz, "rows": []}
    failed = False
    for threads in args.threads:
        plan = mfgrad.Plan(obs, args.k, dtype=dtype, threads=threads, mode=args.plan)
        print(f"# {threads} threads: plan {plan.choice} ({plan.reason})", file=sys.stderr)
        plan.evaluate(U, V, args.lam, grad_u, grad_v)  # warm-up
        native, python = time_calls(plan, U, V, args.lam, grad_u, grad_v, args.reps)
        rows = [("C++ call (Plan::evaluate, timed in C++)", native), ("Python call (mfgrad.Plan.evaluate)", python)]
        checked = None
        if not args.no_torch:
            torch_times, plain = torch_rows(args, obs, plan, U, V, threads)
            rows += [("PyTorch, mfgrad.torch (forward + backward)", torch_times["mfgrad.torch"]),
                     (f"PyTorch, plain autograd ({args.chunk:,}-entry slices)", torch_times["plain"])]
            ours = plan.evaluate(U, V, args.lam)
            checked = worst_ratio(obs, U, V, args.lam, ours, plain)
        base = statistics.median(native)
        for name, times in rows:
            median, mad = summary(times)
            print(f"  {name:<{WIDTH}} {threads:>7} {ms(median)} {100 * mad / median:5.1f}% {flops / median / 1e9:9.1f} "
                  f"{median / base:7.3f}x")
            report["rows"].append({"call": name, "threads": threads, "seconds": times, "median": median})
        overhead = statistics.median(python) - base
        verdict = "within" if 100 * overhead / base < OVERHEAD_LIMIT else "OVER"
        spread = 100 * max(summary(native)[1] / base, summary(python)[1] / statistics.median(python))
        noise = f"; NOISY: MAD {spread:.1f} %, rerun on a quiet machine" if spread > NOISY else ""
        print(f"  binding overhead, {threads} threads: {100 * overhead / base:+.3f} % ({overhead * 1e6:+.1f} µs per call, "
              f"medians of {len(python)} interleaved calls each; {verdict} the {OVERHEAD_LIMIT:g} % limit{noise})")
        print(f"  plan: {plan.choice}")
        if checked is not None:
            ok = checked <= 1
            failed |= not ok
            print(f"  check: mfgrad against plain PyTorch {'within' if ok else 'OUTSIDE'} the tolerance rule "
                  f"(worst difference {checked:.3g} of its bound)")
        report["rows"].append({"threads": threads, "overhead_seconds": overhead, "overhead_percent": 100 * overhead / base,
                               "plan": plan.choice, "check_worst_ratio": checked})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
