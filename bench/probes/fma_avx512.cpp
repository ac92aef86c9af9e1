// FMA probe for avx512; bench/probes/CMakeLists.txt gives this file the avx512 compile flags.
#include "fma.hpp"

namespace mfgrad::bench::probe {
MFGRAD_PROBE_FMA_INSTANTIATE(xsimd::avx512bw)
}  // namespace mfgrad::bench::probe
