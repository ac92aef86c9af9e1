// The C interface (mfgrad/mfgrad.h), linked through the shared library as a C or foreign caller links
// it: results against the oracle, and every kind of bad input answered with a status and a message,
// never a crash, with nothing written.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mfgrad/mfgrad.h"
#include "mfgrad/plan.hpp"
#include "support.hpp"

extern "C" int mfgrad_test_from_c(char* message, size_t size);

namespace mfgrad::test {
namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// Owns C handles for the length of a test.
struct ObservedHandle {
  mfgrad_observed* p = nullptr;
  ~ObservedHandle() { mfgrad_observed_destroy(p); }
};
struct PlanHandle {
  mfgrad_plan* p = nullptr;
  ~PlanHandle() { mfgrad_plan_destroy(p); }
};

mfgrad_status from_entries(const Entries& e, mfgrad_duplicates policy, mfgrad_observed** out) {
  return mfgrad_observed_from_coo(e.rows, e.cols, e.size(), e.row.data(), e.col.data(), e.value.data(), policy, out);
}

// The default options, as mfgrad_plan_options_init gives them.
mfgrad_plan_options default_options() {
  mfgrad_plan_options o;
  EXPECT_EQ(mfgrad_plan_options_init(&o), MFGRAD_OK);
  return o;
}

// The message the C++ API throws for the same input.
template <class F>
std::string cpp_message(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "the C++ API accepted what the C interface should refuse";
  return {};
}

// A refused call: the status, a message that contains `expected`, and the message cleared by the next
// successful call.
void expect_refused(mfgrad_status got, mfgrad_status want, const std::string& expected) {
  EXPECT_EQ(got, want) << mfgrad_last_error();
  const std::string message = mfgrad_last_error();
  EXPECT_NE(message.find(expected), std::string::npos) << "message: " << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
}

class CApiPlan : public ::testing::Test {
 protected:
  void SetUp() override {
    entries = random_entries(37, 29, 0.3, 11, 2, 3);
    ASSERT_EQ(from_entries(entries, MFGRAD_DUPLICATES_ERROR, &obs.p), MFGRAD_OK) << mfgrad_last_error();
    ASSERT_EQ(mfgrad_plan_create(obs.p, k, MFGRAD_FLOAT32, nullptr, &plan.p), MFGRAD_OK) << mfgrad_last_error();
    f = random_factors<float>(m, n, k, 5);
    gu.assign(m * k, sentinel);
    gv.assign(n * k, sentinel);
  }

  // The gradients still hold the sentinel everywhere: a refused call wrote nothing.
  void expect_untouched() const {
    for (float x : gu) ASSERT_EQ(x, sentinel);
    for (float x : gv) ASSERT_EQ(x, sentinel);
  }

  mfgrad_status eval(std::int64_t m_, std::int64_t n_, std::int64_t k_, double lambda, double* loss) {
    return mfgrad_plan_evaluate_f32(plan.p, m_, n_, k_, f.u.data(), f.v.data(), lambda, gu.data(), gv.data(), loss);
  }

  static constexpr std::size_t m = 37, n = 29, k = 9;
  static constexpr float sentinel = -12345.0f;
  Entries entries;
  ObservedHandle obs;
  PlanHandle plan;
  Factors<float> f;
  std::vector<float> gu, gv;
};

TEST(CApiFromC, HeaderIsCAndResultsMatchTheFormula) {
  char message[512] = "";
  EXPECT_EQ(mfgrad_test_from_c(message, sizeof message), 0) << message;
}

TEST(CApi, VersionIsTheProjectVersion) { EXPECT_STREQ(mfgrad_version(), MFGRAD_EXPECTED_VERSION); }

// The numbers of the loaded library, those of the header it was compiled with and the string agree.
TEST(CApi, VersionNumbersMatchTheHeaderAndTheString) {
  int major = -1, minor = -1, patch = -1;
  mfgrad_version_numbers(&major, &minor, &patch);
  EXPECT_EQ(major, MFGRAD_VERSION_MAJOR);
  EXPECT_EQ(minor, MFGRAD_VERSION_MINOR);
  EXPECT_EQ(patch, MFGRAD_VERSION_PATCH);
  EXPECT_EQ(std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch), mfgrad_version());
  mfgrad_version_numbers(nullptr, nullptr, nullptr);  // any pointer may be NULL
}

TEST(CApi, StatusStringsAreDistinct) {
  std::set<std::string> seen;
  for (mfgrad_status s :
       {MFGRAD_OK, MFGRAD_ERROR_INVALID_ARGUMENT, MFGRAD_ERROR_FILE, MFGRAD_ERROR_OUT_OF_MEMORY, MFGRAD_ERROR_INTERNAL})
    EXPECT_TRUE(seen.insert(mfgrad_status_string(s)).second) << mfgrad_status_string(s);
  EXPECT_STREQ(mfgrad_status_string(static_cast<mfgrad_status>(99)), "unknown status");
}

template <class T>
constexpr mfgrad_precision c_precision = std::is_same_v<T, float>      ? MFGRAD_FLOAT32
                                         : std::is_same_v<T, double>   ? MFGRAD_FLOAT64
                                         : std::is_same_v<T, bfloat16> ? MFGRAD_BFLOAT16
                                                                       : MFGRAD_FLOAT16;

