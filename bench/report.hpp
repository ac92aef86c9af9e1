// What a benchmark run reports: machine ceilings, per-case statistics, the table, JSON and plots.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness.hpp"
#include "json.hpp"

namespace mfgrad::bench {

// The machine's own ceilings at each thread count the run uses, measured by bench/probes.
struct Ceilings {
  std::map<int, double> fp32_gflops, fp64_gflops, bandwidth_gbs;
  std::string isa;
  int vector_bits = 0;
};

Ceilings measure_ceilings(const std::vector<int>& threads, bool fp64);

struct Summary {
  Record record;
  double median_s = 0, min_s = 0, mad_s = 0;
  double gflops = 0, entries_per_s = 0;        // from the median, 6·k flops per entry
  std::optional<double> fraction_of_peak;      // of the FMA peak in the case's precision, same threads
  std::optional<double> fraction_of_bound;     // the block's gather_bound median / this median, same threads
  std::optional<double> speedup_vs_naive;      // naive's median / this median (same data, k, dtype)
  std::optional<double> speedup_vs_best_peer;  // fastest peer's median at the same threads / this median
};

std::vector<Summary> summarize(const std::vector<Record>& records, const Ceilings& ceilings);

// The readable table: one block per (data set, dtype, k), fastest first within each thread count.
std::string render_table(const std::vector<Summary>& rows, const Ceilings& ceilings, const json::Value& context);

// The results file described in bench/results.hpp.
json::Value results_json(const std::vector<Summary>& rows, const Ceilings& ceilings, const json::Value& context);

// PNG plots with gnuplot into `dir` (created): time per implementation, GFLOP/s against threads.
// Returns the files written. Throws Error when gnuplot is missing or fails.
std::vector<std::string> plot(const std::vector<Summary>& rows, const Ceilings& ceilings, const std::string& dir);

}  // namespace mfgrad::bench
