// Internal: xsimd::dispatch over the instruction sets mfgrad builds, capped by MFGRAD_ISA.
//
// Each SIMD kernel is a template on the xsimd architecture, instantiated once per ISA in a tiny file
// compiled with that ISA's flags (kernels/simd/*_<isa>.cpp); the baseline code only declares those
// instantiations and reaches them through here. Include from baseline translation units only.
#pragma once

#include <xsimd/xsimd.hpp>

#include "mfgrad/isa.hpp"

namespace mfgrad::kernels::simd {

#if defined(__x86_64__) || defined(__i386__)
using arch_avx512 = xsimd::avx512bw;
using arch_avx2 = xsimd::fma3<xsimd::avx2>;
using arch_sse2 = xsimd::sse2;
#define MFGRAD_SIMD_ARCHS(X, ...) \
  X(arch_avx512 __VA_OPT__(, ) __VA_ARGS__) X(arch_avx2 __VA_OPT__(, ) __VA_ARGS__) X(arch_sse2 __VA_OPT__(, ) __VA_ARGS__)
#elif defined(__aarch64__)
// NEON is part of the aarch64 baseline, so every aarch64 CPU runs it whatever MFGRAD_ISA says. Isa::sve
// is detected (with its vector length) and capped like the x86 levels, but no SVE code is built yet:
// xsimd 8.1 (Debian 12) has no SVE batches. Later xsimd releases have SVE batches whose length is fixed
// at compile time (-msve-vector-bits); each length would get its own per-ISA files and be tried first
// below, when cpu_supports(Isa::sve) and sve_vector_bits() equals that length.
using arch_neon = xsimd::neon64;
#define MFGRAD_SIMD_ARCHS(X, ...) X(arch_neon __VA_OPT__(, ) __VA_ARGS__)
#else
#error "mfgrad's SIMD kernels need x86-64 or aarch64"
#endif

// Declares RUN(ARCH, T) — a SIMD kernel's per-ISA function, its signature written once beside its
// template as MFGRAD_<NAME>_RUN — extern for every built architecture and both precisions, so baseline
// code calls the instantiations of the generated per-ISA files and never makes its own.
#define MFGRAD_SIMD_EXTERN_ONE(ARCH, RUN) \
  extern template RUN(simd::ARCH, float); \
  extern template RUN(simd::ARCH, double);
#define MFGRAD_SIMD_EXTERN(RUN) MFGRAD_SIMD_ARCHS(MFGRAD_SIMD_EXTERN_ONE, RUN)

// Calls f(Arch{}) for the best architecture this CPU offers within the MFGRAD_ISA ceiling.
template <class F>
decltype(auto) dispatch(F&& f) {
#if defined(__x86_64__) || defined(__i386__)
  if (cpu_supports(Isa::avx512))
    return xsimd::dispatch<xsimd::arch_list<arch_avx512, arch_avx2, arch_sse2>>(std::forward<F>(f))();
  if (cpu_supports(Isa::avx2)) return xsimd::dispatch<xsimd::arch_list<arch_avx2, arch_sse2>>(std::forward<F>(f))();
  return xsimd::dispatch<xsimd::arch_list<arch_sse2>>(std::forward<F>(f))();
#else
  return xsimd::dispatch<xsimd::arch_list<arch_neon>>(std::forward<F>(f))();
#endif
}

}  // namespace mfgrad::kernels::simd