// T: the factors' element type; 16-bit ones go through the uint16_t functions, gradients in float.
template <class T>
mfgrad_status c_evaluate(mfgrad_plan* plan, std::size_t m, std::size_t n, std::size_t k, const T* u, const T* v,
                         double lambda, compute_t<T>* gu, compute_t<T>* gv, double* loss) {
  if constexpr (std::is_same_v<T, float>)
    return mfgrad_plan_evaluate_f32(plan, m, n, k, u, v, lambda, gu, gv, loss);
  else if constexpr (std::is_same_v<T, double>)
    return mfgrad_plan_evaluate_f64(plan, m, n, k, u, v, lambda, gu, gv, loss);
  else if constexpr (std::is_same_v<T, bfloat16>)
    return mfgrad_plan_evaluate_bf16(plan, m, n, k, reinterpret_cast<const std::uint16_t*>(u),
                                     reinterpret_cast<const std::uint16_t*>(v), lambda, gu, gv, loss);
  else
    return mfgrad_plan_evaluate_f16(plan, m, n, k, reinterpret_cast<const std::uint16_t*>(u),
                                    reinterpret_cast<const std::uint16_t*>(v), lambda, gu, gv, loss);
}

template <class T>
void expect_matches_oracle(const Entries& e, std::size_t k, mfgrad_plan_mode mode) {
  using G = compute_t<T>;
  const Observed cpp = Observed::build(e);
  ObservedHandle obs;
  ASSERT_EQ(from_entries(e, MFGRAD_DUPLICATES_ERROR, &obs.p), MFGRAD_OK) << mfgrad_last_error();
  mfgrad_plan_options options = default_options();
  options.mode = mode;
  options.seconds_per_candidate = 0.01;
  PlanHandle plan;
  ASSERT_EQ(mfgrad_plan_create(obs.p, static_cast<std::int64_t>(k), c_precision<T>, &options, &plan.p), MFGRAD_OK)
      << mfgrad_last_error();

  const std::size_t m = static_cast<std::size_t>(e.rows), n = static_cast<std::size_t>(e.cols);
  const Factors<T> f = random_factors<T>(m, n, k, 3);
  const double lambda = 0.25;
  std::vector<G> gu(m * k, std::numeric_limits<G>::quiet_NaN()), gv(n * k, std::numeric_limits<G>::quiet_NaN());
  double loss = nan;
  ASSERT_EQ(c_evaluate<T>(plan.p, m, n, k, f.u.data(), f.v.data(), lambda, gu.data(), gv.data(), &loss), MFGRAD_OK)
      << mfgrad_last_error();
  EXPECT_STREQ(mfgrad_last_error(), "");

  const OracleAnswer<T> answer = oracle_answer(cpp, f, lambda);
  expect_not_trivial(answer.want);
  expect_matches_oracle(answer, loss, gu.data(), gv.data());
}

// 16-bit factors go through the uint16_t functions with float32 gradients, checked against the oracle on
// the stored values.
TEST(CApi, EveryPrecisionMatchesTheOracle) {
  for (const char* shape_name : {"k7", "k33", "empty_rows_cols", "wide"}) {
    SCOPED_TRACE(shape_name);
    const Shape& s = shape(shape_name);
    expect_matches_oracle<float>(s.entries(), s.k, MFGRAD_PLAN_ESTIMATE);
    expect_matches_oracle<double>(s.entries(), s.k, MFGRAD_PLAN_ESTIMATE);
    expect_matches_oracle<bfloat16>(s.entries(), s.k, MFGRAD_PLAN_ESTIMATE);
    expect_matches_oracle<float16>(s.entries(), s.k, MFGRAD_PLAN_ESTIMATE);
  }
}

// The C conversions give what the C++ ones give, element for element, at any thread count.
TEST(CApi, ConversionsMatchTheLibrary) {
  std::vector<float> x = {0.0f,
                          -0.0f,
                          1.0f,
                          1.00390625f,
                          1.01171875f,
                          65504.0f,
                          65520.0f,
                          1e-8f,
                          -3.3e38f,
                          std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN()};
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> d(-100.0f, 100.0f);
  for (int t = 0; t < 100000; ++t) x.push_back(d(rng));
  const auto count = static_cast<std::int64_t>(x.size());
  for (int threads : {1, 3}) {
    std::vector<std::uint16_t> bf(x.size()), h(x.size());
    ASSERT_EQ(mfgrad_round_to_bf16(x.data(), count, bf.data(), threads), MFGRAD_OK) << mfgrad_last_error();
    ASSERT_EQ(mfgrad_round_to_f16(x.data(), count, h.data(), threads), MFGRAD_OK) << mfgrad_last_error();
    std::vector<float> wide_bf(x.size()), wide_h(x.size());
    ASSERT_EQ(mfgrad_widen_bf16(bf.data(), count, wide_bf.data(), threads), MFGRAD_OK) << mfgrad_last_error();
    ASSERT_EQ(mfgrad_widen_f16(h.data(), count, wide_h.data(), threads), MFGRAD_OK) << mfgrad_last_error();
    for (std::size_t at = 0; at < x.size(); ++at) {
      ASSERT_EQ(bf[at], to_bfloat16(x[at]).bits) << x[at];
      ASSERT_EQ(h[at], to_float16(x[at]).bits) << x[at];
      const float want_bf = bfloat16{bf[at]}, want_h = float16{h[at]};
      ASSERT_TRUE(std::memcmp(&wide_bf[at], &want_bf, 4) == 0) << x[at];
      ASSERT_TRUE(std::memcmp(&wide_h[at], &want_h, 4) == 0) << x[at];
    }
  }

  std::vector<std::uint16_t> out(4, 7);
  std::vector<float> in(4, 1.0f);
  expect_refused(mfgrad_round_to_bf16(nullptr, 4, out.data(), 1), MFGRAD_ERROR_INVALID_ARGUMENT,
                 "mfgrad_round_to_bf16: argument 'in' is NULL but must hold 4 elements");
  expect_refused(mfgrad_round_to_f16(in.data(), -1, out.data(), 1), MFGRAD_ERROR_INVALID_ARGUMENT,
                 "mfgrad_round_to_f16: count is -1");
  expect_refused(mfgrad_widen_bf16(out.data(), 4, nullptr, 1), MFGRAD_ERROR_INVALID_ARGUMENT,
                 "mfgrad_widen_bf16: argument 'out' is NULL");
  // Overlapping arrays: the library's refusal, named by the C function.
  expect_refused(mfgrad_widen_f16(out.data(), 2, reinterpret_cast<float*>(out.data()), 1),
                 MFGRAD_ERROR_INVALID_ARGUMENT, "mfgrad_widen_f16: widen: the input and output overlap in memory");
  for (std::uint16_t b : out) EXPECT_EQ(b, 7);
  EXPECT_EQ(mfgrad_round_to_bf16(nullptr, 0, nullptr, 1), MFGRAD_OK) << mfgrad_last_error();
}

