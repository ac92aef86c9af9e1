// Conversions between float32 and the 16-bit storage formats, over whole arrays: the optimizer's
// refresh of its 16-bit copy after each step, and the widening behind implementations that read
// float32 rows.
//
// Every loop is branch-free integer arithmetic the compiler vectorises; on x86-64 it is compiled a
// second time for AVX-512 and for AVX2 (+F16C, whose vcvtps2ph/vcvtph2ps convert float16 in one
// instruction each) and chosen by simd_level(), so MFGRAD_ISA caps it as it caps the kernels. On
// aarch64 float16 is converted by the FP16 instructions of the baseline (__fp16).
#include "mfgrad/half.hpp"

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "mfgrad/isa.hpp"
#include "mfgrad/types.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace mfgrad {

namespace {

// Chunks of this many elements are handed to threads; a chunk is a few pages, so one thread's stores
// never share a cache line with another's.
constexpr std::size_t chunk = 16384;

template <class F>
void in_chunks(std::size_t count, int threads, F&& f) {
  const auto chunks = static_cast<std::int64_t>((count + chunk - 1) / chunk);
  const int team = threads > 0 ? threads : omp_get_max_threads();
  if (chunks <= 1 || team <= 1) {
    f(std::size_t{0}, count);
    return;
  }
#pragma omp parallel for schedule(static) num_threads(static_cast <int>(std::min <std::int64_t>(team, chunks)))
  for (std::int64_t c = 0; c < chunks; ++c) {
    const std::size_t begin = static_cast<std::size_t>(c) * chunk;
    f(begin, std::min(count, begin + chunk));
  }
}

// The loops, written once as macros so that each target below gets its own compiled copy.
#define MFGRAD_ROUND_BF16_LOOP                                                            \
  for (std::size_t x = 0; x < count; ++x) {                                               \
    std::uint32_t b;                                                                      \
    std::memcpy(&b, in + x, 4);                                                           \
    const std::uint32_t rounded = (b + 0x7fffu + ((b >> 16) & 1u)) >> 16;                 \
    const std::uint32_t nan = (b >> 16) | 0x40u;                                          \
    out[x] = static_cast<std::uint16_t>((b & 0x7fffffffu) > 0x7f800000u ? nan : rounded); \
  }
#define MFGRAD_WIDEN_BF16_LOOP                                       \
  for (std::size_t x = 0; x < count; ++x) {                          \
    const std::uint32_t b = static_cast<std::uint32_t>(in[x]) << 16; \
    std::memcpy(out + x, &b, 4);                                     \
  }

void round_bf16_generic(const float* in, std::uint16_t* out, std::size_t count) { MFGRAD_ROUND_BF16_LOOP }
void widen_bf16_generic(const std::uint16_t* in, float* out, std::size_t count) { MFGRAD_WIDEN_BF16_LOOP }

void round_f16_generic(const float* in, std::uint16_t* out, std::size_t count) {
#if defined(__aarch64__)
  for (std::size_t x = 0; x < count; ++x) {
    const __fp16 h = static_cast<__fp16>(in[x]);
    std::memcpy(out + x, &h, 2);
  }
#else
  for (std::size_t x = 0; x < count; ++x) out[x] = to_float16(in[x]).bits;
#endif
}
void widen_f16_generic(const std::uint16_t* in, float* out, std::size_t count) {
#if defined(__aarch64__)
  for (std::size_t x = 0; x < count; ++x) {
    __fp16 h;
    std::memcpy(&h, in + x, 2);
    out[x] = static_cast<float>(h);
  }
#else
  for (std::size_t x = 0; x < count; ++x) out[x] = float16{in[x]};
#endif
}

#if defined(__x86_64__)
#define MFGRAD_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))
#define MFGRAD_AVX2 __attribute__((target("avx2,fma,f16c")))
MFGRAD_AVX512 void round_bf16_avx512(const float* in, std::uint16_t* out,
                                     std::size_t count){MFGRAD_ROUND_BF16_LOOP} MFGRAD_AVX512
    void widen_bf16_avx512(const std::uint16_t* in, float* out, std::size_t count){MFGRAD_WIDEN_BF16_LOOP} MFGRAD_AVX2
    void round_bf16_avx2(const float* in, std::uint16_t* out, std::size_t count){MFGRAD_ROUND_BF16_LOOP} MFGRAD_AVX2
    void widen_bf16_avx2(const std::uint16_t* in, float* out, std::size_t count){MFGRAD_WIDEN_BF16_LOOP}

// F16C: eight at a time, rounding to nearest even (imm 0), the rest in software.
MFGRAD_AVX2 void round_f16_f16c(const float* in, std::uint16_t* out, std::size_t count) {
  std::size_t x = 0;
  for (; x + 8 <= count; x += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + x), _mm256_cvtps_ph(_mm256_loadu_ps(in + x), 0));
  round_f16_generic(in + x, out + x, count - x);
}
MFGRAD_AVX2 void widen_f16_f16c(const std::uint16_t* in, float* out, std::size_t count) {
  std::size_t x = 0;
  for (; x + 8 <= count; x += 8)
    _mm256_storeu_ps(out + x, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + x))));
  widen_f16_generic(in + x, out + x, count - x);
}
#undef MFGRAD_AVX512
#undef MFGRAD_AVX2
#endif

