// Internal: run-time dispatch over the instruction sets mfgrad builds, at simd_level() (mfgrad/isa.hpp).
//
// Each SIMD kernel is a template on the xsimd architecture, instantiated once per ISA in a tiny file
// compiled with that ISA's flags (kernels/simd/*_<isa>.cpp); the baseline code only declares those
// instantiations and reaches them through here. Include from baseline translation units only.
#pragma once

#include <xsimd/xsimd.hpp>

#include "mfgrad/isa.hpp"
#include "simd/isas.hpp"

namespace mfgrad::kernels::simd {

// arch_<level> for every level of this build's family (simd/isas.hpp), and arch_baseline.
#define MFGRAD_SIMD_ALIAS(level, family, isa, arch, ...) MFGRAD_SIMD_FAMILY_##family(using arch_##level = arch;)
MFGRAD_SIMD_ISA_LIST(MFGRAD_SIMD_ALIAS)
#undef MFGRAD_SIMD_ALIAS
#define MFGRAD_SIMD_IF_baseline(...) __VA_ARGS__
#define MFGRAD_SIMD_IF_avx2(...)
#define MFGRAD_SIMD_IF_avx512(...)
#define MFGRAD_SIMD_BASELINE(level, family, isa, arch, ...) \
  MFGRAD_SIMD_FAMILY_##family(MFGRAD_SIMD_IF_##isa(using arch_baseline = arch;))
MFGRAD_SIMD_ISA_LIST(MFGRAD_SIMD_BASELINE)
#undef MFGRAD_SIMD_BASELINE

// X(arch_<level>, extra...) for every level of this build's family, most capable first.
#define MFGRAD_SIMD_ARCH_OF(level, family, isa, arch, flags, X, ...) \
  MFGRAD_SIMD_FAMILY_##family(X(arch_##level __VA_OPT__(, ) __VA_ARGS__))
#define MFGRAD_SIMD_ARCHS(X, ...) MFGRAD_SIMD_ISA_LIST(MFGRAD_SIMD_ARCH_OF, X __VA_OPT__(, ) __VA_ARGS__)

// Declares RUN(ARCH, T) — a SIMD kernel's per-ISA function, its signature written once beside its
// template as MFGRAD_<NAME>_RUN — extern for every built architecture and both precisions, so baseline
// code calls the instantiations of the generated per-ISA files and never makes its own.
#define MFGRAD_SIMD_EXTERN_ONE(ARCH, RUN) \
  extern template RUN(simd::ARCH, float); \
  extern template RUN(simd::ARCH, double);
#define MFGRAD_SIMD_EXTERN(RUN) MFGRAD_SIMD_ARCHS(MFGRAD_SIMD_EXTERN_ONE, RUN)

// Calls f(Arch{}) for simd_level(): the level src/isa.cpp's detector, MFGRAD_ISA and set_simd_level()
// decide. xsimd is not asked to detect anything itself.
#define MFGRAD_SIMD_CASE(level, family, isa, arch, flags, f) \
  MFGRAD_SIMD_FAMILY_##family(case Isa::isa : return std::forward<F>(f)(arch_##level{});)
template <class F>
decltype(auto) dispatch(F&& f) {
  switch (simd_level()) {
    MFGRAD_SIMD_ISA_LIST(MFGRAD_SIMD_CASE, f)
    default: break;
  }
  return std::forward<F>(f)(arch_baseline{});
}
#undef MFGRAD_SIMD_CASE

}  // namespace mfgrad::kernels::simd
