// mfgrad compare — the performance-regression gate between two results files (bench/compare.hpp).
#include <cmath>
#include <cstdio>

#include "cli.hpp"
#include "compare.hpp"

namespace mfgrad::cli {

namespace {

// A percentage option as a fraction.
double fraction_option(const Args& args, const std::string& name, double fallback_percent) {
  const double percent = args.number(name, fallback_percent);
  if (!std::isfinite(percent) || percent < 0)
    throw UsageError("compare: --" + name + " expects a percentage of 0 or more, got '" + *args.get(name) + "'");
  return percent / 100;
}

}  // namespace

int cmd_compare(const std::vector<std::string>& argv) {
  Args args(
      "compare", argv,
      {.values = {"threshold", "alpha", "instructions-threshold", "filter", "format"}, .flags = {"strict-context"}});
  if (args.positional().size() != 2) throw UsageError("compare: expects two files, BASELINE.json CONTENDER.json");

  bench::CompareOptions opt;
  opt.threshold = fraction_option(args, "threshold", 10);
  opt.instructions_threshold = fraction_option(args, "instructions-threshold", 2);
  opt.alpha = args.number("alpha", 0.05);
  if (!(opt.alpha > 0 && opt.alpha < 1))
    throw UsageError("compare: --alpha expects a number between 0 and 1, got '" + *args.get("alpha") + "'");
  if (const auto filter = args.get("filter")) opt.filter = *filter;
  bench::ReportFormat format = bench::ReportFormat::text;
  if (const auto name = args.get("format")) {
    try {
      format = bench::parse_report_format(*name);
    } catch (const Error& e) {
      throw UsageError(std::string("compare: --format: ") + e.what());
    }
  }

  // An input that cannot be read is not a regression: exit 2, as for a bad command line, so that CI can
  // tell a broken gate from a slower build (1).
  bench::ResultSet baseline, contender;
  try {
    baseline = bench::load_results(args.positional()[0]);
    contender = bench::load_results(args.positional()[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mfgrad compare: error: %s\n", e.what());
    return 2;
  }
  bench::Report report;
  try {
    report = bench::compare(baseline, contender, opt);
  } catch (const Error& e) {  // nothing left to compare: a gate that compares nothing is a broken gate
    std::fprintf(stderr, "mfgrad compare: error: %s\n", e.what());
    return 2;
  }
  std::fputs(bench::format_report(report, format).c_str(), stdout);
  // Runs from different machines, compilers or versions compare what differs between them as much as
  // the change under test: a warning by default, an unusable gate (2) when asked to be strict.
  if (!report.context_differences.empty() && args.has("strict-context")) {
    std::fprintf(stderr, "mfgrad compare: error: --strict-context: %zu context difference%s (see the report)\n",
                 report.context_differences.size(), report.context_differences.size() == 1 ? "" : "s");
    return 2;
  }
  return report.passed() ? 0 : 1;
}

}  // namespace mfgrad::cli