using RoundFn = void (*)(const float*, std::uint16_t*, std::size_t);
using WidenFn = void (*)(const std::uint16_t*, float*, std::size_t);

// The variant for simd_level(): AVX2 machines all have F16C (Haswell and later, every Zen), and
// src/isa.cpp requires it for the avx2 level.
template <class S>
RoundFn round_fn() {
#if defined(__x86_64__)
  const Isa level = simd_level();
  if constexpr (std::is_same_v<S, bfloat16>) {
    if (level == Isa::avx512) return round_bf16_avx512;
    if (level == Isa::avx2) return round_bf16_avx2;
  } else {
    if (level == Isa::avx512 || level == Isa::avx2) return round_f16_f16c;
  }
#endif
  return std::is_same_v<S, bfloat16> ? round_bf16_generic : round_f16_generic;
}
template <class S>
WidenFn widen_fn() {
#if defined(__x86_64__)
  const Isa level = simd_level();
  if constexpr (std::is_same_v<S, bfloat16>) {
    if (level == Isa::avx512) return widen_bf16_avx512;
    if (level == Isa::avx2) return widen_bf16_avx2;
  } else {
    if (level == Isa::avx512 || level == Isa::avx2) return widen_f16_f16c;
  }
#endif
  return std::is_same_v<S, bfloat16> ? widen_bf16_generic : widen_f16_generic;
}

template <class A, class B>
void check_spans(const char* what, const A* in, std::size_t in_count, const B* out, std::size_t out_count) {
  if (in_count != out_count)
    throw Error(std::string(what) + ": the input has " + std::to_string(in_count) + " elements but the output " +
                std::to_string(out_count));
  const auto a = reinterpret_cast<std::uintptr_t>(in), b = reinterpret_cast<std::uintptr_t>(out);
  if (in_count > 0 && a < b + out_count * sizeof(B) && b < a + in_count * sizeof(A))
    throw Error(std::string(what) + ": the input and output overlap in memory");
}

template <class S>
void round_span(std::span<const float> in, std::span<S> out, int threads) {
  check_spans("round_to", in.data(), in.size(), out.data(), out.size());
  const RoundFn fn = round_fn<S>();
  auto* bits = reinterpret_cast<std::uint16_t*>(out.data());
  in_chunks(in.size(), threads, [&](std::size_t b, std::size_t e) { fn(in.data() + b, bits + b, e - b); });
}

template <class S>
void widen_span(std::span<const S> in, std::span<float> out, int threads) {
  check_spans("widen", in.data(), in.size(), out.data(), out.size());
  const WidenFn fn = widen_fn<S>();
  const auto* bits = reinterpret_cast<const std::uint16_t*>(in.data());
  in_chunks(in.size(), threads, [&](std::size_t b, std::size_t e) { fn(bits + b, out.data() + b, e - b); });
}

}  // namespace

void round_to(std::span<const float> in, std::span<bfloat16> out, int threads) { round_span(in, out, threads); }
void round_to(std::span<const float> in, std::span<float16> out, int threads) { round_span(in, out, threads); }
void widen(std::span<const bfloat16> in, std::span<float> out, int threads) { widen_span(in, out, threads); }
void widen(std::span<const float16> in, std::span<float> out, int threads) { widen_span(in, out, threads); }

}  // namespace mfgrad
