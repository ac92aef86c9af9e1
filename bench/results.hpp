// The results file `mfgrad bench --json FILE` writes and `mfgrad compare` reads.
//
// {
//   "mfgrad_results": 1,                                   schema version
//   "context": { "cpu": "...", "isa": "avx512bw", "hardware_threads": 2, "omp_proc_bind": "...",
//                "omp_places": "...", "compiler": "...", "flags": "...", "versions": {...},
//                "git_revision": "...", "date": "...", "seed": "1", "lambda": 0.05, "command": "..." },
//   "ceilings": { "fp32_gflops": {"1": 190.2, "2": 380.1}, "fp64_gflops": {...},
//                 "bandwidth_gbs": {"1": ..., "2": ...} },        keyed by thread count
//   "results": [
//     { "name": "eval/fused_simd/tiny/k:16/threads:1",        also the Google Benchmark name
//       "impl": "fused_simd", "kind": "mfgrad" | "peer" | "plan" | "bound" (gather_bound) | "refresh" (round_to),
//       "dataset": "tiny", "dtype": "float32" | "float64" | "bfloat16" | "float16", "k": 16, "threads": 1, "nnz":
//       60000, "samples_s": [ ... one wall time per repetition ... ], "median_s": ..., "min_s": ..., "mad_s": ...,
//       median absolute deviation "gflops": ..., "entries_per_s": ..., "fraction_of_peak": ...,   from the median, 6·k
//       flops/entry "fraction_of_bound": ...,  the block's gather_bound median / this median (same threads)
//       "speedup_vs_naive": ..., "speedup_vs_best_peer": ...,  null when not measured
//       "check": "passed" | "failed: <why>",
//       "instructions": 1234567 }                              only in --instructions mode
//   ]
// }
#pragma once
