// bench's two front ends: `mfgrad bench`, the main job (every implementation and peer timed on the same
// data, side by side, with a table), and the Google Benchmark binary mfgrad_bench (bench/main.cpp). One
// option set selects the cases of both. Instruction counts run each case in bench's own child,
// mfgrad_count (bench/count.cpp), under callgrind.
#include "command.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <thread>

#include "args.hpp"
#include "harness.hpp"
#include "report.hpp"
#include "util.hpp"

namespace mfgrad::bench {

namespace {

const Args::Spec bench_spec{
    .values = {"k", "threads", "impl", "peers", "dtype", "isa", "reps", "min-time", "json", "plot", "seed", "lambda"},
    .repeatable = {"data", "k", "threads", "impl", "peers", "dtype", "isa"},
    .flags = {"instructions"}};

std::vector<std::string> names_or_all(const std::vector<std::string>& given, const std::vector<std::string>& all) {
  if (given.size() == 1 && given[0] == "all") return all;
  if (given.size() == 1 && given[0] == "none") return {};
  return given;
}

// Applies the command line to `c`; what is not given keeps c's value.
Config apply(const Args& args, Config c) {
  if (args.has("data")) c.datasets = args.list("data");
  if (args.has("k")) {
    c.ks.clear();
    for (const std::string& k : args.list("k"))
      c.ks.push_back(static_cast<std::size_t>(parse_integer("k", k, 1, 1 << 16)));
  }
  if (args.has("threads")) {
    c.threads.clear();
    for (const std::string& t : args.list("threads"))
      c.threads.push_back(static_cast<int>(parse_integer("threads", t, 1, 4096)));
  }
  if (args.has("impl")) c.impls = names_or_all(args.list("impl"), all_impls());
  if (args.has("peers")) c.peers = names_or_all(args.list("peers"), all_peers());
  if (args.has("dtype")) {
    c.dtypes.clear();
    for (const std::string& d : args.list("dtype")) {
      const std::optional<Precision> precision = detail::parse_precision(d);
      if (!precision) throw UsageError("bench: --dtype expects float32, float64, bfloat16 or float16, got " + quote(d));
      c.dtypes.push_back(*precision);
    }
  }
  if (args.has("isa")) {
    for (const std::string& name : args.list("isa")) {
      try {
        const Isa isa = parse_isa(name);
        const ScopedSimdLevel allowed(isa);  // the same checks as the runs will make, undone at once
        if (std::find(c.isas.begin(), c.isas.end(), isa) == c.isas.end()) c.isas.push_back(isa);  // once each
      } catch (const Error& e) {
        throw UsageError(std::string("bench: --isa: ") + e.what());  // the first refused level, one line
      }
    }
  }
  if (args.has("reps")) c.reps = static_cast<int>(args.integer("reps", 5, 1, 1000));
  if (args.has("min-time")) c.min_time = args.seconds("min-time", 0.2);
  c.seed = static_cast<std::uint64_t>(args.integer("seed", static_cast<std::int64_t>(c.seed), 0, INT64_MAX));
  if (args.has("lambda")) c.lambda = parse_number("lambda", *args.get("lambda"), 0, HUGE_VAL);
  if (c.datasets.empty() || c.ks.empty() || c.threads.empty() || (c.impls.empty() && c.peers.empty()))
    throw UsageError("bench: nothing to run (empty --data, --k, --threads or --impl/--peers)");
  for (const std::string& i : c.impls)
    if (i != plan_name && i != plan_estimate_name) kernel(i);  // unknown or unsupported names fail before any work
  return c;
}

}  // namespace

BenchOptions read_bench_options(const std::vector<std::string>& argv) {
  const Args args("bench", argv, bench_spec);
  if (!args.positional().empty()) throw UsageError("bench: unexpected argument " + quote(args.positional()[0]));

  // --instructions: instead of timing, callgrind's counts of one single-threaded evaluation of each
  // registered implementation (repeatable on a noisy machine). Decided here, once.
  BenchOptions o{default_config(), args.has("instructions"), args.get("json"), args.get("plot")};
  if (o.counting) {  // deterministic counts, single-threaded, mfgrad implementations only
    o.config.threads = {1};
    o.config.peers = {};
  }
  o.config = apply(args, o.config);
  if (o.counting) {  // callgrind counts the registered implementations only
    std::erase_if(o.config.impls, [](const std::string& i) { return i == plan_name || i == plan_estimate_name; });
    o.config.peers.clear();
    o.config.probes = false;  // the gather bound and the refresh are timed, not counted
  }
  return o;
}

int bench_command(const std::vector<std::string>& argv) {
  const BenchOptions options = read_bench_options(argv);
  const bool counting = options.counting;
  const Config& config = options.config;
  const json::Value context = run_context(config);

  Suite suite(config);
  suite.register_cases();
  std::vector<Record> records;
  Ceilings ceilings;
  if (counting) {
    records = suite.records();
    count_instructions(config, records);
  } else {
    std::fprintf(stderr, "mfgrad bench: measuring this machine's FMA peak and memory bandwidth...\n");
    bool fp64 = false;
    for (Precision p : config.dtypes) fp64 = fp64 || p == Precision::f64;
    ceilings = measure_ceilings(config.threads, fp64);
    std::fprintf(stderr, "mfgrad bench: %zu cases\n", suite.case_count());
    // Repetitions of a block's cases run in random order (Google Benchmark's random interleaving), so
    // that drift in the machine's speed falls on every row of the block alike.
    static char program[] = "mfgrad", interleave[] = "--benchmark_enable_random_interleaving=true";
    char* flags[] = {program, interleave, nullptr};
    int flag_count = 2;
    benchmark::Initialize(&flag_count, flags);
    auto reporter = suite.reporter(true);
    for (const std::string& block : suite.blocks()) benchmark::RunSpecifiedBenchmarks(reporter.get(), block);
    records = suite.records();
  }

  const auto rows = summarize(records, ceilings);
  if (counting) {
    std::printf("%-52s %16s  %s\n", "benchmark (single-threaded, under callgrind)", "instructions", "check");
    for (const auto& r : rows)
      std::printf("%-52s %16.0f  %s\n", r.record.name.c_str(), r.record.instructions.value_or(-1),
                  r.record.passed ? "ok" : ("FAILED: " + r.record.error).c_str());
  } else {
    std::fputs(render_table(rows, ceilings, context).c_str(), stdout);
  }
  json::Value doc = results_json(rows, ceilings, context);
  std::string command = "mfgrad bench";
  for (const std::string& a : argv) command += " " + a;
  doc["context"]["command"] = command;
  if (const auto& path = options.json) {
    detail::write_file_atomically(*path, doc.dump(1) + "\n");
    std::fprintf(stderr, "mfgrad bench: wrote %s\n", path->c_str());
  }
  if (const auto& dir = options.plot)
    for (const std::string& png : plot(rows, ceilings, *dir))
      std::fprintf(stderr, "mfgrad bench: wrote %s\n", png.c_str());
  bool failed = false;
  for (const auto& r : records) failed = failed || !r.passed;
  return failed ? 1 : 0;
}

int google_benchmark_main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::vector<std::string> rest(argv + 1, argv + argc);
  Args::Spec spec = bench_spec;
  spec.help = "the comment at the top of bench/main.cpp, or 'mfgrad help bench'";
  Args args("mfgrad_bench", rest, spec);
  if (!args.positional().empty()) throw UsageError("mfgrad_bench: unexpected argument '" + args.positional()[0] + "'");
  Config c;
  c.datasets = {"netflix-25m"};
  c.ks = {16, 32, 64, 128};
  const int hw = std::max(1, omp_get_num_procs());
  for (int t = 1; t <= hw; ++t) c.threads.push_back(t);
  c.impls = all_impls();
  c.peers = all_peers();
  c = apply(args, c);
  const json::Value context = run_context(c);
  for (const auto& [key, value] : context.as_object())
    benchmark::AddCustomContext("mfgrad_" + key, value.is_string() ? value.as_string() : value.dump());
  Suite suite(c);
  suite.register_cases();
  benchmark::ConsoleReporter console;
  auto reporter = suite.reporter(false, &console);
  benchmark::RunSpecifiedBenchmarks(reporter.get());
  benchmark::Shutdown();
  for (const auto& r : suite.records())
    if (!r.passed && !r.samples_s.empty()) return 1;
  return 0;
}

}  // namespace mfgrad::bench
