// tbb — the two passes of csc_cols_omp on oneTBB instead of OpenMP.
//
//   pass 1: tbb::parallel_for over entry-balanced CSR row ranges (residuals, ∂U, Σ r², ‖U‖²)
//   pass 2: tbb::parallel_for over entry-balanced CSC column ranges (∂V from the stored residuals)
//
// The ranges depend only on Ω (simple_partitioner, grain 1, so TBB never re-splits them) and the
// loss is reduced deterministically: one partial per range, added in range order. Bitwise identical
// at any thread count. The task arena with the requested concurrency lives in the Workspace.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include "detail/common.hpp"

namespace mfgrad::kernels::tbb {

namespace {

struct State : detail::Chunks {
  ::tbb::task_arena arena;
  State(const Observed& obs, int threads) : Chunks(obs), arena(threads) {}
};

template <class T>
double run(const Problem<T>& p, Workspace& ws) {
  auto& state = ws.prepared<State>(p.obs, 0, [&] { return std::make_unique<State>(p.obs, ws.threads()); });
  const int row_chunks = static_cast<int>(state.rows.size()) - 1;
  const int col_chunks = static_cast<int>(state.cols.size()) - 1;
  T* residual = ws.scratch<T>(0, static_cast<std::size_t>(p.obs.nnz()));
  detail::Partial* row_part = ws.scratch<detail::Partial>(1, row_chunks);
  detail::Partial* col_part = ws.scratch<detail::Partial>(2, col_chunks);

  state.arena.execute([&] {
    ::tbb::parallel_for(
        ::tbb::blocked_range<int>(0, row_chunks, 1),
        [&](const ::tbb::blocked_range<int>& range) {
          for (int c = range.begin(); c < range.end(); ++c) {
            detail::Partial acc;
            for (index_t i = state.rows[c]; i < state.rows[c + 1]; ++i) detail::residual_row(p, i, residual, acc);
            row_part[c] = acc;
          }
        },
        ::tbb::simple_partitioner());
    ::tbb::parallel_for(
        ::tbb::blocked_range<int>(0, col_chunks, 1),
        [&](const ::tbb::blocked_range<int>& range) {
          for (int c = range.begin(); c < range.end(); ++c) {
            detail::Partial acc;
            for (index_t j = state.cols[c]; j < state.cols[c + 1]; ++j) detail::gradient_col(p, j, residual, acc);
            col_part[c] = acc;
          }
        },
        ::tbb::simple_partitioner());
  });
  return detail::loss_from({row_part, static_cast<std::size_t>(row_chunks)},
                           {col_part, static_cast<std::size_t>(col_chunks)}, p.lambda);
}

}  // namespace

MFGRAD_KERNEL_ENTRY_POINTS

}  // namespace mfgrad::kernels::tbb
