// Mann–Whitney U test and sample summaries (stats.hpp).
#include "stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

#include "util.hpp"

namespace mfgrad::bench {

namespace {

// Ranks of x followed by y in the pooled sample, doubled so that midranks of ties stay integers.
struct Ranks {
  std::vector<std::int64_t> doubled;
  std::vector<std::size_t> tie_sizes;  // of every group of equal values, singletons included
};

Ranks rank_pooled(std::span<const double> x, std::span<const double> y) {
  std::vector<std::pair<double, std::size_t>> pooled;
  for (std::size_t i = 0; i < x.size(); ++i) pooled.emplace_back(x[i], i);
  for (std::size_t j = 0; j < y.size(); ++j) pooled.emplace_back(y[j], x.size() + j);
  std::sort(pooled.begin(), pooled.end());
  Ranks r{std::vector<std::int64_t>(pooled.size()), {}};
  for (std::size_t begin = 0; begin < pooled.size();) {
    std::size_t end = begin + 1;
    while (end < pooled.size() && pooled[end].first == pooled[begin].first) ++end;
    // Positions begin+1 .. end share the midrank (begin+1+end)/2.
    for (std::size_t t = begin; t < end; ++t) r.doubled[pooled[t].second] = static_cast<std::int64_t>(begin + 1 + end);
    r.tie_sizes.push_back(end - begin);
    begin = end;
  }
  return r;
}

// P(|W − E W| ≥ |w − E W|) for the rank sum W of n values drawn without replacement from the pooled
// (mid)ranks: every split of the pooled sample is equally likely under the null hypothesis. Counting
// by rank sum keeps this exact with ties, where the distribution need not be symmetric.
double exact_p(const std::vector<std::int64_t>& doubled, std::size_t n, std::int64_t observed) {
  const std::size_t total_sum =
      static_cast<std::size_t>(std::accumulate(doubled.begin(), doubled.end(), std::int64_t{0}));
  const std::size_t width = total_sum + 1;
  // ways[k·width + s]: subsets of k of the ranks seen so far with doubled sum s. At most C(40, 20)
  // fits easily in 64 bits.
  std::vector<std::uint64_t> ways((n + 1) * width, 0);
  ways[0] = 1;
  for (std::int64_t rank : doubled) {
    const std::size_t r = static_cast<std::size_t>(rank);
    for (std::size_t k = n; k >= 1; --k)
      for (std::size_t s = total_sum; s >= r; --s) ways[k * width + s] += ways[(k - 1) * width + s - r];
  }
  const std::int64_t center = static_cast<std::int64_t>(n * (doubled.size() + 1));
  const std::int64_t deviation = std::abs(observed - center);
  std::uint64_t extreme = 0, all = 0;
  for (std::size_t s = 0; s < width; ++s) {
    const std::uint64_t w = ways[n * width + s];
    all += w;
    if (std::abs(static_cast<std::int64_t>(s) - center) >= deviation) extreme += w;
  }
  return static_cast<double>(extreme) / static_cast<double>(all);
}

// Normal approximation of U with the tie-corrected variance and a continuity correction of ½.
double normal_p(double u, std::size_t n, std::size_t m, const std::vector<std::size_t>& tie_sizes) {
  const double big_n = static_cast<double>(n + m);
  double ties = 0;
  for (std::size_t t : tie_sizes) ties += std::pow(static_cast<double>(t), 3) - static_cast<double>(t);
  const double nm = static_cast<double>(n) * static_cast<double>(m);
  const double variance = nm / 12 * ((big_n + 1) - ties / (big_n * (big_n - 1)));
  if (variance <= 0) return 1;  // every value tied: no evidence either way
  const double z = std::max(0.0, std::abs(u - nm / 2) - 0.5) / std::sqrt(variance);
  return std::min(1.0, std::erfc(z / std::sqrt(2.0)));
}

}  // namespace

// Complete separation: 2/C(n+m, n).
double mann_whitney_smallest_p(std::size_t n, std::size_t m) {
  double splits = 1;
  for (std::size_t i = 1; i <= n; ++i) splits = splits * static_cast<double>(m + i) / static_cast<double>(i);
  return std::min(1.0, 2 / splits);
}

SampleSummary summarize_samples(const std::vector<double>& samples) {
  const double median = detail::median(samples);
  std::vector<double> deviations;
  for (double s : samples) deviations.push_back(std::abs(s - median));
  return {median, detail::median(deviations), samples.size()};
}

MannWhitney mann_whitney(std::span<const double> x, std::span<const double> y, MannWhitneyMethod method) {
  for (std::span<const double> sample : {x, y})
    for (double v : sample)
      if (!std::isfinite(v)) throw std::invalid_argument("mann_whitney: samples must be finite");
  const std::size_t n = x.size(), m = y.size();
  if (method == MannWhitneyMethod::exact && n + m > kMannWhitneyExactMax)
    throw std::invalid_argument("mann_whitney: the exact test takes at most " + std::to_string(kMannWhitneyExactMax) +
                                " values, got " + std::to_string(n + m));
  MannWhitney result;
  if (n == 0 || m == 0) return result;

  const Ranks ranks = rank_pooled(x, y);
  const std::int64_t x_doubled = std::accumulate(ranks.doubled.begin(), ranks.doubled.begin() + n, std::int64_t{0});
  result.u = static_cast<double>(x_doubled) / 2 - static_cast<double>(n * (n + 1)) / 2;
  result.exact =
      method == MannWhitneyMethod::exact || (method == MannWhitneyMethod::automatic && n + m <= kMannWhitneyExactMax);
  result.p = result.exact ? exact_p(ranks.doubled, n, x_doubled) : normal_p(result.u, n, m, ranks.tie_sizes);
  return result;
}

std::string format_p(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g", v);
  return buf;
}

}  // namespace mfgrad::bench
