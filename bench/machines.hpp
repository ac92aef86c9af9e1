// Runs of `mfgrad bench --json` from several machines (or settings) side by side: `mfgrad report`.
#pragma once

#include <string>
#include <vector>

namespace mfgrad::bench {

struct MachinesOptions {
  bool allow_mixed_versions = false;  // compare runs of different mfgrad versions (flagged in the report)
};

// Reads each results file (bench/results.hpp) and writes DIR/report.md with PNG plots beside it: each
// run's context side by side (differences flagged), then per data set, dtype, k and implementation
// each run's median time at its most threads, GFLOP/s, % of its own FMA peak, 1 → T scaling and its
// time relative to the first run, the fastest run marked. Throws Error, naming the files, for runs that
// cannot be compared: another mfgrad version (unless allowed), the same data set name with another
// number of entries, instruction counts instead of times, no case in common. Returns the files written.
std::vector<std::string> machines_report(const std::vector<std::string>& files, const std::string& dir,
                                         const MachinesOptions& options);

}  // namespace mfgrad::bench
