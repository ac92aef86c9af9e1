// Internal: the kernel author's interface. What an implementation in kernels/ is handed (Problem), what
// the registry knows of it beyond the public Kernel (mfgrad/kernel.hpp): the build-time columns of
// kernels/kernels.inc, estimate mode's question and its answer, and the test hooks. Not installed: the
// library, bench/, tools/ and tests/ reach it through the CMake target mfgrad_internal.
#pragma once

#include <cstddef>
#include <string_view>

#include "mfgrad/kernel.hpp"

namespace mfgrad {

// What a kernel function receives, already validated by evaluate(). T is the stored element type.
template <class T>
struct Problem {
  const Observed& obs;
  const T* u;            // m×k
  const T* v;            // n×k
  std::size_t k;         // ≥ 1
  double lambda;         // finite, ≥ 0
  compute_t<T>* grad_u;  // m×k, written
  compute_t<T>* grad_v;  // n×k, written
};

template <class T>
using EvalFn = double (*)(const Problem<T>&, Workspace&);

// What estimate mode knows of a problem when it asks each implementation whether it suits it.
struct ShapeHint {
  offset_t nnz;               // observed entries
  index_t rows, cols;         // m, n
  std::size_t k;              // factor columns, ≥ 1
  std::size_t element_bytes;  // stored: 2 (bfloat16, float16), 4 (float32) or 8 (float64)
  std::size_t compute_bytes;  // of the type products are computed in: 4 or 8
  std::size_t lanes;          // compute elements per SIMD register at the dispatched level
  int threads;                // threads the evaluation will run on
};

// How well an implementation suits a shape: one scale shared by every prefers function, weakest
// first. The rule, here and nowhere else: estimate mode takes the implementation with the highest fit
// (the first in list order on a tie, never one that answers `none`); when none answers, the highest
// tier. The scale encodes what was measured on every preset at k = 4…256 (docs/cpp.md, "The plan").
enum class Fit {
  none,               // not for this shape
  fallback,           // a sound fallback (tiled_simd away from its compiled-in k)
  beats_slow_path,    // beats the fallback's slow path (fused_simd at an odd k, copies too dear)
  beats_fused_pass,   // beats the generic fused pass on rows narrower than a batch (csr_rows_omp)
  built_for_at_cost,  // the shape it is built for, and worth its per-thread copies (fused_simd)
  built_for,          // the shape it is built for (tiled_simd on wide rows at a compiled-in k)
};

// An implementation's answer; `why` completes "estimated: <shape>: " in the plan's reason.
struct Preference {
  Fit fit = Fit::none;
  const char* why = "";
};
using PrefersFn = Preference (*)(const ShapeHint&);

// Whether estimate mode takes a over b (b answered first in list order).
constexpr bool preferred(const Preference& a, const Preference& b) { return a.fit > b.fit; }

// How a registered implementation runs, and the build-time columns of its kernels/kernels.inc line
// that only the library, the benchmark and the tests read (see that file).
struct KernelCode {
  bool simd;           // written on xsimd batches (kernels/simd/<name>.hpp), compiled once per ISA level
  bool cache_tunable;  // sizes its tiles from Workspace::cache_sizes(): the measuring plan tries variants
  bool native_half;    // reads 16-bit factors in its own loops; otherwise they are widened to float32
                       // scratch copies first and its float32 code runs (correct, not faster)
  int tier;            // preference when nothing else decides: higher is expected to be faster
  PrefersFn prefers;   // estimate mode's question (nullptr: never estimated, only measured)
  EvalFn<float> f32;
  EvalFn<double> f64;
  EvalFn<bfloat16> bf16 = nullptr;
  EvalFn<float16> f16 = nullptr;

  template <class T>
  EvalFn<T> fn() const noexcept {
    return by_precision<T>(f32, f64, bf16, f16);
  }
};

// The code of a kernel; throws Error for a Kernel that has none (one not made by the registry).
const KernelCode& code(const Kernel& kernel);

namespace testing {
// Swaps the functions behind a registered name (e.g. for a deliberately slowed build that proves the
// regression gate fires). Call before any evaluation; not thread-safe.
void replace_kernel(std::string_view name, EvalFn<float> f32, EvalFn<double> f64);
}  // namespace testing

}  // namespace mfgrad
