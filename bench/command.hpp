// bench's front ends: the command line of `mfgrad bench` and the main of the Google Benchmark binary.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "harness.hpp"

namespace mfgrad::bench {

// The command line of `mfgrad bench`, read and checked in full (ranges, names, the ISA levels this
// CPU runs) before anything runs or Google Benchmark sees a value.
struct BenchOptions {
  Config config;
  bool counting = false;            // --instructions
  std::optional<std::string> json;  // --json FILE
  std::optional<std::string> plot;  // --plot DIR
};
// Throws UsageError (or mfgrad::Error for a name the registry does not know) with a one-line message
// naming the option and the value.
BenchOptions read_bench_options(const std::vector<std::string>& argv);

// `mfgrad bench ARGS...`: times the selected cases side by side and prints the table, or with
// --instructions counts each one's instructions under callgrind. Returns the exit status (1 when a
// check against the oracle failed); a bad command line throws UsageError.
int bench_command(const std::vector<std::string>& argv);

// mfgrad_bench's main: Google Benchmark's own flags, then the same case selection as `mfgrad bench`.
int google_benchmark_main(int argc, char** argv);

}  // namespace mfgrad::bench
