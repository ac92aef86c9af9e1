// The benchmark harness behind both `mfgrad bench` and the Google Benchmark binary `mfgrad_bench`.
//
// Cases are registered with Google Benchmark in a loop over implementations (the registry, a plan made
// in measure mode, then the peers) × data sets × k × threads, named eval/<impl>/<dataset>/k:<k>/threads:<t>
// (eval_f64/... for float64). Each case evaluates once outside the timed loop, checks that result against the oracle
// (naive) with the bound of mfgrad/check.hpp and reports an error instead of a time if it disagrees;
// only then is evaluation timed (wall clock). Data loading, the oracle and every preparation (CSC,
// tiles, plans) happen outside the timed region.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "json.hpp"
#include "mfgrad/kernel.hpp"

namespace mfgrad::bench {

struct Config {
  std::vector<std::string> datasets;  // presets or ratings files
  std::vector<std::size_t> ks;
  std::vector<int> threads;
  std::vector<std::string> impls;  // registered implementations to run, "plan" (mfgrad::Plan, measured) and
                                   // "plan_estimate" (estimated)
  std::vector<std::string> peers;  // peers to run (names from peers())
  std::vector<Precision> dtypes = {Precision::f32};
  std::vector<Isa> isas;           // SIMD implementations once per level (set_simd_level), rows named
                                   // <impl>@<level>; empty: once, at the default level, no suffix
  std::optional<int> reps;         // repetitions per case; unset: Google Benchmark's flag
  std::optional<double> min_time;  // seconds per repetition; unset: Google Benchmark's flag
  double lambda = 0.05;
  std::uint64_t seed = 1;  // of the random factors
  bool probes = true;      // a gather_bound row in every block (probes.hpp, GatherBound) and, for
                           // 16-bit storage, a round_to row
};

// The rows that are not implementations: the gather bound of each block (kind "bound") and, for 16-bit
// storage, the optimizer's refresh of its copy, round_to of U and V (kind "refresh").
inline constexpr const char* gather_bound_name = "gather_bound";
inline constexpr const char* refresh_name = "round_to";

// mfgrad bench's defaults: every supported implementation, a plan and every peer, netflix-25m, k = 64,
// 1 and all hardware threads, 5 repetitions of at least 0.2 s (a few minutes on 2 cores).
Config default_config();

// Every supported registered implementation, "plan" and "plan_estimate" / every compiled-in peer.
std::vector<std::string> all_impls();
std::vector<std::string> all_peers();

// One case's outcome, filled from Google Benchmark's runs.
struct Record {
  std::string name, impl, kind, dataset, dtype;
  std::size_t k = 0;
  int threads = 0;
  std::int64_t nnz = 0;
  std::vector<double> samples_s;  // one per repetition: wall time per evaluation
  bool passed = false;            // oracle check
  std::string error;              // why it did not pass
  std::optional<double> instructions;
  std::string note;  // for the plans: what they picked and why
};

// The machine and build this run describes (for JSON and Google Benchmark's context).
json::Value machine_context();
// machine_context() and the settings that make two runs' data and factors differ: "seed" (as decimal
// text, exact) and "lambda". compare and report warn when two runs disagree on them.
json::Value run_context(const Config& config);

class Suite {
 public:
  explicit Suite(Config config);
  ~Suite();

  // Registers every case with Google Benchmark, in the order they will run.
  void register_cases();
  std::size_t case_count() const;

  // One Google Benchmark filter per block of cases timed side by side (same data set, precision, k and
  // thread count), in registration order. Running block by block with random interleaving of
  // repetitions spreads the machine's drift over every row of a block alike, and keeps only one
  // block's memory alive.
  std::vector<std::string> blocks() const;

  // A reporter that feeds this suite's records (and prints progress on stderr when asked) and
  // forwards every call to `next` when given (Google Benchmark's console or JSON reporter).
  std::unique_ptr<benchmark::BenchmarkReporter> reporter(bool progress, benchmark::BenchmarkReporter* next = nullptr);

  const std::vector<Record>& records() const;
  const Config& config() const;

  // Instruction count of one single-threaded evaluation (after a warm-up), run in this process;
  // mfgrad_count's work, meant to be run under `valgrind --tool=callgrind --collect-atstart=no`.
  static void evaluate_once_for_callgrind(const std::string& impl, const std::string& dataset, std::size_t k,
                                          Precision dtype, std::uint64_t seed, double lambda);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Runs each (impl, dataset, k, dtype) once single-threaded under callgrind in bench's child program
// mfgrad_count (`valgrind`, with MFGRAD_ISA capped at avx2, which valgrind can run) and stores the
// counts and the child's verdict in the records.
void count_instructions(const Config& config, std::vector<Record>& records);

}  // namespace mfgrad::bench