TEST(CApi, MeasuredPlanMatchesTheOracle) {
  const Shape& s = shape("density_0_5");
  expect_matches_oracle<float>(s.entries(), s.k, MFGRAD_PLAN_MEASURE);
  expect_matches_oracle<bfloat16>(s.entries(), s.k, MFGRAD_PLAN_MEASURE);
}

// The same entries as CSR (columns shuffled within rows) and as COO give the same Ω, so the same result.
TEST_F(CApiPlan, CsrAndCooGiveTheSameResult) {
  const Observed cpp = Observed::build(entries);
  std::vector<std::int64_t> row_ptr(m + 1, 0);
  std::vector<std::int32_t> col_idx;
  std::vector<double> value;
  for (index_t i = 0; i < static_cast<index_t>(m); ++i) {
    const offset_t begin = cpp.row_ptr()[i], end = cpp.row_ptr()[i + 1];
    for (offset_t q = end - 1; q >= begin; --q) {  // descending columns: the input need not be sorted
      col_idx.push_back(cpp.col_idx()[q]);
      value.push_back(cpp.values<double>()[q]);
    }
    row_ptr[i + 1] = static_cast<std::int64_t>(col_idx.size());
  }
  ObservedHandle csr;
  ASSERT_EQ(
      mfgrad_observed_from_csr(m, n, row_ptr.data(), col_idx.data(), value.data(), MFGRAD_DUPLICATES_ERROR, &csr.p),
      MFGRAD_OK)
      << mfgrad_last_error();
  std::int32_t rows = -1, cols = -1;
  std::int64_t nnz = -1;
  ASSERT_EQ(mfgrad_observed_shape(csr.p, &rows, &cols, &nnz), MFGRAD_OK);
  EXPECT_EQ(rows, static_cast<std::int32_t>(m));
  EXPECT_EQ(cols, static_cast<std::int32_t>(n));
  EXPECT_EQ(nnz, entries.size());

  PlanHandle csr_plan;
  ASSERT_EQ(mfgrad_plan_create(csr.p, k, MFGRAD_FLOAT32, nullptr, &csr_plan.p), MFGRAD_OK);
  double loss_coo = nan, loss_csr = nan;
  ASSERT_EQ(eval(m, n, k, 0.5, &loss_coo), MFGRAD_OK);
  const std::vector<float> gu_coo = gu, gv_coo = gv;
  ASSERT_EQ(mfgrad_plan_evaluate_f32(csr_plan.p, m, n, k, f.u.data(), f.v.data(), 0.5, gu.data(), gv.data(), &loss_csr),
            MFGRAD_OK);
  EXPECT_EQ(loss_coo, loss_csr);
  EXPECT_EQ(gu_coo, gu);
  EXPECT_EQ(gv_coo, gv);

  // 32-bit offsets give the same Ω, so the same bits.
  const std::vector<std::int32_t> row_ptr32(row_ptr.begin(), row_ptr.end());
  ObservedHandle csr32;
  ASSERT_EQ(mfgrad_observed_from_csr32(m, n, row_ptr32.data(), col_idx.data(), value.data(), MFGRAD_DUPLICATES_ERROR,
                                       &csr32.p),
            MFGRAD_OK)
      << mfgrad_last_error();
  PlanHandle csr32_plan;
  ASSERT_EQ(mfgrad_plan_create(csr32.p, k, MFGRAD_FLOAT32, nullptr, &csr32_plan.p), MFGRAD_OK);
  double loss_csr32 = nan;
  ASSERT_EQ(
      mfgrad_plan_evaluate_f32(csr32_plan.p, m, n, k, f.u.data(), f.v.data(), 0.5, gu.data(), gv.data(), &loss_csr32),
      MFGRAD_OK);
  EXPECT_EQ(loss_coo, loss_csr32);
  EXPECT_EQ(gu_coo, gu);
  EXPECT_EQ(gv_coo, gv);
}

