// fused_simd for avx2; CMakeLists.txt gives this file the avx2 compile flags.
#include "simd/fused_simd.hpp"

namespace mfgrad::kernels::fused_simd {
MFGRAD_FUSED_SIMD_INSTANTIATE(xsimd::fma3<xsimd::avx2>, float)
MFGRAD_FUSED_SIMD_INSTANTIATE(xsimd::fma3<xsimd::avx2>, double)
}  // namespace mfgrad::kernels::fused_simd
