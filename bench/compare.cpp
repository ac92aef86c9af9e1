#include "compare.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <new>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "json.hpp"
#include "mfgrad/message.hpp"
#include "mfgrad/types.hpp"
#include "util.hpp"

namespace mfgrad::bench {

namespace {

// ---------------------------------------------------------------------------------------------------
// Reading results files

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw Error(path + ": " + what); }

// "PATH:LINE: what", at the line where `at` starts.
[[noreturn]] void fail(const std::string& path, const json::Value& at, const std::string& what) {
  fail(path + ":" + std::to_string(at.line()), what);
}

// A value as messages show it: its JSON text, quoted and cut like any text from an input.
std::string shown(const json::Value& v) { return quote(v.dump()); }

// Benchmark names become table rows and regular-expression subjects: control bytes have no business there.
const std::string& benchmark_name(const json::Value& v, const std::string& path, const std::string& where,
                                  const char* key) {
  if (!v.is_string() || v.as_string().empty()) fail(path, v, where + ": \"" + key + "\" is not a non-empty string");
  const std::string& name = v.as_string();
  if (std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
    fail(path, v, where + ": \"" + key + "\" " + quote(name) + " holds control characters");
  return name;
}

// Adds a result whose name has not been seen in this file.
void add_result(ResultSet& set, std::unordered_set<std::string>& seen, BenchmarkResult result, const json::Value& at) {
  if (!seen.insert(result.name).second) fail(set.path, at, "benchmark " + quote(result.name) + " appears twice");
  set.results.push_back(std::move(result));
}

// A time or count that later divides or is divided: zero, negative or non-finite would only turn the
// comparison into NaN, so the file is refused instead. `owner`: where an absent value was looked for.
double positive(const json::Value* v, const json::Value& owner, const std::string& path, const std::string& what) {
  if (v == nullptr) fail(path, owner, what + " is absent");
  if (!v->is_number() || !std::isfinite(v->as_number()) || v->as_number() <= 0)
    fail(path, *v, what + " is " + shown(*v) + "; expected a positive number");
  return v->as_number();
}

ResultSet read_mfgrad(const json::Value& doc, const std::string& path) {
  const json::Value& version = *doc.find("mfgrad_results");
  if (!version.is_number() || version.as_number() != 1)
    fail(path, version, "\"mfgrad_results\" is " + shown(version) + "; this mfgrad reads version 1");
  const json::Value* results = doc.find("results");
  if (results == nullptr || !results->is_array())
    fail(path, results ? *results : doc, "\"results\" is absent or not an array");

  ResultSet set{path, "mfgrad", {}};
  std::unordered_set<std::string> seen;
  const json::Array& entries = results->as_array();
  for (std::size_t x = 0; x < entries.size(); ++x) {
    const json::Value& entry = entries[x];
    std::string where = "results[" + std::to_string(x) + "]";
    if (!entry.is_object()) fail(path, entry, where + " is not an object");
    const json::Value* name = entry.find("name");
    if (name == nullptr) fail(path, entry, where + " has no \"name\"");
    BenchmarkResult r;
    r.name = benchmark_name(*name, path, where, "name");
    where += " (" + quote(r.name) + ")";

    const json::Value* samples = entry.find("samples_s");
    if (samples == nullptr || !samples->is_array())
      fail(path, samples ? *samples : entry, where + ": \"samples_s\" is absent or not an array");
    for (const json::Value& s : samples->as_array())
      r.samples_s.push_back(positive(&s, *samples, path, where + ": a sample"));
    if (const json::Value* ins = entry.find("instructions"); ins != nullptr && !ins->is_null())
      r.instructions = positive(ins, entry, path, where + ": \"instructions\"");
    // Anything but "passed" fails: a gate must not pass a check it cannot read.
    if (const json::Value* check = entry.find("check"); check != nullptr) {
      if (!check->is_string()) fail(path, *check, where + ": \"check\" is " + shown(*check) + "; expected a string");
      if (check->as_string() != "passed") {
        r.failed = true;
        r.failure = "check " + quote(check->as_string());
      }
    }
    add_result(set, seen, std::move(r), entry);
  }
  return set;
}

double time_unit_seconds(const json::Value* unit, const json::Value& entry, const std::string& path,
                         const std::string& where) {
  if (unit != nullptr && unit->is_string()) {
    const std::string& u = unit->as_string();
    if (u == "ns") return 1e-9;
    if (u == "us") return 1e-6;
    if (u == "ms") return 1e-3;
    if (u == "s") return 1;
  }
  fail(path, unit ? *unit : entry,
       where + ": \"time_unit\" is " + (unit ? shown(*unit) : "absent") + "; expected ns, us, ms or s");
}

// Google Benchmark has no fixed name for instruction counts: a user counter "instructions", or the
// perf counter "INSTRUCTIONS" (--benchmark_perf_counters), which it reports as a user counter too.
const json::Value* instructions_counter(const json::Value& entry) {
  for (const auto& [key, value] : entry.as_object()) {
    std::string lower = key;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == "instructions") return &value;
  }
  return nullptr;
}

// Google Benchmark appends how a benchmark was run to its name ("/min_time:0.200/repeats:5/real_time");
// mfgrad's results name what was run only. Dropping those parts lets either format face the other,
// and runs with other settings face each other.
std::string without_run_settings(const std::string& run_name) {
  static constexpr std::string_view kSettings[] = {"real_time", "manual_time", "process_time"};
  static constexpr std::string_view kSettingPrefixes[] = {"min_time:", "min_warmup_time:", "iterations:", "repeats:"};
  std::string name;
  std::size_t begin = 0;
  while (begin <= run_name.size()) {
    const std::size_t end = std::min(run_name.find('/', begin), run_name.size());
    const std::string_view part(run_name.data() + begin, end - begin);
    const bool setting = std::find(std::begin(kSettings), std::end(kSettings), part) != std::end(kSettings) ||
                         std::any_of(std::begin(kSettingPrefixes), std::end(kSettingPrefixes),
                                     [&](std::string_view prefix) { return part.substr(0, prefix.size()) == prefix; });
    if (!setting) name += (name.empty() ? "" : "/") + std::string(part);
    begin = end + 1;
  }
  return name;
}

// Google Benchmark 1.7 writes, per benchmark (run_name), one "iteration" entry per repetition with the
// time per iteration, then "aggregate" entries (mean, median, stddev, cv; BigO and RMS per family);
// --benchmark_report_aggregates_only=true leaves only the aggregates.
ResultSet read_google_benchmark(const json::Value& doc, const std::string& path) {
  const json::Value* benchmarks = doc.find("benchmarks");
  if (!benchmarks->is_array()) fail(path, *benchmarks, "\"benchmarks\" is not an array");

  struct Point {
    double seconds = 0;
    std::optional<double> instructions;
  };
  struct Group {
    const json::Value* first;  // its first entry, where messages about the whole group point
    BenchmarkResult result;
    std::vector<Point> repetitions;
    std::optional<Point> median, mean;
  };
  std::vector<Group> groups;
  std::unordered_map<std::string, std::size_t> group_of;

  const json::Array& entries = benchmarks->as_array();
  for (std::size_t x = 0; x < entries.size(); ++x) {
    const json::Value& entry = entries[x];
    std::string where = "benchmarks[" + std::to_string(x) + "]";
    if (!entry.is_object()) fail(path, entry, where + " is not an object");
    const json::Value* run_name_value = entry.find("run_name");
    if (run_name_value == nullptr) fail(path, entry, where + " has no \"run_name\"");
    const std::string& run_name = benchmark_name(*run_name_value, path, where, "run_name");
    where += " (" + quote(run_name) + ")";
    const json::Value* run_type = entry.find("run_type");
    const bool iteration = run_type != nullptr && run_type->is_string() && run_type->as_string() == "iteration";
    if (!iteration && !(run_type != nullptr && run_type->is_string() && run_type->as_string() == "aggregate"))
      fail(path, run_type ? *run_type : entry,
           where + ": \"run_type\" is " + (run_type ? shown(*run_type) : "absent") +
               "; expected \"iteration\" or \"aggregate\"");

    auto [it, inserted] = group_of.try_emplace(run_name, groups.size());
    if (inserted) {
      groups.emplace_back();
      groups.back().first = &entry;
      groups.back().result.name = without_run_settings(run_name);
      if (groups.back().result.name.empty())
        fail(path, *run_name_value, where + ": \"run_name\" names no benchmark once its run settings are dropped");
    }
    Group& group = groups[it->second];

    if (const json::Value* error = entry.find("error_occurred"); error && error->is_bool() && error->as_bool()) {
      const json::Value* message = entry.find("error_message");
      group.result.failed = true;
      group.result.failure =
          "error: " + (message && message->is_string() ? quote(message->as_string()) : "(no message)");
      continue;
    }
    std::string aggregate;
    if (!iteration) {
      const json::Value* name = entry.find("aggregate_name");
      if (name == nullptr || !name->is_string())
        fail(path, entry, where + " is an aggregate without \"aggregate_name\"");
      aggregate = name->as_string();
      if (aggregate != "median" && aggregate != "mean") continue;  // spreads and complexity fits: no times
    }
    Point point;
    point.seconds = positive(entry.find("real_time"), entry, path, where + ": \"real_time\"") *
                    time_unit_seconds(entry.find("time_unit"), entry, path, where);
    if (const json::Value* ins = instructions_counter(entry))
      point.instructions = positive(ins, entry, path, where + ": the instructions counter");
    if (iteration)
      group.repetitions.push_back(point);
    else
      (aggregate == "median" ? group.median : group.mean) = point;
  }

  ResultSet set{path, "Google Benchmark", {}};
  std::unordered_set<std::string> seen;
  for (Group& group : groups) {
    BenchmarkResult& r = group.result;
    std::vector<Point> points = group.repetitions;
    if (points.empty() && !r.failed) {
      const std::optional<Point> summary = group.median ? group.median : group.mean;
      if (!summary) continue;  // a family's BigO/RMS fit, not a benchmark run
      points.push_back(*summary);
      r.aggregates_only = true;
    }
    std::vector<double> counts;
    for (const Point& p : points) {
      r.samples_s.push_back(p.seconds);
      if (p.instructions) counts.push_back(*p.instructions);
    }
    // Counts barely vary between repetitions; the median shrugs off the odd interrupted one.
    if (!counts.empty() && counts.size() == points.size()) r.instructions = detail::median(counts);
    add_result(set, seen, std::move(r), *group.first);
  }
  return set;
}

// ---------------------------------------------------------------------------------------------------
// Statistics

// Ranks of x followed by y in the pooled sample, doubled so that midranks of ties stay integers.
struct Ranks {
  std::vector<std::int64_t> doubled;
  std::vector<std::size_t> tie_sizes;  // of every group of equal values, singletons included
};

Ranks rank_pooled(std::span<const double> x, std::span<const double> y) {
  std::vector<std::pair<double, std::size_t>> pooled;
  for (std::size_t i = 0; i < x.size(); ++i) pooled.emplace_back(x[i], i);
  for (std::size_t j = 0; j < y.size(); ++j) pooled.emplace_back(y[j], x.size() + j);
  std::sort(pooled.begin(), pooled.end());
  Ranks r{std::vector<std::int64_t>(pooled.size()), {}};
  for (std::size_t begin = 0; begin < pooled.size();) {
    std::size_t end = begin + 1;
    while (end < pooled.size() && pooled[end].first == pooled[begin].first) ++end;
    // Positions begin+1 .. end share the midrank (begin+1+end)/2.
    for (std::size_t t = begin; t < end; ++t) r.doubled[pooled[t].second] = static_cast<std::int64_t>(begin + 1 + end);
    r.tie_sizes.push_back(end - begin);
    begin = end;
  }
  return r;
}

// P(|W − E W| ≥ |w − E W|) for the rank sum W of n values drawn without replacement from the pooled
// (mid)ranks: every split of the pooled sample is equally likely under the null hypothesis. Counting
// by rank sum keeps this exact with ties, where the distribution need not be symmetric.
double exact_p(const std::vector<std::int64_t>& doubled, std::size_t n, std::int64_t observed) {
  const std::size_t total_sum =
      static_cast<std::size_t>(std::accumulate(doubled.begin(), doubled.end(), std::int64_t{0}));
  const std::size_t width = total_sum + 1;
  // ways[k·width + s]: subsets of k of the ranks seen so far with doubled sum s. At most C(40, 20)
  // fits easily in 64 bits.
  std::vector<std::uint64_t> ways((n + 1) * width, 0);
  ways[0] = 1;
  for (std::int64_t rank : doubled) {
    const std::size_t r = static_cast<std::size_t>(rank);
    for (std::size_t k = n; k >= 1; --k)
      for (std::size_t s = total_sum; s >= r; --s) ways[k * width + s] += ways[(k - 1) * width + s - r];
  }
  const std::int64_t center = static_cast<std::int64_t>(n * (doubled.size() + 1));
  const std::int64_t deviation = std::abs(observed - center);
  std::uint64_t extreme = 0, all = 0;
  for (std::size_t s = 0; s < width; ++s) {
    const std::uint64_t w = ways[n * width + s];
    all += w;
    if (std::abs(static_cast<std::int64_t>(s) - center) >= deviation) extreme += w;
  }
  return static_cast<double>(extreme) / static_cast<double>(all);
}

// Normal approximation of U with the tie-corrected variance and a continuity correction of ½.
double normal_p(double u, std::size_t n, std::size_t m, const std::vector<std::size_t>& tie_sizes) {
  const double big_n = static_cast<double>(n + m);
  double ties = 0;
  for (std::size_t t : tie_sizes) ties += std::pow(static_cast<double>(t), 3) - static_cast<double>(t);
  const double nm = static_cast<double>(n) * static_cast<double>(m);
  const double variance = nm / 12 * ((big_n + 1) - ties / (big_n * (big_n - 1)));
  if (variance <= 0) return 1;  // every value tied: no evidence either way
  const double z = std::max(0.0, std::abs(u - nm / 2) - 0.5) / std::sqrt(variance);
  return std::min(1.0, std::erfc(z / std::sqrt(2.0)));
}

// The smallest two-sided p the exact test can give with n and m values: complete separation, 2/C(n+m, n).
double smallest_p(std::size_t n, std::size_t m) {
  double splits = 1;
  for (std::size_t i = 1; i <= n; ++i) splits = splits * static_cast<double>(m + i) / static_cast<double>(i);
  return std::min(1.0, 2 / splits);
}

// ---------------------------------------------------------------------------------------------------
// Verdicts

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

std::string format_g(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g", v);
  return buf;
}

std::string why_not_significant(const BenchmarkResult& b, const BenchmarkResult& c, double p, double alpha) {
  if (b.aggregates_only || c.aggregates_only)
    return std::string("only Google Benchmark aggregates in the ") + (b.aggregates_only ? "baseline" : "contender") +
           ", no repetitions to test: rerun without --benchmark_report_aggregates_only";
  const std::size_t n = b.samples_s.size(), m = c.samples_s.size();
  if (smallest_p(n, m) >= alpha) {
    std::size_t k = 1;
    while (smallest_p(k, k) >= alpha) ++k;
    return "too few repetitions: with " + std::to_string(n) + " and " + std::to_string(m) +
           " the smallest possible p is " + format_g(smallest_p(n, m)) + ", not below alpha " + format_g(alpha) +
           "; run at least " + std::to_string(k) + " per side";
  }
  return "p = " + format_g(p) + " is not below alpha " + format_g(alpha) +
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

// ---------------------------------------------------------------------------------------------------
// Report

// Terminal columns of UTF-8 text (µ, ±): every byte but continuation bytes.
std::size_t display_width(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char ch) { return (ch & 0xc0) != 0x80; }));
}

