// `mfgrad compare`: a performance-regression gate between two results files, meant for CI on noisy
// machines. Timings are judged by their medians and a Mann–Whitney U test on the repetitions, so that a
// gate fails only on a change that is both large and unlikely to be noise; instruction counts, which
// do not vary from run to run, are judged by their ratio alone.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stats.hpp"

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

// One fact about where a run ran, of those two runs should share to be compared fairly.
struct ContextEntry {
  std::string key;    // "cpu", "hardware threads", "isa", "compiler", "flags", "mfgrad version",
                      // "OMP_NUM_THREADS", "seed", "lambda", "thread counts" (in that order; only
                      // those the file states)
  std::string value;  // as the file states it ("thread counts": "1,2", from the benchmark names)
};

struct ResultSet {
  std::string path;
  std::string format;                    // "mfgrad" or "Google Benchmark"
  std::vector<BenchmarkResult> results;  // in file order; names are unique
  std::vector<ContextEntry> context;     // mfgrad's "context", or the mfgrad_* custom context of
                                         // Google Benchmark's (num_cpus when that is all it has)
};

// Reads mfgrad's results JSON (bench/results.hpp) or Google Benchmark's JSON output, told apart by
// content. Throws mfgrad::Error naming the file, the line, and what is wrong ("FILE:LINE: what";
// "FILE: JSON: line L, column C: what" for text that is not JSON); text from the file is quoted
// (mfgrad::quote), and benchmark names holding control characters are refused.
ResultSet load_results(const std::string& path);
ResultSet parse_results(std::string_view text, const std::string& name);  // the same on text in memory

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
  std::optional<std::string> filter;     // only benchmarks whose whole name matches this glob (glob_match)
};

// Shell-style wildcards over a whole name: '*' any run of characters ('/' included), '?' one character,
// everything else itself. Linear in the name for each '*' of the pattern: no pattern can make it crawl.
bool glob_match(std::string_view pattern, std::string_view name);

struct Comparison {
  std::string name;
  Verdict verdict = Verdict::unchanged;
  std::optional<SampleSummary> baseline, contender;  // absent when that side has no timings
  std::optional<double> change;                      // median time: contender / baseline − 1
  std::optional<double> p;                           // Mann–Whitney, two-sided
  std::optional<double> instructions_change;         // contender / baseline − 1
  std::string note;                                  // why, where the verdict needs explaining
};

// A fact the two runs state differently: their figures may differ for that reason alone.
struct ContextDifference {
  std::string key, baseline, contender;
};

struct Report {
  struct Side {
    std::string path, format;
    std::size_t benchmarks = 0;
    std::vector<ContextEntry> context;
  };
  Side baseline, contender;
  CompareOptions options;
  std::vector<Comparison> rows;                        // baseline order, then the contender's new benchmarks
  std::vector<ContextDifference> context_differences;  // keys both state, in ContextEntry order

  std::size_t count(Verdict v) const;
  // No regression, failed check or missing benchmark.
  bool passed() const;
};

// Throws mfgrad::Error when no benchmark is left to compare (after the filter): a gate that compares
// nothing would pass whatever the contender does.
Report compare(const ResultSet& baseline, const ResultSet& contender, const CompareOptions& options);

enum class ReportFormat {
  text,      // aligned lines, one per benchmark, then a summary line and the verdict sentence
  markdown,  // the same as a Markdown table under a verdict heading: for a pull-request comment
  json,      // every field of the Report ("mfgrad_compare": 1): for dashboards and scripts
};
// Throws mfgrad::Error on a name other than text, markdown or json.
ReportFormat parse_report_format(std::string_view name);

// A context difference is a warning line (text), a quoted note (markdown) or "context_differences" (json).
std::string format_report(const Report& report, ReportFormat format = ReportFormat::text);

}  // namespace mfgrad::bench
