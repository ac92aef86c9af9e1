// Reading results files: mfgrad's JSON and Google Benchmark's (compare.hpp).
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <new>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "compare.hpp"
#include "io_detail.hpp"
#include "json.hpp"
#include "mfgrad/message.hpp"
#include "mfgrad/types.hpp"
#include "util.hpp"

namespace mfgrad::bench {

namespace {

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

// The context facts in ContextEntry's order: (the key reports show, the key mfgrad's "context" uses).
constexpr std::pair<const char*, const char*> kContextKeys[] = {
    {"cpu", "cpu"},     {"hardware threads", "hardware_threads"}, {"isa", "isa"},   {"compiler", "compiler"},
    {"flags", "flags"}, {"OMP_NUM_THREADS", "omp_num_threads"},   {"seed", "seed"}, {"lambda", "lambda"},
};

// A context value as text: strings as they are, anything else as its JSON.
std::string context_text(const json::Value& v) { return v.is_string() ? v.as_string() : v.dump(); }

// The thread counts the benchmark names state ("/threads:N"), ascending: "1,2".
std::string thread_counts(const std::vector<BenchmarkResult>& results) {
  std::set<unsigned long> counts;
  for (const BenchmarkResult& r : results) {
    constexpr std::string_view kPart = "/threads:";
    const std::size_t at = r.name.find(kPart);
    if (at == std::string::npos) continue;
    const char* first = r.name.data() + at + kPart.size();
    unsigned long n = 0;
    const auto [end, ec] = std::from_chars(first, r.name.data() + r.name.size(), n);
    if (ec == std::errc() && end != first) counts.insert(n);
  }
  std::string text;
  for (unsigned long n : counts) text.append(text.empty() ? "" : ",").append(std::to_string(n));
  return text;
}

// `lookup(key)`: the value of one of mfgrad's context keys, or null; `mfgrad_version`: the version's
// value, or null. Facts a file does not state are left out, never guessed.
template <class Lookup>
std::vector<ContextEntry> context_entries(Lookup lookup, const json::Value* mfgrad_version,
                                          const std::vector<BenchmarkResult>& results) {
  std::vector<ContextEntry> context;
  for (const auto& [shown_key, file_key] : kContextKeys) {
    if (const json::Value* v = lookup(file_key); v != nullptr && !v->is_null())
      context.push_back({shown_key, context_text(*v)});
    if (std::string_view(file_key) == "flags" && mfgrad_version != nullptr && !mfgrad_version->is_null())
      context.push_back({"mfgrad version", context_text(*mfgrad_version)});
  }
  if (std::string counts = thread_counts(results); !counts.empty()) context.push_back({"thread counts", counts});
  return context;
}

ResultSet read_mfgrad(const json::Value& doc, const std::string& path) {
  const json::Value& version = *doc.find("mfgrad_results");
  if (!version.is_number() || version.as_number() != 1)
    fail(path, version, "\"mfgrad_results\" is " + shown(version) + "; this mfgrad reads version 1");
  const json::Value* results = doc.find("results");
  if (results == nullptr || !results->is_array())
    fail(path, results ? *results : doc, "\"results\" is absent or not an array");

  ResultSet set{path, "mfgrad", {}, {}};
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
  if (const json::Value* context = doc.find("context"); context != nullptr && context->is_object()) {
    const json::Value* versions = context->find("versions");
    set.context = context_entries([&](std::string_view key) { return context->find(key); },
                                  versions && versions->is_object() ? versions->find("mfgrad") : nullptr, set.results);
  } else {
    set.context = context_entries([](std::string_view) { return nullptr; }, nullptr, set.results);
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
    if (!setting) name.append(name.empty() ? "" : "/").append(part);
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

  ResultSet set{path, "Google Benchmark", {}, {}};
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
  // mfgrad_bench adds mfgrad's context with an "mfgrad_" prefix, as strings (versions as JSON text); any
  // other Google Benchmark binary states its CPU count only.
  const json::Value& context = *doc.find("context");
  if (context.is_object()) {
    json::Value version;
    if (const json::Value* versions = context.find("mfgrad_versions"); versions != nullptr && versions->is_string()) {
      try {
        const json::Value parsed = json::parse(versions->as_string());
        if (const json::Value* v = parsed.is_object() ? parsed.find("mfgrad") : nullptr) version = *v;
      } catch (const std::runtime_error&) {
        fail(path, *versions, "context: \"mfgrad_versions\" is not JSON text");
      }
    }
    set.context = context_entries(
        [&](std::string_view key) -> const json::Value* {
          if (const json::Value* v = context.find("mfgrad_" + std::string(key))) return v;
          return key == "hardware_threads" ? context.find("num_cpus") : nullptr;
        },
        &version, set.results);
  }
  return set;
}

}  // namespace

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
  // A stream is looked at before it is read whole: results are JSON objects, so anything that does not
  // open with '{' (/dev/zero, a binary pipe) is refused at once.
  const detail::FileBytes bytes(path, [&](std::string_view head) {
    const std::size_t first = head.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && head[first] != '{')
      fail(path, "byte " + std::to_string(first) + " is " + quote(head.substr(first, 1)) +
                     ", not '{': not a JSON results file");
  });
  return parse_results(bytes.view(), path);
}

}  // namespace mfgrad::bench
