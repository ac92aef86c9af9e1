// Test support: small problems, running a kernel, and the error bounds every comparison uses.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <ostream>
#include <random>
#include <string>
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

template <class T>
struct Factors {
  std::size_t m = 0, n = 0, k = 0;
  std::vector<T> u, v;
};

// Entries uniform in [−scale, scale]; scale 1/√k keeps u·v of order one at any k.
template <class T>
Factors<T> random_factors(std::size_t m, std::size_t n, std::size_t k, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const double scale = 1.0 / std::sqrt(static_cast<double>(k));
  std::uniform_real_distribution<double> d(-scale, scale);
  Factors<T> f{m, n, k, std::vector<T>(m * k), std::vector<T>(n * k)};
  for (T& x : f.u) x = static_cast<T>(d(rng));
  for (T& x : f.v) x = static_cast<T>(d(rng));
  return f;
}

template <class T>
struct Result {
  double loss = 0;
  std::vector<T> gu, gv;
};

// Runs `kernel` through mfgrad::evaluate with the gradient buffers pre-filled with `fill`.
template <class T>
Result<T> run(const Kernel& kernel, const Observed& obs, const Factors<T>& f, double lambda, int threads,
              T fill = std::numeric_limits<T>::quiet_NaN(), Workspace::CacheSizes caches = {}) {
  Result<T> r{0, std::vector<T>(f.m * f.k, fill), std::vector<T>(f.n * f.k, fill)};
  Workspace ws(threads);
  ws.set_cache_sizes(caches);
  r.loss = evaluate<T>(kernel, obs, {f.u.data(), f.m, f.k}, {f.v.data(), f.n, f.k}, lambda,
                       {r.gu.data(), f.m, f.k}, {r.gv.data(), f.n, f.k}, ws);
  return r;
}

// The tolerance rule is the library's (mfgrad/check.hpp), so tests and the benchmark's oracle check
// hold every implementation to the same written bound.
template <class T>
ErrorBounds error_bounds(const Observed& obs, const Factors<T>& f, double lambda) {
  return mfgrad::error_bounds<T>(obs, f.u.data(), f.v.data(), f.k, lambda);
}

}  // namespace mfgrad::test