// "1.234 ± 0.012 ms (n=7)": four significant digits of the median, the MAD to the same decimals, in
// one unit for both sides of a line.
std::string format_times(const SampleSummary& s, detail::DurationUnit unit) {
  const double median = s.median / unit.seconds, mad = s.mad / unit.seconds;
  const int decimals = detail::duration_decimals(median);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.*f ± %.*f %s (n=%zu)", decimals, median, decimals, mad, unit.name, s.n);
  return buf;
}

std::string format_percent(double fraction, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.*f%%", decimals, 100 * fraction);
  return buf;
}

// "10%", "2.5%": thresholds as the user typed them.
std::string format_threshold(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g%%", 100 * fraction);
  return buf;
}

std::string describe(const ResultSet& set) {
  return set.path + " (" + set.format + ", " + std::to_string(set.results.size()) +
         (set.results.size() == 1 ? " benchmark)" : " benchmarks)");
}

}  // namespace

SampleSummary summarize_samples(const std::vector<double>& samples) {
  const double median = detail::median(samples);
  std::vector<double> deviations;
  for (double s : samples) deviations.push_back(std::abs(s - median));
  return {median, detail::median(deviations), samples.size()};
}

ResultSet parse_results(std::string_view text, const std::string& name) {
  json::Value doc;
  try {
    doc = json::parse(text);
  } catch (const std::runtime_error& e) {
    fail(name, e.what());
  }
  if (doc.is_object() && doc.find("mfgrad_results") != nullptr) return read_mfgrad(doc, name);
  if (doc.is_object() && doc.find("context") != nullptr && doc.find("benchmarks") != nullptr)
    return read_google_benchmark(doc, name);
  fail(name, doc,
       "not a results file: expected mfgrad's (\"mfgrad_results\": 1, from 'mfgrad bench --json') or Google "
       "Benchmark's (\"context\" and \"benchmarks\", from --benchmark_format=json)");
}

