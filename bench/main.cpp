// mfgrad_bench — the benchmark harness as a plain Google Benchmark binary.
//
// Takes Google Benchmark's own flags (--benchmark_filter, --benchmark_repetitions,
// --benchmark_out=FILE --benchmark_out_format=json, ...) plus mfgrad's data selection
// (--data, --k, --threads, --impl, --peers, --dtype; defaults: netflix-25m, k 16,32,64,128,
// threads 1..hardware, every implementation and peer). Same cases, same names and same oracle check
// as `mfgrad bench`; the JSON context carries the machine description under mfgrad_* keys.
#include "args.hpp"
#include "command.hpp"

int main(int argc, char** argv) {
  return mfgrad::bench::run_program("mfgrad_bench", [&] { return mfgrad::bench::google_benchmark_main(argc, argv); });
}
