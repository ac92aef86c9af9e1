// Test support: small problems, running a kernel, and the error bounds every comparison uses.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <ostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "mfgrad/check.hpp"
#include "mfgrad/generate.hpp"
#include "mfgrad/kernel.hpp"

namespace mfgrad {
// Readable parameter names in GoogleTest output.
inline void PrintTo(Precision p, std::ostream* os) { *os << to_string(p); }
}  // namespace mfgrad

namespace mfgrad::test {

// Each (i, j) of an m×n matrix observed with probability `density`, values uniform in [1, 5], listed in
// a shuffled order so that input order differs from CSR order. Rows in [0, empty_rows) and columns
// in [0, empty_cols) are left empty.
inline Entries random_entries(index_t m, index_t n, double density, std::uint64_t seed, index_t empty_rows = 0,
                              index_t empty_cols = 0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0), rating(1.0, 5.0);
  Entries e;
  e.rows = m;
  e.cols = n;
  for (index_t i = empty_rows; i < m; ++i)
    for (index_t j = empty_cols; j < n; ++j)
      if (density >= 1.0 || unit(rng) < density) e.push(i, j, rating(rng));
  std::vector<std::size_t> order(e.value.size());
  for (std::size_t t = 0; t < order.size(); ++t) order[t] = t;
  std::shuffle(order.begin(), order.end(), rng);
  Entries shuffled;
  shuffled.rows = m;
  shuffled.cols = n;
  for (std::size_t t : order) shuffled.push(e.row[t], e.col[t], e.value[t]);
  return shuffled;
}

// A file's whole content ("" when it cannot be read).
inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// What a command run through the shell did: its exit status (-1 when it did not exit) and its output.
struct Outcome {
  int status = -1;
  std::string out, err;
};

// Runs `command` through the shell, its standard output and error captured in files under `dir`.
inline Outcome run_command(const std::string& command, const std::filesystem::path& dir) {
  const std::filesystem::path out = dir / "stdout.txt", err = dir / "stderr.txt";
  const int raw = std::system((command + " >" + out.string() + " 2>" + err.string()).c_str());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, slurp(out), slurp(err)};
}

// Three entries of a 3 × 4 matrix, listed out of CSR order.
inline Entries three_entries() {
  Entries e;
  e.rows = 3;
  e.cols = 4;
  e.push(2, 1, 1.5);
  e.push(0, 3, 2.5);
  e.push(2, 0, 3.5);
  return e;
}

// The message of the mfgrad::Error that f throws; fails the test when it throws none.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an mfgrad::Error";
  return {};
}

template <class T>
struct Factors {
  std::size_t m = 0, n = 0, k = 0;
  std::vector<T> u, v;
};

// A double as element type T: rounded to nearest (even) for the 16-bit formats.
template <class T>
T element(double x) {
  if constexpr (std::is_same_v<T, bfloat16>)
    return to_bfloat16(static_cast<float>(x));
  else if constexpr (std::is_same_v<T, float16>)
    return to_float16(static_cast<float>(x));
  else
    return static_cast<T>(x);
}

// Entries uniform in [−scale, scale]; scale 1/√k keeps u·v of order one at any k. For 16-bit T, the
// same draws as float32, rounded.
template <class T>
Factors<T> random_factors(std::size_t m, std::size_t n, std::size_t k, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const double scale = 1.0 / std::sqrt(static_cast<double>(k));
  std::uniform_real_distribution<double> d(-scale, scale);
  Factors<T> f{m, n, k, std::vector<T>(m * k), std::vector<T>(n * k)};
  for (T& x : f.u) x = element<T>(d(rng));
  for (T& x : f.v) x = element<T>(d(rng));
  return f;
}

// Gradients are compute_t<T>: float for 16-bit factors.
template <class T>
struct Result {
  double loss = 0;
  std::vector<compute_t<T>> gu, gv;
};

// Runs `kernel` through mfgrad::evaluate with the gradient buffers pre-filled with `fill`.
template <class T>
Result<T> run(const Kernel& kernel, const Observed& obs, const Factors<T>& f, double lambda, int threads,
              compute_t<T> fill = std::numeric_limits<compute_t<T>>::quiet_NaN(), Workspace::CacheSizes caches = {}) {
  Result<T> r{0, std::vector<compute_t<T>>(f.m * f.k, fill), std::vector<compute_t<T>>(f.n * f.k, fill)};
  Workspace ws(threads);
  ws.set_cache_sizes(caches);
  r.loss = evaluate<T>(kernel, obs, {f.u.data(), f.m, f.k}, {f.v.data(), f.n, f.k}, lambda, {r.gu.data(), f.m, f.k},
                       {r.gv.data(), f.n, f.k}, ws);
  return r;
}

// Shapes chosen to break kernels: k around SIMD widths (4, 8, 16 lanes), empty rows and columns,
// m ≠ n both ways, one entry, no entry, densities 0.01 / 0.5 / 1.0, heavy power-law skew.
struct Shape {
  std::string name;
  std::function<Entries()> entries;
  std::size_t k;
};

