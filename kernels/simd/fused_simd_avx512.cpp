// fused_simd for avx512; CMakeLists.txt gives this file the avx512 compile flags.
#include "simd/fused_simd.hpp"

namespace mfgrad::kernels::fused_simd {
MFGRAD_FUSED_SIMD_INSTANTIATE(xsimd::avx512bw, float)
MFGRAD_FUSED_SIMD_INSTANTIATE(xsimd::avx512bw, double)
}  // namespace mfgrad::kernels::fused_simd
