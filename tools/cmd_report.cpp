// mfgrad report — several results files (machines, settings) side by side (bench/machines.hpp).
#include <cstdio>

#include "cli.hpp"
#include "machines.hpp"

namespace mfgrad::cli {

int cmd_report(const std::vector<std::string>& argv) {
  Args args("report", argv, {.values = {"out"}, .flags = {"allow-mixed-versions"}});
  if (args.positional().empty()) throw UsageError("report: expects one or more results files, RUN.json ...");
  const std::string out = args.required("out");
  const std::vector<std::string> written =
      bench::machines_report(args.positional(), out, {.allow_mixed_versions = args.has("allow-mixed-versions")});
  for (const std::string& file : written) std::printf("%s\n", file.c_str());
  return 0;
}

}  // namespace mfgrad::cli
