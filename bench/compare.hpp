// `mfgrad compare`: a performance-regression gate between two results files, meant for CI on noisy
// machines. Timings are judged by their medians and a Mann–Whitney U test on the repetitions, so that a
// gate fails only on a change that is both large and unlikely to be noise; instruction counts, which
// do not vary from run to run, are judged by their ratio alone.
#pragma once

#include <cstddef>
#include <optional>
#include <regex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mfgrad::bench {

// One benchmark of a results file, in seconds whatever the file's unit.
struct BenchmarkResult {
  std::string name;                    // Google Benchmark's: without the run settings ("/repeats:5/real_time")
  std::vector<double> samples_s;       // wall time per repetition (per iteration for Google Benchmark)
  std::optional<double> instructions;  // of one evaluation, when the file has them
  bool failed = false;                 // its check failed or Google Benchmark reported an error
  std::string failure;                 // why, when failed
  bool aggregates_only = false;        // a Google Benchmark median/mean stands in for the repetitions
};

struct ResultSet {
  std::string path;
  std::string format;                    // "mfgrad" or "Google Benchmark"
  std::vector<BenchmarkResult> results;  // in file order; names are unique
};

// Reads mfgrad's results JSON (bench/results.hpp) or Google Benchmark's JSON output, told apart by
// content. Throws mfgrad::Error naming the file, the line, and what is wrong ("FILE:LINE: what";
// "FILE: JSON: line L, column C: what" for text that is not JSON); text from the file is quoted
// (mfgrad::quote), and benchmark names holding control characters are refused.
ResultSet load_results(const std::string& path);
ResultSet parse_results(std::string_view text, const std::string& name);  // the same on text in memory

enum class MannWhitneyMethod {
  automatic,  // exact when the two samples hold at most kMannWhitneyExactMax values together
  exact,      // the permutation distribution of the rank sum, ties included (midranks)
  normal,     // normal approximation with tie and continuity corrections
};
inline constexpr std::size_t kMannWhitneyExactMax = 40;

struct MannWhitney {
  double u = 0;  // pairs (x, y) with x > y, ties counting one half
  double p = 1;  // two-sided
  bool exact = false;
};

// Two-sided Mann–Whitney U test of x against y. p = 1 when either sample is empty. Throws
// std::invalid_argument on a non-finite value, or beyond kMannWhitneyExactMax values for the exact method.
MannWhitney mann_whitney(std::span<const double> x, std::span<const double> y,
                         MannWhitneyMethod method = MannWhitneyMethod::automatic);

enum class Verdict {
  regression,    // slower beyond the threshold, and significant (or more instructions)
  failed,        // a check failed or the benchmark reported an error, on either side
  missing,       // in the baseline only
  inconclusive,  // beyond the threshold but not significant, or nothing comparable
  improvement,   // faster beyond the threshold, and significant (or fewer instructions)
  unchanged,     // within the threshold
  added,         // in the contender only (printed "new")
};
const char* to_string(Verdict v);

struct CompareOptions {
  double threshold = 0.10;               // relative change of the median time that matters
  double alpha = 0.05;                   // significance level of the Mann–Whitney test
  double instructions_threshold = 0.02;  // relative change of the instruction count that matters
  std::optional<std::regex> filter;      // only benchmarks whose name matches (std::regex_search)
};

struct SampleSummary {
  double median = 0;
  double mad = 0;  // median absolute deviation, unscaled (as mad_s in results.hpp)
  std::size_t n = 0;
};

// Median and median absolute deviation of repetition samples (what reports and verdicts quote).
SampleSummary summarize_samples(const std::vector<double>& samples);

struct Comparison {
  std::string name;
  Verdict verdict = Verdict::unchanged;
  std::optional<SampleSummary> baseline, contender;  // absent when that side has no timings
  std::optional<double> change;                      // median time: contender / baseline − 1
  std::optional<double> p;                           // Mann–Whitney, two-sided
  std::optional<double> instructions_change;         // contender / baseline − 1
  std::string note;                                  // why, where the verdict needs explaining
};

struct Report {
  std::string baseline, contender;  // "path (format)"
  CompareOptions options;
  std::vector<Comparison> rows;  // baseline order, then the contender's new benchmarks

  std::size_t count(Verdict v) const;
  // No regression, failed check or missing benchmark.
  bool passed() const;
};

// Throws mfgrad::Error when no benchmark is left to compare (after the filter): a gate that compares
// nothing would pass whatever the contender does.
Report compare(const ResultSet& baseline, const ResultSet& contender, const CompareOptions& options);

// Aligned lines, one per benchmark, then a summary line and the verdict sentence.
std::string format_report(const Report& report);

}  // namespace mfgrad::bench
