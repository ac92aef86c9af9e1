// mfgrad eval — one evaluation of F, ∂F/∂U, ∂F/∂V from files (or a preset and random factors).
#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <new>
#include <span>

#include "cli.hpp"
#include "json.hpp"
#include "mfgrad/dataset.hpp"
#include "mfgrad/io.hpp"
#include "mfgrad/kernel.hpp"
#include "mfgrad/memory.hpp"
#include "mfgrad/message.hpp"
#include "util.hpp"

namespace mfgrad::cli {

namespace {

struct Options {
  const Kernel* kernel;
  const Args* args;  // for --plan / --seconds / --wisdom
  double lambda;
  int threads;
  std::filesystem::path out;
  EvalOptions eval;
  std::string u_name = "U", v_name = "V";  // the factor files, when the factors came from files
};

// Runs f, turning an allocation failure into an Error saying what was being allocated.
template <class F>
auto allocating(const std::string& what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    throw OutOfMemory("out of memory " + what);
  }
}

std::string matrix_text(const char* name, std::size_t rows, std::size_t k, Precision precision) {
  return std::string(name) + " (" + std::to_string(rows) + " x " + std::to_string(k) + ", " + to_string(precision) +
         ", " + format_bytes(rows * k * element_bytes(precision)) + ")";
}

// Any element type as double (the 16-bit formats widen exactly).
template <class T>
double value_of(T x) {
  return static_cast<double>(static_cast<compute_t<T>>(x));
}

// First element that is not finite, as "NAME[row, column] = value"; empty when all are finite.
template <class T>
std::string first_non_finite(const std::string& name, const std::vector<T>& x, std::size_t k) {
  for (std::size_t at = 0; at < x.size(); ++at)
    if (!std::isfinite(value_of(x[at])))
      return name + "[" + std::to_string(at / k) + ", " + std::to_string(at % k) +
             "] = " + format_number(value_of(x[at]));
  return {};
}

template <class T>
double largest_magnitude(const std::vector<T>& x) {
  double largest = 0;
  for (const T v : x) largest = std::max(largest, std::fabs(value_of(v)));
  return largest;
}

// x rounded toward zero to a float, with the last bit set when that is not x itself ("round to
// odd"). Rounding the result to nearest in a format with at least two bits fewer than float gives what
// rounding x straight to that format gives; rounding to nearest twice does not always.
float to_float_odd(double x) {
  float f = static_cast<float>(x);
  if (static_cast<double>(f) == x || std::isnan(x)) return f;
  if (std::fabs(static_cast<double>(f)) > std::fabs(x)) f = std::nextafter(f, 0.0f);
  return std::bit_cast<float>(std::bit_cast<std::uint32_t>(f) | 1u);
}

// A factor file's values rounded to nearest even in the 16-bit storage format S (float64 ones once,
// straight to S). A finite value beyond S's range is refused, naming it, rather than stored as ∞.
template <class S>
std::vector<S> round_factor(const NpyArray& a, const std::string& path, int threads) {
  std::vector<float> narrowed;
  if (a.dtype == Precision::f64) {
    narrowed.resize(a.f64.size());
    std::transform(a.f64.begin(), a.f64.end(), narrowed.begin(), to_float_odd);
  }
  const std::span<const float> in = a.dtype == Precision::f64 ? narrowed : a.f32;
  std::vector<S> stored(in.size());
  round_to(in, std::span<S>(stored), threads);
  for (std::size_t at = 0; at < stored.size(); ++at)
    if (std::isinf(static_cast<float>(stored[at])) && std::isfinite(in[at])) {
      constexpr S largest = std::is_same_v<S, bfloat16> ? S{0x7f7f} : S{0x7bff};
      throw Error(path + ": row " + std::to_string(at / a.cols) + ", column " + std::to_string(at % a.cols) + ": " +
                  format_number(a.dtype == Precision::f64 ? a.f64[at] : a.f32[at]) + " is beyond the range of " +
                  to_string(precision_of<S>()) + " (largest finite " + format_number(value_of(largest)) +
                  "), so it cannot be stored in it");
    }
  return stored;
}

// JSON has no infinity or NaN, and a result that is not finite is no result: the evaluation is
// refused, saying which output went wrong and why.
template <class T, class G>
void refuse_non_finite(const Observed& obs, const std::vector<T>& u, const std::vector<T>& v, double loss,
                       const std::vector<G>& gu, const std::vector<G>& gv, std::size_t k, const Options& opt) {
  std::string bad = std::isfinite(loss) ? first_non_finite("grad_U", gu, k) : "the loss = " + format_number(loss);
  if (bad.empty()) bad = first_non_finite("grad_V", gv, k);
  if (bad.empty()) return;
  std::string cause = first_non_finite(opt.u_name, u, k);
  if (cause.empty()) cause = first_non_finite(opt.v_name, v, k);
  if (!cause.empty()) {
    cause = "the factors are not finite: " + cause + " (--check-factors refuses them before evaluating)";
  } else {
    cause = std::string(to_string(precision_of<G>())) +
            " overflowed (the squared residuals or the regularizer exceed its range): the largest |factor| is " +
            format_number(std::max(largest_magnitude(u), largest_magnitude(v))) +
            (obs.largest_value().empty() ? std::string() : ", the largest |value| is at " + obs.largest_value());
  }
  throw Error(bad + " is not finite, so nothing is written: " + cause);
}

// T: the factors' storage type; the gradients are compute_t<T> (float32 for the 16-bit formats).
template <class T>
json::Value evaluate_and_write(const Dataset& data, std::vector<T> u, std::vector<T> v, std::size_t k,
                               const Options& opt) {
  using G = compute_t<T>;
  const Observed& obs = data.observed;
  const std::size_t m = static_cast<std::size_t>(obs.rows()), n = static_cast<std::size_t>(obs.cols());
  std::vector<G> gu = allocating("for the gradient " + matrix_text("grad_U", m, k, precision_of<G>()),
                                 [&] { return std::vector<G>(m * k); });
  std::vector<G> gv = allocating("for the gradient " + matrix_text("grad_V", n, k, precision_of<G>()),
                                 [&] { return std::vector<G>(n * k); });
  Workspace ws(opt.threads);
  std::unique_ptr<Plan> plan;
  if (opt.args->has("plan")) {  // the plan's preparation happens here, outside the timed evaluation
    plan = std::make_unique<Plan>(make_plan(obs, k, precision_of<T>(), *opt.args, opt.threads,
                                            "making a plan for " + data.description + " at k = " + std::to_string(k)));
    save_wisdom_if_asked(*opt.args);
  }
  const Matrix<const T> um{u.data(), u.size() / k, k}, vm{v.data(), v.size() / k, k};
  const auto start = std::chrono::steady_clock::now();
  const double loss =
      plan ? plan->evaluate<T>(um, vm, opt.lambda, {gu.data(), m, k}, {gv.data(), n, k}, opt.eval)
           : evaluate<T>(*opt.kernel, obs, um, vm, opt.lambda, {gu.data(), m, k}, {gv.data(), n, k}, ws, opt.eval);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  refuse_non_finite(obs, u, v, loss, gu, gv, k, opt);

  // Only now that everything is computed does anything reach --out.
  std::filesystem::create_directories(opt.out);
  const std::string gu_path = (opt.out / "grad_u.npy").string(), gv_path = (opt.out / "grad_v.npy").string();
  write_gradients(gu_path, gu.data(), m, gv_path, gv.data(), n, k);  // both or neither
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
    throw Error(path + ": has " + std::to_string(a.rows) + " rows but the data has " + std::to_string(want_rows) + " " +
                rows_meaning);
  if (a.cols == 0) throw Error(path + ": has 0 columns; k must be at least 1");
}

}  // namespace

