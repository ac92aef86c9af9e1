// The power-law generator behind every preset.
#include "mfgrad/generate.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "format.hpp"

namespace mfgrad {

namespace {

// splitmix64: a stateless mix, so any (seed, stream, index) gives its own reproducible draws.
constexpr std::uint64_t mix(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

enum Stream : std::uint64_t { row_perm = 1, col_perm, row_cols, row_factor, col_factor, entry_noise, factor_value };

class Rng {
 public:
  Rng(std::uint64_t seed, Stream stream, std::uint64_t index) noexcept
      : state_(mix(mix(seed ^ (static_cast<std::uint64_t>(stream) << 56)) ^ index)) {}
  std::uint64_t next() noexcept { return mix(state_++); }
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }               // [0, 1)
  double open_uniform() noexcept { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }  // (0, 1)
  std::uint64_t below(std::uint64_t bound) noexcept {  // [0, bound), Lemire's multiply-shift
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * bound) >> 64);
  }
  double normal() noexcept {
    return std::sqrt(-2.0 * std::log(open_uniform())) * std::cos(6.283185307179586 * uniform());
  }

 private:
  std::uint64_t state_;
};

// Weight (rank+1)^(−skew) given to ids in a seeded random order.
std::vector<double> power_law_weights(index_t count, double skew, std::uint64_t seed, Stream stream) {
  std::vector<index_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  Rng rng(seed, stream, 0);
  for (index_t x = count - 1; x > 0; --x) std::swap(order[x], order[rng.below(static_cast<std::uint64_t>(x) + 1)]);
  std::vector<double> w(count);
  for (index_t rank = 0; rank < count; ++rank) w[order[rank]] = std::pow(static_cast<double>(rank) + 1.0, -skew);
  return w;
}

// Row degrees proportional to the weights, clamped to [min_degree, cols], summing to exactly nnz.
std::vector<offset_t> degrees(const std::vector<double>& w, offset_t nnz, offset_t min_degree, offset_t cols) {
  const auto clamped = [&](double s, double wi) {
    return std::clamp(s * wi, static_cast<double>(min_degree), static_cast<double>(cols));
  };
  const auto total = [&](double s) {
    double t = 0;
    for (double wi : w) t += clamped(s, wi);
    return t;
  };
  double lo = 0, hi = 1;
  while (total(hi) < static_cast<double>(nnz) && hi < 1e300) hi *= 2;
  for (int it = 0; it < 200; ++it) {
    const double mid = 0.5 * (lo + hi);
    (total(mid) < static_cast<double>(nnz) ? lo : hi) = mid;
  }
  std::vector<offset_t> d(w.size());
  std::vector<std::pair<double, std::size_t>> frac;
  frac.reserve(w.size());
  offset_t sum = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    const double x = clamped(hi, w[i]);
    d[i] = static_cast<offset_t>(std::floor(x));
    sum += d[i];
    if (d[i] < cols) frac.emplace_back(x - std::floor(x), i);
  }
  // Largest remainders first; ties by id so the result is fully determined.
  std::sort(frac.begin(), frac.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  for (std::size_t x = 0; sum < nnz && x < frac.size(); ++x, ++sum) ++d[frac[x].second];
  for (std::size_t i = 0; sum > nnz && i < d.size(); ++i)  // the bisection overshot by rounding
    while (sum > nnz && d[i] > min_degree) --d[i], --sum;
  for (std::size_t i = 0; sum < nnz && i < d.size(); ++i)
    while (sum < nnz && d[i] < cols) ++d[i], ++sum;
  return d;
}

// Vose's alias table: O(1) draws from a discrete distribution.
class AliasTable {
 public:
  explicit AliasTable(const std::vector<double>& w) : prob_(w.size()), alias_(w.size()) {
    const std::size_t n = w.size();
    const double total = std::accumulate(w.begin(), w.end(), 0.0);
    std::vector<double> scaled(n);
    std::vector<index_t> small, large;
    for (std::size_t j = 0; j < n; ++j) {
      scaled[j] = w[j] * static_cast<double>(n) / total;
      (scaled[j] < 1.0 ? small : large).push_back(static_cast<index_t>(j));
    }
    while (!small.empty() && !large.empty()) {
      const index_t s = small.back(), l = large.back();
      small.pop_back();
      prob_[s] = scaled[s];
      alias_[s] = l;
      scaled[l] -= 1.0 - scaled[s];
      if (scaled[l] < 1.0) {
        large.pop_back();
        small.push_back(l);
      }
    }
    for (index_t j : large) prob_[j] = 1.0, alias_[j] = j;
    for (index_t j : small) prob_[j] = 1.0, alias_[j] = j;
  }
  index_t draw(Rng& rng) const noexcept {
    const auto j = static_cast<index_t>(rng.below(prob_.size()));
    return rng.uniform() < prob_[j] ? j : alias_[j];
  }

