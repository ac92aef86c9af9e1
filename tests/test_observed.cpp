// The data model: building Ω from entries (CSR, CSC, input order), what it refuses and why, and the
// memory it may take.
#include <gtest/gtest.h>

#include <cstdlib>
#include <limits>
#include <optional>
#include <set>
#include <string>

#include "mfgrad/memory.hpp"
#include "mfgrad/message.hpp"
#include "support.hpp"

namespace mfgrad::test {
namespace {

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

}  // namespace
}  // namespace mfgrad::test