TEST(CApi, DuplicatePolicies) {
  const std::int32_t row[] = {0, 1, 0}, col[] = {1, 0, 1};
  const double value[] = {2.0, 3.0, 4.5};
  Entries e;
  e.rows = 2;
  e.cols = 2;
  for (int t = 0; t < 3; ++t) e.push(row[t], col[t], value[t]);

  mfgrad_observed* untouched = reinterpret_cast<mfgrad_observed*>(&e);
  mfgrad_observed* out = untouched;
  expect_refused(mfgrad_observed_from_coo(2, 2, 3, row, col, value, MFGRAD_DUPLICATES_ERROR, &out),
                 MFGRAD_ERROR_INVALID_ARGUMENT, cpp_message([&] { Observed::build(e); }));
  EXPECT_EQ(out, untouched);

  // Summed or last: one entry at (0, 1), so with U = V = 0 the loss is ½·value² of what was kept.
  for (auto [policy, kept] : {std::pair{MFGRAD_DUPLICATES_SUM, 2.0 + 4.5}, std::pair{MFGRAD_DUPLICATES_LAST, 4.5}}) {
    ObservedHandle obs;
    ASSERT_EQ(mfgrad_observed_from_coo(2, 2, 3, row, col, value, policy, &obs.p), MFGRAD_OK) << mfgrad_last_error();
    std::int32_t rows, cols;
    std::int64_t nnz;
    ASSERT_EQ(mfgrad_observed_shape(obs.p, &rows, &cols, &nnz), MFGRAD_OK);
    EXPECT_EQ(nnz, 2);
    PlanHandle plan;
    ASSERT_EQ(mfgrad_plan_create(obs.p, 1, MFGRAD_FLOAT64, nullptr, &plan.p), MFGRAD_OK);
    const double zero[2] = {0, 0};
    double gu[2], gv[2], loss = nan;
    ASSERT_EQ(mfgrad_plan_evaluate_f64(plan.p, 2, 2, 1, zero, zero, 0.0, gu, gv, &loss), MFGRAD_OK);
    EXPECT_DOUBLE_EQ(loss, 0.5 * (kept * kept + 3.0 * 3.0));
  }
}

TEST(CApi, BadObservedInputIsRefusedNamingTheProblem) {
  const std::int32_t row[] = {0, 1, 2}, col[] = {0, 1, 0};
  const double value[] = {1, 2, 3};
  mfgrad_observed* const untouched = reinterpret_cast<mfgrad_observed*>(0x1);
  mfgrad_observed* out = untouched;
  auto coo = [&](std::int32_t m, std::int32_t n, std::int64_t nnz, const std::int32_t* r, const std::int32_t* c,
                 const double* v, int policy) {
    return mfgrad_observed_from_coo(m, n, nnz, r, c, v, static_cast<mfgrad_duplicates>(policy), &out);
  };
  expect_refused(mfgrad_observed_from_coo(3, 2, 3, row, col, value, MFGRAD_DUPLICATES_ERROR, nullptr),
                 MFGRAD_ERROR_INVALID_ARGUMENT, "mfgrad_observed_from_coo: argument 'out' is NULL");
  expect_refused(coo(3, 2, 3, nullptr, col, value, 0), MFGRAD_ERROR_INVALID_ARGUMENT,
                 "argument 'row' is NULL but must hold 3 elements");
  expect_refused(coo(3, 2, 3, row, nullptr, value, 0), MFGRAD_ERROR_INVALID_ARGUMENT, "argument 'col' is NULL");
  expect_refused(coo(3, 2, 3, row, col, nullptr, 0), MFGRAD_ERROR_INVALID_ARGUMENT, "argument 'value' is NULL");
  expect_refused(coo(-3, 2, 3, row, col, value, 0), MFGRAD_ERROR_INVALID_ARGUMENT, "matrix shape -3 x 2 is negative");
  expect_refused(coo(3, 2, -1, row, col, value, 0), MFGRAD_ERROR_INVALID_ARGUMENT, "nnz is -1");
  expect_refused(coo(3, 2, 3, row, col, value, 7), MFGRAD_ERROR_INVALID_ARGUMENT, "duplicates is 7");

  // Data errors carry exactly the C++ API's message.
  Entries e;
  e.rows = 2;  // row id 2 is outside
  e.cols = 2;
  for (int t = 0; t < 3; ++t) e.push(row[t], col[t], value[t]);
  expect_refused(coo(2, 2, 3, row, col, value, 0), MFGRAD_ERROR_INVALID_ARGUMENT,
                 cpp_message([&] { Observed::build(e); }));
  const double with_nan[] = {1, nan, 3};
  e.rows = 3;
  e.value = {1, nan, 3};
  expect_refused(coo(3, 2, 3, row, col, with_nan, 0), MFGRAD_ERROR_INVALID_ARGUMENT,
                 cpp_message([&] { Observed::build(e); }));
  EXPECT_EQ(out, untouched);

  // Empty Ω may come with NULL arrays.
  ObservedHandle empty;
  EXPECT_EQ(mfgrad_observed_from_coo(4, 5, 0, nullptr, nullptr, nullptr, MFGRAD_DUPLICATES_ERROR, &empty.p), MFGRAD_OK)
      << mfgrad_last_error();
  EXPECT_STREQ(mfgrad_last_error(), "");
}

TEST(CApi, MalformedCsrIsRefused) {
  const std::int32_t col_idx[] = {0, 1, 0};
  const double value[] = {1, 2, 3};
  mfgrad_observed* out = nullptr;
  const std::int64_t starts_late[] = {1, 2, 3}, decreasing[] = {0, 2, 1, 3}, good[] = {0, 2, 3};
  expect_refused(mfgrad_observed_from_csr(2, 2, nullptr, col_idx, value, MFGRAD_DUPLICATES_ERROR, &out),
                 MFGRAD_ERROR_INVALID_ARGUMENT, "argument 'row_ptr' is NULL");
  expect_refused(mfgrad_observed_from_csr(2, 2, starts_late, col_idx, value, MFGRAD_DUPLICATES_ERROR, &out),
                 MFGRAD_ERROR_INVALID_ARGUMENT, "row_ptr[0] is 1 but must be 0");
  expect_refused(mfgrad_observed_from_csr(3, 2, decreasing, col_idx, value, MFGRAD_DUPLICATES_ERROR, &out),
                 MFGRAD_ERROR_INVALID_ARGUMENT, "row_ptr decreases at row 1: row_ptr[1] = 2 > row_ptr[2] = 1");
  expect_refused(mfgrad_observed_from_csr(2, 2, good, nullptr, value, MFGRAD_DUPLICATES_ERROR, &out),
                 MFGRAD_ERROR_INVALID_ARGUMENT, "argument 'col_idx' is NULL but must hold 3 elements");
  const std::int32_t outside[] = {0, 5, 0};
  expect_refused(mfgrad_observed_from_csr(2, 2, good, outside, value, MFGRAD_DUPLICATES_ERROR, &out),
                 MFGRAD_ERROR_INVALID_ARGUMENT, "column id 5 is outside the matrix's 2 columns");
  // A row pointer that claims more entries than any array could hold is the caller's error, refused
  // before anything is read or allocated (not an internal error from a failed reservation).
  const std::int64_t huge[] = {0, 2, std::int64_t{1} << 62};
  expect_refused(mfgrad_observed_from_csr(2, 2, huge, col_idx, value, MFGRAD_DUPLICATES_ERROR, &out),
                 MFGRAD_ERROR_INVALID_ARGUMENT, "row_ptr[2] = 4611686018427387904 entries: more than");
  const std::int32_t decreasing32[] = {0, 2, 1, 3};
  expect_refused(mfgrad_observed_from_csr32(3, 2, decreasing32, col_idx, value, MFGRAD_DUPLICATES_ERROR, &out),
                 MFGRAD_ERROR_INVALID_ARGUMENT, "mfgrad_observed_from_csr32: row_ptr decreases at row 1");
  EXPECT_EQ(out, nullptr);
}