 private:
  std::vector<double> prob_;
  std::vector<index_t> alias_;
};

// Rows first .. first+count-1 of the planted factor: each keyed by its id alone.
std::vector<double> planted_factors(index_t first, index_t count, int rank, std::uint64_t seed, Stream stream) {
  std::vector<double> f(static_cast<std::size_t>(count) * rank);
  const double sd = std::pow(static_cast<double>(rank), -0.25);
#pragma omp parallel for schedule(static)
  for (index_t x = 0; x < count; ++x) {
    Rng rng(seed, stream, static_cast<std::uint64_t>(first) + static_cast<std::uint64_t>(x));
    for (int l = 0; l < rank; ++l) f[static_cast<std::size_t>(x) * rank + l] = sd * rng.normal();
  }
  return f;
}

}  // namespace

std::span<const DataSpec> presets() {
  static const std::vector<DataSpec> list = [] {
    std::vector<DataSpec> p;
    auto add = [&](std::string name, index_t m, index_t n, offset_t nnz, double rs, double cs, offset_t min_deg,
                   std::string summary) {
      DataSpec s;
      s.name = std::move(name);
      s.rows = m;
      s.cols = n;
      s.nnz = nnz;
      s.row_skew = rs;
      s.col_skew = cs;
      s.min_row_degree = min_deg;
      s.summary = std::move(summary);
      p.push_back(std::move(s));
    };
    add("tiny", 3000, 1500, 60000, 0.5, 0.55, 1, "3,000 x 1,500, 60 k entries: seconds, for CI");
    add("ml-small", 610, 9724, 100836, 0.57, 0.44, 20, "shape of MovieLens latest-small: 610 x 9,724, 100,836 entries");
    add("netflix-25m", 480189, 17770, 25000000, 0.37, 0.44, 1, "Netflix-prize shape, 480,189 x 17,770, 25 M entries");
    add("netflix-100m", 480189, 17770, 100480507, 0.37, 0.44, 1, "Netflix-prize shape and size, 100,480,507 entries");
    add("wide-50m", 1000990, 624961, 50000000, 0.37, 0.44, 1,
        "1,000,990 x 624,961, 50 M entries: V and dV leave the caches");
    return p;
  }();
  return list;
}

const DataSpec& preset(std::string_view name) {
  std::string known;
  for (const DataSpec& s : presets()) {
    if (s.name == name) return s;
    known += (known.empty() ? "" : ", ") + s.name;
  }
  throw Error("unknown data preset '" + std::string(name) + "' (known: " + known + ")");
}

void check(const DataSpec& s) {
  const std::string who = "data spec '" + s.name + "': ";
  if (s.rows < 1 || s.cols < 1) throw Error(who + "needs at least one row and one column");
  if (s.nnz < 0 || s.nnz > static_cast<offset_t>(s.rows) * s.cols)
    throw Error(who + "nnz " + std::to_string(s.nnz) + " does not fit in " + std::to_string(s.rows) + " x " +
                std::to_string(s.cols));
  if (s.min_row_degree < 0 || s.min_row_degree > s.cols || s.min_row_degree * s.rows > s.nnz)
    throw Error(who + "min_row_degree " + std::to_string(s.min_row_degree) + " is impossible with these sizes");
  if (!(s.row_skew >= 0) || !(s.col_skew >= 0) || !std::isfinite(s.row_skew) || !std::isfinite(s.col_skew))
    throw Error(who + "skews must be finite and >= 0");
  if (s.rank < 1) throw Error(who + "rank must be at least 1");
  if (!std::isfinite(s.mean) || !std::isfinite(s.noise) || s.noise < 0)
    throw Error(who + "mean and noise must be finite, noise >= 0");
}

std::vector<offset_t> row_degrees(const DataSpec& s) {
  check(s);
  return degrees(power_law_weights(s.rows, s.row_skew, s.seed, row_perm), s.nnz, s.min_row_degree, s.cols);
}

Entries generate_entries(const DataSpec& s) { return generate_rows(s, 0, s.rows); }

