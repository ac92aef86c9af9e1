// Internal to kernels/: plain-pointer views and drivers that per-ISA translation units may include.
//
// Code compiled with -mavx2 or -mavx512* must not instantiate inline functions that baseline code also
// uses (the linker keeps one copy, possibly the AVX-512 one). So what those files see is limited to
// this header: raw pointers, plain loops, OpenMP pragmas, nothing from the standard library.
#pragma once

#include <cstddef>

#include "mfgrad/types.hpp"

namespace mfgrad::kernels::detail {

// Partial sums of one chunk or thread, padded to a cache line so threads do not share one.
struct alignas(64) Partial {
  double residual2 = 0;  // Σ r²
  double norm2 = 0;      // Σ ‖factor row‖²
};

// A validated Problem<S> flattened to pointers and sizes: U and V as stored (S), everything else in
// T = compute_t<S>.
template <class S, class T = compute_t<S>>
struct Raw {
  const offset_t* row_ptr;  // m+1
  const index_t* col;       // nnz, CSR order
  const T* val;             // nnz, CSR order
  std::size_t m, n, k;
  const S* u;
  const S* v;
  T* gu;
  T* gv;
  T lambda;
};

// The per-thread-∂V pass shared by csr_rows_omp and fused_simd: one OpenMP region of `parts` parts (one
// per thread, each a contiguous range of rows with about nnz/parts entries), in three steps:
//   before()  — run by the whole team first (fused_simd copies V there, with an orphaned omp for)
//   rows(t)   — part t zeroes its own ∂V copy, runs its rows into it and returns Σ r², Σ ‖u_i‖²
//   merge(t)  — once every part is done: part t's range of ∂V columns, the copies added in part order
//               and the regularisation applied; returns Σ ‖v_j‖²
// part: 2 × parts partials, [0, parts) from rows, [parts, 2·parts) from merge.
// Parts are handed out with omp for, not by thread id, so a smaller team than asked for (a thread
// limit) still covers every part; the merge's order follows the parts, not the threads.
template <class Before, class Rows, class Merge>
void per_thread_dv_pass(int parts, Partial* part, Before before, Rows rows, Merge merge) {
#pragma omp parallel num_threads(parts)
  {
    before();
#pragma omp for schedule(static, 1)
    for (int t = 0; t < parts; ++t) part[t] = rows(t);
#pragma omp for schedule(static, 1)
    for (int t = 0; t < parts; ++t) part[parts + t] = merge(t);
  }
}

}  // namespace mfgrad::kernels::detail