// A large but possible claim is checked against the memory this process may use before anything is
// copied: out of memory, named as such.
TEST(CApi, CsrTooLargeForTheMemoryLimitIsOutOfMemory) {
  const std::int64_t claims[] = {0, std::int64_t{1} << 40};
  std::vector<std::int32_t> col_idx(1);
  std::vector<double> value(1);
  mfgrad_observed* out = nullptr;
  // The arrays are never read: the memory check refuses 2^40 entries first.
  expect_refused(mfgrad_observed_from_csr(1, 1, claims, col_idx.data(), value.data(), MFGRAD_DUPLICATES_ERROR, &out),
                 MFGRAD_ERROR_OUT_OF_MEMORY, "building Ω from CSR (1 x 1, 1099511627776 entries)");
  EXPECT_EQ(out, nullptr);
}

TEST_F(CApiPlan, BadPlanRequestsAreRefused) {
  mfgrad_plan* const untouched = reinterpret_cast<mfgrad_plan*>(0x1);
  mfgrad_plan* out = untouched;
  mfgrad_plan_options o = default_options();
  auto create = [&](const mfgrad_observed* observed, std::int64_t k_, int precision, const mfgrad_plan_options* opt) {
    return mfgrad_plan_create(observed, k_, static_cast<mfgrad_precision>(precision), opt, &out);
  };
  expect_refused(create(nullptr, k, 0, nullptr), MFGRAD_ERROR_INVALID_ARGUMENT, "argument 'observed' is NULL");
  expect_refused(mfgrad_plan_create(obs.p, k, MFGRAD_FLOAT32, nullptr, nullptr), MFGRAD_ERROR_INVALID_ARGUMENT,
                 "argument 'out' is NULL");
  expect_refused(create(obs.p, 0, 0, nullptr), MFGRAD_ERROR_INVALID_ARGUMENT, "k is 0; it must be at least 1");
  expect_refused(create(obs.p, -4, 0, nullptr), MFGRAD_ERROR_INVALID_ARGUMENT, "k is -4");
  expect_refused(create(obs.p, std::numeric_limits<std::int64_t>::max(), 0, nullptr), MFGRAD_ERROR_INVALID_ARGUMENT,
                 "the largest rank mfgrad evaluates");
  expect_refused(create(obs.p, k, 4, nullptr), MFGRAD_ERROR_INVALID_ARGUMENT, "precision is 4");

  mfgrad_plan_options bad = o;
  bad.struct_size = 0;
  expect_refused(create(obs.p, k, 0, &bad), MFGRAD_ERROR_INVALID_ARGUMENT, "mfgrad_plan_options_init");
  bad = o;
  bad.struct_size = sizeof o + 8;
  expect_refused(create(obs.p, k, 0, &bad), MFGRAD_ERROR_INVALID_ARGUMENT, "options->struct_size is");
  bad = o;
  bad.mode = static_cast<mfgrad_plan_mode>(3);
  expect_refused(create(obs.p, k, 0, &bad), MFGRAD_ERROR_INVALID_ARGUMENT, "options->mode is 3");
  bad = o;
  bad.seconds_per_candidate = nan;
  expect_refused(create(obs.p, k, 0, &bad), MFGRAD_ERROR_INVALID_ARGUMENT, "seconds_per_candidate is nan");
  bad = o;
  bad.kernel = "no_such_kernel";
  expect_refused(create(obs.p, k, 0, &bad), MFGRAD_ERROR_INVALID_ARGUMENT,
                 cpp_message([] { mfgrad::kernel("no_such_kernel"); }));
  bad = o;
  bad.wisdom_file = "";
  expect_refused(create(obs.p, k, 0, &bad), MFGRAD_ERROR_INVALID_ARGUMENT, "wisdom_file is empty");
  EXPECT_EQ(out, untouched);
  expect_refused(mfgrad_plan_options_init(nullptr), MFGRAD_ERROR_INVALID_ARGUMENT, "argument 'options' is NULL");
}