ResultSet load_results(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open it: ") + std::strerror(errno));
  try {
    std::ostringstream text;
    text << in.rdbuf();
    return parse_results(text.str(), path);
  } catch (const std::bad_alloc&) {
    fail(path, "out of memory reading and parsing it");
  }
}

MannWhitney mann_whitney(std::span<const double> x, std::span<const double> y, MannWhitneyMethod method) {
  for (std::span<const double> sample : {x, y})
    for (double v : sample)
      if (!std::isfinite(v)) throw std::invalid_argument("mann_whitney: samples must be finite");
  const std::size_t n = x.size(), m = y.size();
  if (method == MannWhitneyMethod::exact && n + m > kMannWhitneyExactMax)
    throw std::invalid_argument("mann_whitney: the exact test takes at most " + std::to_string(kMannWhitneyExactMax) +
                                " values, got " + std::to_string(n + m));
  MannWhitney result;
  if (n == 0 || m == 0) return result;

  const Ranks ranks = rank_pooled(x, y);
  const std::int64_t x_doubled = std::accumulate(ranks.doubled.begin(), ranks.doubled.begin() + n, std::int64_t{0});
  result.u = static_cast<double>(x_doubled) / 2 - static_cast<double>(n * (n + 1)) / 2;
  result.exact =
      method == MannWhitneyMethod::exact || (method == MannWhitneyMethod::automatic && n + m <= kMannWhitneyExactMax);
  result.p = result.exact ? exact_p(ranks.doubled, n, x_doubled) : normal_p(result.u, n, m, ranks.tie_sizes);
  return result;
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
    return !options.filter || std::regex_search(r.name, *options.filter);
  };
  std::unordered_map<std::string, const BenchmarkResult*> in_baseline, in_contender;
  for (const BenchmarkResult& r : baseline.results)
    if (selected(r)) in_baseline.emplace(r.name, &r);
  for (const BenchmarkResult& r : contender.results)
    if (selected(r)) in_contender.emplace(r.name, &r);
  if (in_baseline.empty())
    throw Error(baseline.path + ": no benchmark to compare" + (options.filter ? " matches the filter" : ""));

  Report report{describe(baseline), describe(contender), options, {}};
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

