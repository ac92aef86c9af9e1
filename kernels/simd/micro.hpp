// Internal, per-ISA: the register-level pieces the SIMD kernels' micro-kernels are made of. A factor row
// of N batches (N · W lanes) lives in an array of N xsimd batches; every loop over such an array is
// unrolled, so the array stays in registers. Where a piece reads a row, the row is either such an array
// (B*) or a callable b ↦ batch b (a load from memory, widened for 16-bit storage: simd/storage.hpp).
// Everything is inline and templated on the batch (so on the xsimd architecture): each ISA's copy has
// its own name (tests/isa_objects.sh). Nothing here holds OpenMP: the drivers that call the
// micro-kernels are compiled once, in kernels/<name>.cpp.
#pragma once

#include <cstddef>
#include <type_traits>
#include <xsimd/xsimd.hpp>

#include "simd/storage.hpp"

namespace mfgrad::kernels::simd {

// Batch b of a row given as registers or as a callable.
template <class X>
[[gnu::always_inline]] inline decltype(auto) batch_of(X&& x, int b) {
  if constexpr (std::is_invocable_v<X&, int>)
    return x(b);
  else
    return x[b];
}

// Σ_b u[b]·v(b) lanewise over N ≥ 1 batches, in two independent chains (even and odd batches) added at
// the end, so that consecutive FMAs do not wait on each other. xsimd::hadd of the result is the dot.
template <int N, class B, class V>
[[gnu::always_inline]] inline B dot(const B* u, V&& v) {
  using T = typename B::value_type;
  B d0 = u[0] * batch_of(v, 0);
  B d1(T(0));
  if constexpr (N > 1) d1 = u[1] * batch_of(v, 1);
#pragma GCC unroll 16
  for (int b = 2; b < N; b += 2) {
    d0 = xsimd::fma(u[b], batch_of(v, b), d0);
    if (b + 1 < N) d1 = xsimd::fma(u[b + 1], batch_of(v, b + 1), d1);
  }
  return d0 + d1;
}

// The same over nb batches known at run time: u(b) and v(b) are loads.
template <class B, class U, class V>
[[gnu::always_inline]] inline B dot(std::size_t nb, U&& u, V&& v) {
  using T = typename B::value_type;
  B d0(T(0)), d1(T(0));
  std::size_t b = 0;
  for (; b + 1 < nb; b += 2) {
    d0 = xsimd::fma(u(b), v(b), d0);
    d1 = xsimd::fma(u(b + 1), v(b + 1), d1);
  }
  if (b < nb) d0 = xsimd::fma(u(b), v(b), d0);
  return d0 + d1;
}

// Broadcast-FMA over a row: acc[b] += r·x(b) for the N batches (one broadcast r, N FMAs).
template <int N, class B, class X>
[[gnu::always_inline]] inline void axpy(B r, X&& x, B* acc) {
#pragma GCC unroll 16
  for (int b = 0; b < N; ++b) acc[b] = xsimd::fma(r, batch_of(x, b), acc[b]);
}

// acc[b] −= r·x(b): the same, subtracting.
template <int N, class B, class X>
[[gnu::always_inline]] inline void axmy(B r, X&& x, B* acc) {
#pragma GCC unroll 16
  for (int b = 0; b < N; ++b) acc[b] = xsimd::fnma(r, batch_of(x, b), acc[b]);
}

// d += r·x for a row d in memory, 64-byte aligned (a ∂V copy's row): load, FMA, store per batch.
template <int N, class B, class X>
[[gnu::always_inline]] inline void axpy_to(B r, X&& x, typename B::value_type* d) {
  constexpr std::size_t W = B::size;
#pragma GCC unroll 16
  for (int b = 0; b < N; ++b) xsimd::fma(r, batch_of(x, b), B::load_aligned(d + b * W)).store_aligned(d + b * W);
}

// Folds the N batch sums s of a row into its gradient row g (any alignment), the regularisation taken
// from x as stored: g ← λx − s for the row's first segment, g ← g − s for a later one (two roundings).
template <int N, class B, class S>
[[gnu::always_inline]] inline void fold(typename B::value_type* g, const S* x, const B* s, bool first,
                                        typename B::value_type lambda) {
  using Arch = typename B::arch_type;
  constexpr std::size_t W = B::size;
  const B lam(lambda);
#pragma GCC unroll 16
  for (int b = 0; b < N; ++b) {
    const B base = first ? lam * load_row<Arch>(x + b * W) : B::load_unaligned(g + b * W);
    (base - s[b]).store_unaligned(g + b * W);
  }
}

// g ← λx − s for a whole row whose x is in registers: one fused multiply-subtract (one rounding) per batch.
template <int N, class B>
[[gnu::always_inline]] inline void fold(typename B::value_type* g, const B* x, const B* s,
                                        typename B::value_type lambda) {
  constexpr std::size_t W = B::size;
  const B lam(lambda);
#pragma GCC unroll 16
  for (int b = 0; b < N; ++b) xsimd::fms(lam, x[b], s[b]).store_unaligned(g + b * W);
}

// Prefetches `elements` elements of a row for reading, one request per 64-byte line.
template <class Arch, class E>
[[gnu::always_inline]] inline void prefetch_row(const E* row, std::size_t elements) {
  const char* p = reinterpret_cast<const char*>(row);
  for (std::size_t o = 0; o < elements * sizeof(E); o += 64) __builtin_prefetch(p + o);
}

// Prefetches `elements` of a row to read and of a row to write (a factor row and its ∂ copy's row): one
// loop over both when their elements are the same size, one each otherwise (16-bit storage).
template <class Arch, class S, class T>
[[gnu::always_inline]] inline void prefetch_rows(const S* read, T* write, std::size_t elements) {
  const char* a = reinterpret_cast<const char*>(read);
  const char* b = reinterpret_cast<const char*>(write);
  if constexpr (sizeof(S) == sizeof(T)) {
    for (std::size_t o = 0; o < elements * sizeof(T); o += 64) {
      __builtin_prefetch(a + o);
      __builtin_prefetch(b + o, 1);
    }
  } else {
    prefetch_row<Arch>(read, elements);
    for (std::size_t o = 0; o < elements * sizeof(T); o += 64) __builtin_prefetch(b + o, 1);
  }
}

}  // namespace mfgrad::kernels::simd
