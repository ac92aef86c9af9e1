// FMA probe for neon; bench/probes/CMakeLists.txt gives this file the neon compile flags.
#include "fma.hpp"

namespace mfgrad::bench::probe {
MFGRAD_PROBE_FMA_INSTANTIATE(xsimd::neon64)
}  // namespace mfgrad::bench::probe
