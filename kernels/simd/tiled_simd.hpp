// tiled_simd, the per-ISA part: the two passes' band functions over the tile layout on xsimd batches
// (one row band of pass 1, one column owner of pass 2). Included by the generated
// <build>/simd/tiled_simd_<isa>.cpp, each compiled with its ISA's flags.
#pragma once

#include <xsimd/xsimd.hpp>

#include "detail/tiles.hpp"
#include "simd/common.hpp"
#include "simd/micro.hpp"
#include "simd/storage.hpp"

namespace mfgrad::kernels::tiled_simd {

// How far ahead the next factor rows are prefetched, in entries. Random row gathers are the cost
// that dominates both passes; prefetching keeps more of them in flight.
constexpr offset_t prefetch_distance = 8;

// N = k / W batches per factor row when k is that multiple of the SIMD width W (rows then live in
// registers), else N = 0 and loops run over k at run time with a scalar tail. S is how U and V are
// stored; T = compute_t<S> everything else (16-bit rows are widened as they are loaded: storage.hpp).
template <class Arch, class S, int N>
struct Kernels {
  using T = compute_t<S>;
  using B = xsimd::batch<T, Arch>;
  static B load(const S* p) { return simd::load_row<Arch>(p); }
  static T one(S x) { return simd::widen_one<Arch>(x); }
  static constexpr std::size_t W = B::size;
  // Rows too wide for u_i, Σ r v_j and v_j all in registers (3N + 2 of them) take pass 1 in chunks of
  // entries, dots first and gradient sums second; too wide for two interleaved sums in pass 2, one.
  static constexpr int registers = simd::vector_registers<Arch>();
  static constexpr bool wide = 3 * N + 2 > registers;
  static constexpr bool two_sums = 2 * N + 2 <= registers;
  static constexpr offset_t chunk = 32;  // entries: their v_j rows are still in L1 for the second loop

  static double norm2(const S* x, std::size_t k) { return simd::norm2_stored<Arch>(x, k); }

  static void prefetch_row(const S* row) { simd::prefetch_row<Arch>(row, N * W); }

  // Pass 1, one row segment [s, e) of row i: r = M_ij − u_i·v_j for each entry goes to its pass-2
  // slot, and ∂U row i gets λu_i (first segment) minus Σ r v_j. Returns Σ r². Three micro-kernels, by
  // the width of the row: in registers, in chunks, or a run-time loop.
  [[gnu::always_inline]] static double row_segment(const detail::Raw<S>& r, std::size_t i, const index_t* col,
                                                   const T* val, const std::uint32_t* slot, T* res, offset_t s,
                                                   offset_t e, bool first) {
    if constexpr (N > 0 && wide)
      return row_segment_chunked(r, i, col, val, slot, res, s, e, first);
    else if constexpr (N > 0)
      return row_segment_in_registers(r, i, col, val, slot, res, s, e, first);
    else
      return row_segment_loop(r, i, col, val, slot, res, s, e, first);
  }

  // k = N·W with u_i, Σ r v_j and v_j all in registers: per entry the dot, then the broadcast-FMA of
  // v_j into the sums, folded into ∂U row i at the end.
  [[gnu::always_inline]] static double row_segment_in_registers(const detail::Raw<S>& r, std::size_t i,
                                                                const index_t* col, const T* val,
                                                                const std::uint32_t* slot, T* res, offset_t s,
                                                                offset_t e, bool first) {
    const S* ui = r.u + i * (N * W);
    double sq0 = 0, sq1 = 0;
    B u[N], g[N];
#pragma GCC unroll 16
    for (int b = 0; b < N; ++b) {
      u[b] = load(ui + b * W);
      g[b] = B(T(0));
    }
    auto entry = [&](offset_t q, double& sq) {
      const S* vj = r.v + static_cast<std::size_t>(col[q]) * (N * W);
      if (q + prefetch_distance < e) prefetch_row(r.v + static_cast<std::size_t>(col[q + prefetch_distance]) * (N * W));
      B v[N];
#pragma GCC unroll 16
      for (int b = 0; b < N; ++b) v[b] = load(vj + b * W);
      const T rq = val[q] - xsimd::hadd(simd::dot<N>(u, v));
      res[slot[q]] = rq;
      sq += static_cast<double>(rq) * rq;
      simd::axpy<N>(B(rq), v, g);
    };
    offset_t q = s;
    for (; q + 1 < e; q += 2) {  // two loss accumulators: no single add chain across entries
      entry(q, sq0);
      entry(q + 1, sq1);
    }
    if (q < e) entry(q, sq0);
    simd::fold<N>(r.gu + i * (N * W), ui, g, first, r.lambda);
    return sq0 + sq1;
  }

