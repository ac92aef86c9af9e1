// fused_simd for sse2; CMakeLists.txt gives this file the sse2 compile flags.
#include "simd/fused_simd.hpp"

namespace mfgrad::kernels::fused_simd {
MFGRAD_FUSED_SIMD_INSTANTIATE(xsimd::sse2, float)
MFGRAD_FUSED_SIMD_INSTANTIATE(xsimd::sse2, double)
}  // namespace mfgrad::kernels::fused_simd
