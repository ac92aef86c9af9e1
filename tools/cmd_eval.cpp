// mfgrad eval — one evaluation of F, ∂F/∂U, ∂F/∂V from files (or a preset and random factors).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli.hpp"
#include "json.hpp"
#include "mfgrad/dataset.hpp"
#include "mfgrad/io.hpp"
#include "mfgrad/kernel.hpp"

namespace mfgrad::cli {

namespace {

struct Options {
  const Kernel* kernel;
  const Args* args;  // for --plan / --seconds / --wisdom
  double lambda;
  int threads;
  std::filesystem::path out;
  EvalOptions eval;
};

template <class T>
json::Value evaluate_and_write(const Dataset& data, std::vector<T> u, std::vector<T> v, std::size_t k,
                               const Options& opt) {
  const Observed& obs = data.observed;
  const std::size_t m = static_cast<std::size_t>(obs.rows()), n = static_cast<std::size_t>(obs.cols());
  std::vector<T> gu(m * k), gv(n * k);
  Workspace ws(opt.threads);
  std::unique_ptr<Plan> plan;
  if (opt.args->has("plan")) {  // the plan's preparation happens here, outside the timed evaluation
    plan = std::make_unique<Plan>(obs, k, precision_of<T>(), plan_options(*opt.args, opt.threads));
    save_wisdom_if_asked(*opt.args);
  }
  const Matrix<const T> um{u.data(), u.size() / k, k}, vm{v.data(), v.size() / k, k};
  const auto start = std::chrono::steady_clock::now();
  const double loss = plan ? plan->evaluate<T>(um, vm, opt.lambda, {gu.data(), m, k}, {gv.data(), n, k}, opt.eval)
                           : evaluate<T>(*opt.kernel, obs, um, vm, opt.lambda, {gu.data(), m, k}, {gv.data(), n, k},
                                         ws, opt.eval);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // Only now that everything is computed does anything reach --out.
  std::filesystem::create_directories(opt.out);
  const std::string gu_path = (opt.out / "grad_u.npy").string(), gv_path = (opt.out / "grad_v.npy").string();
  write_npy(gu_path, gu.data(), m, k);
  try {
    write_npy(gv_path, gv.data(), n, k);
  } catch (...) {
    std::filesystem::remove(gu_path);
    throw;
  }
  json::Value line;
  line["kernel"] = plan ? plan->kernel().name : opt.kernel->name;
  if (plan) line["plan"] = plan->reason();
  line["isa"] = simd_arch_name();
  line["dtype"] = to_string(precision_of<T>());
  line["loss"] = loss;
  line["m"] = obs.rows();
  line["n"] = obs.cols();
  line["nnz"] = obs.nnz();
  line["k"] = k;
  line["lambda"] = opt.lambda;
  line["threads"] = plan ? plan->threads() : ws.threads();
  line["seconds"] = seconds;
  line["data"] = data.description;
  line["grad_u"] = gu_path;
  line["grad_v"] = gv_path;
  return line;
}

// Shapes are checked here too so that the message can name the file.
void check_factor_file(const std::string& path, const NpyArray& a, index_t want_rows, const char* rows_meaning) {
  if (a.rows != static_cast<std::size_t>(want_rows))
    throw Error(path + ": has " + std::to_string(a.rows) + " rows but the data has " + std::to_string(want_rows) +
                " " + rows_meaning);
  if (a.cols == 0) throw Error(path + ": has 0 columns; k must be at least 1");
}

}  // namespace

int cmd_eval(const std::vector<std::string>& argv) {
  Args args("eval", argv,
            {.values = {"ratings", "format", "data", "u", "v", "k", "seed", "dtype", "lambda", "kernel", "threads",
                        "duplicates", "out", "plan", "seconds", "wisdom"},
             .flags = {"check-factors"}});
  if (!args.positional().empty()) throw UsageError("eval: unexpected argument '" + args.positional()[0] + "'");
  if (args.has("ratings") == args.has("data")) throw UsageError("eval: give exactly one of --ratings FILE and --data PRESET");
  const bool from_files = args.has("u") || args.has("v");
  if (from_files && !(args.has("u") && args.has("v"))) throw UsageError("eval: --u and --v go together");
  if (from_files == args.has("k")) throw UsageError("eval: give either --u U.npy --v V.npy or --k K");
  if (from_files && (args.has("seed") || args.has("dtype")))
    throw UsageError("eval: --seed and --dtype apply to random factors (--k), not to --u/--v");
  if (args.has("format") && !args.has("ratings")) throw UsageError("eval: --format applies to --ratings");
  if (args.has("plan") && args.has("kernel")) throw UsageError("eval: --plan chooses the implementation; drop --kernel");
  if ((args.has("seconds") || args.has("wisdom")) && !args.has("plan"))
    throw UsageError("eval: --seconds and --wisdom apply to --plan");

  Options opt;
  opt.lambda = parse_number("lambda", args.required("lambda"));
  opt.out = args.required("out");
  opt.threads = set_threads(static_cast<int>(args.integer("threads", 0, 1, 4096)));
  opt.eval.check_factors = args.has("check-factors");
  opt.args = &args;
  opt.kernel = args.has("kernel") ? &kernel(*args.get("kernel")) : &default_kernel();
  const DuplicatePolicy duplicates = parse_duplicate_policy(args.get("duplicates").value_or("error"));
  const RatingsFormat format = parse_ratings_format(args.get("format").value_or("auto"));

  const Dataset data = load_dataset(args.has("ratings") ? *args.get("ratings") : *args.get("data"), format, duplicates);
  const Observed& obs = data.observed;

  json::Value line;
  if (from_files) {
    const std::string u_path = *args.get("u"), v_path = *args.get("v");
    NpyArray u = read_npy(u_path), v = read_npy(v_path);
    if (u.dtype != v.dtype)
      throw Error(u_path + " holds " + to_string(u.dtype) + " but " + v_path + " holds " + to_string(v.dtype) +
                  "; both factors must have one dtype");
    check_factor_file(u_path, u, obs.rows(), "rows (m)");
    check_factor_file(v_path, v, obs.cols(), "columns (n)");
    if (u.cols != v.cols)
      throw Error(u_path + " has k = " + std::to_string(u.cols) + " columns but " + v_path + " has " +
                  std::to_string(v.cols));
    line = u.dtype == Precision::f32 ? evaluate_and_write(data, std::move(u.f32), std::move(v.f32), u.cols, opt)
                                     : evaluate_and_write(data, std::move(u.f64), std::move(v.f64), u.cols, opt);
  } else {
    const auto k = static_cast<std::size_t>(args.integer("k", 0, 1, 1 << 20));
    const auto seed = static_cast<std::uint64_t>(args.integer("seed", 1, 0, INT64_MAX));
    const std::string dtype = args.get("dtype").value_or("float32");
    const std::size_t m = static_cast<std::size_t>(obs.rows()), n = static_cast<std::size_t>(obs.cols());
    if (dtype == "float32")
      line = evaluate_and_write(data, random_factor<float>(m, k, seed), random_factor<float>(n, k, seed + 1), k, opt);
    else if (dtype == "float64")
      line = evaluate_and_write(data, random_factor<double>(m, k, seed), random_factor<double>(n, k, seed + 1), k, opt);
    else
      throw UsageError("eval: --dtype expects float32 or float64, got '" + dtype + "'");
  }
  std::printf("%s\n", line.dump().c_str());
  return 0;
}

}  // namespace mfgrad::cli
