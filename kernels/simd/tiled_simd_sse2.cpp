// tiled_simd for sse2; CMakeLists.txt gives this file the sse2 compile flags.
#include "simd/tiled_simd.hpp"

namespace mfgrad::kernels::tiled_simd {
MFGRAD_TILED_SIMD_INSTANTIATE(xsimd::sse2, float)
MFGRAD_TILED_SIMD_INSTANTIATE(xsimd::sse2, double)
}  // namespace mfgrad::kernels::tiled_simd