  // k = N·W too wide for u_i, Σ r v_j and v_j together in registers: per chunk of entries, r for each
  // with u_i in registers, then Σ r v_j with the sums in registers (kept in ∂U's row between chunks:
  // it is in L1).
  [[gnu::always_inline]] static double row_segment_chunked(const detail::Raw<S>& r, std::size_t i, const index_t* col,
                                                           const T* val, const std::uint32_t* slot, T* res, offset_t s,
                                                           offset_t e, bool first) {
    const S* ui = r.u + i * (N * W);
    T* gi = r.gu + i * (N * W);
    double sq = 0;
    if (first)
      for (std::size_t l = 0; l < N * W; ++l) gi[l] = r.lambda * one(ui[l]);
    T rs[chunk];
    for (offset_t c = s; c < e; c += chunk) {
      const offset_t ce = c + chunk < e ? c + chunk : e;
      {
        B u[N];
#pragma GCC unroll 16
        for (int b = 0; b < N; ++b) u[b] = load(ui + b * W);
        for (offset_t q = c; q < ce; ++q) {
          const S* vj = r.v + static_cast<std::size_t>(col[q]) * (N * W);
          if (q + prefetch_distance < e)
            prefetch_row(r.v + static_cast<std::size_t>(col[q + prefetch_distance]) * (N * W));
          const auto v_at = [&](int b) { return load(vj + b * W); };
          const T rq = val[q] - xsimd::hadd(simd::dot<N>(u, v_at));
          rs[q - c] = rq;
          res[slot[q]] = rq;
          sq += static_cast<double>(rq) * rq;
        }
      }
      B g[N];
#pragma GCC unroll 16
      for (int b = 0; b < N; ++b) g[b] = B::load_unaligned(gi + b * W);
      for (offset_t q = c; q < ce; ++q) {
        const S* vj = r.v + static_cast<std::size_t>(col[q]) * (N * W);
        const auto v_at = [&](int b) { return load(vj + b * W); };
        simd::axmy<N>(B(rs[q - c]), v_at, g);
      }
#pragma GCC unroll 16
      for (int b = 0; b < N; ++b) g[b].store_unaligned(gi + b * W);
    }
    return sq;
  }

  // Any other k, at run time: whole batches, then a scalar tail. Unlike fused_simd's run-time loop it
  // prefetches nothing: whether a prefetch pays at these k has not been measured (the plan prefers the
  // one-pass kernels there anyway: tiled_simd's prefers()).
  [[gnu::always_inline]] static double row_segment_loop(const detail::Raw<S>& r, std::size_t i, const index_t* col,
                                                        const T* val, const std::uint32_t* slot, T* res, offset_t s,
                                                        offset_t e, bool first) {
    const std::size_t k = r.k, full = k - k % W;
    const S* ui = r.u + i * k;
    T* gi = r.gu + i * k;
    double sq = 0;
    if (first)
      for (std::size_t l = 0; l < k; ++l) gi[l] = r.lambda * one(ui[l]);
    const auto u_at = [&](std::size_t b) { return load(ui + b * W); };
    for (offset_t q = s; q < e; ++q) {
      const S* vj = r.v + static_cast<std::size_t>(col[q]) * k;
      const auto v_at = [&](std::size_t b) { return load(vj + b * W); };
      T dot = xsimd::hadd(simd::dot<B>(full / W, u_at, v_at));
      std::size_t l = full;
      for (; l < k; ++l) dot += one(ui[l]) * one(vj[l]);
      const T rq = val[q] - dot;
      res[slot[q]] = rq;
      sq += static_cast<double>(rq) * rq;
      const B rb(rq);
      for (l = 0; l < full; l += W) xsimd::fnma(rb, load(vj + l), B::load_unaligned(gi + l)).store_unaligned(gi + l);
      for (; l < k; ++l) gi[l] -= rq * one(vj[l]);
    }
    return sq;
  }

