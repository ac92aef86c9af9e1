// tiled_simd for neon; CMakeLists.txt gives this file the neon compile flags.
#include "simd/tiled_simd.hpp"

namespace mfgrad::kernels::tiled_simd {
MFGRAD_TILED_SIMD_INSTANTIATE(xsimd::neon64, float)
MFGRAD_TILED_SIMD_INSTANTIATE(xsimd::neon64, double)
}  // namespace mfgrad::kernels::tiled_simd
