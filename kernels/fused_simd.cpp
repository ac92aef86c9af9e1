// fused_simd — one fused pass over the rows, for k small enough that V and a ∂V copy per thread stay in
// cache.
//
//   for each row i (rows split into one entry-balanced part per thread):
//     u_i and Σ_j r_ij v_j in registers
//     for each entry: v_j from a copy of V in degree order (hot rows together, 64-byte aligned),
//                     r_ij = M_ij − u_i·v_j, Σ r v_j += r v_j, the part's ∂V copy row j += r u_i,
//                     the factor rows a few entries ahead prefetched
//     ∂U row i = λu_i − Σ_j r_ij v_j, written once
//   ∂V = λV − Σ_parts copies, summed per column in part order
// Each entry's v_j is read once and used twice while in registers; nothing but Ω's own arrays is
// streamed. The OpenMP driver is compiled once, here: the per-thread-∂V pass of detail/raw.hpp, with V
// copied first. Its per-ISA micro-kernels (one part's rows, one part's ∂V columns: simd/fused_simd.hpp,
// written once on xsimd batches) are picked by (ISA, k) at run time; rows of k up to 8 batches
// (k = 128 in float32 on AVX-512) stay in registers.
// Deterministic for a fixed thread count, not across counts (the parts, and so the order ∂V's
// partial sums are added in, follow the thread count). Scratch: V's copy and one ∂V copy per thread,
// rows padded to 64 bytes.
#include "simd/fused_simd.hpp"

#include <cstring>

#include "detail/common.hpp"
#include "detail/degree_order.hpp"
#include "detail/fused.hpp"
#include "detail/tiles.hpp"
#include "simd/dispatch.hpp"

namespace mfgrad::kernels::fused_simd {

MFGRAD_SIMD_EXTERN(MFGRAD_FUSED_SIMD_RUN)
MFGRAD_SIMD_EXTERN_HALF(MFGRAD_FUSED_SIMD_RUN)

namespace {

// Entries whose rows are prefetched ahead: about 2 KiB of factor rows, 8 to 16 entries (measured on
// netflix-25m at 2 threads: 16 entries for rows of 64 and 128 bytes, 8 for 256 and 512; fewer left
// gathers waiting, more evicted rows before their turn).
constexpr std::size_t prefetch_bytes = 2048;

template <class T>
struct Layout : PreparedState {
  detail::DegreeOrder order;
  Buffer<index_t> col;  // CSR order of rows, new column ids ascending within a row, padded
  Buffer<T> val;
  std::vector<index_t> part_row, part_col;
  offset_t lookahead;

