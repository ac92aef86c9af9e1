// mfgrad — 16-bit storage formats for the factors: bfloat16 and IEEE 754 binary16 (float16).
//
// Mixed precision as recommender training uses it: the optimizer keeps float32 master weights and
// refreshes a 16-bit copy after each step; the evaluation reads the copy, computes every product and
// sum in float32 (the loss in double) and returns ∂U and ∂V in float32. A 16-bit factor row is half the
// bytes of a float32 one, and the hot loops are bound by the factor rows each entry moves.
//
//   bfloat16  1 sign, 8 exponent, 7 fraction bits: float32's range, about 3 significant digits.
//             Widening is exact and costs a shift on every CPU.
//   float16   1 sign, 5 exponent, 10 fraction bits: range ±65504, about 3.3 digits. Widening is one
//             instruction where the CPU converts in hardware (F16C / AVX-512 on x86-64, FP16 on
//             aarch64); elsewhere it is done in software and is slow.
//
// Both are plain 16-bit values ({bits}): trivially copyable, the layout of torch.bfloat16/float16 and
// NumPy's float16, so buffers from those libraries are used as they are. Converting to float is exact;
// converting from float rounds to nearest, ties to even (NaN stays NaN, overflow goes to ±∞).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>

namespace mfgrad {

struct bfloat16 {
  std::uint16_t bits = 0;
  // Exact.
  constexpr operator float() const noexcept { return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16); }
};

struct float16 {
  std::uint16_t bits = 0;
  // Exact (subnormals included).
  constexpr operator float() const noexcept {
    const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
    const std::uint32_t exp = (bits >> 10) & 0x1fu, frac = bits & 0x3ffu;
    if (exp == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (frac << 13));  // ∞, NaN
    if (exp != 0) return std::bit_cast<float>(sign | ((exp + 112) << 23) | (frac << 13));
    // Zero or subnormal: frac · 2^-24, exact in float.
    const float magnitude = static_cast<float>(frac) * 0x1p-24f;
    return sign != 0 ? -magnitude : magnitude;
  }
};

static_assert(sizeof(bfloat16) == 2 && sizeof(float16) == 2);

// Round to nearest, ties to even.
constexpr bfloat16 to_bfloat16(float x) noexcept {
  const std::uint32_t b = std::bit_cast<std::uint32_t>(x);
  if ((b & 0x7fffffffu) > 0x7f800000u) return {static_cast<std::uint16_t>((b >> 16) | 0x40u)};  // quiet NaN
  const std::uint32_t rounded = b + 0x7fffu + ((b >> 16) & 1u);
  return {static_cast<std::uint16_t>(rounded >> 16)};
}

constexpr float16 to_float16(float x) noexcept {
  const std::uint32_t b = std::bit_cast<std::uint32_t>(x);
  const std::uint16_t sign = static_cast<std::uint16_t>((b >> 16) & 0x8000u);
  const std::uint32_t abs = b & 0x7fffffffu;
  if (abs > 0x7f800000u) return {static_cast<std::uint16_t>(sign | 0x7e00u | ((abs >> 13) & 0x3ffu))};  // NaN
  if (abs >= 0x477ff000u) return {static_cast<std::uint16_t>(sign | 0x7c00u)};  // rounds past 65504: ∞
  if (abs >= 0x38800000u) {                                                     // normal in float16
    const std::uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
    return {static_cast<std::uint16_t>(sign | ((rounded - 0x38000000u) >> 13))};
  }
  // Subnormal or zero in float16: units of 2^-24, rounded to nearest even.
  const std::uint32_t exp = abs >> 23;
  if (exp < 102) return {sign};  // below half the smallest subnormal (2^-25): ±0
  const std::uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
  const std::uint32_t shift = 126 - exp;  // mant · 2^(exp-150) in units of 2^-24
  const std::uint32_t q = mant >> shift, rest = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
  const std::uint32_t units = q + ((rest > half || (rest == half && (q & 1u))) ? 1u : 0u);
  return {static_cast<std::uint16_t>(sign | units)};
}

// The optimizer's refresh: out[x] = round(in[x]) for every x, vectorised, on `threads` threads
// (≤ 0: all the OpenMP runtime offers). Throws Error when the sizes differ or the ranges overlap.
void round_to(std::span<const float> in, std::span<bfloat16> out, int threads = 0);
void round_to(std::span<const float> in, std::span<float16> out, int threads = 0);

// out[x] = float(in[x]), exact, vectorised.
void widen(std::span<const bfloat16> in, std::span<float> out, int threads = 0);
void widen(std::span<const float16> in, std::span<float> out, int threads = 0);

}  // namespace mfgrad
