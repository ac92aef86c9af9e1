// Fuzz target of `mfgrad compare`'s input: mfgrad's or Google Benchmark's results JSON. A file read
// must hold usable benchmarks, and comparing it with itself must pass unless one of them failed.
#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "compare.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mfgrad;
  using fuzz::require;
  const std::string name = "fuzz.json";
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto named = [&](const std::string& message) {
    fuzz::check_printable(message);
    require(message.starts_with(name + ":"), "message does not start with the file's name", message);
  };
  bench::ResultSet set;
  if (!fuzz::attempt([&] { set = bench::parse_results(text, name); }, named)) return 0;

  std::unordered_set<std::string> names;
  bool any_failed = false;
  for (const bench::BenchmarkResult& r : set.results) {
    require(!r.name.empty() && names.insert(r.name).second, "names empty or repeated", r.name);
    require(std::none_of(r.name.begin(), r.name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }),
            "control byte in a name", r.name);
    for (const double s : r.samples_s) require(std::isfinite(s) && s > 0, "sample not a positive number");
    require(!r.instructions || (std::isfinite(*r.instructions) && *r.instructions > 0), "instructions not positive");
    any_failed = any_failed || r.failed;
  }
  bench::Report report;
  const bool compared = fuzz::attempt([&] { report = bench::compare(set, set, {}); }, fuzz::check_printable);
  require(compared == !set.results.empty(), "only an empty file has nothing to compare");
  if (!compared) return 0;
  require(report.passed() == !any_failed, "a file compared with itself must pass unless a benchmark failed");
  const std::string shown = bench::format_report(report);
  require(std::none_of(shown.begin(), shown.end(),
                       [](char c) { return c != '\n' && (static_cast<unsigned char>(c) < 0x20 || c == 0x7f); }),
          "control byte in the report", shown);
  return 0;
}