// Sizes and counts at their extremes, on the empty Ω too: a status and a message, never a crash (each
// of these once ended the process: a wrapped m·k, libgomp's exit at 50,000 threads).
TEST(CApi, ExtremeSizesAndCountsAreRefused) {
  ObservedHandle empty;
  ASSERT_EQ(mfgrad_observed_from_coo(0, 0, 0, nullptr, nullptr, nullptr, MFGRAD_DUPLICATES_ERROR, &empty.p), MFGRAD_OK);
  mfgrad_plan* out = nullptr;
  for (const char* kernel : {static_cast<const char*>(nullptr), "fused_simd", "tiled_simd", "csr_rows_omp"})
    for (std::int64_t k : {std::int64_t{1} << 25, std::int64_t{1} << 59, std::numeric_limits<std::int64_t>::max()}) {
      mfgrad_plan_options o = default_options();
      o.kernel = kernel;
      expect_refused(mfgrad_plan_create(empty.p, k, MFGRAD_FLOAT32, &o, &out), MFGRAD_ERROR_INVALID_ARGUMENT,
                     "the largest rank mfgrad evaluates");
    }
  ObservedHandle obs;
  const Entries e = random_entries(20, 10, 0.3, 4);
  ASSERT_EQ(from_entries(e, MFGRAD_DUPLICATES_ERROR, &obs.p), MFGRAD_OK);
  for (int threads : {50000, 100000, std::numeric_limits<int32_t>::max()}) {
    mfgrad_plan_options o = default_options();
    o.threads = threads;
    expect_refused(mfgrad_plan_create(obs.p, 4, MFGRAD_FLOAT32, &o, &out), MFGRAD_ERROR_INVALID_ARGUMENT,
                   "threads = " + std::to_string(threads) + " is more than");
  }
  EXPECT_EQ(out, nullptr);
}

// Running out of memory, or being about to, has its own status, and the message names the limit.
TEST(CApi, OutOfMemoryHasItsOwnStatus) {
  ::setenv("MFGRAD_MEMORY_LIMIT", "1K", 1);
  const Entries e = random_entries(200, 100, 0.3, 5);
  mfgrad_observed* out = nullptr;
  expect_refused(from_entries(e, MFGRAD_DUPLICATES_ERROR, &out), MFGRAD_ERROR_OUT_OF_MEMORY, "MFGRAD_MEMORY_LIMIT");
  EXPECT_EQ(out, nullptr);
  ::setenv("MFGRAD_MEMORY_LIMIT", "64K", 1);  // Ω fits, a plan at k = 256 does not
  ObservedHandle obs;
  const Entries small = random_entries(20, 10, 0.3, 5);
  ASSERT_EQ(from_entries(small, MFGRAD_DUPLICATES_ERROR, &obs.p), MFGRAD_OK) << mfgrad_last_error();
  mfgrad_plan* plan = nullptr;
  expect_refused(mfgrad_plan_create(obs.p, 256, MFGRAD_FLOAT64, nullptr, &plan), MFGRAD_ERROR_OUT_OF_MEMORY,
                 "this process may use (MFGRAD_MEMORY_LIMIT)");
  ::unsetenv("MFGRAD_MEMORY_LIMIT");
  EXPECT_EQ(plan, nullptr);
}

// One plan evaluated from two threads at once, as the header says not to: every call either returns
// the right answer or is refused with a status — never a wrong answer with MFGRAD_OK.
TEST(CApi, APlanSharedByTwoThreadsIsRefusedNotWrong) {
  const Entries e = random_entries(400, 300, 0.2, 6);
  ObservedHandle obs;
  ASSERT_EQ(from_entries(e, MFGRAD_DUPLICATES_ERROR, &obs.p), MFGRAD_OK);
  const std::size_t m = 400, n = 300, k = 16;
  for (const char* kernel : {"csr_rows_omp", "fused_simd", "tiled_simd"}) {
    SCOPED_TRACE(kernel);
    mfgrad_plan_options o = default_options();
    o.kernel = kernel;
    o.threads = 1;
    PlanHandle plan;
    ASSERT_EQ(mfgrad_plan_create(obs.p, k, MFGRAD_FLOAT64, &o, &plan.p), MFGRAD_OK) << mfgrad_last_error();
    const Factors<double> f = random_factors<double>(m, n, k, 7);
    std::vector<double> want_u(m * k), want_v(n * k);
    double want = 0;
    ASSERT_EQ(
        mfgrad_plan_evaluate_f64(plan.p, m, n, k, f.u.data(), f.v.data(), 0.1, want_u.data(), want_v.data(), &want),
        MFGRAD_OK);
    int wrong = 0, refused = 0, other = 0;
    std::mutex tally;
    const auto hammer = [&] {
      std::vector<double> gu(m * k), gv(n * k);
      for (int r = 0; r < 200; ++r) {
        double loss = 0;
        const mfgrad_status s =
            mfgrad_plan_evaluate_f64(plan.p, m, n, k, f.u.data(), f.v.data(), 0.1, gu.data(), gv.data(), &loss);
        const std::string message = mfgrad_last_error();
        std::lock_guard lock(tally);
        if (s == MFGRAD_OK)
          wrong += loss != want || gu != want_u || gv != want_v;
        else if (s == MFGRAD_ERROR_INVALID_ARGUMENT && message.find("make one plan per thread") != std::string::npos)
          ++refused;
        else
          ++other;
      }
    };
    std::thread a(hammer), b(hammer);
    a.join();
    b.join();
    EXPECT_EQ(wrong, 0) << "calls that returned MFGRAD_OK with a wrong answer (" << refused << " refused)";
    EXPECT_EQ(other, 0);
  }
}

