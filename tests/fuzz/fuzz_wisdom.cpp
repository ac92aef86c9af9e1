// Fuzz target of the plan's wisdom file. "@MACHINE@" in the input stands for this machine's signature,
// so that mutated lines can match the plan made afterwards: whatever choice the file holds (any
// implementation name, any cache sizes), the plan must give the oracle's result or refuse the choice
// with an Error.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "fuzz.hpp"
#include "mfgrad/check.hpp"
#include "mfgrad/plan.hpp"

namespace {

using namespace mfgrad;
using fuzz::require;

// The problem every wisdom line of the seed corpus describes: 5 x 4, 10 entries, k = 8, float32, 1 thread.
const Observed& problem() {
  static const Observed obs = [] {
    Entries e;
    e.rows = 5;
    e.cols = 4;
    for (index_t i = 0; i < 5; ++i)
      for (index_t j = 0; j < 4; ++j)
        if ((i + j) % 2 == 1) e.push(i, j, 1.0 + i - 0.5 * j);
    return Observed::build(e);
  }();
  return obs;
}

void plan_matches_oracle() {
  const Observed& obs = problem();
  const std::size_t k = 8, m = 5, n = 4;
  std::vector<float> u(m * k), v(n * k);
  for (std::size_t x = 0; x < u.size(); ++x) u[x] = 0.1f * static_cast<float>(x % 7) - 0.3f;
  for (std::size_t x = 0; x < v.size(); ++x) v[x] = 0.05f * static_cast<float>(x % 5) + 0.1f;
  std::vector<float> gu(m * k), gv(n * k), want_u(m * k), want_v(n * k);
  double got = 0, want = 0;
  const bool planned = fuzz::attempt(
      [&] {
        Plan plan(obs, k, Precision::f32, {.threads = 1, .mode = PlanMode::measure, .seconds_per_candidate = 1e-4});
        got = plan.evaluate<float>({u.data(), m, k}, {v.data(), n, k}, 0.1, {gu.data(), m, k}, {gv.data(), n, k});
        Workspace ws(1);
        want = evaluate<float>(oracle(), obs, {u.data(), m, k}, {v.data(), n, k}, 0.1, {want_u.data(), m, k},
                               {want_v.data(), n, k}, ws);
      },
      fuzz::check_printable);
  if (!planned) return;
  const ErrorBounds bounds = error_bounds<float>(obs, u.data(), v.data(), k, 0.1);
  const CheckReport report =
      check<float>(obs, k, bounds, {want, want_u.data(), want_v.data()}, {got, gu.data(), gv.data()});
  require(report.passed, "the plan's result differs from the oracle's", report.message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path =
      (std::filesystem::temp_directory_path() / ("mfgrad_fuzz_wisdom_" + std::to_string(::getpid()))).string();
  static const std::string machine = Plan::machine_signature();
  std::string text(reinterpret_cast<const char*>(data), size);
  for (std::size_t at = 0; (at = text.find("@MACHINE@", at)) != std::string::npos; at += machine.size())
    text.replace(at, 9, machine);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;

  Plan::forget_wisdom();
  const bool loaded = fuzz::attempt([&] { Plan::load_wisdom(path); },
                                    [&](const std::string& message) {
                                      fuzz::check_printable(message);
                                      require(message.starts_with(path + ":"),
                                              "message does not start with the file's name and line", message);
                                    });
  if (loaded) plan_matches_oracle();
  Plan::forget_wisdom();
  std::filesystem::remove(path);
  return 0;
}
