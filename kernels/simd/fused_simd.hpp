// fused_simd, the per-ISA part: the whole evaluation in one OpenMP region, written once on xsimd
// batches. Included by the generated <build>/simd/fused_simd_<isa>.cpp, each compiled with its ISA's flags.
#pragma once

#include <xsimd/xsimd.hpp>

#include "detail/fused.hpp"
#include "simd/common.hpp"
#include "simd/storage.hpp"

namespace mfgrad::kernels::fused_simd {

// N batches of W lanes per factor row (N·W = the row stride), kept in registers; N = 0: any number,
// looped over at run time with u_i and its gradient sum in an L1-resident buffer. S is how U and V
// (and the V copy) are stored; every product, sum and gradient is T = compute_t<S>: for 16-bit S the
// rows are widened as they are loaded (simd/storage.hpp) and the rest is the float32 code.
template <class Arch, class S, int N>
struct Pass {
  using T = compute_t<S>;
  using B = xsimd::batch<T, Arch>;
  static constexpr std::size_t W = B::size;

  static double norm2(const S* x, std::size_t k) { return simd::norm2_stored<Arch>(x, k); }
  static B load(const S* p) { return simd::load_row<Arch>(p); }

  static void prefetch(const S* v, const T* dv, std::size_t elements) {
    const char* a = reinterpret_cast<const char*>(v);
    const char* b = reinterpret_cast<const char*>(dv);
    if constexpr (sizeof(S) == sizeof(T)) {
      for (std::size_t o = 0; o < elements * sizeof(T); o += 64) {
        __builtin_prefetch(a + o);
        __builtin_prefetch(b + o, 1);
      }
    } else {
      for (std::size_t o = 0; o < elements * sizeof(S); o += 64) __builtin_prefetch(a + o);
      for (std::size_t o = 0; o < elements * sizeof(T); o += 64) __builtin_prefetch(b + o, 1);
    }
  }

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
        prefetch(w.v_copy + ahead, dv + ahead, s);
        B v[N];
#pragma GCC unroll 16
        for (int b = 0; b < N; ++b) v[b] = load(w.v_copy + c + b * W);
        B d0 = u[0] * v[0];
        B d1 = N > 1 ? u[N > 1 ? 1 : 0] * v[N > 1 ? 1 : 0] : B(T(0));
#pragma GCC unroll 16
        for (int b = 2; b < N; b += 2) {
          d0 = xsimd::fma(u[b], v[b], d0);
          if (b + 1 < N) d1 = xsimd::fma(u[b + 1], v[b + 1], d1);
        }
        const T r = w.val[q] - xsimd::hadd(d0 + d1);
        sq += static_cast<double>(r) * r;
        const B rb(r);
#pragma GCC unroll 16
        for (int b = 0; b < N; ++b) {
          acc[b] = xsimd::fma(rb, v[b], acc[b]);
          T* d = dv + c + b * W;
          xsimd::fma(rb, u[b], B::load_aligned(d)).store_aligned(d);
        }
      };
      offset_t q = w.row_ptr[i];
      for (; q + 1 < end; q += 2) {
        entry(q, g, sq0);
        entry(q + 1, h, sq1);
      }
      if (q < end) entry(q, g, sq0);
      const B lam(w.lambda);
      T* out = padded ? buf + s : gi;
#pragma GCC unroll 16
      for (int b = 0; b < N; ++b) xsimd::fms(lam, u[b], g[b] + h[b]).store_unaligned(out + b * W);
      if (padded)
        for (std::size_t l = 0; l < k; ++l) gi[l] = out[l];
    } else {
      const std::size_t nb = s / W;
      T* gsum = buf + s;
      for (std::size_t l = 0; l < s; ++l) gsum[l] = T(0);
      for (offset_t q = w.row_ptr[i]; q < end; ++q) {
        const std::size_t c = static_cast<std::size_t>(w.col[q]) * s;
        const std::size_t ahead = static_cast<std::size_t>(w.col[q + w.lookahead]) * s;
        prefetch(w.v_copy + ahead, dv + ahead, s);
        const S* vj = w.v_copy + c;
        B d0(T(0)), d1(T(0));
        std::size_t b = 0;
        for (; b + 1 < nb; b += 2) {
          d0 = xsimd::fma(B::load_aligned(buf + b * W), load(vj + b * W), d0);
          d1 = xsimd::fma(B::load_aligned(buf + (b + 1) * W), load(vj + (b + 1) * W), d1);
        }
        if (b < nb) d0 = xsimd::fma(B::load_aligned(buf + b * W), load(vj + b * W), d0);
        const T r = w.val[q] - xsimd::hadd(d0 + d1);
        sq0 += static_cast<double>(r) * r;
        const B rb(r);
        T* d = dv + c;
        for (b = 0; b < nb; ++b) {
          xsimd::fma(rb, load(vj + b * W), B::load_aligned(gsum + b * W)).store_aligned(gsum + b * W);
          xsimd::fma(rb, B::load_aligned(buf + b * W), B::load_aligned(d + b * W)).store_aligned(d + b * W);
        }
      }
      for (std::size_t l = 0; l < k; ++l) gi[l] = w.lambda * buf[l] - gsum[l];
    }
    return sq0 + sq1;
  }

  // V copied in new column order; each part zeroes its ∂V copy and runs its rows; then the copies
  // are summed per column in part order and subtracted from λV.
  static void run(const detail::FusedView<S>& w) {
    const std::size_t n = w.n, k = w.k, s = w.stride;
#pragma omp parallel num_threads(w.parts)
    {
#pragma omp for schedule(static)
      for (std::size_t j = 0; j < n; ++j) {
        const S* from = w.v + static_cast<std::size_t>(w.old_col[j]) * k;
        S* to = w.v_copy + j * s;
        for (std::size_t l = 0; l < k; ++l) to[l] = from[l];
        for (std::size_t l = k; l < s; ++l) to[l] = S{};
      }
#pragma omp for schedule(static, 1)
      for (int p = 0; p < w.parts; ++p) {
        T* dv = w.dv + static_cast<std::size_t>(p) * n * s;
        for (std::size_t x = 0; x < n * s; ++x) dv[x] = T(0);
        T* buf = w.row_buf + static_cast<std::size_t>(p) * 2 * s;
        for (std::size_t x = 0; x < 2 * s; ++x) buf[x] = T(0);
        double sq = 0, norm = 0;
        for (index_t i = w.part_row[p]; i < w.part_row[p + 1]; ++i) {
          sq += row(w, static_cast<std::size_t>(i), dv, buf);
          norm += norm2(w.u + static_cast<std::size_t>(i) * k, k);
        }
        w.acc[p].residual2 = sq;
        w.acc[p].norm2 = norm;
      }
#pragma omp for schedule(static, 1)
      for (int p = 0; p < w.parts; ++p) {
        double norm = 0;
        for (index_t j = w.part_col[p]; j < w.part_col[p + 1]; ++j) {
          const std::size_t at = static_cast<std::size_t>(w.new_col[j]) * s;
          const S* vj = w.v + static_cast<std::size_t>(j) * k;
          T* gj = w.gv + static_cast<std::size_t>(j) * k;
          for (std::size_t l = 0; l < k; ++l) {
            T sum = w.dv[at + l];
            for (int c = 1; c < w.parts; ++c) sum += w.dv[static_cast<std::size_t>(c) * n * s + at + l];
            gj[l] = w.lambda * simd::widen_one<Arch>(vj[l]) - sum;
          }
          norm += norm2(vj, k);
        }
        w.acc[w.parts + p].residual2 = 0;
        w.acc[w.parts + p].norm2 = norm;
      }
    }
  }
};