TEST_F(CApiPlan, BadEvaluationsAreRefusedAndWriteNothing) {
  double loss = 7.0;
  expect_refused(mfgrad_plan_evaluate_f32(nullptr, m, n, k, f.u.data(), f.v.data(), 0.1, gu.data(), gv.data(), &loss),
                 MFGRAD_ERROR_INVALID_ARGUMENT, "mfgrad_plan_evaluate_f32: argument 'plan' is NULL");
  expect_refused(mfgrad_plan_evaluate_f32(plan.p, m, n, k, f.u.data(), f.v.data(), 0.1, gu.data(), gv.data(), nullptr),
                 MFGRAD_ERROR_INVALID_ARGUMENT, "argument 'loss' is NULL");
  expect_refused(eval(-1, n, k, 0.1, &loss), MFGRAD_ERROR_INVALID_ARGUMENT, "shape m = -1, n = 29, k = 9 is negative");

  // Everything else carries the message a C++ plan for the same data gives for the same arguments.
  const Observed cpp = Observed::build(entries);
  Plan cpp_plan(cpp, k, Precision::f32);
  std::vector<float> other_u(m * k), other_v(n * k);
  auto cpp_eval = [&](std::size_t m_, std::size_t n_, std::size_t k_, const float* u, double lambda, float* out_u,
                      float* out_v) {
    return cpp_message([&] {
      cpp_plan.evaluate<float>({u, m_, k_}, {f.v.data(), n_, k_}, lambda, {out_u, m_, k_}, {out_v, n_, k_});
    });
  };
  // Factors of another shape than the plan's.
  expect_refused(eval(m, n, k + 1, 0.1, &loss), MFGRAD_ERROR_INVALID_ARGUMENT,
                 cpp_eval(m, n, k + 1, f.u.data(), 0.1, other_u.data(), other_v.data()));
  expect_refused(eval(m - 1, n, k, 0.1, &loss), MFGRAD_ERROR_INVALID_ARGUMENT,
                 cpp_eval(m - 1, n, k, f.u.data(), 0.1, other_u.data(), other_v.data()));
  expect_refused(eval(m, n + 5, k, 0.1, &loss), MFGRAD_ERROR_INVALID_ARGUMENT,
                 cpp_eval(m, n + 5, k, f.u.data(), 0.1, other_u.data(), other_v.data()));
  // NULL arrays, λ, aliasing.
  expect_refused(mfgrad_plan_evaluate_f32(plan.p, m, n, k, nullptr, f.v.data(), 0.1, gu.data(), gv.data(), &loss),
                 MFGRAD_ERROR_INVALID_ARGUMENT, cpp_eval(m, n, k, nullptr, 0.1, other_u.data(), other_v.data()));
  expect_refused(mfgrad_plan_evaluate_f32(plan.p, m, n, k, f.u.data(), f.v.data(), 0.1, gu.data(), nullptr, &loss),
                 MFGRAD_ERROR_INVALID_ARGUMENT, cpp_eval(m, n, k, f.u.data(), 0.1, other_u.data(), nullptr));
  expect_refused(eval(m, n, k, nan, &loss), MFGRAD_ERROR_INVALID_ARGUMENT,
                 cpp_eval(m, n, k, f.u.data(), nan, other_u.data(), other_v.data()));
  expect_refused(eval(m, n, k, -1.0, &loss), MFGRAD_ERROR_INVALID_ARGUMENT,
                 cpp_eval(m, n, k, f.u.data(), -1.0, other_u.data(), other_v.data()));
  expect_refused(mfgrad_plan_evaluate_f32(plan.p, m, n, k, f.u.data(), f.v.data(), 0.1, f.u.data(), gv.data(), &loss),
                 MFGRAD_ERROR_INVALID_ARGUMENT, cpp_eval(m, n, k, f.u.data(), 0.1, f.u.data(), other_v.data()));
  std::vector<double> du(m * k), dv(n * k), dgu(m * k), dgv(n * k);
  expect_refused(
      mfgrad_plan_evaluate_f64(plan.p, m, n, k, du.data(), dv.data(), 0.1, dgu.data(), dgv.data(), &loss),
      MFGRAD_ERROR_INVALID_ARGUMENT, cpp_message([&] {
        cpp_plan.evaluate<double>({du.data(), m, k}, {dv.data(), n, k}, 0.1, {dgu.data(), m, k}, {dgv.data(), n, k});
      }));
  // 16-bit factors for a float32 plan.
  std::vector<std::uint16_t> hu(m * k), hv(n * k);
  expect_refused(mfgrad_plan_evaluate_bf16(plan.p, m, n, k, hu.data(), hv.data(), 0.1, gu.data(), gv.data(), &loss),
                 MFGRAD_ERROR_INVALID_ARGUMENT, cpp_message([&] {
                   cpp_plan.evaluate<bfloat16>({reinterpret_cast<const bfloat16*>(hu.data()), m, k},
                                               {reinterpret_cast<const bfloat16*>(hv.data()), n, k}, 0.1,
                                               {other_u.data(), m, k}, {other_v.data(), n, k});
                 }));
  EXPECT_EQ(loss, 7.0);
  expect_untouched();

  // And the plan still works afterwards.
  ASSERT_EQ(eval(m, n, k, 0.1, &loss), MFGRAD_OK) << mfgrad_last_error();
  EXPECT_NE(loss, 7.0);
  EXPECT_STREQ(mfgrad_last_error(), "");
}

TEST_F(CApiPlan, CheckFactorsRefusesNonFiniteFactors) {
  mfgrad_plan_options o = default_options();
  o.check_factors = 1;
  PlanHandle checking;
  ASSERT_EQ(mfgrad_plan_create(obs.p, k, MFGRAD_FLOAT32, &o, &checking.p), MFGRAD_OK);
  f.u[3 * k + 2] = std::numeric_limits<float>::infinity();
  double loss = 7.0;
  expect_refused(
      mfgrad_plan_evaluate_f32(checking.p, m, n, k, f.u.data(), f.v.data(), 0.1, gu.data(), gv.data(), &loss),
      MFGRAD_ERROR_INVALID_ARGUMENT, "U[3, 2] is inf");
  expect_untouched();
  // Without the option, infinity propagates per IEEE 754 instead.
  ASSERT_EQ(eval(m, n, k, 0.1, &loss), MFGRAD_OK);
  EXPECT_FALSE(std::isfinite(loss));
}

