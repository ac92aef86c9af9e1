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

}  // namespace mfgrad::kernels::simd
