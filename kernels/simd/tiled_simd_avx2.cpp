// tiled_simd for avx2; CMakeLists.txt gives this file the avx2 compile flags.
#include "simd/tiled_simd.hpp"

namespace mfgrad::kernels::tiled_simd {
MFGRAD_TILED_SIMD_INSTANTIATE(xsimd::fma3<xsimd::avx2>, float)
MFGRAD_TILED_SIMD_INSTANTIATE(xsimd::fma3<xsimd::avx2>, double)
}  // namespace mfgrad::kernels::tiled_simd
