// mfgrad plan — which implementation a plan picks for a data set and k, and why.
#include <cstdio>
#include <filesystem>
#include <new>

#include "cli.hpp"
#include "mfgrad/dataset.hpp"
#include "mfgrad/memory.hpp"
#include "mfgrad/plan.hpp"
#include "util.hpp"

namespace mfgrad::cli {

PlanOptions plan_options(const Args& args, int threads) {
  PlanOptions o;
  o.threads = threads;
  const std::string mode = args.get("plan").value_or("measure");
  if (mode == "estimate")
    o.mode = PlanMode::estimate;
  else if (mode == "measure")
    o.mode = PlanMode::measure;
  else
    throw UsageError("--plan expects estimate or measure, got '" + mode + "'");
  o.seconds_per_candidate = args.seconds("seconds", o.seconds_per_candidate);
  if (auto w = args.get("wisdom"); w && std::filesystem::exists(*w)) Plan::load_wisdom(*w);
  return o;
}

void save_wisdom_if_asked(const Args& args) {
  if (auto w = args.get("wisdom")) Plan::save_wisdom(*w);
}

Plan make_plan(const Observed& obs, std::size_t k, Precision precision, const Args& args, int threads,
               const std::string& what) {
  const PlanOptions options = plan_options(args, threads);
  try {
    return Plan(obs, k, precision, options);
  } catch (const std::bad_alloc&) {
    throw OutOfMemory("out of memory " + what);
  } catch (const Error& e) {
    if (const auto wisdom = args.get("wisdom")) throw Error(what + " with the wisdom of " + *wisdom + ": " + e.what());
    throw;
  }
}

int cmd_plan(const std::vector<std::string>& argv) {
  Args args("plan", argv,
            {.values = {"data", "ratings", "format", "k", "dtype", "threads", "plan", "seconds", "wisdom"}});
  if (!args.positional().empty()) throw UsageError("plan: unexpected argument '" + args.positional()[0] + "'");
  if (args.has("ratings") == args.has("data"))
    throw UsageError("plan: give exactly one of --ratings FILE and --data PRESET");
  const int threads = set_threads(static_cast<int>(args.integer("threads", 0, 1, 4096)));
  const auto k = static_cast<std::size_t>(parse_integer("k", args.required("k"), 1, 1 << 16));
  const std::string dtype = args.get("dtype").value_or("float32");
  const std::optional<Precision> parsed = detail::parse_precision(dtype);
  if (!parsed) throw UsageError("plan: --dtype expects float32, float64, bfloat16 or float16, got " + quote(dtype));
  const Dataset data = load_dataset(args.has("ratings") ? *args.get("ratings") : *args.get("data"),
                                    parse_ratings_format(args.get("format").value_or("auto")));
  const Precision precision = *parsed;
  const Observed& obs = data.observed;
  const std::string what = "making a plan for " + data.description + " at k = " + std::to_string(k) + " in " + dtype +
                           " on " + std::to_string(threads) + " threads";
  check_memory(evaluation_memory(obs.rows(), obs.cols(), obs.nnz(), k, precision, threads, true), what);
  const Plan plan = make_plan(obs, k, precision, args, threads, what);
  std::printf("%s, k = %zu, %s, %d threads, on %s\n", data.description.c_str(), k, dtype.c_str(), plan.threads(),
              Plan::machine_signature().c_str());
  if (!plan.candidates().empty()) {
    std::printf("  %-58s %14s %8s\n", "candidate", "median", "vs best");
    for (const PlanCandidate& c : plan.candidates())
      std::printf("  %-58s %11.3f ms %7.2fx%s\n", c.name.c_str(), c.seconds * 1e3,
                  c.seconds / plan.candidates().front().seconds, c.dropped ? "  (one cold run: dropped)" : "");
  }
  std::printf("chosen: %s\nwhy:    %s\n", plan.choice().c_str(), plan.reason().c_str());
  save_wisdom_if_asked(args);
  return 0;
}

}  // namespace mfgrad::cli
