// bench's front ends: the command line of `mfgrad bench` and the main of the Google Benchmark binary.
#pragma once

#include <string>
#include <vector>

namespace mfgrad::bench {

// `mfgrad bench ARGS...`: times the selected cases side by side and prints the table, or with
// --instructions counts each one's instructions under callgrind. Returns the exit status (1 when a
// check against the oracle failed); a bad command line throws UsageError.
int bench_command(const std::vector<std::string>& argv);

// mfgrad_bench's main: Google Benchmark's own flags, then the same case selection as `mfgrad bench`.
int google_benchmark_main(int argc, char** argv);

}  // namespace mfgrad::bench
