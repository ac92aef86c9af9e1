// The statistics of the regression gate (compare.hpp): a Mann–Whitney U test on repetition samples and
// the median / median-absolute-deviation summaries that reports quote.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace mfgrad::bench {

enum class MannWhitneyMethod {
  automatic,  // exact when the two samples hold at most kMannWhitneyExactMax values together
  exact,      // the permutation distribution of the rank sum, ties included (midranks)
  normal,     // normal approximation with tie and continuity corrections
};
inline constexpr std::size_t kMannWhitneyExactMax = 40;

struct MannWhitney {
  double u = 0;  // pairs (x, y) with x > y, ties counting one half
  double p = 1;  // two-sided
  bool exact = false;
};

// Two-sided Mann–Whitney U test of x against y. p = 1 when either sample is empty. Throws
// std::invalid_argument on a non-finite value, or beyond kMannWhitneyExactMax values for the exact method.
MannWhitney mann_whitney(std::span<const double> x, std::span<const double> y,
                         MannWhitneyMethod method = MannWhitneyMethod::automatic);

// The smallest two-sided p the exact test can give with n and m values (complete separation): below
// alpha only with enough repetitions per side.
double mann_whitney_smallest_p(std::size_t n, std::size_t m);

struct SampleSummary {
  double median = 0;
  double mad = 0;  // median absolute deviation, unscaled (as mad_s in results.hpp)
  std::size_t n = 0;
};

// Median and median absolute deviation of repetition samples (what reports and verdicts quote).
SampleSummary summarize_samples(const std::vector<double>& samples);

// p-values and alphas as reports quote them: two significant digits.
std::string format_p(double v);

}  // namespace mfgrad::bench
