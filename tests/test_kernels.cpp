// Every registered implementation × float/double/bfloat16/float16 × shapes that break kernels, compared
// with `naive`. For 16-bit factors the oracle widens the stored values exactly and the bound is the
// float32 rule (mfgrad/check.hpp).
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include "kernel_author.hpp"
#include "support.hpp"

namespace mfgrad::test {
namespace {

std::vector<std::string> kernel_names(bool deterministic_only = false) {
  std::vector<std::string> names;
  for (const Kernel& k : registry())
    if (!deterministic_only || k.deterministic) names.push_back(k.name);
  return names;
}

// The implementations a comparison with the oracle tests: every one but the oracle itself (whose own
// check is against an independent computation, FiniteDifferences).
std::vector<std::string> compared_names() {
  std::vector<std::string> names;
  for (const Kernel& k : registry())
    if (!k.oracle) names.push_back(k.name);
  return names;
}

// Each test of an implementation starts here: one whose least ISA this CPU (or MFGRAD_ISA) lacks is
// skipped, saying so, rather than failing on what the machine cannot run.
#define SKIP_UNLESS_SUPPORTED(id)                                                        \
  if (const Kernel* listed = find_kernel(id); listed != nullptr && !listed->supported()) \
  GTEST_SKIP() << listed->name << " needs " << to_string(listed->isa) << ", which this CPU (or MFGRAD_ISA) lacks"

constexpr double lambda = 0.05;

const auto kAllPrecisions = ::testing::Values(Precision::f32, Precision::f64, Precision::bf16, Precision::f16);

template <class T>
bool bitwise_equal(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

class Kernels : public ::testing::TestWithParam<Param> {
 protected:
  template <class T>
  void matches_oracle() {
    const auto& [kernel_name, shape_name, precision] = GetParam();
    const Kernel& impl = kernel(kernel_name);
    const Observed& obs = observed(shape_name);
    const std::size_t k = shape(shape_name).k;
    const Factors<T> f = random_factors<T>(obs.rows(), obs.cols(), k, 1000 + k);
    const OracleAnswer<T> answer = oracle_answer(obs, f, lambda);
    const Result<T> got = run(impl, obs, f, lambda, 3);

    expect_not_trivial(answer.want);
    expect_matches_oracle(answer, got);

    // Outputs are written, not read: garbage or NaN already there changes nothing, bit for bit.
    const Result<T> zero_filled = run(impl, obs, f, lambda, 3, compute_t<T>(0));
    const Result<T> big_filled = run(impl, obs, f, lambda, 3, compute_t<T>(1e30));
    EXPECT_TRUE(bitwise_equal(got.gu, zero_filled.gu) && bitwise_equal(got.gu, big_filled.gu));
    EXPECT_TRUE(bitwise_equal(got.gv, zero_filled.gv) && bitwise_equal(got.gv, big_filled.gv));
    EXPECT_EQ(got.loss, zero_filled.loss);
  }
};

TEST_P(Kernels, MatchesOracle) {
  SKIP_UNLESS_SUPPORTED(std::get<0>(GetParam()));
  with_precision(std::get<2>(GetParam()), [&](auto t) { matches_oracle<decltype(t)>(); });
}

INSTANTIATE_TEST_SUITE_P(Registry, Kernels,
                         ::testing::Combine(::testing::ValuesIn(compared_names()), ::testing::ValuesIn(shape_names()),
                                            kAllPrecisions),
                         param_name);

// Bitwise identity across thread counts for implementations that promise it; a fixed thread count
// must reproduce itself for all.
class Threads : public ::testing::TestWithParam<std::tuple<std::string, Precision>> {
 protected:
  template <class T>
  void check() {
    const Kernel& impl = kernel(std::get<0>(GetParam()));
    const Observed& obs = observed("power_law");
    const Factors<T> f = random_factors<T>(obs.rows(), obs.cols(), 24, 7);
    const Result<T> one = run(impl, obs, f, lambda, 1);
    for (int threads : {1, 2, 3, 8}) {
      const Result<T> a = run(impl, obs, f, lambda, threads), b = run(impl, obs, f, lambda, threads);
      EXPECT_TRUE(bitwise_equal(a.gu, b.gu) && bitwise_equal(a.gv, b.gv) && a.loss == b.loss)
          << threads << " threads do not reproduce themselves";
      if (impl.deterministic) {
        EXPECT_TRUE(bitwise_equal(a.gu, one.gu)) << "grad_U differs between 1 and " << threads << " threads";
        EXPECT_TRUE(bitwise_equal(a.gv, one.gv)) << "grad_V differs between 1 and " << threads << " threads";
        EXPECT_EQ(a.loss, one.loss) << "loss differs between 1 and " << threads << " threads";
      }
    }
  }
};

TEST_P(Threads, Reproducible) {
  SKIP_UNLESS_SUPPORTED(std::get<0>(GetParam()));
  with_precision(std::get<1>(GetParam()), [&](auto t) { check<decltype(t)>(); });
}

INSTANTIATE_TEST_SUITE_P(Registry, Threads, ::testing::Combine(::testing::ValuesIn(kernel_names()), kAllPrecisions),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + to_string(std::get<1>(info.param));
                         });

// Cache-blocked implementations with caches shrunk to a few KiB, so that the small test shapes are cut
// into many row bands and column bands (segments spanning tiles, first/later segments, empty rows and
// columns inside bands). Implementations without tiles ignore the sizes and must be unaffected.
class SmallTiles : public ::testing::TestWithParam<std::tuple<std::string, std::string, Precision>> {
 protected:
  template <class T>
  void check() {
    const auto& [kernel_name, shape_name, precision] = GetParam();
    const Kernel& impl = kernel(kernel_name);
    const Observed& obs = observed(shape_name);
    const std::size_t k = shape(shape_name).k;
    const Factors<T> f = random_factors<T>(obs.rows(), obs.cols(), k, 77);
    const Workspace::CacheSizes tiny{.l2 = 2048, .l3 = 4096};
    const OracleAnswer<T> answer = oracle_answer(obs, f, lambda);
    const Result<T> one = run(impl, obs, f, lambda, 1, std::numeric_limits<compute_t<T>>::quiet_NaN(), tiny);
    expect_matches_oracle(answer, one, "small tiles, 1 thread");
    const Result<T> three = run(impl, obs, f, lambda, 3, std::numeric_limits<compute_t<T>>::quiet_NaN(), tiny);
    if (impl.deterministic) {
      EXPECT_TRUE(bitwise_equal(one.gu, three.gu) && bitwise_equal(one.gv, three.gv) && one.loss == three.loss)
          << "small tiles: 1 and 3 threads differ";
    } else {
      expect_matches_oracle(answer, three, "small tiles, 3 threads");
    }
  }
};

TEST_P(SmallTiles, MatchesOracle) {
  SKIP_UNLESS_SUPPORTED(std::get<0>(GetParam()));
  with_precision(std::get<2>(GetParam()), [&](auto t) { check<decltype(t)>(); });
}

INSTANTIATE_TEST_SUITE_P(Registry, SmallTiles,
                         ::testing::Combine(::testing::ValuesIn(compared_names()),
                                            ::testing::Values("empty_rows_cols", "power_law", "k16", "k64", "k7",
                                                              "wide", "tall"),
                                            kAllPrecisions),
                         param_name);

// Central differences in double. F is a quadratic polynomial in any single coordinate of U or V,
// so the central difference has no truncation error; what remains is rounding in the two F values,
// at most about 2·γ(nnz)·F_abs / (2h). The tolerance is 64·ε·(F + 1)/h + 1e-9·|g|.
class FiniteDifferences : public ::testing::TestWithParam<std::string> {};

TEST_P(FiniteDifferences, GradientMatchesCentralDifferences) {
  SKIP_UNLESS_SUPPORTED(GetParam());
  const Kernel& impl = kernel(GetParam());
  const Observed& obs = observed("empty_rows_cols");
  const std::size_t k = 9;
  Factors<double> f = random_factors<double>(obs.rows(), obs.cols(), k, 99);
  const Result<double> g = run(impl, obs, f, lambda, 2);
  const double h = 1e-3;
  std::mt19937_64 rng(5);
  auto check_coordinate = [&](std::vector<double>& x, const std::vector<double>& grad, std::size_t at,
                              const char* what) {
    const double saved = x[at];
    x[at] = saved + h;
    const double up = run(impl, obs, f, lambda, 2).loss;
    x[at] = saved - h;
    const double down = run(impl, obs, f, lambda, 2).loss;
    x[at] = saved;
    const double fd = (up - down) / (2 * h);
    const double tol = 64 * DBL_EPSILON * (std::fabs(g.loss) + 1) / h + 1e-9 * std::fabs(grad[at]);
    EXPECT_NEAR(grad[at], fd, tol) << what << "[" << at / k << ", " << at % k << "]";
  };
  // Row 0 and column 0 have no observed entry: their gradient is λu / λv alone.
  check_coordinate(f.u, g.gu, 3, "U");
  check_coordinate(f.v, g.gv, 2, "V");
  for (int s = 0; s < 30; ++s) {
    check_coordinate(f.u, g.gu, rng() % f.u.size(), "U");
    check_coordinate(f.v, g.gv, rng() % f.v.size(), "V");
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, FiniteDifferences, ::testing::ValuesIn(kernel_names()),
                         [](const auto& info) { return info.param; });

// A Workspace reused across evaluations, thread counts and data sets keeps giving the oracle's answer.
TEST(Workspace, ReuseAcrossDataAndThreads) {
  const Observed& a = observed("k16");
  const Observed& b = observed("power_law");
  for (const Kernel& impl : registry()) {
    Workspace ws(2);
    for (const Observed* obs : {&a, &b, &a}) {
      for (int threads : {2, 3}) {
        ws.set_threads(threads);
        const Factors<float> f = random_factors<float>(obs->rows(), obs->cols(), 16, 3);
        Result<float> got{0, std::vector<float>(f.u.size()), std::vector<float>(f.v.size())};
        got.loss = evaluate<float>(impl, *obs, {f.u.data(), f.m, f.k}, {f.v.data(), f.n, f.k}, lambda,
                                   {got.gu.data(), f.m, f.k}, {got.gv.data(), f.n, f.k}, ws);
        const Result<float> fresh = run(impl, *obs, f, lambda, threads);
        EXPECT_TRUE(bitwise_equal(got.gu, fresh.gu) && bitwise_equal(got.gv, fresh.gv)) << impl.name;
        EXPECT_EQ(got.loss, fresh.loss) << impl.name;
      }
    }
  }
}

// Every SIMD level this CPU allows, side by side in one process (set_simd_level), against the oracle;
// the scoped guard puts the level back.
TEST(SimdLevels, EachAllowedLevelMatchesTheOracleInOneProcess) {
  const Isa before = simd_level();
  const std::string before_name = simd_arch_name();
  const Observed& obs = observed("power_law");
  const std::size_t k = 24;
  const Factors<float> f = random_factors<float>(obs.rows(), obs.cols(), k, 5);
  const OracleAnswer<float> answer = oracle_answer(obs, f, lambda);
  // 16-bit rows are widened per level (shift, F16C, software on SSE2): each level against the oracle.
  const auto half_matches = [&](auto tag, const Kernel& impl, Isa isa) {
    using S = decltype(tag);
    const Factors<S> h = random_factors<S>(obs.rows(), obs.cols(), k, 6);
    expect_matches_oracle(oracle_answer(obs, h, lambda), run(impl, obs, h, lambda, 2),
                          std::string(impl.name) + " " + to_string(precision_of<S>()) + " at " + to_string(isa));
  };
  std::set<std::string> names;
  std::set<Isa> levels_run;                        // as simd_level() reports them (neon is the aarch64 baseline)
  for (const IsaLevel& vocabulary : isa_levels) {  // every level: those without code must say so
    const Isa isa = vocabulary.isa;
    if (!cpu_supports(isa)) {
      try {
        set_simd_level(isa);
        ADD_FAILURE() << "set_simd_level(" << to_string(isa) << ") accepted a level this CPU lacks";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(to_string(isa)), std::string::npos) << e.what();
      }
      continue;
    }
    try {
      const ScopedSimdLevel level(isa);
      names.insert(simd_arch_name());
      levels_run.insert(simd_level());
      for (const Kernel& impl : registry()) {
        if (!code(impl).simd) continue;
        expect_matches_oracle(answer, run(impl, obs, f, lambda, 2), std::string(impl.name) + " at " + to_string(isa));
        if (code(impl).native_half) {
          half_matches(bfloat16{}, impl, isa);
          half_matches(float16{}, impl, isa);
        }
      }
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("no code"), std::string::npos) << e.what();  // neon on x86-64, …
    }
    EXPECT_EQ(simd_level(), before) << "the guard did not restore the level";
  }
  EXPECT_EQ(simd_arch_name(), before_name);
  // Each level run dispatched to code of its own (a level that fell back to another's would share
  // its name).
  EXPECT_EQ(names.size(), levels_run.size());
}

// What 16-bit storage trades: the same float32 factors, rounded to bfloat16 or float16, move the answer
// (both computed by the oracle, in double). Each factor element moves by at most h relative (h the
// format's unit roundoff, 2^-9 or 2^-11), so each u_i·v_j by at most δ = (2h + h²)·Σ_l |u_il v_jl|, each
// r² by at most 2|r|δ + δ², and each ‖row‖² term x² by (2h + h²)x². The loss must move, and by no more
// than half the sum of those.
class HalfStorage : public ::testing::TestWithParam<Precision> {
 protected:
  template <class S>
  void check(double h) {
    const Observed& obs = observed("power_law");
    const std::size_t k = 24;
    const Factors<float> f = random_factors<float>(obs.rows(), obs.cols(), k, 11);
    Factors<S> r{f.m, f.n, k, std::vector<S>(f.u.size()), std::vector<S>(f.v.size())};
    round_to(std::span<const float>(f.u), std::span<S>(r.u));
    round_to(std::span<const float>(f.v), std::span<S>(r.v));
    const Result<float> exact = run(oracle(), obs, f, lambda, 1);
    const Result<S> rounded = run(oracle(), obs, r, lambda, 1);
    const double grow = 2 * h + h * h;
    double bound = 0;
    const auto row_ptr = obs.row_ptr();
    const auto col = obs.col_idx();
    const auto val = obs.values<double>();
    for (std::size_t i = 0; i < f.m; ++i)
      for (offset_t q = row_ptr[i]; q < row_ptr[i + 1]; ++q) {
        double dot = 0, mag = 0;
        for (std::size_t l = 0; l < k; ++l) {
          const double p = static_cast<double>(f.u[i * k + l]) * f.v[static_cast<std::size_t>(col[q]) * k + l];
          dot += p;
          mag += std::fabs(p);
        }
        const double delta = grow * mag, res = std::fabs(val[q] - dot);
        bound += 0.5 * (2 * res * delta + delta * delta);
      }
    double norms = 0;
    for (float x : f.u) norms += static_cast<double>(x) * x;
    for (float x : f.v) norms += static_cast<double>(x) * x;
    bound += 0.5 * lambda * grow * norms;
    const double moved = std::fabs(rounded.loss - exact.loss);
    EXPECT_GT(moved, 0.0) << "rounding to " << to_string(precision_of<S>()) << " changed nothing: test too weak";
    EXPECT_LE(moved, bound) << "loss " << exact.loss << " (float32) vs " << rounded.loss;
    RecordProperty("relative_loss_change", std::to_string(moved / exact.loss));
  }
};

TEST_P(HalfStorage, MovesTheLossWithinTheRoundingBound) {
  if (GetParam() == Precision::bf16)
    check<bfloat16>(0x1p-9);
  else
    check<float16>(0x1p-11);
}

INSTANTIATE_TEST_SUITE_P(Formats, HalfStorage, ::testing::Values(Precision::bf16, Precision::f16),
                         [](const auto& info) { return std::string(to_string(info.param)); });

}  // namespace
}  // namespace mfgrad::test