Entries generate_rows(const DataSpec& s, index_t row_begin, index_t row_end) {
  const std::vector<offset_t> deg_all = row_degrees(s);
  if (row_begin < 0 || row_end < row_begin || row_end > s.rows)
    throw Error("data spec '" + s.name + "': rows " + std::to_string(row_begin) + ".." + std::to_string(row_end) +
                " are not a range of its " + std::to_string(s.rows) + " rows");
  const index_t m = row_end - row_begin, n = s.cols;
  const std::span<const offset_t> deg(deg_all.data() + row_begin, static_cast<std::size_t>(m));
  const std::vector<double> col_w = power_law_weights(n, s.col_skew, s.seed, col_perm);
  const AliasTable table(col_w);
  const std::vector<double> a = planted_factors(row_begin, m, s.rank, s.seed, row_factor);
  const std::vector<double> b = planted_factors(0, n, s.rank, s.seed, col_factor);

  std::vector<offset_t> start(static_cast<std::size_t>(m) + 1, 0);
  for (index_t i = 0; i < m; ++i) start[i + 1] = start[i] + deg[i];

  Entries e;
  e.rows = m;
  e.cols = n;
  e.source = "generated '" + s.name + "'";
  e.row.resize(start[m]);
  e.col.resize(start[m]);
  e.value.resize(start[m]);

#pragma omp parallel
  {
    std::vector<unsigned char> taken(n, 0);
    std::vector<std::pair<double, index_t>> keys;
#pragma omp for schedule(dynamic, 64)
    for (index_t i = 0; i < m; ++i) {
      Rng rng(s.seed, row_cols, static_cast<std::uint64_t>(row_begin) + static_cast<std::uint64_t>(i));
      const offset_t d = deg[i];
      index_t* cols = e.col.data() + start[i];
      if (d * 4 <= n) {
        // Sparse row: draw from the column law, redraw repeats.
        for (offset_t x = 0; x < d;) {
          const index_t j = table.draw(rng);
          if (!taken[j]) taken[j] = 1, cols[x++] = j;
        }
        for (offset_t x = 0; x < d; ++x) taken[cols[x]] = 0;
      } else {
        // Dense row: weighted sampling without replacement by exponential keys (smallest d win).
        keys.resize(n);
        for (index_t j = 0; j < n; ++j) keys[j] = {-std::log(rng.open_uniform()) / col_w[j], j};
        std::nth_element(keys.begin(), keys.begin() + (d - 1), keys.end());
        for (offset_t x = 0; x < d; ++x) cols[x] = keys[x].second;
      }
      std::sort(cols, cols + d);
      Rng noise(s.seed, entry_noise, static_cast<std::uint64_t>(row_begin) + static_cast<std::uint64_t>(i));
      const double* ai = a.data() + static_cast<std::size_t>(i) * s.rank;
      for (offset_t x = 0; x < d; ++x) {
        const double* bj = b.data() + static_cast<std::size_t>(cols[x]) * s.rank;
        double dot = 0;
        for (int l = 0; l < s.rank; ++l) dot += ai[l] * bj[l];
        e.row[start[i] + x] = i;
        e.value[start[i] + x] = s.mean + dot + s.noise * noise.normal();
      }
    }
  }
  return e;
}

Observed generate(const DataSpec& spec) { return Observed::build(generate_entries(spec)); }

template <class T>
std::vector<T> random_factor(std::size_t rows, std::size_t k, std::uint64_t seed) {
  return random_factor_rows<T>(0, rows, k, seed);
}

template <class T>
std::vector<T> random_factor_rows(std::size_t row_begin, std::size_t row_end, std::size_t k, std::uint64_t seed) {
  const std::size_t rows = row_end > row_begin ? row_end - row_begin : 0, first = row_begin * k;
  std::vector<T> f(rows * k);
  const double half_width = std::sqrt(3.0) * std::pow(static_cast<double>(k), -0.25);
#pragma omp parallel for schedule(static)
  for (std::size_t x = 0; x < rows * k; ++x) {
    Rng rng(seed, factor_value, first + x);  // keyed by position: the same at any thread count
    const double value = (2 * rng.uniform() - 1) * half_width;
    if constexpr (std::is_same_v<T, bfloat16>)
      f[x] = to_bfloat16(static_cast<float>(value));
    else if constexpr (std::is_same_v<T, float16>)
      f[x] = to_float16(static_cast<float>(value));
    else
      f[x] = static_cast<T>(value);
  }
  return f;
}

template std::vector<float> random_factor<float>(std::size_t, std::size_t, std::uint64_t);
template std::vector<double> random_factor<double>(std::size_t, std::size_t, std::uint64_t);
template std::vector<bfloat16> random_factor<bfloat16>(std::size_t, std::size_t, std::uint64_t);
template std::vector<float16> random_factor<float16>(std::size_t, std::size_t, std::uint64_t);
template std::vector<float> random_factor_rows<float>(std::size_t, std::size_t, std::size_t, std::uint64_t);
template std::vector<double> random_factor_rows<double>(std::size_t, std::size_t, std::size_t, std::uint64_t);
template std::vector<bfloat16> random_factor_rows<bfloat16>(std::size_t, std::size_t, std::size_t, std::uint64_t);
template std::vector<float16> random_factor_rows<float16>(std::size_t, std::size_t, std::size_t, std::uint64_t);

}  // namespace mfgrad
