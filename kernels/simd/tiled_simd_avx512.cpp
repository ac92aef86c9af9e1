// tiled_simd for avx512; CMakeLists.txt gives this file the avx512 compile flags.
#include "simd/tiled_simd.hpp"

namespace mfgrad::kernels::tiled_simd {
MFGRAD_TILED_SIMD_INSTANTIATE(xsimd::avx512bw, float)
MFGRAD_TILED_SIMD_INSTANTIATE(xsimd::avx512bw, double)
}  // namespace mfgrad::kernels::tiled_simd
