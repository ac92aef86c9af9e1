// Internal to kernels/: what fused_simd's per-ISA code sees, as plain pointers (see raw.hpp).
//
// Columns are renumbered by descending degree, so the rows of V (and of each ∂V copy) that most
// entries touch sit together at the front: they share cache lines, pages and TLB entries, and the
// hottest of them stay in L2. Each row's entries are listed in ascending new column order.
#pragma once

#include <cstddef>

#include "detail/raw.hpp"

namespace mfgrad::kernels::detail {

// S: the stored element type of U and V (and of the V copy); T = compute_t<S> for everything else.
template <class S, class T = compute_t<S>>
struct FusedView {
  std::size_t m, n, k;
  std::size_t stride;       // elements per row of the V copy and the ∂V copies: k rounded up to 64 bytes
  const offset_t* row_ptr;  // m+1
  const index_t* col;       // per entry, new column ids, ascending in each row; padded past nnz
  const T* val;             // per entry, M_ij in the same order
  const index_t* old_col;   // n: the original id of new column j
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
  S* v_copy;     // n × stride scratch: V in new column order, aligned rows, still stored as S
  T* dv;         // parts × n × stride scratch: Σ r_ij u_i per part, new column order
  T* row_buf;    // parts × 2 × stride scratch for k that is not a whole number of batches
  Partial* acc;  // 2 × parts: rows, then columns
};

}  // namespace mfgrad::kernels::detail
