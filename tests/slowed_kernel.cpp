// Test-only: makes csc_cols_omp do its work twice, in a copy of the mfgrad tool built for the tests
// (mfgrad_slowed), so that the regression gate can be shown to fire on a real slowdown.
#include "kernel_author.hpp"
#include "mfgrad/kernel.hpp"

namespace {

mfgrad::EvalFn<float> original_f32;
mfgrad::EvalFn<double> original_f64;

template <class T>
double twice(const mfgrad::Problem<T>& p, mfgrad::Workspace& ws) {
  const auto original = [] {
    if constexpr (std::is_same_v<T, float>)
      return original_f32;
    else
      return original_f64;
  }();
  original(p, ws);
  return original(p, ws);
}

const bool slowed = [] {
  const mfgrad::Kernel& k = mfgrad::kernel("csc_cols_omp");
  original_f32 = mfgrad::code(k).f32;
  original_f64 = mfgrad::code(k).f64;
  mfgrad::testing::replace_kernel("csc_cols_omp", twice<float>, twice<double>);
  return true;
}();

}  // namespace