std::string format_report(const Report& report) {
  const CompareOptions& opt = report.options;
  const bool any_time = std::any_of(report.rows.begin(), report.rows.end(),
                                    [](const Comparison& c) { return c.baseline || c.contender; });
  const bool any_instructions = std::any_of(report.rows.begin(), report.rows.end(),
                                            [](const Comparison& c) { return c.instructions_change.has_value(); });

  // Cells first, so that every column can be as wide as its widest cell.
  struct Column {
    bool right_aligned;
    std::vector<std::string> cells;  // the header, then one per row
  };
  std::vector<Column> columns;
  const auto add_column = [&](const std::string& header, bool right_aligned, auto cell_of) {
    Column column{right_aligned, {header}};
    for (const Comparison& c : report.rows) column.cells.push_back(cell_of(c));
    columns.push_back(std::move(column));
  };
  // One unit per row, so that both sides read alike.
  const auto unit_of = [](const Comparison& c) {
    return detail::duration_unit(c.baseline ? c.baseline->median : c.contender ? c.contender->median : 1);
  };
  add_column("verdict", false, [](const Comparison& c) { return std::string(to_string(c.verdict)); });
  add_column("benchmark", false, [](const Comparison& c) { return c.name; });
  if (any_time) {
    add_column("baseline median ± MAD", true,
               [&](const Comparison& c) { return c.baseline ? format_times(*c.baseline, unit_of(c)) : "-"; });
    add_column("contender median ± MAD", true,
               [&](const Comparison& c) { return c.contender ? format_times(*c.contender, unit_of(c)) : "-"; });
    add_column("change", true, [](const Comparison& c) { return c.change ? format_percent(*c.change, 1) : "-"; });
    add_column("p", true, [](const Comparison& c) { return c.p ? format_g(*c.p) : "-"; });
  }
  if (any_instructions)
    add_column("instructions", true, [](const Comparison& c) {
      return c.instructions_change ? format_percent(*c.instructions_change, 2) : "-";
    });
  add_column("note", false, [](const Comparison& c) { return c.note; });

  std::string out = "baseline:  " + report.baseline + "\ncontender: " + report.contender + "\n";
  std::string criteria;
  if (any_time)
    criteria = "time: a change of the median beyond ±" + format_threshold(opt.threshold) + " with Mann–Whitney p < " +
               format_g(opt.alpha);
  if (any_instructions)
    criteria += (criteria.empty() ? "" : "; ") +
                ("instructions: a change beyond ±" + format_threshold(opt.instructions_threshold));
  out += criteria.empty() ? "\n" : criteria + "\n\n";
  for (std::size_t row = 0; row <= report.rows.size(); ++row) {
    std::string line;
    for (std::size_t col = 0; col < columns.size(); ++col) {
      const std::string& cell = columns[col].cells[row];
      if (col + 1 == columns.size()) {
        line += cell;
        break;
      }
      std::size_t width = 0;
      for (const std::string& s : columns[col].cells) width = std::max(width, display_width(s));
      const std::string pad(width - display_width(cell), ' ');
      line += columns[col].right_aligned ? pad + cell : cell + pad;
      line += "  ";
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }

  std::string counts;
  for (Verdict v : {Verdict::regression, Verdict::failed, Verdict::missing, Verdict::inconclusive, Verdict::improvement,
                    Verdict::unchanged, Verdict::added})
    if (const std::size_t n = report.count(v))
      counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + to_string(v);
  out += "\nsummary: " + std::to_string(report.rows.size()) +
         (report.rows.size() == 1 ? " benchmark: " : " benchmarks: ") + counts + "\n";

  if (report.passed()) {
    out += "PASS: no regression, failed check or missing benchmark";
    if (const std::size_t n = report.count(Verdict::inconclusive))
      out += " (" + std::to_string(n) + " inconclusive: see their notes)";
    out += ".\n";
  } else {
    std::string what;
    for (Verdict v : {Verdict::regression, Verdict::failed, Verdict::missing})
      if (const std::size_t n = report.count(v))
        what += (what.empty() ? "" : ", ") + std::to_string(n) + " " + to_string(v);
    out += "FAIL: " + what + "; the gate fails on regressions, failed checks and missing benchmarks.\n";
  }
  return out;
}

}  // namespace mfgrad::bench
