// The data model, validation, the registry and the generator.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "kernel_author.hpp"
#include "mfgrad/memory.hpp"
#include "mfgrad/message.hpp"
#include "support.hpp"

namespace mfgrad::test {
namespace {

// Runs f, which must throw mfgrad::Error, and returns the message.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no mfgrad::Error thrown";
  return {};
}

Entries three_entries() {
  Entries e;
  e.rows = 3;
  e.cols = 4;
  e.push(2, 1, 1.5);
  e.push(0, 3, 2.5);
  e.push(2, 0, 3.5);
  return e;
}

TEST(Observed, CsrCscAndInputOrderAgree) {
  const Entries e = random_entries(23, 17, 0.3, 4, 2, 3);
  const Observed o = Observed::build(e);
  ASSERT_EQ(o.nnz(), e.size());
  ASSERT_EQ(o.rows(), 23);
  ASSERT_EQ(o.cols(), 17);
  // CSR: rows ascending by construction of row_ptr, columns strictly ascending within a row.
  for (index_t i = 0; i < o.rows(); ++i)
    for (offset_t q = o.row_ptr()[i]; q < o.row_ptr()[i + 1]; ++q) {
      EXPECT_EQ(o.row_of()[q], i);
      if (q > o.row_ptr()[i]) {
        EXPECT_LT(o.col_idx()[q - 1], o.col_idx()[q]);
      }
    }
  // CSC points at the same entries, rows ascending within a column.
  std::set<offset_t> seen;
  for (index_t j = 0; j < o.cols(); ++j)
    for (offset_t s = o.col_ptr()[j]; s < o.col_ptr()[j + 1]; ++s) {
      const offset_t q = o.csc_to_csr()[s];
      EXPECT_EQ(o.col_idx()[q], j);
      EXPECT_EQ(o.row_of()[q], o.row_idx()[s]);
      if (s > o.col_ptr()[j]) {
        EXPECT_LT(o.row_idx()[s - 1], o.row_idx()[s]);
      }
      seen.insert(q);
    }
  EXPECT_EQ(static_cast<offset_t>(seen.size()), o.nnz());
  // input_to_csr walks the input back in its own order.
  for (offset_t t = 0; t < e.size(); ++t) {
    const offset_t q = o.input_to_csr(t);
    EXPECT_EQ(o.row_of()[q], e.row[t]);
    EXPECT_EQ(o.col_idx()[q], e.col[t]);
    EXPECT_EQ(o.values<double>()[q], e.value[t]);
    EXPECT_EQ(o.values<float>()[q], static_cast<float>(e.value[t]));
  }
  EXPECT_EQ(o.stats().empty_rows, 2);
  EXPECT_EQ(o.stats().empty_cols, 3);
}

TEST(Observed, RejectsOutOfRangeIdsNamingTheEntry) {
  Entries e = three_entries();
  e.row[1] = 3;
  std::string msg = error_of([&] { Observed::build(e); });
  EXPECT_NE(msg.find("row id 3 is outside the matrix's 3 rows"), std::string::npos) << msg;
  EXPECT_NE(msg.find("input entry #1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("column 3, value 2.5"), std::string::npos) << msg;

  e = three_entries();
  e.col[2] = -1;
  msg = error_of([&] { Observed::build(e); });
  EXPECT_NE(msg.find("column id -1 is outside"), std::string::npos) << msg;
  EXPECT_NE(msg.find("input entry #2"), std::string::npos) << msg;
}

TEST(Observed, RejectsNonFiniteValuesWithSourceLine) {
  for (double bad : {std::nan(""), HUGE_VAL, -HUGE_VAL}) {
    Entries e = three_entries();
    e.value[2] = bad;
    e.line = {7, 8, 9};
    e.source = "r.csv";
    const std::string msg = error_of([&] { Observed::build(e); });
    EXPECT_NE(msg.find("value is not finite"), std::string::npos) << msg;
    EXPECT_NE(msg.find("input entry #2 (line 9 of r.csv)"), std::string::npos) << msg;
  }
}

TEST(Observed, DuplicatePolicies) {
  Entries e = three_entries();
  e.push(0, 3, 10.0);  // repeats entry #1
  e.push(0, 3, 20.0);
  const std::string msg = error_of([&] { Observed::build(e); });
  EXPECT_NE(msg.find("duplicate entry (row 0, column 3)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("input entry #3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("repeats input entry #1"), std::string::npos) << msg;

  const Observed summed = Observed::build(e, DuplicatePolicy::sum);
  const Observed last = Observed::build(e, DuplicatePolicy::last);
  for (const Observed* o : {&summed, &last}) {
    EXPECT_EQ(o->nnz(), 3);
    EXPECT_EQ(o->stats().duplicates_merged, 2);
  }
  // (0, 3) is the only entry of row 0.
  EXPECT_EQ(summed.values<double>()[summed.row_ptr()[0]], 2.5 + 10.0 + 20.0);
  EXPECT_EQ(last.values<double>()[last.row_ptr()[0]], 20.0);
  EXPECT_EQ(parse_duplicate_policy("sum"), DuplicatePolicy::sum);
  EXPECT_NE(error_of([] { parse_duplicate_policy("max"); }).find("unknown duplicate policy 'max'"), std::string::npos);
}

TEST(Observed, SummedDuplicatesThatOverflowAreRejected) {
  Entries e;
  e.rows = e.cols = 2;
  e.push(1, 1, 1.5e308);
  e.push(1, 1, 1.5e308);
  const std::string msg = error_of([&] { Observed::build(e, DuplicatePolicy::sum); });
  EXPECT_NE(msg.find("(row 1, column 1)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not finite"), std::string::npos) << msg;
}

TEST(Observed, RejectsInconsistentEntries) {
  Entries e = three_entries();
  e.col.pop_back();
  EXPECT_NE(error_of([&] { Observed::build(e); }).find("disagree in length"), std::string::npos);
  e = three_entries();
  e.rows = -1;
  EXPECT_NE(error_of([&] { Observed::build(e); }).find("negative"), std::string::npos);
}

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() { old_ ? ::setenv(name_, old_->c_str(), 1) : ::unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(Observed, NamesTheFloat32OverflowAndTheLargestValueByLineAndSource) {
  Entries e = three_entries();
  e.value[1] = -4e38;
  e.line = {7, 8, 9};
  e.source = "r.csv";
  const Observed o = Observed::build(e);
  EXPECT_EQ(o.float32_overflow(),
            "input entry #1 (line 8 of r.csv): row 0, column 3, value -4e+38 does not fit in float32 (largest finite: "
            "3.4028234663852886e+38)");
  EXPECT_EQ(o.largest_value(), "input entry #1 (line 8 of r.csv): row 0, column 3, value -4e+38");
  // The float copy holds an infinity, not the result of an undefined conversion.
  EXPECT_EQ(o.values<float>()[o.row_ptr()[0]], -std::numeric_limits<float>::infinity());

  // Duplicates summed past the float range: the sum is named, with the first of them.
  Entries d = three_entries();
  d.push(2, 0, 3e38);
  d.push(2, 0, 3e38);
  const Observed summed = Observed::build(d, DuplicatePolicy::sum);
  EXPECT_NE(summed.float32_overflow().find("the sum " + format_number(3.5 + 3e38 + 3e38) +
                                           " of duplicates at input entry #2: row 2, column 0, value 3.5"),
            std::string::npos)
      << summed.float32_overflow();
  EXPECT_TRUE(Observed::build(three_entries()).float32_overflow().empty());
  EXPECT_EQ(Observed::build(three_entries()).largest_value(), "input entry #2: row 2, column 0, value 3.5");
}

TEST(Memory, EstimatesSaturateInsteadOfOverflowing) {
  const MemoryNeed small = evaluation_memory(3000, 1500, 60000, 64, Precision::f32, 2);
  EXPECT_EQ(small.factors, 4500u * 64 * 4);
  EXPECT_EQ(small.gradients, small.factors);
  EXPECT_GE(small.scratch, 4500u * 64 * 8) << "the oracle accumulates both gradients in double";
  EXPECT_EQ(evaluation_memory(3000, 1500, 60000, 64, Precision::f32, 2, true).scratch,
            small.scratch + small.factors + small.gradients)
      << "a measuring plan times candidates on factors and gradients of its own";
  const MemoryNeed huge =
      evaluation_memory(INT32_MAX, INT32_MAX, INT64_MAX, std::size_t{1} << 40, Precision::f64, 4096);
  EXPECT_EQ(huge.total(), SIZE_MAX);
  EXPECT_EQ(observed_memory(INT32_MAX, INT32_MAX, INT64_MAX).total(), SIZE_MAX);
  EXPECT_LT(observed_memory(10, 10, 100).total(), 10000u);
}

TEST(Memory, LimitFromTheEnvironmentOrTheMachine) {
  {
    const ScopedEnv env("MFGRAD_MEMORY_LIMIT", "3G");
    EXPECT_EQ(memory_limit().bytes, std::size_t{3} << 30);
    EXPECT_EQ(memory_limit().source, "MFGRAD_MEMORY_LIMIT");
  }
  for (const char* bad : {"lots", "-1", "12Q", "4GiBs", "99999999999T"}) {
    const ScopedEnv env("MFGRAD_MEMORY_LIMIT", bad);
    EXPECT_NE(error_of([] { memory_limit(); }).find("is not a size"), std::string::npos) << bad;
  }
  const ScopedEnv empty("MFGRAD_MEMORY_LIMIT", "");  // as if unset
  const MemoryLimit machine = memory_limit();
  EXPECT_GT(machine.bytes, std::size_t{1} << 20) << machine.source;  // this test itself runs in it
  EXPECT_FALSE(machine.source.empty());
}

TEST(Memory, BuildingBeyondTheLimitIsRefusedNamingSourceShapeAndBytes) {
  Entries e = three_entries();
  e.rows = 200000;
  e.source = "big.mtx";
  const std::size_t need = observed_memory(e.rows, e.cols, e.size()).total();
  {
    const ScopedEnv env("MFGRAD_MEMORY_LIMIT", std::to_string(need - 1).c_str());
    const std::string msg = error_of([&] { Observed::build(e); });
    EXPECT_EQ(msg.find("building Ω of big.mtx (200000 x 4, 3 entries) needs about "), 0u) << msg;
    EXPECT_NE(msg.find("MiB"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(MFGRAD_MEMORY_LIMIT)"), std::string::npos) << msg;
  }
  const ScopedEnv env("MFGRAD_MEMORY_LIMIT", std::to_string(need).c_str());
  EXPECT_EQ(Observed::build(e).rows(), 200000);
}

TEST(Workspace, CacheSizesBeyondAnyCacheAreRefused) {
  Workspace ws(1);
  ws.set_cache_sizes({.l2 = 2048, .l3 = Workspace::largest_cache});
  EXPECT_EQ(ws.cache_sizes().l3, Workspace::largest_cache);
  const std::string msg = error_of([&] { ws.set_cache_sizes({.l2 = SIZE_MAX, .l3 = 0}); });
  EXPECT_EQ(msg,
            "a cache size of " + std::to_string(SIZE_MAX) + " bytes for L2 is beyond 4.00 GiB, larger than any cache");
  EXPECT_NE(error_of([&] { ws.set_cache_sizes({.l2 = 0, .l3 = Workspace::largest_cache + 1}); }).find("for L3"),
            std::string::npos);
  EXPECT_EQ(ws.cache_sizes().l2, 2048u) << "a refused size leaves the previous ones";
}

TEST(Observed, EmptyIsValid) {
  Entries e;
  e.rows = 4;
  e.cols = 2;
  const Observed o = Observed::build(e);
  EXPECT_EQ(o.nnz(), 0);
  EXPECT_EQ(o.stats().empty_rows, 4);
}

// Validation in evaluate(): each bad argument is named, and nothing is written.
class Validation : public ::testing::Test {
 protected:
  Observed obs = Observed::build(three_entries());
  std::vector<float> u = std::vector<float>(3 * 2, 0.5f), v = std::vector<float>(4 * 2, 0.25f);
  std::vector<float> gu = std::vector<float>(3 * 2, -7.f), gv = std::vector<float>(4 * 2, -7.f);
  Workspace ws{1};

  std::string fails(Matrix<const float> U, Matrix<const float> V, double lambda, Matrix<float> GU, Matrix<float> GV,
                    EvalOptions opt = {}) {
    const std::string msg = error_of([&] { evaluate<float>(kernel("naive"), obs, U, V, lambda, GU, GV, ws, opt); });
    for (float x : gu) EXPECT_EQ(x, -7.f) << "grad_U written before the error";
    for (float x : gv) EXPECT_EQ(x, -7.f) << "grad_V written before the error";
    return msg;
  }
  Matrix<const float> U(std::size_t rows = 3, std::size_t k = 2) { return {u.data(), rows, k}; }
  Matrix<const float> V(std::size_t rows = 4, std::size_t k = 2) { return {v.data(), rows, k}; }
  Matrix<float> GU() { return {gu.data(), 3, 2}; }
  Matrix<float> GV() { return {gv.data(), 4, 2}; }
};

TEST_F(Validation, KMustBePositive) {
  EXPECT_NE(fails(U(3, 0), V(4, 0), 0.1, {gu.data(), 3, 0}, {gv.data(), 4, 0}).find("k must be at least 1"),
            std::string::npos);
}

TEST_F(Validation, LambdaMustBeFiniteAndNonNegative) {
  EXPECT_NE(fails(U(), V(), -0.5, GU(), GV()).find("lambda must be finite and at least 0, got -0.5"),
            std::string::npos);
  EXPECT_NE(fails(U(), V(), std::nan(""), GU(), GV()).find("lambda"), std::string::npos);
  EXPECT_NE(fails(U(), V(), HUGE_VAL, GU(), GV()).find("lambda"), std::string::npos);
}

TEST_F(Validation, ShapesMustMatchTheData) {
  EXPECT_NE(fails(U(2, 3), V(), 0.1, GU(), GV()).find("U is 2 x 3 but must be 3 x 3"), std::string::npos);
  EXPECT_NE(fails(U(), V(3, 2), 0.1, GU(), GV()).find("V is 3 x 2 but must be 4 x 2"), std::string::npos);
  EXPECT_NE(fails(U(), V(), 0.1, {gu.data(), 3, 1}, GV()).find("grad_U is 3 x 1"), std::string::npos);
  EXPECT_NE(fails(U(), V(), 0.1, GU(), {gv.data(), 2, 2}).find("grad_V is 2 x 2"), std::string::npos);
}

TEST_F(Validation, OutputsMustNotOverlapInputs) {
  EXPECT_NE(fails(U(), V(), 0.1, {u.data(), 3, 2}, GV()).find("grad_U overlaps an input"), std::string::npos);
  EXPECT_NE(fails(U(), V(), 0.1, GU(), {gu.data(), 4, 2}).find("overlap"), std::string::npos);
}

TEST_F(Validation, NonFiniteFactorsPropagateUnlessChecked) {
  u[3] = std::nanf("");
  EXPECT_NE(fails(U(), V(), 0.1, GU(), GV(), {.check_factors = true}).find("U[1, 1] is nan"), std::string::npos);
  // Without the check the NaN flows through like IEEE arithmetic says: row 1 has no entry, so only
  // grad_U[1, 1] = λ·NaN turns NaN.
  evaluate<float>(kernel("naive"), obs, U(), V(), 0.1, GU(), GV(), ws);
  EXPECT_TRUE(std::isnan(gu[3]));
  EXPECT_FALSE(std::isnan(gu[0]));
}

TEST_F(Validation, Float32NeedsRepresentableValues) {
  Entries e = three_entries();
  e.value[0] = 1e39;
  obs = Observed::build(e);
  EXPECT_NE(fails(U(), V(), 0.1, GU(), GV()).find("does not fit in float32"), std::string::npos);
  std::vector<double> ud(6, 0.5), vd(8, 0.25), gud(6), gvd(8);
  EXPECT_GT(evaluate<double>(kernel("naive"), obs, {ud.data(), 3, 2}, {vd.data(), 4, 2}, 0.1, {gud.data(), 3, 2},
                             {gvd.data(), 4, 2}, ws),
            1e70);
}

TEST(EmptyOmega, LossIsTheRegularizerAndGradientsAreLambdaTimesFactors) {
  Entries e;
  e.rows = 3;
  e.cols = 2;
  const Observed obs = Observed::build(e);
  const Factors<double> f = random_factors<double>(3, 2, 4, 8);
  const double lambda = 0.3;
  double norm2 = 0;
  for (double x : f.u) norm2 += x * x;
  for (double x : f.v) norm2 += x * x;
  for (const Kernel& impl : registry()) {
    const Result<double> r = run(impl, obs, f, lambda, 2);
    EXPECT_NEAR(r.loss, 0.5 * lambda * norm2, 1e-15 * norm2) << impl.name;
    for (std::size_t x = 0; x < f.u.size(); ++x) EXPECT_DOUBLE_EQ(r.gu[x], lambda * f.u[x]) << impl.name;
    for (std::size_t x = 0; x < f.v.size(); ++x) EXPECT_DOUBLE_EQ(r.gv[x], lambda * f.v[x]) << impl.name;
  }
}

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

TEST(Isa, ParsingAndSupport) {
  EXPECT_EQ(parse_isa("avx2"), Isa::avx2);
  EXPECT_EQ(parse_isa("sse2"), Isa::baseline);
  for (Isa isa : {Isa::baseline, Isa::avx2, Isa::avx512, Isa::neon, Isa::sve})
    EXPECT_EQ(parse_isa(to_string(isa)), isa) << to_string(isa);
  EXPECT_NE(error_of([] { parse_isa("mmx"); }).find("unknown instruction set 'mmx'"), std::string::npos);
  EXPECT_TRUE(cpu_supports(Isa::baseline));
  EXPECT_TRUE(cpu_supports(cpu_best_isa()));
  EXPECT_GT(std::string(simd_arch_name()).size(), 0u);
}

// Within this build's family a level is allowed when it is at most both the CPU's best and the cap;
// the other family's levels never are, whatever the best and the cap.
TEST(Isa, CeilingRule) {
#if defined(__x86_64__)
  const std::vector<Isa> levels = {Isa::baseline, Isa::avx2, Isa::avx512};  // least to most capable
  const std::vector<Isa> foreign = {Isa::neon, Isa::sve};
#elif defined(__aarch64__)
  const std::vector<Isa> levels = {Isa::neon, Isa::sve};
  const std::vector<Isa> foreign = {Isa::avx2, Isa::avx512};
  // NEON is part of the aarch64 baseline: a cap at "baseline" keeps it and removes SVE.
  EXPECT_TRUE(isa_allowed(Isa::neon, Isa::sve, Isa::baseline));
  EXPECT_FALSE(isa_allowed(Isa::sve, Isa::sve, Isa::baseline));
#endif
  for (std::size_t a = 0; a < levels.size(); ++a)
    for (std::size_t best = 0; best < levels.size(); ++best)
      for (std::size_t cap = 0; cap < levels.size(); ++cap)
        EXPECT_EQ(isa_allowed(levels[a], levels[best], levels[cap]), a <= best && a <= cap)
            << to_string(levels[a]) << " on a CPU with " << to_string(levels[best]) << ", capped at "
            << to_string(levels[cap]);
  for (Isa f : foreign)
    for (Isa level : levels) {
      EXPECT_FALSE(isa_allowed(f, level, level)) << to_string(f);
      EXPECT_TRUE(isa_allowed(Isa::baseline, level, level));
    }
}

// Names in the feature list of the first processor in /proc/cpuinfo ("flags" on x86-64, "Features" on
// aarch64); empty when there is no such line.
std::set<std::string> cpuinfo_features(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0 || line.find(':') == std::string::npos) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::set<std::string> names;
    for (std::string w; words >> w;) names.insert(w);
    return names;
  }
  return {};
}

// Detection against what the kernel reports, independently of CPUID/HWCAP: the feature names of
// /proc/cpuinfo natively; on an emulated CPU (qemu-user shows the host's /proc/cpuinfo) the level and
// SVE vector length given by whoever chose that CPU, in MFGRAD_EXPECT_ISA and MFGRAD_EXPECT_SVE_BITS.
TEST(Isa, DetectionMatchesTheCpu) {
  std::string want;
  long want_sve_bits = -1;  // -1: not known
  if (const char* e = std::getenv("MFGRAD_EXPECT_ISA")) {
    want = e;
    const char* bits = std::getenv("MFGRAD_EXPECT_SVE_BITS");
    ASSERT_NE(bits, nullptr) << "MFGRAD_EXPECT_ISA comes with MFGRAD_EXPECT_SVE_BITS";
    want_sve_bits = std::atol(bits);
  } else {
#if defined(__x86_64__)
    const std::set<std::string> f = cpuinfo_features("flags");
    if (f.empty()) GTEST_SKIP() << "no x86 flags in /proc/cpuinfo";
    auto has = [&](std::initializer_list<const char*> names) {
      return std::all_of(names.begin(), names.end(), [&](const char* n) { return f.count(n) > 0; });
    };
    want = has({"avx512f", "avx512cd", "avx512dq", "avx512bw", "avx512vl", "fma"}) ? "avx512"
           : has({"avx2", "fma"})                                                  ? "avx2"
                                                                                   : "baseline";
    want_sve_bits = 0;
#elif defined(__aarch64__)
    const std::set<std::string> f = cpuinfo_features("Features");
    if (f.count("asimd") == 0) GTEST_SKIP() << "/proc/cpuinfo does not describe this aarch64 CPU (emulated?)";
    want = f.count("sve") ? "sve" : "neon";
    // The length a new process starts with, unless a parent changed it for its children.
    std::ifstream default_length("/proc/sys/abi/sve_default_vector_length");
    if (long bytes = 0; want == "sve" && default_length >> bytes) want_sve_bits = 8 * bytes;
    if (want == "neon") want_sve_bits = 0;
#endif
  }
  EXPECT_EQ(to_string(cpu_best_isa()), want);
  if (want_sve_bits >= 0) {
    EXPECT_EQ(static_cast<long>(sve_vector_bits()), want_sve_bits);
  }
}

// Model names as x86-64 and aarch64 kernels write /proc/cpuinfo: aarch64 names no model, so the first
// core's implementer and part stand for it.
TEST(Isa, CpuModelFromCpuinfo) {
  EXPECT_EQ(cpu_model_from_cpuinfo("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel\t\t: 17\n"
                                   "model name\t: AMD EPYC 9355 32-Core Processor\nflags\t\t: fpu\n"),
            "AMD EPYC 9355 32-Core Processor");
  EXPECT_EQ(cpu_model_from_cpuinfo("processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd sve\n"
                                   "CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x1\n"
                                   "CPU part\t: 0xd40\nCPU revision\t: 1\n\nprocessor\t: 1\n"
                                   "CPU implementer\t: 0x46\nCPU part\t: 0x001\n"),
            "aarch64 CPU implementer 0x41 part 0xd40");
  EXPECT_EQ(cpu_model_from_cpuinfo("CPU implementer\t: 0x41\nCPU part\t: 0xd08\nModel\t\t: Raspberry Pi 4 Model B\n"),
            "Raspberry Pi 4 Model B");
  EXPECT_EQ(cpu_model_from_cpuinfo("processor\t: 0\nCPU part\t: 0xd08\n"), "unknown cpu");
  EXPECT_EQ(cpu_model_from_cpuinfo(""), "unknown cpu");
}

// MFGRAD_ISA as this process was started with. ctest also runs this test with invalid values (unknown,
// or a level of the other processor family) and the message they must produce in
// MFGRAD_EXPECT_ISA_ERROR: then every evaluation must fail with it, and nothing above the baseline runs.
TEST(Isa, CeilingFromTheEnvironment) {
  const char* value = std::getenv("MFGRAD_ISA");
  const char* want_error = std::getenv("MFGRAD_EXPECT_ISA_ERROR");
  if (want_error == nullptr) {
    if (value == nullptr || *value == '\0')
      EXPECT_EQ(isa_ceiling(), cpu_best_isa());  // no cap
    else
      EXPECT_NO_THROW(isa_ceiling()) << "MFGRAD_ISA=" << value;
    return;
  }
  EXPECT_NE(error_of([] { isa_ceiling(); }).find(want_error), std::string::npos);
  const Observed& obs = observed("k7");
  const Factors<float> f = random_factors<float>(obs.rows(), obs.cols(), 7, 1);
  EXPECT_NE(error_of([&] { run(kernel("naive"), obs, f, 0.1, 1); }).find(want_error), std::string::npos);
  for (Isa isa : {Isa::avx2, Isa::avx512, Isa::neon, Isa::sve}) EXPECT_FALSE(cpu_supports(isa)) << to_string(isa);
}

TEST(Generator, ExactSizeSortedAndThreadCountIndependent) {
  DataSpec spec = preset("tiny");
  omp_set_num_threads(1);
  const Entries one = generate_entries(spec);
  omp_set_num_threads(2);
  const Entries two = generate_entries(spec);
  omp_set_num_threads(omp_get_num_procs());
  EXPECT_EQ(one.size(), spec.nnz);
  EXPECT_EQ(one.rows, spec.rows);
  EXPECT_EQ(one.cols, spec.cols);
  EXPECT_EQ(one.row, two.row);
  EXPECT_EQ(one.col, two.col);
  EXPECT_EQ(one.value, two.value);
  const Observed o = Observed::build(one);  // throws on any duplicate or bad id
  EXPECT_EQ(o.nnz(), spec.nnz);
  for (offset_t t = 0; t < o.nnz(); ++t) EXPECT_EQ(o.input_to_csr(t), t) << "generator output is not in CSR order";

  spec.seed += 1;
  EXPECT_NE(generate_entries(spec).col, one.col) << "the seed changes nothing";
}

TEST(Generator, DegreesAreSkewedLikeRatingData) {
  DataSpec spec;
  spec.name = "skew-check";
  spec.rows = 20000;
  spec.cols = 3000;
  spec.nnz = 400000;
  spec.row_skew = 0.4;
  spec.col_skew = 0.45;
  const Observed o = generate(spec);
  const double mean_row = static_cast<double>(spec.nnz) / spec.rows;
  const double mean_col = static_cast<double>(spec.nnz) / spec.cols;
  // A flat (uniform) generator would give max/mean near 1 + a few σ; power laws give far more.
  EXPECT_GT(static_cast<double>(o.stats().max_row_nnz), 10 * mean_row);
  EXPECT_GT(static_cast<double>(o.stats().max_col_nnz), 5 * mean_col);
  EXPECT_EQ(o.stats().empty_rows, 0);  // min_row_degree = 1
  // Values: mean + planted signal (variance 1) + noise (σ 0.5).
  double sum = 0, sum2 = 0;
  for (double x : o.values<double>()) sum += x, sum2 += x * x;
  const double mean = sum / spec.nnz, var = sum2 / spec.nnz - mean * mean;
  EXPECT_NEAR(mean, spec.mean, 0.1);
  EXPECT_NEAR(var, 1.0 + spec.noise * spec.noise, 0.25);
}

TEST(Generator, PresetsAndSpecChecks) {
  std::set<std::string> names;
  for (const DataSpec& s : presets()) {
    names.insert(s.name);
    EXPECT_NO_THROW(check(s)) << s.name;
  }
  for (const char* required : {"tiny", "ml-small", "netflix-25m", "netflix-100m", "wide-50m"})
    EXPECT_TRUE(names.count(required)) << required;
  EXPECT_EQ(preset("netflix-25m").rows, 480189);
  EXPECT_EQ(preset("wide-50m").cols, 624961);
  EXPECT_NE(error_of([] { preset("huge"); }).find("unknown data preset 'huge'"), std::string::npos);
  DataSpec bad = preset("tiny");
  bad.nnz = static_cast<offset_t>(bad.rows) * bad.cols + 1;
  EXPECT_NE(error_of([&] { check(bad); }).find("does not fit"), std::string::npos);
  bad = preset("tiny");
  bad.rank = 0;
  EXPECT_NE(error_of([&] { check(bad); }).find("rank"), std::string::npos);
}

TEST(Generator, MlSmallPresetHasTheRealShape) {
  const Observed o = generate(preset("ml-small"));
  EXPECT_EQ(o.rows(), 610);
  EXPECT_EQ(o.cols(), 9724);
  EXPECT_EQ(o.nnz(), 100836);
  for (index_t i = 0; i < o.rows(); ++i) EXPECT_GE(o.row_ptr()[i + 1] - o.row_ptr()[i], 20);
}

}  // namespace
}  // namespace mfgrad::test
