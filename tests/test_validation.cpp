// evaluate()'s argument checks (each bad argument named, nothing written) and the empty Ω.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "support.hpp"

namespace mfgrad::test {
namespace {

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

}  // namespace
}  // namespace mfgrad::test
