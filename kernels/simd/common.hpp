// Internal, per-ISA: small pieces several SIMD kernels use, templated on the xsimd architecture so that
// each ISA's copy has its own name (tests/isa_objects.sh allows a name only within one ISA's files).
#pragma once

#include <cstddef>
#include <type_traits>
#include <xsimd/xsimd.hpp>

namespace mfgrad::kernels::simd {

// Vector registers of an architecture: how many factor-row batches can stay in registers at once.
template <class Arch>
constexpr int vector_registers() {
#if defined(__x86_64__) || defined(__i386__)
  return std::is_base_of_v<xsimd::avx512f, Arch> ? 32 : 16;
#else
  return 32;
#endif
}

// ‖x‖² over k elements in double, eight partial sums so that no single add chain serialises it. The
// order of the additions is fixed by k alone. Inlined where it is called, as the kernels' own code is.
template <class Arch, class T>
[[gnu::always_inline]] inline double norm2(const T* x, std::size_t k) {
  double a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t l = 0;
  for (; l + 8 <= k; l += 8)
#pragma GCC unroll 8
    for (int b = 0; b < 8; ++b) a[b] += static_cast<double>(x[l + b]) * static_cast<double>(x[l + b]);
  for (; l < k; ++l) a[0] += static_cast<double>(x[l]) * static_cast<double>(x[l]);
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

}  // namespace mfgrad::kernels::simd
