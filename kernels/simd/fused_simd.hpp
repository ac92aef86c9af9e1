// fused_simd, the per-ISA part: one row of the fused pass written once on xsimd batches.
// Included by kernels/simd/fused_simd_<isa>.cpp, each compiled with its ISA's flags.
#pragma once

#include <xsimd/xsimd.hpp>

#include "detail/raw.hpp"

namespace mfgrad::kernels::fused_simd {

// For row i: ∂U row i = λu_i − Σ_j r_ij v_j, dv row j −= r_ij u_i, r_ij = M_ij − u_i·v_j.
// k is split into full batches and a scalar tail, so any k works. Two dot accumulators halve the FMA
// dependency chain; the ∂U row stays in L1 across the row's entries.
template <class Arch, class T>
struct Row {
  using B = xsimd::batch<T, Arch>;
  static constexpr std::size_t W = B::size;
  const detail::Raw<T>& r;

  void operator()(std::size_t i, T* dv, detail::Partial& acc) const {
    const std::size_t k = r.k, full = k - k % W, pairs = k - k % (2 * W);
    const T* ui = r.u + i * k;
    T* gi = r.gu + i * k;
    double norm2 = 0, sq = 0;
    for (std::size_t l = 0; l < k; ++l) {
      gi[l] = r.lambda * ui[l];
      norm2 += static_cast<double>(ui[l]) * ui[l];
    }
    for (offset_t q = r.row_ptr[i]; q < r.row_ptr[i + 1]; ++q) {
      const T* vj = r.v + static_cast<std::size_t>(r.col[q]) * k;
      B d0(T(0)), d1(T(0));
      std::size_t l = 0;
      for (; l < pairs; l += 2 * W) {
        d0 = xsimd::fma(B::load_unaligned(ui + l), B::load_unaligned(vj + l), d0);
        d1 = xsimd::fma(B::load_unaligned(ui + l + W), B::load_unaligned(vj + l + W), d1);
      }
      for (; l < full; l += W) d0 = xsimd::fma(B::load_unaligned(ui + l), B::load_unaligned(vj + l), d0);
      T dot = xsimd::hadd(d0 + d1);
      for (; l < k; ++l) dot += ui[l] * vj[l];
      const T res = r.val[q] - dot;
      sq += static_cast<double>(res) * res;
      const B rb(res);
      T* dvj = dv + static_cast<std::size_t>(r.col[q]) * k;
      for (l = 0; l < full; l += W) {
        const B v = B::load_unaligned(vj + l), u = B::load_unaligned(ui + l);
        xsimd::fnma(rb, v, B::load_unaligned(gi + l)).store_unaligned(gi + l);
        xsimd::fnma(rb, u, B::load_unaligned(dvj + l)).store_unaligned(dvj + l);
      }
      for (; l < k; ++l) {
        gi[l] -= res * vj[l];
        dvj[l] -= res * ui[l];
      }
    }
    acc.residual2 += sq;
    acc.norm2 += norm2;
  }
};

template <class Arch, class T>
void run(Arch, const detail::Raw<T>& r, const index_t* row_split, const index_t* col_split, int parts, T* private_dv,
         detail::Partial* part) {
  detail::per_thread_dv_pass(r, row_split, col_split, parts, private_dv, part, Row<Arch, T>{r});
}

#define MFGRAD_FUSED_SIMD_INSTANTIATE(ARCH, T) \
  template void run<ARCH, T>(ARCH, const detail::Raw<T>&, const index_t*, const index_t*, int, T*, detail::Partial*);

}  // namespace mfgrad::kernels::fused_simd
