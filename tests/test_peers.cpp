// The benchmark's peers (bench/peers: Eigen, GraphBLAS — whichever this build found) × float/double ×
// shapes that break implementations, compared with `naive` under the same error bounds as the
// registered kernels, at 1 and 2 threads, with outputs pre-filled with garbage.
#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <tuple>

#include "peers.hpp"
#include "support.hpp"

namespace mfgrad::test {
namespace {

using bench::Peer;
using bench::peers;

// A Peer as a Kernel, so that mfgrad::evaluate validates its arguments exactly as for the registry.
Kernel as_kernel(const Peer& peer) {
  static std::deque<KernelCode> codes;  // for the whole run: a Kernel points at its code
  codes.push_back(KernelCode{.simd = false,
                             .cache_tunable = false,
                             .native_half = false,
                             .tier = 0,
                             .prefers = nullptr,
                             .f32 = peer.f32,
                             .f64 = peer.f64});
  return Kernel{.name = peer.name,
                .description = peer.description,
                .isa = Isa::baseline,
                .oracle = false,
                .serial = false,
                .deterministic = false,
                .code = &codes.back()};
}

const Peer& peer(const std::string& name) {
  for (const Peer& p : peers())
    if (name == p.name) return p;
  throw std::logic_error("no peer " + name);
}

std::vector<std::string> peer_names() {
  std::vector<std::string> names;
  for (const Peer& p : peers()) names.push_back(p.name);
  return names;
}

// The kernel suite's shapes that matter to a library call: narrow and odd k, empty rows and columns,
// m ≠ n, one entry, empty Ω, power-law skew.
std::vector<std::string> peer_shape_names() {
  return {"k1", "k7", "k16", "k33", "empty_rows_cols", "tall", "one_entry", "empty", "power_law"};
}

constexpr double lambda = 0.05;

class PeerVsOracle : public ::testing::TestWithParam<Param> {
 protected:
  template <class T>
  void matches_oracle() {
    const auto& [peer_name, shape_name, precision] = GetParam();
    const Kernel impl = as_kernel(peer(peer_name));
    const Observed& obs = observed(shape_name);
    const std::size_t k = shape(shape_name).k;
    const Factors<T> f = random_factors<T>(obs.rows(), obs.cols(), k, 1000 + k);
    const OracleAnswer<T> answer = oracle_answer(obs, f, lambda);

    expect_not_trivial(answer.want);

    // Outputs pre-filled with NaN or a huge value must be overwritten, at any thread count.
    for (int threads : {1, 2})
      for (T fill : {std::numeric_limits<T>::quiet_NaN(), T(1e30)})
        expect_matches_oracle(answer, run(impl, obs, f, lambda, threads, fill),
                              std::to_string(threads) + " threads, fill " + std::to_string(fill));
  }
};

TEST_P(PeerVsOracle, MatchesOracle) {
  if (std::get<2>(GetParam()) == Precision::f32)
    matches_oracle<float>();
  else
    matches_oracle<double>();
}

INSTANTIATE_TEST_SUITE_P(Peers, PeerVsOracle,
                         ::testing::Combine(::testing::ValuesIn(peer_names()), ::testing::ValuesIn(peer_shape_names()),
                                            ::testing::Values(Precision::f32, Precision::f64)),
                         param_name);
// A build that found neither library has no peers, hence no instances.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(PeerVsOracle);

// One Workspace reused across factors, data sets and thread counts: the prepared state and the buffers
// a peer keeps between evaluations must not leak one evaluation into the next.
template <class T>
void reuse_workspace(const Kernel& impl) {
  Workspace ws(2);
  std::uint64_t seed = 1;
  for (const char* shape_name : {"k16", "power_law", "k16", "empty", "k16"}) {
    for (int threads : {2, 1}) {
      ws.set_threads(threads);
      const Observed& obs = observed(shape_name);
      const std::size_t k = shape_name == std::string("power_law") ? 24 : 16;
      const Factors<T> f = random_factors<T>(obs.rows(), obs.cols(), k, ++seed);
      Result<T> got{0, std::vector<T>(f.u.size(), std::numeric_limits<T>::quiet_NaN()),
                    std::vector<T>(f.v.size(), std::numeric_limits<T>::quiet_NaN())};
      got.loss = evaluate<T>(impl, obs, {f.u.data(), f.m, f.k}, {f.v.data(), f.n, f.k}, lambda,
                             {got.gu.data(), f.m, f.k}, {got.gv.data(), f.n, f.k}, ws);
      expect_matches_oracle(oracle_answer(obs, f, lambda), got,
                            std::string(impl.name) + " " + shape_name + " " + std::to_string(threads) + " threads");
    }
  }
}

TEST(Peers, ReuseWorkspaceAcrossEvaluations) {
  for (const Peer& p : peers()) {
    reuse_workspace<float>(as_kernel(p));
    reuse_workspace<double>(as_kernel(p));
  }
}

// The configure step decides which peers exist; the list must say exactly that, in a fixed order.
TEST(Peers, ListMatchesBuild) {
  std::vector<std::string> want = {"plain_omp"};
#ifdef MFGRAD_HAVE_EIGEN
  want.push_back("eigen");
#endif
#ifdef MFGRAD_HAVE_GRAPHBLAS
  want.push_back("graphblas");
#endif
#ifdef MFGRAD_HAVE_TORCH
  want.push_back("pytorch");
  want.push_back("pytorch_autograd");
#endif
  EXPECT_EQ(peer_names(), want);
  for (const Peer& p : peers()) {
    EXPECT_TRUE(std::regex_match(p.version, std::regex(R"(\d+\.\d+\.\d+)"))) << p.name << " version " << p.version;
    EXPECT_GT(std::string(p.description).size(), 20u) << p.name;
    EXPECT_NE(p.f32, nullptr) << p.name;
    EXPECT_NE(p.f64, nullptr) << p.name;
  }
}

}  // namespace
}  // namespace mfgrad::test
