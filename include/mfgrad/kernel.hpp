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

struct KernelCode;  // how an implementation runs, and its build-time columns: internal, not installed

// One registered implementation, as kernels/kernels.inc describes it to its users.
struct Kernel {
  const char* name;
  const char* description;
  Isa isa;                 // least instruction set it needs
  bool oracle;             // the reference every other result is compared with; never a plan's candidate
  bool serial;             // runs on one thread whatever the Workspace says, so timing it at more is pointless
  bool deterministic;      // bitwise-identical results at any thread count
  const KernelCode* code;  // what evaluate() runs (the library's own; opaque here)

  bool supported() const noexcept { return cpu_supports(isa); }
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

}  // namespace mfgrad
