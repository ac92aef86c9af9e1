// Internal to kernels/: pieces several implementations share. Not installed, not public.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "detail/raw.hpp"
#include "kernel_author.hpp"
#include "mfgrad/half.hpp"
#include "mfgrad/kernel.hpp"

// Defines the entry points the registry expects from kernels/<name>.cpp. MFGRAD_KERNEL_ENTRY_POINTS
// forwards float and double to one template `run<T>(const Problem<T>&, Workspace&)` in the same
// namespace, and serves 16-bit factors by widening them into float32 scratch and running run<float>.
// A kernel that reads 16-bit factors in its own loops (.native_half in kernels.inc) uses
// MFGRAD_KERNEL_ENTRY_POINTS_HALF instead: run<T> for all four element types.
#define MFGRAD_KERNEL_ENTRY_POINTS                                                        \
  double evaluate(const Problem<float>& p, Workspace& ws) { return run<float>(p, ws); }   \
  double evaluate(const Problem<double>& p, Workspace& ws) { return run<double>(p, ws); } \
  double evaluate(const Problem<bfloat16>& p, Workspace& ws) {                            \
    return ::mfgrad::kernels::detail::run_widened(p, ws, &run<float>);                    \
  }                                                                                       \
  double evaluate(const Problem<float16>& p, Workspace& ws) {                             \
    return ::mfgrad::kernels::detail::run_widened(p, ws, &run<float>);                    \
  }
#define MFGRAD_KERNEL_ENTRY_POINTS_HALF                                                       \
  double evaluate(const Problem<float>& p, Workspace& ws) { return run<float>(p, ws); }       \
  double evaluate(const Problem<double>& p, Workspace& ws) { return run<double>(p, ws); }     \
  double evaluate(const Problem<bfloat16>& p, Workspace& ws) { return run<bfloat16>(p, ws); } \
  double evaluate(const Problem<float16>& p, Workspace& ws) { return run<float16>(p, ws); }

