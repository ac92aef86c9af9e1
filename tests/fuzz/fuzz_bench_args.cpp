// Fuzz target of `mfgrad bench`'s command line: the bytes are split at newlines into arguments. Reading
// them either gives options inside their documented ranges, or refuses them with a UsageError (or an
// mfgrad::Error for an implementation the registry does not know) whose message is one printable
// line; nothing else may escape, nothing may abort, and Google Benchmark never sees a value.
#include <cmath>
#include <string>
#include <vector>

#include "args.hpp"
#include "command.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mfgrad;
  using fuzz::require;
  std::vector<std::string> argv(1);
  for (std::size_t i = 0; i < size && argv.size() <= 64; ++i) {
    if (data[i] == '\n')
      argv.emplace_back();
    else
      argv.back() += static_cast<char>(data[i]);
  }
  bench::BenchOptions o;
  try {
    o = bench::read_bench_options(argv);
  } catch (const bench::UsageError& e) {
    fuzz::check_printable(e.what());
    return 0;
  } catch (const Error& e) {
    fuzz::check_printable(e.what());
    return 0;
  } catch (const std::exception& e) {
    fuzz::violated("an exception other than UsageError or mfgrad::Error escaped", e.what());
  }
  const bench::Config& c = o.config;
  require(!c.datasets.empty() && !c.ks.empty() && !c.threads.empty(), "nothing to run was accepted");
  require(!c.impls.empty() || !c.peers.empty(), "no implementation and no peer was accepted");
  for (const std::size_t k : c.ks) require(k >= 1 && k <= (1u << 16), "k out of range", std::to_string(k));
  for (const int t : c.threads) require(t >= 1 && t <= 4096, "threads out of range", std::to_string(t));
  require(!c.reps || (*c.reps >= 1 && *c.reps <= 1000), "reps out of range");
  require(!c.min_time || (std::isfinite(*c.min_time) && *c.min_time > 0), "min-time not positive");
  require(std::isfinite(c.lambda) && c.lambda >= 0, "lambda not finite and >= 0");
  require(!o.counting || (c.threads == std::vector<int>{1} && c.peers.empty()), "counting runs one thread, no peer");
  return 0;
}
