// The synthetic data generator and its presets.
#include <gtest/gtest.h>
#include <omp.h>

#include <set>
#include <string>

#include "support.hpp"

namespace mfgrad::test {
namespace {

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