namespace mfgrad::kernels::detail {

// Splits [0, ptr.size()-1) into at most `parts` contiguous ranges holding about equal numbers of
// entries (ptr is a CSR row_ptr or CSC col_ptr). Returns parts+1 bounds; a range may be empty, and a
// single row heavier than nnz/parts makes its range larger than the rest (rows are never split here).
inline std::vector<index_t> split_by_entries(std::span<const offset_t> ptr, int parts) {
  const auto count = static_cast<index_t>(ptr.size() - 1);
  const offset_t total = ptr.back();
  std::vector<index_t> bounds(static_cast<std::size_t>(parts) + 1, count);
  bounds[0] = 0;
  for (int p = 1; p < parts; ++p) {
    const offset_t target = total / parts * p + total % parts * p / parts;
    // first row whose start is at or past the target
    bounds[p] = static_cast<index_t>(std::lower_bound(ptr.begin(), ptr.end() - 1, target) - ptr.begin());
    bounds[p] = std::max(bounds[p], bounds[p - 1]);
  }
  return bounds;
}

// Chunks whose count depends only on the data, never on the thread count: summing per-chunk partial
// results in chunk order is what keeps a kernel bitwise identical across thread counts.
// 16-bit factors for a kernel whose loops read float32: U and V widened (exactly) into scratch slots 6
// and 7, then the float32 code runs on the copies.
template <class S>
double run_widened(const Problem<S>& p, Workspace& ws, double (*run)(const Problem<float>&, Workspace&)) {
  const std::size_t mk = static_cast<std::size_t>(p.obs.rows()) * p.k,
                    nk = static_cast<std::size_t>(p.obs.cols()) * p.k;
  float* u = ws.scratch<float>(6, mk);
  float* v = ws.scratch<float>(7, nk);
  widen(std::span<const S>(p.u, mk), std::span<float>(u, mk), ws.threads());
  widen(std::span<const S>(p.v, nk), std::span<float>(v, nk), ws.threads());
  return run({p.obs, u, v, p.k, p.lambda, p.grad_u, p.grad_v}, ws);
}

inline int data_chunk_count(offset_t nnz, index_t lines) {
  constexpr offset_t entries_per_chunk = 16384;
  const offset_t by_entries = nnz / entries_per_chunk + 1;
  return static_cast<int>(std::clamp<offset_t>(std::min<offset_t>(by_entries, lines), 1, 4096));
}

// Estimate mode's notion of narrow factor rows: at most two 64-byte lines once padded to lines, where
// the one-pass kernels keep a whole row and its sum in registers (README, "The plan").
inline bool narrow_rows(const ShapeHint& s) { return (s.k * s.compute_bytes + 63) / 64 * 64 <= 128; }

// Fixed row chunks and column chunks of one Observed, kept in the Workspace between evaluations.
struct Chunks : PreparedState {
  std::vector<index_t> rows;  // bounds of row chunks over CSR
  std::vector<index_t> cols;  // bounds of column chunks over CSC
  explicit Chunks(const Observed& obs)
      : rows(split_by_entries(obs.row_ptr(), data_chunk_count(obs.nnz(), obs.rows()))),
        cols(split_by_entries(obs.col_ptr(), data_chunk_count(obs.nnz(), obs.cols()))) {}
};

// A Problem<T> as the plain pointers per-ISA code works on.
template <class T>
Raw<T> raw(const Problem<T>& p) {
  return Raw<T>{p.obs.row_ptr().data(),
                p.obs.col_idx().data(),
                p.obs.template values<compute_t<T>>().data(),
                static_cast<std::size_t>(p.obs.rows()),
                static_cast<std::size_t>(p.obs.cols()),
                p.k,
                p.u,
                p.v,
                p.grad_u,
                p.grad_v,
                static_cast<compute_t<T>>(p.lambda)};
}

// One row range and one column range per thread, each holding about nnz/threads entries.
struct ThreadSplit : PreparedState {
  std::vector<index_t> rows, cols;
  ThreadSplit(const Observed& obs, int threads)
      : rows(split_by_entries(obs.row_ptr(), threads)), cols(split_by_entries(obs.col_ptr(), threads)) {}
};

// Row i of the CSR pass: stores r_ij for each entry, writes ∂U row i = λu_i − Σ_j r_ij v_j, and adds
// Σ r² and ‖u_i‖² to `acc`. Entries are visited in CSR order, so the result does not depend on who
// runs it.
template <class T>
inline void residual_row(const Problem<T>& p, index_t i, T* residual, Partial& acc) {
  const std::size_t k = p.k;
  const offset_t* row_ptr = p.obs.row_ptr().data();
  const index_t* col = p.obs.col_idx().data();
  const T* val = p.obs.template values<T>().data();
  const T* ui = p.u + static_cast<std::size_t>(i) * k;
  T* gi = p.grad_u + static_cast<std::size_t>(i) * k;
  const T lambda = static_cast<T>(p.lambda);
  double norm2 = 0;
  for (std::size_t l = 0; l < k; ++l) {
    gi[l] = lambda * ui[l];
    norm2 += static_cast<double>(ui[l]) * ui[l];
  }
  double sq = 0;
  for (offset_t q = row_ptr[i]; q < row_ptr[i + 1]; ++q) {
    const T* vj = p.v + static_cast<std::size_t>(col[q]) * k;
    T dot = 0;
#pragma omp simd reduction(+ : dot)
    for (std::size_t l = 0; l < k; ++l) dot += ui[l] * vj[l];
    const T r = val[q] - dot;
    residual[q] = r;
    sq += static_cast<double>(r) * r;
#pragma omp simd
    for (std::size_t l = 0; l < k; ++l) gi[l] -= r * vj[l];
  }
  acc.residual2 += sq;
  acc.norm2 += norm2;
}

// Column j of the CSC pass: ∂V row j = λv_j − Σ_i r_ij u_i with the residuals stored by
// residual_row, rows in ascending order; adds ‖v_j‖² to `acc`.
template <class T>
inline void gradient_col(const Problem<T>& p, index_t j, const T* residual, Partial& acc) {
  const std::size_t k = p.k;
  const offset_t* col_ptr = p.obs.col_ptr().data();
  const index_t* row = p.obs.row_idx().data();
  const offset_t* to_csr = p.obs.csc_to_csr().data();
  const T* vj = p.v + static_cast<std::size_t>(j) * k;
  T* gj = p.grad_v + static_cast<std::size_t>(j) * k;
  const T lambda = static_cast<T>(p.lambda);
  double norm2 = 0;
  for (std::size_t l = 0; l < k; ++l) {
    gj[l] = lambda * vj[l];
    norm2 += static_cast<double>(vj[l]) * vj[l];
  }
  for (offset_t s = col_ptr[j]; s < col_ptr[j + 1]; ++s) {
    const T r = residual[to_csr[s]];
    const T* ui = p.u + static_cast<std::size_t>(row[s]) * k;
#pragma omp simd
    for (std::size_t l = 0; l < k; ++l) gj[l] -= r * ui[l];
  }
  acc.norm2 += norm2;
}

// F from the chunk partials, summed in chunk order.
inline double loss_from(std::span<const Partial> row_parts, std::span<const Partial> col_parts, double lambda) {
  double sq = 0, norm_u = 0, norm_v = 0;
  for (const Partial& c : row_parts) {
    sq += c.residual2;
    norm_u += c.norm2;
  }
  for (const Partial& c : col_parts) norm_v += c.norm2;
  return 0.5 * sq + 0.5 * lambda * (norm_u + norm_v);
}

}  // namespace mfgrad::kernels::detail
