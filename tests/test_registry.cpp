// The registry: the implementations it holds, lookup errors, the best and the forced implementation.
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "kernel_author.hpp"
#include "support.hpp"

namespace mfgrad::test {
namespace {

TEST(Registry, HoldsTheRequiredImplementationsOnce) {
  std::set<std::string> names;
  for (const Kernel& k : registry()) {
    EXPECT_TRUE(names.insert(k.name).second) << "registered twice: " << k.name;
    EXPECT_NE(code(k).f32, nullptr);
    EXPECT_NE(code(k).f64, nullptr);
    EXPECT_GT(std::string(k.description).size(), 10u);
  }
  for (const char* required : {"naive", "csr_rows_omp", "csc_cols_omp", "fused_simd", "tbb"})
    EXPECT_TRUE(names.count(required)) << required;
  EXPECT_TRUE(kernel("naive").deterministic);
  EXPECT_TRUE(kernel("csc_cols_omp").deterministic);
}

TEST(Registry, LookupErrorsListTheKnownNames) {
  EXPECT_EQ(find_kernel("no_such"), nullptr);
  const std::string msg = error_of([] { kernel("no_such"); });
  EXPECT_NE(msg.find("unknown implementation 'no_such'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("csc_cols_omp"), std::string::npos) << msg;
}

TEST(Registry, BestIsSupportedAndHighestTier) {
  const Kernel& best = best_kernel();
  EXPECT_TRUE(best.supported());
  for (const Kernel& k : registry())
    if (k.supported()) {
      EXPECT_LE(code(k).tier, code(best).tier) << k.name;
    }
}

// MFGRAD_KERNEL forces the implementation, and the forced one is the one that runs.
TEST(Registry, EnvironmentForcesTheImplementation) {
  const Observed obs = Observed::build(random_entries(9, 8, 0.5, 1));
  const Factors<float> f = random_factors<float>(9, 8, 4, 2);
  for (const Kernel& forced : registry()) {
    ASSERT_EQ(setenv("MFGRAD_KERNEL", forced.name, 1), 0);
    const Kernel& chosen = default_kernel();
    EXPECT_STREQ(chosen.name, forced.name);
    std::vector<std::uint64_t> before;
    for (const Kernel& k : registry()) before.push_back(invocations(k));
    run(chosen, obs, f, 0.1, 2);
    for (std::size_t x = 0; x < registry().size(); ++x) {
      const Kernel& k = registry()[x];
      EXPECT_EQ(invocations(k) - before[x], &k == &forced ? 1u : 0u) << k.name << " while forcing " << forced.name;
    }
  }
  ASSERT_EQ(setenv("MFGRAD_KERNEL", "no_such", 1), 0);
  EXPECT_NE(error_of([] { default_kernel(); }).find("MFGRAD_KERNEL: unknown implementation"), std::string::npos);
  ASSERT_EQ(unsetenv("MFGRAD_KERNEL"), 0);
  EXPECT_EQ(&default_kernel(), &best_kernel());
}

}  // namespace
}  // namespace mfgrad::test
