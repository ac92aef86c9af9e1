// csr_rows_omp — one fused OpenMP pass over CSR rows; ∂V through per-thread accumulators.
//
// Rows are split into one contiguous range per thread holding about nnz/threads entries (not m/threads
// rows), so heavy rows do not pile onto one thread. For each entry the residual, the ∂U row (owned by
// the thread of its row) and the thread's private ∂V copy are updated in the same visit. The private
// copies are then added up column-range-parallel in thread order 0, 1, …, P−1, and λV added.
// Deterministic for a fixed thread count only: the split, and so the ∂V summation order, depends on it.
// Scratch: (P−1) × n × k of T (thread 0 accumulates straight into ∂V).
#include "detail/common.hpp"

namespace mfgrad::kernels::csr_rows_omp {

namespace {

template <class T>
double run(const Problem<T>& p, Workspace& ws) {
  const int threads = ws.threads();
  const auto& split =
      ws.prepared<detail::ThreadSplit>(p.obs, 0, [&] { return std::make_unique<detail::ThreadSplit>(p.obs, threads); });
  const detail::Raw<T> r = detail::raw(p);
  T* private_dv = ws.scratch<T>(0, static_cast<std::size_t>(threads - 1) * r.n * r.k);
  detail::Partial* part = ws.scratch<detail::Partial>(1, 2 * static_cast<std::size_t>(threads));

  const std::size_t k = r.k, dv_size = r.n * r.k;
  // Part t's ∂V copy; part 0 accumulates straight into ∂V.
  const auto copy = [&](int t) { return t == 0 ? r.gv : private_dv + static_cast<std::size_t>(t - 1) * dv_size; };
  const auto rows = [&](int t) {
    T* dv = copy(t);
    for (std::size_t x = 0; x < dv_size; ++x) dv[x] = T(0);
    detail::Partial acc;
    for (index_t i = split.rows[t]; i < split.rows[t + 1]; ++i) {
      const T* ui = r.u + static_cast<std::size_t>(i) * k;
      T* gi = r.gu + static_cast<std::size_t>(i) * k;
      double norm2 = 0, sq = 0;
      for (std::size_t l = 0; l < k; ++l) {
        gi[l] = r.lambda * ui[l];
        norm2 += static_cast<double>(ui[l]) * ui[l];
      }
      for (offset_t q = r.row_ptr[i]; q < r.row_ptr[i + 1]; ++q) {
        const std::size_t j = static_cast<std::size_t>(r.col[q]);
        const T* vj = r.v + j * k;
        T dot = 0;
#pragma omp simd reduction(+ : dot)
        for (std::size_t l = 0; l < k; ++l) dot += ui[l] * vj[l];
        const T res = r.val[q] - dot;
        sq += static_cast<double>(res) * res;
        T* dvj = dv + j * k;
#pragma omp simd
        for (std::size_t l = 0; l < k; ++l) {
          gi[l] -= res * vj[l];
          dvj[l] -= res * ui[l];
        }
      }
      acc.residual2 += sq;
      acc.norm2 += norm2;
    }
    return acc;
  };
  // ∂V = Σ copies (each −Σ r_ij u_i) + λV over part t's columns.
  const auto merge = [&](int t) {
    detail::Partial acc;
    for (index_t j = split.cols[t]; j < split.cols[t + 1]; ++j) {
      T* gj = r.gv + static_cast<std::size_t>(j) * k;
      const T* vj = r.v + static_cast<std::size_t>(j) * k;
      for (int c = 1; c < threads; ++c) {
        const T* other = copy(c) + static_cast<std::size_t>(j) * k;
#pragma omp simd
        for (std::size_t l = 0; l < k; ++l) gj[l] += other[l];
      }
      double norm2 = 0;
      for (std::size_t l = 0; l < k; ++l) {
        gj[l] += r.lambda * vj[l];
        norm2 += static_cast<double>(vj[l]) * vj[l];
      }
      acc.norm2 += norm2;
    }
    return acc;
  };
  detail::per_thread_dv_pass(
      threads, part, [] {}, rows, merge);
  return detail::loss_from({part, static_cast<std::size_t>(threads)},
                           {part + threads, static_cast<std::size_t>(threads)}, p.lambda);
}

}  // namespace

MFGRAD_KERNEL_ENTRY_POINTS

// Below one SIMD batch its ∂V copies are k wide where fused_simd's are padded to a whole batch.
Preference prefers(const ShapeHint& s) {
  if (s.k < s.lanes) return {Fit::beats_fused_pass, "the fused pass on k-wide ∂V copies"};
  return {};
}

}  // namespace mfgrad::kernels::csr_rows_omp
