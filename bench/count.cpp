// mfgrad_count — bench's child for instruction counts: one single-threaded evaluation of one case, run
// by `mfgrad bench --instructions` (bench::count_instructions) under valgrind's callgrind with
// collection off until the evaluation starts. Prints one JSON line: the entry count and the verdict of
// the check against the oracle. Not meant to be run by hand, but harmless when it is.
//
//   mfgrad_count --impl NAME[@LEVEL] --data PRESET|FILE --k K --dtype float32|float64 --seed S --lambda L
#include <string>

#include "args.hpp"
#include "harness.hpp"
#include "util.hpp"

int main(int argc, char** argv) {
  using namespace mfgrad;
  return bench::run_program("mfgrad_count", [&] {
    const bench::Args args("mfgrad_count", std::vector<std::string>(argv + 1, argv + argc),
                           {.values = {"impl", "data", "k", "dtype", "seed", "lambda"}, .help = "bench/count.cpp"});
    if (!args.positional().empty()) throw bench::UsageError("unexpected argument '" + args.positional()[0] + "'");
    const std::string dtype = args.get("dtype").value_or("float32");
    const std::optional<Precision> precision = detail::parse_precision(dtype);
    if (!precision) throw bench::UsageError("--dtype expects float32 or float64, got '" + dtype + "'");
    bench::Suite::evaluate_once_for_callgrind(
        args.required("impl"), args.required("data"), static_cast<std::size_t>(args.integer("k", 16, 1, 1 << 16)),
        *precision, static_cast<std::uint64_t>(args.integer("seed", 1, 0, INT64_MAX)), args.number("lambda", 0.05));
    return 0;
  });
}
