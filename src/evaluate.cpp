// Argument checks shared by every implementation, then the call through the registry.
#include <cmath>
#include <functional>
#include <limits>
#include <new>
#include <string>

#include "format.hpp"
#include "kernel_author.hpp"
#include "mfgrad/kernel.hpp"
#include "mfgrad/memory.hpp"

namespace mfgrad {

namespace detail {
void count_invocation(const Kernel& k);
}

namespace {

std::string shape(std::size_t rows, std::size_t cols) { return std::to_string(rows) + " x " + std::to_string(cols); }

template <class A, class B>
bool overlap(const A* a, std::size_t a_count, const B* b, std::size_t b_count) {
  if (a_count == 0 || b_count == 0) return false;
  auto lo_a = reinterpret_cast<std::uintptr_t>(a), hi_a = lo_a + a_count * sizeof(A);
  auto lo_b = reinterpret_cast<std::uintptr_t>(b), hi_b = lo_b + b_count * sizeof(B);
  return lo_a < hi_b && lo_b < hi_a;
}

template <class T>
void check_matrix(const char* what, const T* data, std::size_t rows, std::size_t cols, std::size_t want_rows,
                  std::size_t want_cols, const char* rows_meaning) {
  if (rows != want_rows || cols != want_cols)
    throw Error(std::string(what) + " is " + shape(rows, cols) + " but must be " + shape(want_rows, want_cols) + " (" +
                rows_meaning + " x k)");
  if (data == nullptr && rows * cols > 0) throw Error(std::string(what) + " has no data (null pointer)");
}

template <class T>
void check_finite(const char* what, const T* data, std::size_t rows, std::size_t cols) {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c)
      if (!std::isfinite(static_cast<double>(data[r * cols + c])))
        throw Error(std::string(what) + "[" + std::to_string(r) + ", " + std::to_string(c) + "] is " +
                    format_number(static_cast<double>(data[r * cols + c])) + " (factors were asked to be finite)");
}

}  // namespace

template <class T>
void validate(const Observed& obs, Matrix<const T> u, Matrix<const T> v, double lambda, Matrix<compute_t<T>> grad_u,
              Matrix<compute_t<T>> grad_v, const EvalOptions& options) {
  const std::size_t m = static_cast<std::size_t>(obs.rows()), n = static_cast<std::size_t>(obs.cols());
  if (u.cols == 0) throw Error("k must be at least 1, but U has 0 columns");
  check_rank(u.cols);
  const std::size_t k = u.cols;
  check_matrix("U", u.data, u.rows, u.cols, m, k, "m");
  check_matrix("V", v.data, v.rows, v.cols, n, k, "n");
  check_matrix("grad_U", grad_u.data, grad_u.rows, grad_u.cols, m, k, "m");
  check_matrix("grad_V", grad_v.data, grad_v.rows, grad_v.cols, n, k, "n");
  if (!std::isfinite(lambda) || lambda < 0)
    throw Error("lambda must be finite and at least 0, got " + format_number(lambda));
  if (overlap(grad_u.data, m * k, grad_v.data, n * k)) throw Error("grad_U and grad_V overlap in memory");
  if (overlap(grad_u.data, m * k, u.data, m * k) || overlap(grad_u.data, m * k, v.data, n * k))
    throw Error("grad_U overlaps an input factor (U or V); outputs must be separate buffers");
  if (overlap(grad_v.data, n * k, u.data, m * k) || overlap(grad_v.data, n * k, v.data, n * k))
    throw Error("grad_V overlaps an input factor (U or V); outputs must be separate buffers");
  if (std::is_same_v<compute_t<T>, float> && !obs.float32_overflow().empty())
    throw Error(std::string(to_string(precision_of<T>())) + " evaluation refused: " + obs.float32_overflow());
  if (options.check_factors) {
    check_finite("U", u.data, m, k);
    check_finite("V", v.data, n, k);
  }
}

template <class T>
double evaluate(const Kernel& kernel, const Observed& obs, Matrix<const T> u, Matrix<const T> v, double lambda,
                Matrix<compute_t<T>> grad_u, Matrix<compute_t<T>> grad_v, Workspace& ws, const EvalOptions& options) {
  validate(obs, u, v, lambda, grad_u, grad_v, options);
  isa_ceiling();  // an invalid MFGRAD_ISA is an error, not a silent cap at the baseline
  if (!kernel.supported())
    throw Error(std::string("implementation '") + kernel.name + "' needs " + to_string(kernel.isa) +
                ", which this CPU (or MFGRAD_ISA) does not allow");
  // A working set whose size does not even fit in 64 bits is refused before the implementation computes
  // (and wraps) it; anything smaller that cannot be had ends in bad_alloc, caught below.
  if (const MemoryNeed need =
          kernel_memory(kernel, obs.rows(), obs.cols(), obs.nnz(), u.cols, precision_of<T>(), ws.threads());
      need.total() == std::numeric_limits<std::size_t>::max())
    throw OutOfMemory(std::string("implementation '") + kernel.name + "' would need more than 2^64 bytes for " +
                      std::to_string(obs.rows()) + " x " + std::to_string(obs.cols()) +
                      ", k = " + std::to_string(u.cols) + " on " + std::to_string(ws.threads()) + " threads");
  detail::count_invocation(kernel);
  const Problem<T> p{obs, u.data, v.data, u.cols, lambda, grad_u.data, grad_v.data};
  try {
    return code(kernel).fn<T>()(p, ws);
  } catch (const std::bad_alloc&) {
    // Only workspace memory is allocated here: scratch and prepared layouts.
    const MemoryNeed need =
        evaluation_memory(obs.rows(), obs.cols(), obs.nnz(), u.cols, precision_of<T>(), ws.threads());
    throw OutOfMemory(std::string("out of memory: implementation '") + kernel.name +
                      "' could not allocate its workspace for " + std::to_string(obs.rows()) + " x " +
                      std::to_string(obs.cols()) + ", " + std::to_string(obs.nnz()) +
                      " entries, k = " + std::to_string(u.cols) + ", " + to_string(precision_of<T>()) + " on " +
                      std::to_string(ws.threads()) + " threads (an evaluation needs up to " +
                      format_bytes(need.scratch) + " of scratch)");
  }
}

#define MFGRAD_EVALUATE_INSTANCES(T)                                                                         \
  template void validate<T>(const Observed&, Matrix<const T>, Matrix<const T>, double, Matrix<compute_t<T>>, \
                            Matrix<compute_t<T>>, const EvalOptions&);                                       \
  template double evaluate<T>(const Kernel&, const Observed&, Matrix<const T>, Matrix<const T>, double,      \
                              Matrix<compute_t<T>>, Matrix<compute_t<T>>, Workspace&, const EvalOptions&);
MFGRAD_EVALUATE_INSTANCES(float)
MFGRAD_EVALUATE_INSTANCES(double)
MFGRAD_EVALUATE_INSTANCES(bfloat16)
MFGRAD_EVALUATE_INSTANCES(float16)
#undef MFGRAD_EVALUATE_INSTANCES

}  // namespace mfgrad
