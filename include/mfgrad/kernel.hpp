// mfgrad — one interface for every implementation of the masked matrix-factorization objective.
//
// Given Ω (Observed), U (m×k), V (n×k) and λ ≥ 0, an implementation returns
//
//     F(U,V) = ½ Σ_{(i,j)∈Ω} (M_ij − u_i·v_j)²  +  λ/2 (‖U‖²_F + ‖V‖²_F)
//
// and writes ∂F/∂U = −R V + λU and ∂F/∂V = −Rᵀ U + λV, where R_ij = M_ij − u_i·v_j on Ω and 0
// elsewhere. Rows and columns with no observed entry still get λu_i and λv_j. The loss is always
// accumulated in double, whatever T is.
//
// Layout: U, V, ∂U, ∂V are dense, row-major, contiguous (row i of U starts at u + i·k).
// Precision: U and V are float, double, bfloat16 or float16 (mfgrad/half.hpp); ∂U, ∂V and every product
// and sum are compute_t<T> (float for the 16-bit formats), the loss double.
// Ownership: the caller owns all four; the kernel keeps no pointer after returning.
// Aliasing: ∂U and ∂V must not overlap each other, U or V. They are overwritten, never read, so
// whatever they held before (NaN included) cannot leak into the result.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "mfgrad/isa.hpp"
#include "mfgrad/observed.hpp"
#include "mfgrad/workspace.hpp"

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

// An implementation's answer: rank 0 = "not for this shape"; otherwise estimate mode takes the highest
// rank over all implementations (the first in list order on a tie). Ranks are one scale shared by the
// list: 1 = a sound fallback, 2 = beats the fallback's slow path, 3 = beats the generic fused pass on
// narrow rows, 4 = the shape it is built for and worth its copies, 5 = the shape it is built for.
// `why` completes "estimated: <shape>: " in the plan's reason.
struct Preference {
  int rank = 0;
  const char* why = "";
};
using PrefersFn = Preference (*)(const ShapeHint&);

// One registered implementation; the registry is expanded from kernels/kernels.inc, whose named
// columns are the fields below (see that file).
struct Kernel {
  const char* name;
  const char* description;
  Isa isa;             // least instruction set it needs
  bool oracle;         // the reference every other result is compared with; never a plan's candidate
  bool serial;         // runs on one thread whatever the Workspace says, so timing it at more is pointless
  bool deterministic;  // bitwise-identical results at any thread count
  bool simd;           // written on xsimd batches (kernels/simd/<name>.hpp), compiled once per ISA level
  bool cache_tunable;  // sizes its tiles from Workspace::cache_sizes()
  int tier;            // preference when nothing else decides: higher is expected to be faster
  PrefersFn prefers;   // estimate mode's question (nullptr: never estimated, only measured)
  EvalFn<float> f32;
  EvalFn<double> f64;
  EvalFn<bfloat16> bf16;
  EvalFn<float16> f16;
  bool native_half;  // reads 16-bit factors in its own loops; otherwise they are widened to float32
                     // scratch copies first and its float32 code runs (correct, not faster)

  bool supported() const noexcept { return cpu_supports(isa); }
  template <class T>
  EvalFn<T> fn() const noexcept {
    return by_precision<T>(f32, f64, bf16, f16);
  }
};

// The name `mfgrad bench --impl` and the plan's users reserve for "let mfgrad::Plan choose" (measured);
// with plan_estimate_name, estimate mode. No implementation may take either.
inline constexpr std::string_view plan_name = "plan";
inline constexpr std::string_view plan_estimate_name = "plan_estimate";

// Every registered implementation, in list order.
std::span<const Kernel> registry();

// nullptr when no implementation has that name.
const Kernel* find_kernel(std::string_view name);

// The named implementation; throws Error listing the known names, or saying this CPU cannot run it.
const Kernel& kernel(std::string_view name);

// The highest-tier implementation this CPU supports.
const Kernel& best_kernel();

// The implementation marked oracle in kernels/kernels.inc (exactly one is; it needs only the baseline).
const Kernel& oracle();

// MFGRAD_KERNEL=<name> when set (an unknown or unsupported name is an Error), else best_kernel().
const Kernel& default_kernel();

// How many times evaluate() has run the named implementation in this process.
std::uint64_t invocations(const Kernel& kernel);

namespace detail {
// A matrix extent given as any integer type; a negative one is an Error naming it.
template <std::integral I>
std::size_t matrix_extent(I value, const char* what) {
  if constexpr (std::is_signed_v<I>)
    if (value < 0) throw Error(std::string("a matrix cannot have ") + std::to_string(value) + " " + what);
  return static_cast<std::size_t>(value);
}
}  // namespace detail

// Dense row-major view: rows × cols elements at data, contiguous. Sizes may be given as any integer
// type ({ptr, obs.rows(), k} does not narrow); a Matrix<T> converts to a Matrix<const T>.
template <class T>
struct Matrix {
  T* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;

  Matrix() = default;
  template <std::integral R, std::integral C>
  Matrix(T* data_, R rows_, C cols_)
      : data(data_), rows(detail::matrix_extent(rows_, "rows")), cols(detail::matrix_extent(cols_, "columns")) {}
  template <class U>
  requires(std::is_same_v<const U, T> && !std::is_same_v<U, T>) Matrix(const Matrix<U>& writable)
  noexcept : data(writable.data), rows(writable.rows), cols(writable.cols) {}
};

struct EvalOptions {
  bool check_factors = false;  // reject NaN/Inf in U or V (by default they propagate per IEEE 754)
};

// Validates every argument (shapes against obs, k ≥ 1, λ finite and ≥ 0, no overlap of outputs with
// inputs, float32-representable values) and throws Error before anything is written; then runs the
// kernel and returns F.
template <class T>
double evaluate(const Kernel& kernel, const Observed& obs, Matrix<const T> u, Matrix<const T> v, double lambda,
                Matrix<compute_t<T>> grad_u, Matrix<compute_t<T>> grad_v, Workspace& ws,
                const EvalOptions& options = {});

// The checks of evaluate(), alone.
template <class T>
void validate(const Observed& obs, Matrix<const T> u, Matrix<const T> v, double lambda, Matrix<compute_t<T>> grad_u,
              Matrix<compute_t<T>> grad_v, const EvalOptions& options = {});

namespace testing {
// Swaps the functions behind a registered name (e.g. for a deliberately slowed build that proves the
// regression gate fires). Call before any evaluation; not thread-safe.
void replace_kernel(std::string_view name, EvalFn<float> f32, EvalFn<double> f64);
}  // namespace testing

}  // namespace mfgrad
