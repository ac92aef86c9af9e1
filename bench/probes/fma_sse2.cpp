// FMA probe for sse2; bench/probes/CMakeLists.txt gives this file the sse2 compile flags.
#include "fma.hpp"

namespace mfgrad::bench::probe {
MFGRAD_PROBE_FMA_INSTANTIATE(xsimd::sse2)
}  // namespace mfgrad::bench::probe