TEST_F(CApiPlan, GettersDescribeThePlan) {
  const char* choice = nullptr;
  const char* reason = nullptr;
  std::int32_t threads = 0;
  ASSERT_EQ(mfgrad_plan_choice(plan.p, &choice), MFGRAD_OK);
  ASSERT_EQ(mfgrad_plan_reason(plan.p, &reason), MFGRAD_OK);
  ASSERT_EQ(mfgrad_plan_threads(plan.p, &threads), MFGRAD_OK);
  const Observed cpp = Observed::build(entries);
  const Plan same(cpp, k, Precision::f32);
  EXPECT_EQ(choice, same.choice());
  EXPECT_EQ(reason, same.reason());
  EXPECT_EQ(threads, same.threads());
  expect_refused(mfgrad_plan_choice(nullptr, &choice), MFGRAD_ERROR_INVALID_ARGUMENT, "argument 'plan' is NULL");
  expect_refused(mfgrad_plan_reason(plan.p, nullptr), MFGRAD_ERROR_INVALID_ARGUMENT, "argument 'reason' is NULL");
  expect_refused(mfgrad_plan_threads(plan.p, nullptr), MFGRAD_ERROR_INVALID_ARGUMENT, "argument 'threads' is NULL");
  std::int32_t rows;
  std::int64_t nnz;
  expect_refused(mfgrad_observed_shape(obs.p, &rows, nullptr, &nnz), MFGRAD_ERROR_INVALID_ARGUMENT,
                 "argument 'cols' is NULL");
}

TEST_F(CApiPlan, ThreadsOptionIsHonoured) {
  mfgrad_plan_options o = default_options();
  o.threads = 3;
  PlanHandle three;
  ASSERT_EQ(mfgrad_plan_create(obs.p, k, MFGRAD_FLOAT32, &o, &three.p), MFGRAD_OK);
  std::int32_t threads = 0;
  ASSERT_EQ(mfgrad_plan_threads(three.p, &threads), MFGRAD_OK);
  EXPECT_EQ(threads, 3);
}

// The plan holds Ω itself: destroying the observed handle first is allowed.
TEST_F(CApiPlan, PlanOutlivesItsObservedHandle) {
  double before = nan, after = nan;
  ASSERT_EQ(eval(m, n, k, 0.3, &before), MFGRAD_OK);
  mfgrad_observed_destroy(obs.p);
  obs.p = nullptr;
  ASSERT_EQ(eval(m, n, k, 0.3, &after), MFGRAD_OK) << mfgrad_last_error();
  EXPECT_EQ(before, after);
}

TEST_F(CApiPlan, LastErrorIsPerThread) {
  double loss;
  ASSERT_NE(eval(m, n, k, nan, &loss), MFGRAD_OK);
  const std::string here = mfgrad_last_error();
  ASSERT_FALSE(here.empty());
  std::string there = "unset";
  std::thread([&] { there = mfgrad_last_error(); }).join();
  EXPECT_EQ(there, "");
  EXPECT_EQ(here, mfgrad_last_error());
}

TEST_F(CApiPlan, WisdomFileIsWrittenAndFileErrorsAreFileErrors) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "mfgrad_test_c_api_wisdom";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  mfgrad_plan_options o = default_options();
  o.mode = MFGRAD_PLAN_MEASURE;
  o.seconds_per_candidate = 0.01;
  const std::string wisdom = (dir / "wisdom.txt").string();
  o.wisdom_file = wisdom.c_str();
  std::string first_choice;
  {
    PlanHandle measured;
    ASSERT_EQ(mfgrad_plan_create(obs.p, k, MFGRAD_FLOAT32, &o, &measured.p), MFGRAD_OK) << mfgrad_last_error();
    const char* choice = nullptr;
    ASSERT_EQ(mfgrad_plan_choice(measured.p, &choice), MFGRAD_OK);
    first_choice = choice;
  }
  // Forgotten by the process, the choice comes back from the file without measuring.
  Plan::forget_wisdom();
  {
    PlanHandle remembered;
    ASSERT_EQ(mfgrad_plan_create(obs.p, k, MFGRAD_FLOAT32, &o, &remembered.p), MFGRAD_OK) << mfgrad_last_error();
    const char* choice = nullptr;
    const char* reason = nullptr;
    ASSERT_EQ(mfgrad_plan_choice(remembered.p, &choice), MFGRAD_OK);
    ASSERT_EQ(mfgrad_plan_reason(remembered.p, &reason), MFGRAD_OK);
    EXPECT_EQ(choice, first_choice);
    EXPECT_EQ(std::string(reason).rfind("wisdom: ", 0), 0u) << reason;
  }

  const std::string malformed = (dir / "malformed.txt").string();
  std::ofstream(malformed) << "not wisdom\n";
  o.wisdom_file = malformed.c_str();
  mfgrad_plan* out = nullptr;
  expect_refused(mfgrad_plan_create(obs.p, k, MFGRAD_FLOAT32, &o, &out), MFGRAD_ERROR_FILE,
                 malformed + ":1: not an mfgrad wisdom file");
  const std::string unwritable = (dir / "no_such_folder" / "wisdom.txt").string();
  o.wisdom_file = unwritable.c_str();
  expect_refused(mfgrad_plan_create(obs.p, k, MFGRAD_FLOAT32, &o, &out), MFGRAD_ERROR_FILE,
                 "cannot write wisdom file " + unwritable);
  EXPECT_EQ(out, nullptr);
  std::filesystem::remove_all(dir);
  Plan::forget_wisdom();
}

}  // namespace
}  // namespace mfgrad::test
