// naive — the oracle, and the annotated template for a new implementation.
//
//   F     = ½ Σ_{(i,j)∈Ω} r_ij² + λ/2 (‖U‖²_F + ‖V‖²_F),   r_ij = M_ij − u_i·v_j
//   ∂F/∂U = λU − R V          ∂F/∂V = λV − Rᵀ U
//
// Walks Ω in input order with every product and sum in double, then rounds ∂U and ∂V to compute_t<T>
// once. 16-bit factors are read as they are stored and widened exactly to double.
// Serial, so it is trivially identical at any thread count. Everything else is compared with it.
//
// To add an implementation: copy this file to kernels/<name>.cpp, rename the namespace to
// mfgrad::kernels::<name>, keep the MFGRAD_KERNEL_ENTRY_POINTS line, and add one line to
// kernels/kernels.inc (its named columns say what it is: serial, deterministic, least ISA, …). That is
// all: CMake, the tests, the benchmark, the plan and the perf gate (which then asks for a new baseline)
// read the list. Contracts to keep:
//   * p has been validated (shapes, k ≥ 1, λ ≥ 0); do not re-check, do not throw.
//   * write every element of grad_u and grad_v; never read them before writing.
//   * accumulate the loss in double; say in this header whether results are bitwise identical
//     across thread counts (the deterministic column of kernels.inc).
//   * allocate only through ws (scratch or prepared state), so repeated calls allocate nothing.
#include "detail/common.hpp"

namespace mfgrad::kernels::naive {

namespace {

template <class T>
double run(const Problem<T>& p, Workspace& ws) {
  const std::size_t m = static_cast<std::size_t>(p.obs.rows()), n = static_cast<std::size_t>(p.obs.cols());
  const std::size_t k = p.k;
  const std::span<const index_t> row_of = p.obs.row_of(), col = p.obs.col_idx();
  const std::span<const compute_t<T>> val = p.obs.template values<compute_t<T>>();

  // Double accumulators so the oracle's own rounding stays far below any kernel's.
  double* gu = ws.scratch<double>(0, m * k);
  double* gv = ws.scratch<double>(1, n * k);

  double norm_u = 0, norm_v = 0;
  for (std::size_t x = 0; x < m * k; ++x) {
    gu[x] = p.lambda * static_cast<double>(p.u[x]);
    norm_u += static_cast<double>(p.u[x]) * static_cast<double>(p.u[x]);
  }
  for (std::size_t x = 0; x < n * k; ++x) {
    gv[x] = p.lambda * static_cast<double>(p.v[x]);
    norm_v += static_cast<double>(p.v[x]) * static_cast<double>(p.v[x]);
  }

  double sq = 0;
  for (offset_t t = 0; t < p.obs.nnz(); ++t) {
    const offset_t q = p.obs.input_to_csr(t);
    const std::size_t i = static_cast<std::size_t>(row_of[q]), j = static_cast<std::size_t>(col[q]);
    const T* ui = p.u + i * k;
    const T* vj = p.v + j * k;
    double dot = 0;
    for (std::size_t l = 0; l < k; ++l) dot += static_cast<double>(ui[l]) * static_cast<double>(vj[l]);
    const double r = static_cast<double>(val[q]) - dot;
    sq += r * r;
    for (std::size_t l = 0; l < k; ++l) {
      gu[i * k + l] -= r * static_cast<double>(vj[l]);
      gv[j * k + l] -= r * static_cast<double>(ui[l]);
    }
  }

  for (std::size_t x = 0; x < m * k; ++x) p.grad_u[x] = static_cast<compute_t<T>>(gu[x]);
  for (std::size_t x = 0; x < n * k; ++x) p.grad_v[x] = static_cast<compute_t<T>>(gv[x]);
  return 0.5 * sq + 0.5 * p.lambda * (norm_u + norm_v);
}

}  // namespace

MFGRAD_KERNEL_ENTRY_POINTS_HALF

}  // namespace mfgrad::kernels::naive