  // Pass 2, one column segment: Σ_i r_ij u_i in registers (two interleaved sets, so FMA latency does
  // not serialise consecutive entries), folded into ∂V row j.
  static void col_segment(const detail::Raw<S>& r, const detail::TileView<S>& tv, std::size_t j, const index_t* row,
                          const T* res, offset_t s, offset_t e, bool first) {
    const std::size_t k = r.k;
    T* gj = r.gv + j * k;
    const S* vj = tv.v_in + j * k;
    if constexpr (N > 0 && !two_sums) {
      B g[N];
#pragma GCC unroll 16
      for (int b = 0; b < N; ++b) g[b] = B(T(0));
      for (offset_t p = s; p < e; ++p) {
        if (p + prefetch_distance < e)
          prefetch_row(r.u + static_cast<std::size_t>(row[p + prefetch_distance]) * (N * W));
        const S* u0 = r.u + static_cast<std::size_t>(row[p]) * (N * W);
        const auto u_at = [&](int b) { return load(u0 + b * W); };
        simd::axpy<N>(B(res[p]), u_at, g);
      }
      simd::fold<N>(gj, vj, g, first, r.lambda);
    } else if constexpr (N > 0) {
      B g0[N], g1[N];
#pragma GCC unroll 16
      for (int b = 0; b < N; ++b) g0[b] = g1[b] = B(T(0));
      offset_t p = s;
      for (; p + 1 < e; p += 2) {
        if (p + prefetch_distance + 1 < e) {
          prefetch_row(r.u + static_cast<std::size_t>(row[p + prefetch_distance]) * (N * W));
          prefetch_row(r.u + static_cast<std::size_t>(row[p + prefetch_distance + 1]) * (N * W));
        }
        const S* u0 = r.u + static_cast<std::size_t>(row[p]) * (N * W);
        const S* u1 = r.u + static_cast<std::size_t>(row[p + 1]) * (N * W);
        const B r0(res[p]), r1(res[p + 1]);
#pragma GCC unroll 16
        for (int b = 0; b < N; ++b) {  // interleaved by hand: two simd::axpy calls cost 10 % more here
          g0[b] = xsimd::fma(r0, load(u0 + b * W), g0[b]);
          g1[b] = xsimd::fma(r1, load(u1 + b * W), g1[b]);
        }
      }
      if (p < e) {
        const S* u0 = r.u + static_cast<std::size_t>(row[p]) * (N * W);
        const auto u_at = [&](int b) { return load(u0 + b * W); };
        simd::axpy<N>(B(res[p]), u_at, g0);
      }
#pragma GCC unroll 16
      for (int b = 0; b < N; ++b) g0[b] = g0[b] + g1[b];
      simd::fold<N>(gj, vj, g0, first, r.lambda);
    } else {
      const std::size_t full = k - k % W;
      if (first)
        for (std::size_t l = 0; l < k; ++l) gj[l] = r.lambda * one(vj[l]);
      for (offset_t p = s; p < e; ++p) {
        const S* ui = r.u + static_cast<std::size_t>(row[p]) * k;
        const B rb(res[p]);
        std::size_t l = 0;
        for (; l < full; l += W) xsimd::fnma(rb, load(ui + l), B::load_unaligned(gj + l)).store_unaligned(gj + l);
        for (; l < k; ++l) gj[l] -= res[p] * one(ui[l]);
      }
    }
  }

  // Pass 1 for row band rb: its rows without entries get λu_i, then its tiles' row segments run in
  // order; the band's Σ r² and ‖U rows‖² go to band_sq[rb] and band_norm[rb].
  static void rows(const detail::Raw<S>& r, const detail::TileView<S>& tv, std::size_t rb, T* res, double* band_sq,
                   double* band_norm) {
    const std::size_t k = r.k;
    double sq = 0, norm = 0;
    for (offset_t x = tv.empty_rows[rb]; x < tv.empty_rows[rb + 1]; ++x) {
      const std::size_t i = static_cast<std::size_t>(tv.empty_row[x]);
      for (std::size_t l = 0; l < k; ++l) r.gu[i * k + l] = r.lambda * one(r.u[i * k + l]);
      norm += norm2(r.u + i * k, k);
    }
    std::size_t strip = 0;
    while (tv.strip_band[strip + 1] <= rb) ++strip;
    T* strip_res = res + tv.strip_first[strip];
    for (std::size_t cb = 0; cb < tv.col_bands; ++cb) {
      const std::size_t t = rb * tv.col_bands + cb;
      offset_t s = tv.tile_first[t];
      for (offset_t g = tv.tile_rseg[t]; g < tv.tile_rseg[t + 1]; ++g) {
        const std::size_t i = static_cast<std::size_t>(tv.rseg_row[g]);
        sq += row_segment(r, i, tv.col, tv.val, tv.res_slot, strip_res, s, tv.rseg_end[g], tv.rseg_first[g]);
        if (tv.rseg_first[g]) norm += norm2(r.u + i * k, k);
        s = tv.rseg_end[g];
      }
    }
    band_sq[rb] = sq;
    band_norm[rb] = norm;
  }

