// FMA probe for avx2; bench/probes/CMakeLists.txt gives this file the avx2 compile flags.
#include "fma.hpp"

namespace mfgrad::bench::probe {
MFGRAD_PROBE_FMA_INSTANTIATE(xsimd::fma3<xsimd::avx2>)
}  // namespace mfgrad::bench::probe
