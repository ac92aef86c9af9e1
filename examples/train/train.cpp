// train — fits a matrix-factorization recommender to a ratings file, with mfgrad computing the
// objective and its gradient, and reports how well it predicts ratings it never saw.
//
// The model predicts r̂_ij = μ + p_i·q_j + b_i + c_j: μ the mean training rating, p_i and q_j k-vectors,
// b_i and c_j per-user and per-item offsets. The offsets ride in two extra factor columns,
// u_i = [p_i, b_i, 1] and v_j = [q_j, 1, c_j], so that u_i·v_j is the whole prediction and mfgrad's
// objective F = ½ Σ (r_ij − μ − u_i·v_j)² + λ/2 (‖U‖² + ‖V‖²) is the training loss; the constant
// columns are held at 1 by zeroing their gradient (their λ/2 terms are a constant, left out of the
// reported loss). A seeded shuffle holds out --test-fraction of the ratings; the factors are fitted
// to the rest by full-batch L-BFGS (or Adam), and training stops once the test RMSE has not improved
// for --patience epochs, keeping the best factors.
//
// --storage bf16 (or f16) trains in mixed precision: the optimizer keeps float32 master factors, a
// 16-bit copy of them is refreshed with mfgrad::round_to at every point the optimizer evaluates, and
// mfgrad reads that copy, returning float32 gradients that update the masters.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "mfgrad/generate.hpp"
#include "mfgrad/half.hpp"
#include "mfgrad/io.hpp"
#include "mfgrad/plan.hpp"
#include "optimize.hpp"

namespace {

const char* const usage =
    "usage: train (--ratings FILE [--format F] | --data PRESET) --k K --lambda L [options]\n"
    "  --ratings FILE       ratings in any format mfgrad reads (MovieLens u.data, ratings.dat, ratings.csv,\n"
    "                       triplets, Matrix Market); --format auto|udata|dat|csv|triplets|mm (default auto)\n"
    "  --data PRESET        a generated data set instead: tiny, ml-small, netflix-25m, ...\n"
    "  --duplicates P       error (default), sum or last: what to do with repeated (user, item) pairs\n"
    "  --k K                rank of the factorization (default 64; 0: the offsets alone)\n"
    "  --lambda L           L2 regularization of the factors and offsets (default 12)\n"
    "  --biases on|off      per-user and per-item offsets (default on)\n"
    "  --test-fraction F    share of the ratings held out for testing, from 0 up to 1 (default 0.2)\n"
    "  --seed S             seed of the split and of the initial factors (default 1)\n"
    "  --max-epochs N       iterations of the optimizer (default 200)\n"
    "  --patience P         stop after P epochs without a better test RMSE (default 25)\n"
    "  --optimizer NAME     lbfgs (default) or adam\n"
    "  --memory M           L-BFGS: steps kept for the curvature estimate (default 5)\n"
    "  --learning-rate R    Adam: step size (default 0.01)\n"
    "  --init S             standard deviation of the initial predictions p_i·q_j (default 0.1)\n"
    "  --dtype D            float32 (default) or float64\n"
    "  --storage S          how mfgrad reads the factors: dtype (default: as --dtype), bf16 or f16 (a 16-bit\n"
    "                       copy of float32 master factors, refreshed before every evaluation)\n"
    "  --threads T          threads per evaluation (default: all hardware threads)\n"
    "  --plan MODE          estimate (default) or measure: how mfgrad picks its implementation\n"
    "  --out DIR            write U.npy, V.npy (r̂_ij = mean + u_i·v_j), model.json, and the file's user and\n"
    "                       item id of each row and column as row_ids.txt and col_ids.txt\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Options {
  std::map<std::string, std::string> values;

  bool has(const std::string& name) const { return values.count(name) > 0; }
  std::string text(const std::string& name, const std::string& fallback) const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
  }
  double number(const std::string& name, double fallback, double min, double max) const {
    auto it = values.find(name);
    if (it == values.end()) return fallback;
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(it->second, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != it->second.size() || !(v >= min && v <= max))
      throw UsageError("--" + name + " expects a number from " + show(min) + " to " + show(max) + ", got '" +
                       it->second + "'");
    return v;
  }
  long integer(const std::string& name, long fallback, long min, long max) const {
    const double v = number(name, static_cast<double>(fallback), static_cast<double>(min), static_cast<double>(max));
    if (v != std::floor(v)) throw UsageError("--" + name + " expects a whole number, got '" + text(name, "") + "'");
    return static_cast<long>(v);
  }
  static std::string show(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
  }
};