  // Pass 2 for the columns [owner_col[owner], owner_col[owner+1]): those without entries get λv_j,
  // then the strips are swept in order, so each ∂V row is summed in the same order whoever runs it;
  // ‖v_j‖² goes to col_norm[j].
  static void columns(const detail::Raw<S>& r, const detail::TileView<S>& tv, int owner, const T* res,
                      double* col_norm) {
    const std::size_t k = r.k;
    const index_t c0 = tv.owner_col[owner], c1 = tv.owner_col[owner + 1];
    for (std::size_t x = 0; x < tv.empty_cols; ++x) {
      const index_t j = tv.empty_col[x];
      if (j < c0 || j >= c1) continue;
      for (std::size_t l = 0; l < k; ++l) r.gv[j * k + l] = r.lambda * one(tv.v_in[j * k + l]);
      col_norm[j] = norm2(tv.v_in + static_cast<std::size_t>(j) * k, k);
    }
    for (std::size_t st = 0; st < tv.strips; ++st) {
      // The strip's first column segment at or past c0.
      offset_t lo = tv.strip_cseg[st], hi = tv.strip_cseg[st + 1];
      const offset_t end = hi;
      while (lo < hi) {
        const offset_t mid = lo + (hi - lo) / 2;
        if (tv.cseg_col[mid] < c0)
          lo = mid + 1;
        else
          hi = mid;
      }
      offset_t s = lo == tv.strip_cseg[st] ? tv.strip_first[st] : tv.cseg_end[lo - 1];
      for (offset_t g = lo; g < end && tv.cseg_col[g] < c1; ++g) {
        const std::size_t j = static_cast<std::size_t>(tv.cseg_col[g]);
        col_segment(r, tv, j, tv.row, res, s, tv.cseg_end[g], tv.cseg_first[g]);
        if (tv.cseg_first[g]) col_norm[j] = norm2(tv.v_in + j * k, k);
        s = tv.cseg_end[g];
      }
    }
  }
};

// The band functions for k: compiled in for every whole number of batches up to 8, and 16 and 32
// (k = 256 in float32 on AVX-512, 128 in float64); other k run time, with a scalar tail. The OpenMP
// driver that calls them is compiled once, in kernels/tiled_simd.cpp.
template <class Arch, class T>
detail::TilePasses<T> passes(Arch, std::size_t k) {
  constexpr std::size_t W = xsimd::batch<compute_t<T>, Arch>::size;
  const auto of = [](auto n) {
    using K = Kernels<Arch, T, decltype(n)::value>;
    return detail::TilePasses<T>{&K::rows, &K::columns};
  };
  if (!detail::whole_batches(k, W)) return of(std::integral_constant<int, 0>{});
  switch (k / W) {
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
    case 16:
      return of(std::integral_constant<int, 16>{});
    case 32:
      return of(std::integral_constant<int, 32>{});
    default:
      return of(std::integral_constant<int, 0>{});
  }
}

// passes' signature for one (ARCH, T), written once: the generated per-ISA files instantiate it and
// kernels/tiled_simd.cpp declares it extern (simd/dispatch.hpp, MFGRAD_SIMD_EXTERN).
// T is the stored type; MFGRAD_TILED_SIMD_RUN_HALF asks for the bfloat16 and float16 instances too.
#define MFGRAD_TILED_SIMD_RUN(ARCH, T) detail::TilePasses<T> passes<ARCH, T>(ARCH, std::size_t)
#define MFGRAD_TILED_SIMD_RUN_HALF

}  // namespace mfgrad::kernels::tiled_simd
