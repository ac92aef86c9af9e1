// Internal, per-ISA: reading factor rows stored as float, double, bfloat16 or float16 into batches of
// the type they are computed in (compute_t<S>). The seam through which a SIMD kernel written on
// xsimd batches serves 16-bit storage: its loops call load_row / widen_one instead of B::load_*, and
// everything after the load is the float32 code.
//
//   bfloat16  the 16 bits are the top half of the float32: zero-extend to 32 bits and shift left 16
//             (SSE2: interleave with zeros; NEON: vshll).
//   float16   one conversion instruction where the CPU has it: vcvtph2ps (F16C, which the avx2 and
//             avx512 levels require), fcvtl on aarch64; element by element in software on SSE2.
//
// Per-ISA code must not call inline functions that baseline code also compiles (kernels/detail/raw.hpp),
// so nothing here uses bfloat16's or float16's own conversions: only their bits, and templates on Arch.
#pragma once

#include <cstdint>
#include <type_traits>
#include <xsimd/xsimd.hpp>

#include "mfgrad/types.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace mfgrad::kernels::simd {

template <class S>
inline constexpr bool is_half_v = std::is_same_v<S, bfloat16> || std::is_same_v<S, float16>;

// One stored element, exactly, in its compute type.
template <class Arch, class S>
[[gnu::always_inline]] inline compute_t<S> widen_one(S x) {
  if constexpr (!is_half_v<S>) {
    return x;
  } else {
    const std::uint32_t h = x.bits;
    if constexpr (std::is_same_v<S, bfloat16>) {
      return __builtin_bit_cast(float, h << 16);
    } else {
      const std::uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, frac = h & 0x3ffu;
      if (exp == 0x1f) return __builtin_bit_cast(float, sign | 0x7f800000u | (frac << 13));
      if (exp != 0) return __builtin_bit_cast(float, sign | ((exp + 112) << 23) | (frac << 13));
      const float magnitude = static_cast<float>(frac) * 0x1p-24f;
      return sign != 0 ? -magnitude : magnitude;
    }
  }
}

// One batch of compute_t<S> from batch-size consecutive stored elements at p (any alignment).
template <class Arch, class S>
[[gnu::always_inline]] inline xsimd::batch<compute_t<S>, Arch> load_row(const S* p) {
  using B = xsimd::batch<compute_t<S>, Arch>;
  if constexpr (!is_half_v<S>) {
    return B::load_unaligned(p);
  } else {
    constexpr bool bf16 = std::is_same_v<S, bfloat16>;
    const auto* bits = reinterpret_cast<const std::uint16_t*>(p);
#if defined(__x86_64__) || defined(__i386__)
    if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) {
      const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bits));
      if constexpr (bf16)
        return B(_mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)));
      else
        return B(_mm512_cvtph_ps(h));
    } else if constexpr (std::is_base_of_v<xsimd::avx2, Arch>) {
      const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bits));
      if constexpr (bf16)
        return B(_mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)));
      else
        return B(_mm256_cvtph_ps(h));
    } else {
      if constexpr (bf16) {
        const __m128i h = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(bits));
        return B(_mm_castsi128_ps(_mm_unpacklo_epi16(_mm_setzero_si128(), h)));
      } else {
        alignas(16) float f[4];
        for (int l = 0; l < 4; ++l) f[l] = widen_one<Arch>(p[l]);
        return B::load_aligned(f);
      }
    }
#elif defined(__aarch64__)
    const uint16x4_t h = vld1_u16(bits);
    if constexpr (bf16)
      return B(vreinterpretq_f32_u32(vshll_n_u16(h, 16)));
    else
      return B(vcvt_f32_f16(vreinterpret_f16_u16(h)));
#endif
  }
}

// ‖x‖² over k stored elements, in double, eight partial sums so that no single add chain serialises it;
// the order of the additions is fixed by k alone. The SIMD kernels' one norm, for every element type.
template <class Arch, class S>
[[gnu::always_inline]] inline double norm2_stored(const S* x, std::size_t k) {
  double a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t l = 0;
  for (; l + 8 <= k; l += 8)
#pragma GCC unroll 8
    for (int b = 0; b < 8; ++b) {
      const double y = widen_one<Arch>(x[l + b]);
      a[b] += y * y;
    }
  for (; l < k; ++l) {
    const double y = widen_one<Arch>(x[l]);
    a[0] += y * y;
  }
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

}  // namespace mfgrad::kernels::simd
