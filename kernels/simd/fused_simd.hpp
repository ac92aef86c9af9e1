// fused_simd, the per-ISA part: the micro-kernels of one row and of one part's rows, and the merge of
// one part's ∂V columns, on xsimd batches (simd/micro.hpp). No OpenMP here: the driver that hands the
// parts to threads is compiled once, in kernels/fused_simd.cpp. Included by the generated
// <build>/simd/fused_simd_<isa>.cpp, each compiled with its ISA's flags.
#pragma once

#include <xsimd/xsimd.hpp>

#include "detail/fused.hpp"
#include "simd/common.hpp"
#include "simd/micro.hpp"
#include "simd/storage.hpp"

namespace mfgrad::kernels::fused_simd {

// N batches of W lanes per factor row (N·W = the row stride), kept in registers; N = 0: any number,
// looped over at run time with u_i and its gradient sum in an L1-resident buffer. S is how U and V
// (and the V copy) are stored; every product, sum and gradient is T = compute_t<S>: for 16-bit S the
// rows are widened as they are loaded (simd/storage.hpp) and the rest is the float32 code.
template <class Arch, class S, int N>
struct Rows {
  using T = compute_t<S>;
  using B = xsimd::batch<T, Arch>;
  static constexpr std::size_t W = B::size;

  static double norm2(const S* x, std::size_t k) { return simd::norm2_stored<Arch>(x, k); }
  static B load(const S* p) { return simd::load_row<Arch>(p); }

  // Row i: r_ij for its entries, ∂U row i = λu_i − Σ_j r_ij v_j, Σ r_ij u_i added to dv's rows j.
  // buf: 2 × stride, zero past k, for u_i and the gradient when the stride pads k. Returns Σ r².
  static double row(const detail::FusedView<S>& w, std::size_t i, T* dv, T* buf) {
    const std::size_t k = w.k, s = w.stride;
    const S* ui = w.u + i * k;
    T* gi = w.gu + i * k;
    const bool padded = k != s;
    if (padded || N == 0)
      for (std::size_t l = 0; l < k; ++l) buf[l] = simd::widen_one<Arch>(ui[l]);
    const offset_t end = w.row_ptr[i + 1];
    double sq0 = 0, sq1 = 0;
    if constexpr (N > 0) {
      B u[N], g[N], h[N];
#pragma GCC unroll 16
      for (int b = 0; b < N; ++b) {
        u[b] = padded ? B::load_unaligned(buf + b * W) : load(ui + b * W);
        g[b] = h[b] = B(T(0));
      }
      // One entry; `acc` alternates between g and h so that consecutive entries do not wait on each
      // other's FMA into the same registers.
      const auto entry = [&](offset_t q, B* acc, double& sq) {
        const std::size_t c = static_cast<std::size_t>(w.col[q]) * s;
        const std::size_t ahead = static_cast<std::size_t>(w.col[q + w.lookahead]) * s;
        simd::prefetch_rows<Arch>(w.v_copy + ahead, dv + ahead, s);
        B v[N];
#pragma GCC unroll 16
        for (int b = 0; b < N; ++b) v[b] = load(w.v_copy + c + b * W);
        const T r = w.val[q] - xsimd::hadd(simd::dot<N>(u, v));
        sq += static_cast<double>(r) * r;
        const B rb(r);
        simd::axpy<N>(rb, v, acc);
        simd::axpy_to<N>(rb, u, dv + c);
      };
      offset_t q = w.row_ptr[i];
      for (; q + 1 < end; q += 2) {
        entry(q, g, sq0);
        entry(q + 1, h, sq1);
      }
      if (q < end) entry(q, g, sq0);
#pragma GCC unroll 16
      for (int b = 0; b < N; ++b) g[b] = g[b] + h[b];
      T* out = padded ? buf + s : gi;
      simd::fold<N>(out, u, g, w.lambda);
      if (padded)
        for (std::size_t l = 0; l < k; ++l) gi[l] = out[l];
    } else {
      const std::size_t nb = s / W;
      T* gsum = buf + s;
      for (std::size_t l = 0; l < s; ++l) gsum[l] = T(0);
      for (offset_t q = w.row_ptr[i]; q < end; ++q) {
        const std::size_t c = static_cast<std::size_t>(w.col[q]) * s;
        const std::size_t ahead = static_cast<std::size_t>(w.col[q + w.lookahead]) * s;
        simd::prefetch_rows<Arch>(w.v_copy + ahead, dv + ahead, s);
        const S* vj = w.v_copy + c;
        const auto u_at = [&](std::size_t b) { return B::load_aligned(buf + b * W); };
        const auto v_at = [&](std::size_t b) { return load(vj + b * W); };
        const T r = w.val[q] - xsimd::hadd(simd::dot<B>(nb, u_at, v_at));
        sq0 += static_cast<double>(r) * r;
        const B rb(r);
        T* d = dv + c;
        for (std::size_t b = 0; b < nb; ++b) {
          xsimd::fma(rb, load(vj + b * W), B::load_aligned(gsum + b * W)).store_aligned(gsum + b * W);
          xsimd::fma(rb, B::load_aligned(buf + b * W), B::load_aligned(d + b * W)).store_aligned(d + b * W);
        }
      }
      for (std::size_t l = 0; l < k; ++l) gi[l] = w.lambda * buf[l] - gsum[l];
    }
    return sq0 + sq1;
  }