Options parse(int argc, char** argv) {
  static const std::vector<std::string> known = {
      "ratings",       "format", "data",       "duplicates", "k",         "lambda", "biases",
      "test-fraction", "seed",   "max-epochs", "patience",   "optimizer", "memory", "learning-rate",
      "init",          "dtype",  "threads",    "plan",       "out",       "storage"};
  Options o;
  for (int a = 1; a < argc; ++a) {
    std::string arg = argv[a], value;
    if (arg.rfind("--", 0) != 0) throw UsageError("unexpected argument '" + arg + "'");
    arg = arg.substr(2);
    if (auto eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else {
      if (a + 1 >= argc) throw UsageError("--" + arg + " needs a value");
      value = argv[++a];
    }
    if (std::find(known.begin(), known.end(), arg) == known.end()) throw UsageError("unknown option --" + arg);
    if (!o.values.emplace(arg, value).second) throw UsageError("--" + arg + " given more than once");
  }
  if (o.has("ratings") == o.has("data")) throw UsageError("give exactly one of --ratings FILE and --data PRESET");
  if (o.has("format") && !o.has("ratings")) throw UsageError("--format applies to --ratings");
  return o;
}

// Every option, checked before any data is read.
struct Settings {
  std::string ratings, preset, out;
  mfgrad::RatingsFormat format = mfgrad::RatingsFormat::automatic;
  mfgrad::DuplicatePolicy duplicates = mfgrad::DuplicatePolicy::error;
  std::size_t k = 64;
  double lambda = 12;
  bool biases = true;
  double test_fraction = 0.2;
  std::uint64_t seed = 1;
  int max_epochs = 200, patience = 25, memory = 5, threads = 0;
  bool adam = false, measure = false, float64 = false;
  mfgrad::Precision storage = mfgrad::Precision::f32;  // of the copy mfgrad reads (bf16, f16: 16-bit copies)
  double learning_rate = 0.01, init = 0.1;
};

Settings settings(const Options& o) {
  Settings s;
  auto choice = [&](const std::string& name, const std::string& fallback, const std::string& a, const std::string& b) {
    const std::string v = o.text(name, fallback);
    if (v != a && v != b) throw UsageError("--" + name + " expects " + a + " or " + b + ", got '" + v + "'");
    return v == b;
  };
  s.ratings = o.text("ratings", "");
  s.preset = o.text("data", "");
  if (!s.preset.empty()) mfgrad::preset(s.preset);  // an unknown name is an error listing the presets
  s.out = o.text("out", "");
  s.format = mfgrad::parse_ratings_format(o.text("format", "auto"));
  s.duplicates = mfgrad::parse_duplicate_policy(o.text("duplicates", "error"));
  s.k = static_cast<std::size_t>(o.integer("k", 64, 0, 4096));
  s.lambda = o.number("lambda", 12.0, 0.0, 1e300);
  s.biases = !choice("biases", "on", "on", "off");
  if (s.k == 0 && !s.biases) throw UsageError("--k 0 leaves nothing to fit without --biases on");
  s.test_fraction = o.number("test-fraction", 0.2, 0.0, 0.999999);
  s.seed = static_cast<std::uint64_t>(o.integer("seed", 1, 0, 1L << 53));
  s.max_epochs = static_cast<int>(o.integer("max-epochs", 200, 0, 1000000));
  s.patience = static_cast<int>(o.integer("patience", 25, 1, 1000000));
  s.adam = choice("optimizer", "lbfgs", "lbfgs", "adam");
  s.memory = static_cast<int>(o.integer("memory", 5, 1, 1000));
  s.learning_rate = o.number("learning-rate", 0.01, 1e-12, 1e6);
  s.init = o.number("init", 0.1, 0.0, 10.0);
  s.float64 = choice("dtype", "float32", "float32", "float64");
  const std::string storage = o.text("storage", "dtype");
  if (storage == "bf16")
    s.storage = mfgrad::Precision::bf16;
  else if (storage == "f16")
    s.storage = mfgrad::Precision::f16;
  else if (storage == "dtype")
    s.storage = s.float64 ? mfgrad::Precision::f64 : mfgrad::Precision::f32;
  else
    throw UsageError("--storage expects dtype, bf16 or f16, got '" + storage + "'");
  if (s.float64 && mfgrad::element_bytes(s.storage) == 2)
    throw UsageError("--storage " + storage + " keeps float32 master factors; it does not go with --dtype float64");
  s.threads = static_cast<int>(o.integer("threads", 0, 0, 4096));
  s.measure = choice("plan", "estimate", "estimate", "measure");
  return s;
}

// splitmix64: a tiny generator whose output is the same on every platform and standard library, so a
// seed means the same split and the same initial factors everywhere.
struct Random {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  std::uint64_t below(std::uint64_t n) { return static_cast<std::uint64_t>(uniform() * static_cast<double>(n)); }
};

struct Rating {
  mfgrad::index_t row, col;
  double value;
};

struct Data {
  std::string description;
  mfgrad::index_t rows = 0, cols = 0;
  std::vector<Rating> train, test;
  double mean = 0;                             // of the training ratings
  std::vector<std::int64_t> row_ids, col_ids;  // the file's own id of each row and column, when it has ids
};

// Reads (or generates) the ratings, validates them once through mfgrad, and splits them.
Data load(const Settings& s) {
  mfgrad::Entries entries;
  Data d;
  if (!s.ratings.empty()) {
    mfgrad::RatingsFile file = mfgrad::read_ratings(s.ratings, s.format);
    entries = std::move(file.entries);
    d.row_ids = std::move(file.row_ids);
    d.col_ids = std::move(file.col_ids);
    d.description = std::filesystem::path(s.ratings).filename().string() + " (" + mfgrad::to_string(file.format) + ")";
  } else {
    const mfgrad::DataSpec& spec = mfgrad::preset(s.preset);
    entries = mfgrad::generate_entries(spec);
    d.description = "generated " + spec.name;
  }
  // Validation, and duplicates resolved by the chosen policy, before anything is split.
  const mfgrad::Observed all = mfgrad::Observed::build(entries, s.duplicates);
  entries = {};
  d.rows = all.rows();
  d.cols = all.cols();
  const std::int64_t nnz = all.nnz();

  // A seeded Fisher–Yates shuffle of the positions; the first round(fraction · nnz) are the test set.
  std::vector<std::int64_t> order(static_cast<std::size_t>(nnz));
  for (std::int64_t t = 0; t < nnz; ++t) order[t] = t;
  Random rng{s.seed ^ 0x5eed5eed5eedULL};
  for (std::int64_t t = nnz - 1; t > 0; --t) std::swap(order[t], order[rng.below(static_cast<std::uint64_t>(t + 1))]);
  const auto n_test = static_cast<std::int64_t>(std::llround(s.test_fraction * static_cast<double>(nnz)));
  std::vector<char> is_test(static_cast<std::size_t>(nnz), 0);
  for (std::int64_t t = 0; t < n_test; ++t) is_test[order[t]] = 1;

  const auto rows = all.row_of(), cols = all.col_idx();
  const auto values = all.values<double>();
  for (std::int64_t q = 0; q < nnz; ++q) (is_test[q] ? d.test : d.train).push_back({rows[q], cols[q], values[q]});
  if (d.train.empty()) throw UsageError("no ratings left to train on");
  double sum = 0;
  for (const Rating& r : d.train) sum += r.value;
  d.mean = sum / static_cast<double>(d.train.size());
  return d;
}

// x in the 16-bit format S, as round_to stores it.
template <class S>
S rounded(float x) {
  if constexpr (std::is_same_v<S, mfgrad::bfloat16>)
    return mfgrad::to_bfloat16(x);
  else
    return mfgrad::to_float16(x);
}

// Everything about the run the report and model.json mention.
struct Summary {
  int best_epoch = 0, epochs = 0;
  long evaluations = 0;
  double best_test = NAN, best_train = NAN, best_loss = NAN;
  double train_seconds = 0, eval_seconds = 0, plan_seconds = 0;
  double refresh_seconds = 0;  // of eval_seconds, rounding the masters into the 16-bit copy
  std::string plan, stop;
};

// T: the optimizer's (master) factors; S: what mfgrad reads, T itself or a 16-bit copy of the masters.
template <class T, class S>
int fit(const Settings& cfg, const Data& d, const std::chrono::steady_clock::time_point start) {
  static_assert(std::is_same_v<S, T> || (std::is_same_v<T, float> && sizeof(S) == 2));
  const std::size_t k = cfg.k;
  const double lambda = cfg.lambda;
  const bool biases = cfg.biases;
  const std::size_t kk = k + (biases ? 2 : 0);  // factor columns: p (k), then b and 1 / 1 and c
  const std::size_t m = static_cast<std::size_t>(d.rows), n = static_cast<std::size_t>(d.cols);

  // The training ratings, centred, as mfgrad's data.
  mfgrad::Entries entries;
  entries.rows = d.rows;
  entries.cols = d.cols;
  entries.reserve(d.train.size());
  for (const Rating& r : d.train) entries.push(r.row, r.col, r.value - d.mean);
  const mfgrad::Observed train = mfgrad::Observed::build(entries);
  entries = {};

  Summary s;
  auto clock = [] { return std::chrono::steady_clock::now(); };
  auto seconds_since = [&](auto t0) { return std::chrono::duration<double>(clock() - t0).count(); };
  const auto plan_start = clock();
  mfgrad::PlanOptions po;
  po.threads = cfg.threads;
  po.mode = cfg.measure ? mfgrad::PlanMode::measure : mfgrad::PlanMode::estimate;
  mfgrad::Plan plan(train, kk, mfgrad::precision_of<S>(), po);
  s.plan_seconds = seconds_since(plan_start);
  s.plan = plan.choice() + " on " + std::to_string(plan.threads()) + " threads";

  // x = [U; V], row-major. Free entries start uniform with a spread that gives p_i·q_j the asked
  // standard deviation (uniform ±a has variance a²/3, and p·q sums k products).
  std::vector<T> x((m + n) * kk);
  const double a = k > 0 ? std::sqrt(3.0 * cfg.init / std::sqrt(static_cast<double>(k))) : 0.0;
  Random rng{cfg.seed ^ 0xfac7085ULL};
  for (T& value : x) value = static_cast<T>(a * (2 * rng.uniform() - 1));
  T* const u = x.data();
  T* const v = x.data() + m * kk;
  if (biases)
    for (std::size_t i = 0; i < m; ++i) u[i * kk + k] = 0, u[i * kk + k + 1] = 1;
  if (biases)
    for (std::size_t j = 0; j < n; ++j) v[j * kk + k] = 1, v[j * kk + k + 1] = 0;
  // The constant columns' share of λ/2 ‖x‖², left out of the reported loss.
  const double constant = biases ? 0.5 * lambda * static_cast<double>(m + n) : 0.0;

  std::vector<S> copy(std::is_same_v<S, T> ? 0 : x.size());  // the 16-bit copy of the masters
  const train::Objective<T> objective = [&](const std::vector<T>& at, std::vector<T>& grad) {
    const auto t0 = clock();
    const std::size_t vu = m * kk;
    const S* stored = nullptr;
    if constexpr (std::is_same_v<S, T>) {
      stored = at.data();
    } else {
      mfgrad::round_to(at, std::span<S>(copy), plan.threads());
      s.refresh_seconds += seconds_since(t0);
      stored = copy.data();
    }
    const double f = plan.evaluate<S>({stored, m, kk}, {stored + vu, n, kk}, lambda, {grad.data(), m, kk},
                                      {grad.data() + vu, n, kk});
    s.eval_seconds += seconds_since(t0);
    if (biases) {
      for (std::size_t i = 0; i < m; ++i) grad[i * kk + k + 1] = 0;
      for (std::size_t j = 0; j < n; ++j) grad[vu + j * kk + k] = 0;
    }
    return f - constant;
  };

  auto test_rmse = [&](const std::vector<T>& at) -> double {
    if (d.test.empty()) return std::nan("");
    double sum = 0;
    for (const Rating& r : d.test) {
      const T* ui = at.data() + static_cast<std::size_t>(r.row) * kk;
      const T* vj = at.data() + m * kk + static_cast<std::size_t>(r.col) * kk;
      double p = d.mean;
      for (std::size_t l = 0; l < kk; ++l) p += static_cast<double>(ui[l]) * static_cast<double>(vj[l]);
      sum += (r.value - p) * (r.value - p);
    }
    return std::sqrt(sum / static_cast<double>(d.test.size()));
  };
  // ½ Σ r² is the loss less the regularizer, so the training RMSE costs no extra pass over the data. The
  // loss is that of the factors mfgrad read: with 16-bit storage, the masters rounded.
  auto norm2 = [&](const std::vector<T>& at) {
    if constexpr (std::is_same_v<S, T>) {
      return train::dot(at, at);
    } else {
      double sum = 0;
      for (const T value : at) {
        const double stored = static_cast<float>(rounded<S>(value));
        sum += stored * stored;
      }
      return sum;
    }
  };
  auto train_rmse = [&](double loss, const std::vector<T>& at) {
    const double squared = 2 * (loss + constant - 0.5 * lambda * norm2(at));
    return std::sqrt(std::max(0.0, squared) / static_cast<double>(train.nnz()));
  };

  std::printf("data: %s, %d x %d, %zu ratings: %zu to train on (mean %.4f), %zu held out for testing\n",
              d.description.c_str(), d.rows, d.cols, d.train.size() + d.test.size(), d.train.size(), d.mean,
              d.test.size());
  const std::string storage =
      std::is_same_v<S, T> ? std::string()
                           : std::string(" (mfgrad reads a ") + mfgrad::to_string(mfgrad::precision_of<S>()) + " copy)";
  std::printf("model: k = %zu%s, lambda = %g, %s%s, %s; mfgrad %s (%s)\n", k, biases ? " + user and item offsets" : "",
              lambda, mfgrad::to_string(mfgrad::precision_of<T>()), storage.c_str(), cfg.adam ? "adam" : "lbfgs",
              s.plan.c_str(), plan.reason().c_str());
  std::printf("%6s %14s %11s %10s %11s %6s %9s\n", "epoch", "loss", "train RMSE", "test RMSE", "|gradient|", "evals",
              "seconds");

  std::vector<T> best = x;
  const auto train_start = clock();
  auto report = [&](const train::Epoch& e, const std::vector<T>& at) {
    const double test = test_rmse(at), fit_rmse = train_rmse(e.loss, at);
    s.epochs = e.number;
    s.evaluations = e.evaluations;
    std::printf("%6d %14.6e %11.5f %10.5f %11.4e %6ld %9.3f\n", e.number, e.loss, fit_rmse, test, e.grad_norm,
                e.evaluations, seconds_since(train_start));
    std::fflush(stdout);
    if (e.number == 0 || std::isnan(s.best_test) || test < s.best_test || d.test.empty()) {
      s.best_epoch = e.number;
      s.best_test = test;
      s.best_train = fit_rmse;
      s.best_loss = e.loss;
      best = at;
    }
    return d.test.empty() || e.number - s.best_epoch < cfg.patience;
  };
  {
    std::vector<T> g(x.size());
    const double loss0 = objective(x, g);
    report(train::Epoch{0, loss0, std::sqrt(train::dot(g, g)), 1}, x);
  }
  train::Stop stop;
  if (!cfg.adam) {
    typename train::Lbfgs<T>::Options lo;
    lo.max_epochs = cfg.max_epochs;
    lo.memory = cfg.memory;
    stop = train::Lbfgs<T>(lo).run(x, objective, report);
  } else {
    typename train::Adam<T>::Options ao;
    ao.max_epochs = cfg.max_epochs;
    ao.learning_rate = cfg.learning_rate;
    stop = train::Adam<T>(ao).run(x, objective, report);
  }
  s.train_seconds = seconds_since(train_start);
  s.stop = stop == train::Stop::by_caller ? "no better test RMSE for " + std::to_string(cfg.patience) + " epochs"
                                          : train::to_string(stop);
  s.evaluations += 1;  // the evaluation at the starting point

  std::printf("best: epoch %d, test RMSE %.5f, train RMSE %.5f (stopped after %d epochs: %s)\n", s.best_epoch,
              s.best_test, s.best_train, s.epochs, s.stop.c_str());
  std::printf("time: %.3f s training (%ld evaluations, %.3f s of them in mfgrad), %.3f s planning, %.3f s in all\n",
              s.train_seconds, s.evaluations, s.eval_seconds, s.plan_seconds, seconds_since(start));
  if (!std::is_same_v<S, T>)
    std::printf("      %.3f s of the time in mfgrad refreshing the %s copy (round_to)\n", s.refresh_seconds,
                mfgrad::to_string(mfgrad::precision_of<S>()));

  if (!cfg.out.empty()) {
    const std::filesystem::path dir = cfg.out;
    std::filesystem::create_directories(dir);
    mfgrad::write_npy((dir / "U.npy").string(), best.data(), m, kk);
    mfgrad::write_npy((dir / "V.npy").string(), best.data() + m * kk, n, kk);
    // Row i of U is the i-th smallest user id of the file, column j of M the j-th smallest item id.
    auto write_ids = [&](const char* name, const std::vector<std::int64_t>& ids) {
      const std::string path = dir / name, tmp = path + ".tmp";
      {
        std::ofstream out(tmp);
        for (std::int64_t id : ids) out << id << '\n';
        if (!out) throw std::runtime_error("cannot write " + tmp);
      }
      std::filesystem::rename(tmp, path);
    };
    if (!d.row_ids.empty()) write_ids("row_ids.txt", d.row_ids);
    if (!d.col_ids.empty()) write_ids("col_ids.txt", d.col_ids);
    const std::string json = dir / "model.json", tmp = json + ".tmp";
    {
      std::ofstream out(tmp);
      out.precision(17);
      out << "{\"predict\": \"mean + U[i] . V[j]\", \"ids\": \""
          << (d.row_ids.empty() ? "rows and columns are the data's own 0-based indices"
                                : "row i (from 0) is the id on line i + 1 of row_ids.txt, column j that of col_ids.txt")
          << "\", \"mean\": " << d.mean << ", \"k\": " << k << ", \"bias_columns\": " << (biases ? "true" : "false")
          << ", \"lambda\": " << lambda << ", \"rows\": " << d.rows << ", \"cols\": " << d.cols
          << ", \"best_epoch\": " << s.best_epoch << ", \"train_rmse\": " << s.best_train << ", \"test_rmse\": ";
      if (std::isnan(s.best_test))
        out << "null}\n";
      else
        out << s.best_test << "}\n";
      if (!out) throw std::runtime_error("cannot write " + tmp);
    }
    std::filesystem::rename(tmp, json);
    std::printf(
        "factors: %s/U.npy (%zu x %zu) and V.npy (%zu x %zu); rating of row i, column j = mean + U[i].V[j] "
        "(model.json, row_ids.txt, col_ids.txt)\n",
        dir.string().c_str(), m, kk, n, kk);
  }
  std::printf("result test_rmse=%.6f train_rmse=%.6f best_epoch=%d epochs=%d seconds=%.3f\n", s.best_test, s.best_train,
              s.best_epoch, s.epochs, s.train_seconds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const auto start = std::chrono::steady_clock::now();
  if (argc == 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    std::fputs(usage, stdout);
    return 0;
  }
  try {
    const Settings cfg = settings(parse(argc, argv));
    const Data d = load(cfg);
    switch (cfg.storage) {
      case mfgrad::Precision::f64:
        return fit<double, double>(cfg, d, start);
      case mfgrad::Precision::bf16:
        return fit<float, mfgrad::bfloat16>(cfg, d, start);
      case mfgrad::Precision::f16:
        return fit<float, mfgrad::float16>(cfg, d, start);
      default:
        return fit<float, float>(cfg, d, start);
    }
  } catch (const UsageError& e) {
    std::fprintf(stderr, "train: %s\n%s", e.what(), usage);
    return 2;
  } catch (const std::exception& e) {  // mfgrad::Error names the file, line or entry at fault
    std::fprintf(stderr, "train: error: %s\n", e.what());
    return 1;
  }
}