// The batches per row compiled in: as many as leave registers for u_i, two gradient sums and v_j.
template <class Arch, class T>
void run(Arch, const detail::FusedView<T>& w) {
  constexpr std::size_t W = xsimd::batch<compute_t<T>, Arch>::size;
  constexpr int most = simd::vector_registers<Arch>() / 4;
  switch (w.stride / W) {
    case 1:
      return Pass<Arch, T, 1>::run(w);
    case 2:
      return Pass<Arch, T, 2>::run(w);
    case 3:
      return Pass<Arch, T, 3>::run(w);
    case 4:
      return Pass<Arch, T, 4>::run(w);
    case 5:
      return Pass < Arch, T, most >= 5 ? 5 : 0 > ::run(w);
    case 6:
      return Pass < Arch, T, most >= 6 ? 6 : 0 > ::run(w);
    case 7:
      return Pass < Arch, T, most >= 7 ? 7 : 0 > ::run(w);
    case 8:
      return Pass < Arch, T, most >= 8 ? 8 : 0 > ::run(w);
    default:
      return Pass<Arch, T, 0>::run(w);
  }
}

// run's signature for one (ARCH, T), written once: the generated per-ISA files instantiate it and
// kernels/fused_simd.cpp declares it extern (simd/dispatch.hpp, MFGRAD_SIMD_EXTERN).
// T is the stored type; MFGRAD_FUSED_SIMD_RUN_HALF asks for the bfloat16 and float16 instances too.
#define MFGRAD_FUSED_SIMD_RUN(ARCH, T) void run<ARCH, T>(ARCH, const detail::FusedView<T>&)
#define MFGRAD_FUSED_SIMD_RUN_HALF

}  // namespace mfgrad::kernels::fused_simd
