// Internal: the one list of SIMD levels mfgrad builds code for, most capable first within a family.
//   X(level, family, Isa, xsimd architecture, "compile flags", extra arguments passed through)
// `Isa` is the level of the vocabulary (MFGRAD_ISA_LEVELS in mfgrad/isa.hpp) this code serves; src/isa.cpp
// checks the lines against that vocabulary when it compiles (a level of the line's family, most capable
// first, one baseline per family) and accepts each line's own name too (sse2 for the x86-64 baseline).
// CMakeLists.txt reads these lines (one X(...) each: keep them so) for the per-ISA files, their flags
// and the xsimd architecture each instantiates; simd/dispatch.hpp expands them into the architecture
// aliases arch_<level> and arch_baseline, the dispatch switch and MFGRAD_SIMD_ARCHS; src/isa.cpp into
// built_isas(), the levels set_simd_level() accepts. GCC 12 flags xsimd's AVX-512 horizontal add as
// maybe-uninitialized (a known false positive). NEON is part of the aarch64 baseline; SVE is detected
// at run time but not built: xsimd 8.1 (Debian 12) has no SVE batches.
#pragma once

// clang-format off
#define MFGRAD_SIMD_ISA_LIST(X, ...) \
  X(avx512, x86_64, avx512, xsimd::avx512bw, "-mavx512f -mavx512cd -mavx512dq -mavx512bw -mavx512vl -mavx2 -mfma -mf16c -mbmi2 -Wno-maybe-uninitialized", __VA_ARGS__) \
  X(avx2, x86_64, avx2, xsimd::fma3<xsimd::avx2>, "-mavx2 -mfma -mf16c", __VA_ARGS__) \
  X(sse2, x86_64, baseline, xsimd::sse2, "", __VA_ARGS__) \
  X(neon, aarch64, baseline, xsimd::neon64, "", __VA_ARGS__)
// clang-format on

// MFGRAD_SIMD_FAMILY_<family>(...) keeps its arguments for the family this file is compiled for.
#if defined(__x86_64__) || defined(__i386__)
#define MFGRAD_SIMD_FAMILY_x86_64(...) __VA_ARGS__
#define MFGRAD_SIMD_FAMILY_aarch64(...)
#elif defined(__aarch64__)
#define MFGRAD_SIMD_FAMILY_x86_64(...)
#define MFGRAD_SIMD_FAMILY_aarch64(...) __VA_ARGS__
#else
#error "mfgrad's SIMD kernels need x86-64 or aarch64"
#endif
