// Gather probe, the per-ISA part: read whole factor rows picked by a list of row ids, as an
// evaluation's gathers of v_j do, and nothing else. Compiled per ISA like fma.hpp, so the rows are
// read with the widest loads the kernels themselves use.
//
// Like kernels/detail/raw.hpp, this header uses nothing but xsimd and plain loops, so a file compiled
// with -mavx512* instantiates no inline function that baseline code also uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <xsimd/xsimd.hpp>

namespace mfgrad::bench::probe {

// Every row ids[0..count) of `rows` (rows of `width` elements, each starting on a multiple of its own
// size rounded up to 16 bytes), loaded whole and OR-ed into accumulators (one-cycle operations, so the
// loads, not the arithmetic, set the pace); the rows `distance` ids ahead are prefetched (0: none).
// B is the batch the rows are read with: no wider than a row.
template <class B, class T>
[[gnu::always_inline]] inline double gather_with(const T* rows, std::size_t width, const std::int32_t* ids,
                                                 std::size_t count, std::size_t distance) {
  constexpr std::size_t W = B::size;
  const std::size_t batches = width / W, row_bytes = width * sizeof(T);
  B a0(T(0)), a1(T(0));
  for (std::size_t q = 0; q < count; ++q) {
    if (distance > 0 && q + distance < count) {
      const char* ahead = reinterpret_cast<const char*>(rows + static_cast<std::size_t>(ids[q + distance]) * width);
      for (std::size_t o = 0; o < row_bytes; o += 64) __builtin_prefetch(ahead + o);
    }
    const T* r = rows + static_cast<std::size_t>(ids[q]) * width;
    std::size_t b = 0;
    for (; b + 2 <= batches; b += 2) {
      a0 = a0 | B::load_unaligned(r + b * W);
      a1 = a1 | B::load_unaligned(r + (b + 1) * W);
    }
    if (b < batches) a0 = a0 | B::load_unaligned(r + b * W);
  }
  T lanes[W];
  (a0 | a1).store_unaligned(lanes);
  double checksum = 0;
  for (T x : lanes) checksum += static_cast<double>(x);
  return checksum;
}

// The batch type for rows of `width` elements of T: the architecture's own, or for rows narrower than
// it a narrower one the same file may use (x86: AVX2 or SSE2 within AVX-512; SSE2 within AVX2).
template <class Arch, class T>
double gather_rows(Arch, const T* rows, std::size_t width, const std::int32_t* ids, std::size_t count,
                   std::size_t distance) {
  using Wide = xsimd::batch<T, Arch>;
  const std::size_t row_bytes = width * sizeof(T);
  if (row_bytes >= sizeof(Wide) && width % Wide::size == 0) return gather_with<Wide>(rows, width, ids, count, distance);
#if defined(__x86_64__) || defined(__i386__)
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>)
    if (row_bytes >= 32 && width % (32 / sizeof(T)) == 0)
      return gather_with<xsimd::batch<T, xsimd::fma3<xsimd::avx2>>>(rows, width, ids, count, distance);
  return gather_with<xsimd::batch<T, xsimd::sse2>>(rows, width, ids, count, distance);
#else
  return gather_with<xsimd::batch<T, xsimd::neon64>>(rows, width, ids, count, distance);
#endif
}

// gather_rows' signature for one (ARCH, T), written once: the generated per-ISA files instantiate it and
// probes.cpp declares it extern (MFGRAD_SIMD_EXTERN).
#define MFGRAD_PROBE_GATHER_RUN(ARCH, T) \
  double gather_rows<ARCH, T>(ARCH, const T*, std::size_t, const std::int32_t*, std::size_t, std::size_t)

}  // namespace mfgrad::bench::probe