  // Part p's rows into its ∂V copy and buffer (both zeroed by the driver).
  static detail::Partial rows(const detail::FusedView<S>& w, int p) {
    const std::size_t k = w.k, s = w.stride;
    T* dv = w.dv + static_cast<std::size_t>(p) * w.n * s;
    T* buf = w.row_buf + static_cast<std::size_t>(p) * 2 * s;
    detail::Partial acc;
    for (index_t i = w.part_row[p]; i < w.part_row[p + 1]; ++i) {
      acc.residual2 += row(w, static_cast<std::size_t>(i), dv, buf);
      acc.norm2 += norm2(w.u + static_cast<std::size_t>(i) * k, k);
    }
    return acc;
  }

  // ∂V rows of part p's columns: λv_j − the copies' rows summed in part order.
  static detail::Partial merge(const detail::FusedView<S>& w, int p) {
    const std::size_t n = w.n, k = w.k, s = w.stride;
    detail::Partial acc;
    for (index_t j = w.part_col[p]; j < w.part_col[p + 1]; ++j) {
      const std::size_t at = static_cast<std::size_t>(w.new_col[j]) * s;
      const S* vj = w.v + static_cast<std::size_t>(j) * k;
      T* gj = w.gv + static_cast<std::size_t>(j) * k;
      for (std::size_t l = 0; l < k; ++l) {
        T sum = w.dv[at + l];
        for (int c = 1; c < w.parts; ++c) sum += w.dv[static_cast<std::size_t>(c) * n * s + at + l];
        gj[l] = w.lambda * simd::widen_one<Arch>(vj[l]) - sum;
      }
      acc.norm2 += norm2(vj, k);
    }
    return acc;
  }
};

// The micro-kernels for k: rows of up to as many batches as leave registers for u_i, two gradient sums
// and v_j are compiled in; wider rows, or rows padded past that, take the run-time loop.
template <class Arch, class S>
detail::FusedPasses<S> passes(Arch, std::size_t k) {
  constexpr std::size_t W = xsimd::batch<compute_t<S>, Arch>::size;
  constexpr int most = simd::vector_registers<Arch>() / 4;
  const auto of = [](auto n) {
    constexpr int N = decltype(n)::value <= most ? decltype(n)::value : 0;
    using R = Rows<Arch, S, N>;
    return detail::FusedPasses<S>{&R::rows, &R::merge};
  };
  switch (detail::fused_stride<compute_t<S>>(k) / W) {
    case 1:
      return of(std::integral_constant<int, 1>{});
    case 2:
      return of(std::integral_constant<int, 2>{});
    case 3:
      return of(std::integral_constant<int, 3>{});
    case 4:
      return of(std::integral_constant<int, 4>{});
    case 5:
      return of(std::integral_constant<int, 5>{});
    case 6:
      return of(std::integral_constant<int, 6>{});
    case 7:
      return of(std::integral_constant<int, 7>{});
    case 8:
      return of(std::integral_constant<int, 8>{});
    default:
      return of(std::integral_constant<int, 0>{});
  }
}

// passes' signature for one (ARCH, S), written once: the generated per-ISA files instantiate it and
// kernels/fused_simd.cpp declares it extern (simd/dispatch.hpp, MFGRAD_SIMD_EXTERN).
// S is the stored type; MFGRAD_FUSED_SIMD_RUN_HALF asks for the bfloat16 and float16 instances too.
#define MFGRAD_FUSED_SIMD_RUN(ARCH, S) detail::FusedPasses<S> passes<ARCH, S>(ARCH, std::size_t)
#define MFGRAD_FUSED_SIMD_RUN_HALF

}  // namespace mfgrad::kernels::fused_simd
