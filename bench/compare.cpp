// Verdicts of the regression gate: one comparison per benchmark, then the report (compare.hpp).
#include "compare.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "mfgrad/types.hpp"

namespace mfgrad::bench {

namespace {

// The more severe verdict wins when time and instructions disagree.
int severity(Verdict v) {
  switch (v) {
    case Verdict::regression:
      return 0;
    case Verdict::inconclusive:
      return 1;
    case Verdict::improvement:
      return 2;
    default:
      return 3;
  }
}

std::string why_not_significant(const BenchmarkResult& b, const BenchmarkResult& c, double p, double alpha) {
  if (b.aggregates_only || c.aggregates_only)
    return std::string("only Google Benchmark aggregates in the ") + (b.aggregates_only ? "baseline" : "contender") +
           ", no repetitions to test: rerun without --benchmark_report_aggregates_only";
  const std::size_t n = b.samples_s.size(), m = c.samples_s.size();
  if (mann_whitney_smallest_p(n, m) >= alpha) {
    std::size_t k = 1;
    while (mann_whitney_smallest_p(k, k) >= alpha) ++k;
    return "too few repetitions: with " + std::to_string(n) + " and " + std::to_string(m) +
           " the smallest possible p is " + format_p(mann_whitney_smallest_p(n, m)) + ", not below alpha " +
           format_p(alpha) + "; run at least " + std::to_string(k) + " per side";
  }
  return "p = " + format_p(p) + " is not below alpha " + format_p(alpha) +
         ": may be noise; more repetitions may decide";
}

std::string failure_note(const BenchmarkResult* b, const BenchmarkResult* c) {
  std::string note;
  if (b != nullptr && b->failed) note = "baseline " + b->failure;
  if (c != nullptr && c->failed) note += (note.empty() ? "" : "; ") + ("contender " + c->failure);
  return note;
}

Comparison compare_one(const BenchmarkResult& b, const BenchmarkResult& c, const CompareOptions& opt) {
  Comparison row;
  row.name = b.name;
  if (!b.samples_s.empty()) row.baseline = summarize_samples(b.samples_s);
  if (!c.samples_s.empty()) row.contender = summarize_samples(c.samples_s);
  if (b.failed || c.failed) {
    row.verdict = Verdict::failed;
    row.note = failure_note(&b, &c);
    return row;
  }

  std::optional<Verdict> time, instructions;
  std::string time_note;
  if (row.baseline && row.contender) {
    row.change = row.contender->median / row.baseline->median - 1;
    row.p = mann_whitney(b.samples_s, c.samples_s).p;
    if (std::abs(*row.change) <= opt.threshold) {
      time = Verdict::unchanged;
    } else if (*row.p < opt.alpha) {
      time = *row.change > 0 ? Verdict::regression : Verdict::improvement;
    } else {
      time = Verdict::inconclusive;
      time_note = why_not_significant(b, c, *row.p, opt.alpha);
    }
  }
  if (b.instructions && c.instructions) {
    row.instructions_change = *c.instructions / *b.instructions - 1;
    instructions = *row.instructions_change > opt.instructions_threshold    ? Verdict::regression
                   : *row.instructions_change < -opt.instructions_threshold ? Verdict::improvement
                                                                            : Verdict::unchanged;
  }

  if (time && instructions) {
    row.verdict = severity(*time) <= severity(*instructions) ? *time : *instructions;
    if (*time != *instructions)
      row.note = std::string("time ") + to_string(*time) + ", instructions " + to_string(*instructions) +
                 (time_note.empty() ? "" : "; " + time_note);
  } else if (time || instructions) {
    row.verdict = time ? *time : *instructions;
    row.note = time_note;
  } else if (!b.samples_s.empty() || b.instructions) {
    // What the baseline measured and the contender did not is lost coverage, as for a missing benchmark.
    row.verdict = Verdict::missing;
    const char* lacking = b.samples_s.empty() ? "instruction count"
                          : b.instructions    ? "timings and instruction count"
                                              : "timings";
    row.note = std::string("the contender lacks the baseline's ") + lacking;
  } else {
    row.verdict = Verdict::inconclusive;
    row.note = "nothing to compare: the baseline has neither timings nor an instruction count";
  }
  return row;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view name) {
  // Greedy with one resume point: on a mismatch, the last '*' takes one more character. Earlier stars
  // need never be revisited, as the last one can absorb anything they would have.
  std::size_t p = 0, n = 0;
  std::size_t star = std::string_view::npos, resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::regression:
      return "regression";
    case Verdict::failed:
      return "failed";
    case Verdict::missing:
      return "missing";
    case Verdict::inconclusive:
      return "inconclusive";
    case Verdict::improvement:
      return "improvement";
    case Verdict::unchanged:
      return "unchanged";
    case Verdict::added:
      return "new";
  }
  return "?";
}

std::size_t Report::count(Verdict v) const {
  return static_cast<std::size_t>(
      std::count_if(rows.begin(), rows.end(), [v](const Comparison& c) { return c.verdict == v; }));
}

bool Report::passed() const {
  return count(Verdict::regression) == 0 && count(Verdict::failed) == 0 && count(Verdict::missing) == 0;
}

Report compare(const ResultSet& baseline, const ResultSet& contender, const CompareOptions& options) {
  const auto selected = [&](const BenchmarkResult& r) {
    return !options.filter || glob_match(*options.filter, r.name);
  };
  std::unordered_map<std::string, const BenchmarkResult*> in_baseline, in_contender;
  for (const BenchmarkResult& r : baseline.results)
    if (selected(r)) in_baseline.emplace(r.name, &r);
  for (const BenchmarkResult& r : contender.results)
    if (selected(r)) in_contender.emplace(r.name, &r);
  if (in_baseline.empty())
    throw Error(baseline.path + ": no benchmark to compare" + (options.filter ? " matches the filter" : ""));

  Report report;
  report.baseline = {baseline.path, baseline.format, baseline.results.size(), baseline.context};
  report.contender = {contender.path, contender.format, contender.results.size(), contender.context};
  report.options = options;
  for (const ContextEntry& b : baseline.context)
    for (const ContextEntry& c : contender.context)
      if (b.key == c.key && b.value != c.value) report.context_differences.push_back({b.key, b.value, c.value});
  for (const BenchmarkResult& b : baseline.results) {
    if (!selected(b)) continue;
    const auto found = in_contender.find(b.name);
    if (found != in_contender.end()) {
      report.rows.push_back(compare_one(b, *found->second, options));
      continue;
    }
    Comparison row;
    row.name = b.name;
    row.verdict = Verdict::missing;
    row.note = "not in the contender";
    if (!b.samples_s.empty()) row.baseline = summarize_samples(b.samples_s);
    report.rows.push_back(std::move(row));
  }
  for (const BenchmarkResult& c : contender.results) {
    if (!selected(c) || in_baseline.count(c.name)) continue;
    // A new benchmark whose check fails still shows the contender computing wrong results.
    Comparison row;
    row.name = c.name;
    row.verdict = c.failed ? Verdict::failed : Verdict::added;
    row.note = c.failed ? "new; " + failure_note(nullptr, &c) : "not in the baseline";
    if (!c.samples_s.empty()) row.contender = summarize_samples(c.samples_s);
    report.rows.push_back(std::move(row));
  }
  return report;
}

}  // namespace mfgrad::bench
