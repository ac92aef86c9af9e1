// csc_cols_omp — two OpenMP passes, each giving every output row to exactly one thread.
//
//   pass 1, CSR rows:    r_ij stored, ∂U row i = λu_i − Σ_j r_ij v_j, Σ r², ‖u_i‖²
//   pass 2, CSC columns: ∂V row j = λv_j − Σ_i r_ij u_i from the stored residuals (not recomputed)
//
// Work is cut into chunks of about equal entry count whose boundaries depend only on Ω, handed out
// dynamically; chunk partial sums are added in chunk order. Bitwise identical at any thread count.
// Scratch: one residual per observed entry (nnz × T).
#include <omp.h>

#include "detail/common.hpp"

namespace mfgrad::kernels::csc_cols_omp {

namespace {

template <class T>
double run(const Problem<T>& p, Workspace& ws) {
  const auto& chunks = ws.prepared<detail::Chunks>(p.obs, 0, [&] { return std::make_unique<detail::Chunks>(p.obs); });
  const int row_chunks = static_cast<int>(chunks.rows.size()) - 1;
  const int col_chunks = static_cast<int>(chunks.cols.size()) - 1;
  T* residual = ws.scratch<T>(0, static_cast<std::size_t>(p.obs.nnz()));
  detail::Partial* row_part = ws.scratch<detail::Partial>(1, row_chunks);
  detail::Partial* col_part = ws.scratch<detail::Partial>(2, col_chunks);

#pragma omp parallel num_threads(ws.threads())
  {
#pragma omp for schedule(dynamic, 1)
    for (int c = 0; c < row_chunks; ++c) {
      detail::Partial acc;
      for (index_t i = chunks.rows[c]; i < chunks.rows[c + 1]; ++i) detail::residual_row(p, i, residual, acc);
      row_part[c] = acc;
    }
#pragma omp for schedule(dynamic, 1)
    for (int c = 0; c < col_chunks; ++c) {
      detail::Partial acc;
      for (index_t j = chunks.cols[c]; j < chunks.cols[c + 1]; ++j) detail::gradient_col(p, j, residual, acc);
      col_part[c] = acc;
    }
  }
  return detail::loss_from({row_part, static_cast<std::size_t>(row_chunks)},
                           {col_part, static_cast<std::size_t>(col_chunks)}, p.lambda);
}

}  // namespace

MFGRAD_KERNEL_ENTRY_POINTS

}  // namespace mfgrad::kernels::csc_cols_omp