  Layout(const Observed& obs, std::size_t stride_bytes, int parts) : order(obs) {
    const offset_t nnz = obs.nnz();
    const auto row_ptr = obs.row_ptr();
    const auto old_col = obs.col_idx();
    const auto old_val = obs.values<T>();
    lookahead = static_cast<offset_t>(std::clamp<std::size_t>(prefetch_bytes / stride_bytes, 8, 16));
    col.reset(static_cast<std::size_t>(nnz + lookahead));
    val.reset(static_cast<std::size_t>(std::max<offset_t>(nnz, 1)));
    for (offset_t q = nnz; q < nnz + lookahead; ++q) col[q] = 0;
#pragma omp parallel
    {
      std::vector<std::pair<index_t, T>> row;
#pragma omp for schedule(dynamic, 256)
      for (index_t i = 0; i < obs.rows(); ++i) {
        row.clear();
        for (offset_t q = row_ptr[i]; q < row_ptr[i + 1]; ++q)
          row.emplace_back(order.new_of_old[static_cast<std::size_t>(old_col[q])], old_val[q]);
        std::sort(row.begin(), row.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        for (std::size_t x = 0; x < row.size(); ++x) {
          col[row_ptr[i] + static_cast<offset_t>(x)] = row[x].first;
          val[row_ptr[i] + static_cast<offset_t>(x)] = row[x].second;
        }
      }
    }
    part_row = detail::split_by_entries(row_ptr, parts);
    part_col = detail::split_by_entries(obs.col_ptr(), parts);
  }
};

// S: how U and V are stored; T: what they are computed in. 16-bit rows are widened as they are loaded,
// and the V copy stays 16-bit: half the bytes per gathered v_j (the ∂V copies stay float32).
template <class S>
double run(const Problem<S>& p, Workspace& ws) {
  using T = compute_t<S>;
  const int parts = ws.threads();
  const std::size_t n = static_cast<std::size_t>(p.obs.cols()), k = p.k;
  const std::size_t stride = detail::fused_stride<T>(k);
  const auto& layout =
      ws.prepared<Layout<T>>(p.obs, k, [&] { return std::make_unique<Layout<T>>(p.obs, stride * sizeof(T), parts); });
  S* v_copy = ws.scratch<S>(0, n * stride);
  T* dv = ws.scratch<T>(1, static_cast<std::size_t>(parts) * n * stride);
  T* row_buf = ws.scratch<T>(2, static_cast<std::size_t>(parts) * 2 * stride);
  detail::Partial* acc = ws.scratch<detail::Partial>(3, 2 * static_cast<std::size_t>(parts));
  const detail::FusedView<S> w{.m = static_cast<std::size_t>(p.obs.rows()),
                               .n = n,
                               .k = k,
                               .stride = stride,
                               .row_ptr = p.obs.row_ptr().data(),
                               .col = layout.col.data(),
                               .val = layout.val.data(),
                               .new_col = layout.order.new_of_old.data(),
                               .part_row = layout.part_row.data(),
                               .part_col = layout.part_col.data(),
                               .parts = parts,
                               .lookahead = layout.lookahead,
                               .u = p.u,
                               .v = p.v,
                               .gu = p.grad_u,
                               .gv = p.grad_v,
                               .lambda = static_cast<T>(p.lambda),
                               .v_copy = v_copy,
                               .dv = dv,
                               .row_buf = row_buf};
  const detail::FusedPasses<S> code =
      simd::dispatch([&](auto arch) { return fused_simd::passes<decltype(arch), S>(arch, k); });
  const index_t* old_col = layout.order.old_of_new.data();
  // V in new column order, rows padded with zeros to the stride.
  const auto copy_v = [&] {
#pragma omp for schedule(static)
    for (std::size_t j = 0; j < n; ++j) {
      std::memcpy(v_copy + j * stride, p.v + static_cast<std::size_t>(old_col[j]) * k, k * sizeof(S));
      std::memset(static_cast<void*>(v_copy + j * stride + k), 0, (stride - k) * sizeof(S));
    }
  };
  const auto rows = [&](int t) {
    std::memset(dv + static_cast<std::size_t>(t) * n * stride, 0, n * stride * sizeof(T));
    std::memset(row_buf + static_cast<std::size_t>(t) * 2 * stride, 0, 2 * stride * sizeof(T));
    return code.rows(w, t);
  };
  detail::per_thread_dv_pass(parts, acc, copy_v, rows, [&](int t) { return code.merge(w, t); });
  return detail::loss_from({acc, static_cast<std::size_t>(parts)}, {acc + parts, static_cast<std::size_t>(parts)},
                           p.lambda);
}

}  // namespace

MFGRAD_KERNEL_ENTRY_POINTS_HALF

// Narrow rows, or a k tiled_simd runs in its slow loop: the single pass wins as long as the per-thread
// ∂V copies are small next to the work (at least 16 entries per column per thread); at an odd k it
// still beats tiled_simd's loop when they are not.
Preference prefers(const ShapeHint& s) {
  const bool odd_k = !detail::whole_batches(s.k, s.lanes);
  const bool copies_pay = static_cast<double>(s.nnz) / std::max<double>(1, s.cols) >= 16.0 * s.threads;
  if ((detail::narrow_rows(s) || odd_k) && copies_pay) return {Fit::built_for_at_cost, "the single fused pass"};
  if (odd_k) return {Fit::beats_slow_path, "the single fused pass"};
  return {};
}

}  // namespace mfgrad::kernels::fused_simd
