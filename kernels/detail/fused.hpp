// Internal to kernels/: what fused_simd's per-ISA code sees, as plain pointers (see raw.hpp).
//
// Columns are renumbered by descending degree, so the rows of V (and of each ∂V copy) that most
// entries touch sit together at the front: they share cache lines, pages and TLB entries, and the
// hottest of them stay in L2. Each row's entries are listed in ascending new column order.
#pragma once

#include <cstddef>

#include "detail/raw.hpp"

namespace mfgrad::kernels::detail {

// Elements per row of fused_simd's V copy and ∂V copies: k rounded up to whole 64-byte lines of T.
template <class T>
constexpr std::size_t fused_stride(std::size_t k) {
  constexpr std::size_t line = 64 / sizeof(T);
  return (k + line - 1) / line * line;
}

// S: the stored element type of U and V (and of the V copy); T = compute_t<S> for everything else.
template <class S, class T = compute_t<S>>
struct FusedView {
  std::size_t m, n, k;
  std::size_t stride;       // fused_stride<T>(k): elements per row of the V copy and the ∂V copies
  const offset_t* row_ptr;  // m+1
  const index_t* col;       // per entry, new column ids, ascending in each row; padded past nnz
  const T* val;             // per entry, M_ij in the same order
  const index_t* new_col;   // n: the new id of original column j
  const index_t* part_row;  // parts+1 row bounds, about nnz/parts entries each
  const index_t* part_col;  // parts+1 bounds over original columns for the merge
  int parts;                // one ∂V copy per part; the thread count
  offset_t lookahead;       // entries ahead whose factor rows are prefetched
  const S* u;
  const S* v;
  T* gu;
  T* gv;
  T lambda;
  const S* v_copy;  // n × stride: V in new column order, aligned rows, still stored as S
  T* dv;            // parts × n × stride: Σ r_ij u_i per part, new column order
  T* row_buf;       // parts × 2 × stride, for k that is not a whole number of batches
};

// One ISA's micro-kernels for one k: what the OpenMP driver (kernels/fused_simd.cpp, compiled once)
// hands each part of the per-thread-∂V pass (raw.hpp). rows(p) runs part p's rows into its ∂V copy
// (dv + p·n·stride, zeroed by the driver, as is its row_buf) and returns their Σ r² and Σ ‖u_i‖²;
// merge(p) writes ∂V rows [part_col[p], part_col[p+1]) from the copies, added in part order, and
// returns their Σ ‖v_j‖².
template <class S>
struct FusedPasses {
  Partial (*rows)(const FusedView<S>& w, int part);
  Partial (*merge)(const FusedView<S>& w, int part);
};

}  // namespace mfgrad::kernels::detail
