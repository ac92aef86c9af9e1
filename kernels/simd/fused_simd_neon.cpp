// fused_simd for neon; CMakeLists.txt gives this file the neon compile flags.
#include "simd/fused_simd.hpp"

namespace mfgrad::kernels::fused_simd {
MFGRAD_FUSED_SIMD_INSTANTIATE(xsimd::neon64, float)
MFGRAD_FUSED_SIMD_INSTANTIATE(xsimd::neon64, double)
}  // namespace mfgrad::kernels::fused_simd
