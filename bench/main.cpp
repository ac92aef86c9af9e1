// mfgrad_bench — the benchmark harness as a plain Google Benchmark binary.
//
// Takes Google Benchmark's own flags (--benchmark_filter, --benchmark_repetitions,
// --benchmark_out=FILE --benchmark_out_format=json, ...) plus mfgrad's data selection
// (--data, --k, --threads, --impl, --peers, --dtype; defaults: netflix-25m, k 16,32,64,128,
// threads 1..hardware, every implementation and peer). Same cases, same names and same oracle check
// as `mfgrad bench`; the JSON context carries the machine description under mfgrad_* keys.
#include <cstdio>
#include <exception>
#include <string>

#include "args.hpp"
#include "command.hpp"

int main(int argc, char** argv) {
  try {
    return mfgrad::bench::google_benchmark_main(argc, argv);
  } catch (const mfgrad::bench::UsageError& e) {
    // Messages from the option reader already name the program; others (a bad value) do not.
    const std::string what = e.what();
    std::fprintf(stderr, "%s%s\n", what.rfind("mfgrad_bench: ", 0) == 0 ? "" : "mfgrad_bench: ", what.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mfgrad_bench: error: %s\n", e.what());
    return 1;
  }
}