bool eval_factors_from_files(const Args& args) {
  if (!args.positional().empty()) throw UsageError("eval: unexpected argument '" + args.positional()[0] + "'");
  if (args.has("ratings") == args.has("data"))
    throw UsageError("eval: give exactly one of --ratings FILE and --data PRESET");
  const bool from_files = args.has("u") || args.has("v");
  if (from_files && !(args.has("u") && args.has("v"))) throw UsageError("eval: --u and --v go together");
  if (from_files == args.has("k")) throw UsageError("eval: give either --u U.npy --v V.npy or --k K");
  return from_files;
}

int cmd_eval(const std::vector<std::string>& argv) {
  Args args("eval", argv,
            {.values = {"ratings", "format", "data", "u", "v", "k", "seed", "dtype", "lambda", "kernel", "threads",
                        "duplicates", "out", "plan", "seconds", "wisdom"},
             .flags = {"check-factors"}});
  const bool from_files = eval_factors_from_files(args);
  if (from_files && args.has("seed")) throw UsageError("eval: --seed applies to random factors (--k), not to --u/--v");
  const std::string dtype = args.get("dtype").value_or("float32");
  const std::optional<Precision> parsed = detail::parse_precision(dtype);
  if (!parsed) throw UsageError("eval: --dtype expects float32, float64, bfloat16 or float16, got " + quote(dtype));
  if (from_files && args.has("dtype") && element_bytes(*parsed) != 2)
    throw UsageError(
        "eval: with --u/--v, --dtype takes bfloat16 or float16 (the files' factors are rounded to it); "
        "float32 and float64 factors keep the files' own dtype");
  if (args.has("format") && !args.has("ratings")) throw UsageError("eval: --format applies to --ratings");
  if (args.has("plan") && args.has("kernel"))
    throw UsageError("eval: --plan chooses the implementation; drop --kernel");
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
  // What the evaluation will allocate is checked first; `factors`: whether they are still to be made.
  const auto check_evaluation_memory = [&](std::size_t k, Precision precision, bool factors) {
    MemoryNeed need = evaluation_memory(obs.rows(), obs.cols(), obs.nnz(), k, precision, opt.threads, args.has("plan"));
    if (!factors) need.factors = 0;
    check_memory(need, "evaluating " + data.description + " at k = " + std::to_string(k) + " in " +
                           to_string(precision) + " on " + std::to_string(opt.threads) + " threads");
  };

  json::Value line;
  if (from_files) {
    const std::string u_path = *args.get("u"), v_path = *args.get("v");
    NpyArray u = read_npy(u_path), v = read_npy(v_path);
    opt.u_name = u_path;
    opt.v_name = v_path;
    if (u.dtype != v.dtype)
      throw Error(u_path + " holds " + to_string(u.dtype) + " but " + v_path + " holds " + to_string(v.dtype) +
                  "; both factors must have one dtype");
    check_factor_file(u_path, u, obs.rows(), "rows (m)");
    check_factor_file(v_path, v, obs.cols(), "columns (n)");
    if (u.cols != v.cols)
      throw Error(u_path + " has k = " + std::to_string(u.cols) + " columns but " + v_path + " has " +
                  std::to_string(v.cols));
    const std::size_t k = u.cols;
    if (args.has("dtype")) {  // 16-bit storage: the rounded copies are the factors evaluated
      check_evaluation_memory(k, *parsed, true);
      line = with_precision(*parsed, [&]<class S>(S) {
        if constexpr (sizeof(S) == 2) {
          std::vector<S> us = allocating("for " + matrix_text("U", u.rows, k, *parsed),
                                         [&] { return round_factor<S>(u, u_path, opt.threads); });
          u = {};
          std::vector<S> vs = allocating("for " + matrix_text("V", v.rows, k, *parsed),
                                         [&] { return round_factor<S>(v, v_path, opt.threads); });
          v = {};
          return evaluate_and_write(data, std::move(us), std::move(vs), k, opt);
        } else {
          return json::Value{};  // refused above
        }
      });
    } else {
      check_evaluation_memory(k, u.dtype, false);
      line = u.dtype == Precision::f32 ? evaluate_and_write(data, std::move(u.f32), std::move(v.f32), k, opt)
                                       : evaluate_and_write(data, std::move(u.f64), std::move(v.f64), k, opt);
    }
  } else {
    const auto k = static_cast<std::size_t>(args.integer("k", 0, 1, 1 << 20));
    const auto seed = static_cast<std::uint64_t>(args.integer("seed", 1, 0, INT64_MAX));
    const std::size_t m = static_cast<std::size_t>(obs.rows()), n = static_cast<std::size_t>(obs.cols());
    const Precision precision = *parsed;
    check_evaluation_memory(k, precision, true);
    const auto random = [&]<class T>(T) {
      return allocating(
          "for the random factors " + matrix_text("U", m, k, precision) + " and " + matrix_text("V", n, k, precision),
          [&] { return std::pair(random_factor<T>(m, k, seed), random_factor<T>(n, k, seed + 1)); });
    };
    line = with_precision(precision, [&]<class T>(T) {
      auto [u, v] = random(T{});
      return evaluate_and_write(data, std::move(u), std::move(v), k, opt);
    });
  }
  std::printf("%s\n", line.dump().c_str());
  return 0;
}

}  // namespace mfgrad::cli
