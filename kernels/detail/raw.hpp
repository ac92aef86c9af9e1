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

// The per-thread-∂V fused pass shared by csr_rows_omp and fused_simd.
//   parts     — one contiguous row range [row_split[t], row_split[t+1]) per part; parts = threads
//   col_split — parts+1 column bounds for the merge
//   private_dv — (parts−1) × n × k scratch; part 0 accumulates straight into gv
//   row(i, dv, acc) — writes gu row i, subtracts r_ij u_i from dv row j, adds Σ r² and ‖u_i‖² to acc
//   part      — 2 × parts partials: [0, parts) rows, [parts, 2·parts) columns
// Parts are handed out with omp for, not by thread id, so a smaller team than asked for (a thread
// limit) still covers every part; the merge adds the private copies in part order.
template <class T, class RowFn>
void per_thread_dv_pass(const Raw<T>& r, const index_t* row_split, const index_t* col_split, int parts, T* private_dv,
                        Partial* part, RowFn row) {
  const std::size_t dv_size = r.n * r.k;
#pragma omp parallel num_threads(parts)
  {
#pragma omp for schedule(static, 1)
    for (int t = 0; t < parts; ++t) {
      T* dv = t == 0 ? r.gv : private_dv + static_cast<std::size_t>(t - 1) * dv_size;
      for (std::size_t x = 0; x < dv_size; ++x) dv[x] = T(0);
      Partial acc;
      for (index_t i = row_split[t]; i < row_split[t + 1]; ++i) row(static_cast<std::size_t>(i), dv, acc);
      part[t] = acc;
    }
#pragma omp for schedule(static, 1)
    for (int t = 0; t < parts; ++t) {
      Partial acc;
      for (index_t j = col_split[t]; j < col_split[t + 1]; ++j) {
        T* gj = r.gv + static_cast<std::size_t>(j) * r.k;
        const T* vj = r.v + static_cast<std::size_t>(j) * r.k;
        for (int s = 1; s < parts; ++s) {
          const T* other = private_dv + static_cast<std::size_t>(s - 1) * dv_size + static_cast<std::size_t>(j) * r.k;
#pragma omp simd
          for (std::size_t l = 0; l < r.k; ++l) gj[l] += other[l];
        }
        double norm2 = 0;
        for (std::size_t l = 0; l < r.k; ++l) {
          gj[l] += r.lambda * vj[l];
          norm2 += static_cast<double>(vj[l]) * vj[l];
        }
        acc.norm2 += norm2;
      }
      part[parts + t] = acc;
    }
  }
}

}  // namespace mfgrad::kernels::detail