inline std::vector<Shape> shapes() {
  std::vector<Shape> s;
  for (std::size_t k : {1, 3, 7, 8, 15, 16, 17, 31, 33, 48, 64, 65, 96, 128, 256}) {
    // Built by append: GCC 12 flags `"k" + std::to_string(k)` with a false -Wrestrict warning.
    std::string name = "k";
    name += std::to_string(k);
    s.push_back({name, [] { return random_entries(37, 29, 0.3, 11); }, k});
  }
  s.push_back({"empty_rows_cols", [] { return random_entries(50, 40, 0.2, 12, 10, 5); }, 9});
  s.push_back({"tall", [] { return random_entries(131, 7, 0.4, 13); }, 5});
  s.push_back({"wide", [] { return random_entries(7, 131, 0.4, 14); }, 17});
  s.push_back({"one_entry",
               [] {
                 Entries e;
                 e.rows = 4;
                 e.cols = 6;
                 e.push(2, 3, 4.5);
                 return e;
               },
               16});
  s.push_back({"empty",
               [] {
                 Entries e;
                 e.rows = 5;
                 e.cols = 3;
                 return e;
               },
               8});
  s.push_back({"density_0_01", [] { return random_entries(300, 200, 0.01, 15); }, 16});
  s.push_back({"density_0_5", [] { return random_entries(60, 45, 0.5, 16); }, 16});
  s.push_back({"density_1", [] { return random_entries(40, 30, 1.0, 17); }, 33});
  s.push_back({"power_law",
               [] {
                 DataSpec spec;
                 spec.name = "skewed";
                 spec.rows = 700;
                 spec.cols = 400;
                 spec.nnz = 30000;
                 spec.row_skew = 1.1;
                 spec.col_skew = 1.0;
                 return generate_entries(spec);
               },
               24});
  return s;
}

inline const Shape& shape(const std::string& name) {
  static const std::vector<Shape> all = shapes();
  for (const Shape& s : all)
    if (s.name == name) return s;
  throw std::logic_error("no shape " + name);
}

// Built once per process and shared by the tests that use the shape.
inline const Observed& observed(const std::string& shape_name) {
  static std::map<std::string, std::unique_ptr<Observed>> cache;
  auto& slot = cache[shape_name];
  if (!slot) slot = std::make_unique<Observed>(Observed::build(shape(shape_name).entries()));
  return *slot;
}

inline std::vector<std::string> shape_names() {
  std::vector<std::string> names;
  for (const Shape& s : shapes()) names.push_back(s.name);
  return names;
}

// Guards against trivial test data: the oracle's result must be mostly non-zero and its loss positive.
template <class T>
void expect_not_trivial(const Result<T>& want) {
  std::size_t nonzero = 0;
  for (auto x : want.gu) nonzero += x != 0;
  for (auto x : want.gv) nonzero += x != 0;
  EXPECT_GT(nonzero, 9 * (want.gu.size() + want.gv.size()) / 10) << "test data too trivial";
  EXPECT_GT(want.loss, 0.0);
}

// (implementation, shape, precision): the parameter of the suites that run every implementation.
using Param = std::tuple<std::string, std::string, Precision>;

inline std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  return std::get<0>(info.param) + "_" + std::get<1>(info.param) + "_" + to_string(std::get<2>(info.param));
}

// The tolerance rule is the library's (mfgrad/check.hpp), so tests and the benchmark's oracle check
// hold every implementation to the same written bound.
template <class T>
ErrorBounds error_bounds(const Observed& obs, const Factors<T>& f, double lambda) {
  return mfgrad::error_bounds<T>(obs, f.u.data(), f.v.data(), f.k, lambda);
}

// The oracle's answer to one problem and the bounds the library's tolerance rule (mfgrad/check.hpp)
// puts around it: what every comparison with the oracle in these tests is checked against.
template <class T>
struct OracleAnswer {
  const Observed* obs;
  std::size_t k;
  Result<T> want;
  ErrorBounds bounds;
};

template <class T>
OracleAnswer<T> oracle_answer(const Observed& obs, const Factors<T>& f, double lambda) {
  return {&obs, f.k, run(oracle(), obs, f, lambda, 1), error_bounds(obs, f, lambda)};
}

// A loss and both gradients agree with the oracle's answer within its bounds: the check the benchmark
// makes (mfgrad::check); a failure names `what` and the first offending value (where, got, want, bound).
template <class T>
void expect_matches_oracle(const OracleAnswer<T>& o, double loss, const compute_t<T>* gu, const compute_t<T>* gv,
                           const std::string& what = {}) {
  const CheckReport r =
      check<compute_t<T>>(*o.obs, o.k, o.bounds, {o.want.loss, o.want.gu.data(), o.want.gv.data()}, {loss, gu, gv});
  EXPECT_TRUE(r.passed) << what << (what.empty() ? "" : ": ") << r.message;
}

template <class T>
void expect_matches_oracle(const OracleAnswer<T>& o, const Result<T>& got, const std::string& what = {}) {
  ASSERT_EQ(got.gu.size(), o.want.gu.size()) << what;
  ASSERT_EQ(got.gv.size(), o.want.gv.size()) << what;
  expect_matches_oracle(o, got.loss, got.gu.data(), got.gv.data(), what);
}

}  // namespace mfgrad::test
