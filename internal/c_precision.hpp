// Internal: the C interface's mfgrad_precision as the C++ Precision, for the core and the MPI C
// interfaces alike; empty for a value outside the enum (which the caller refuses by name).
#pragma once

#include <optional>

#include "mfgrad/mfgrad.h"
#include "mfgrad/types.hpp"

namespace mfgrad::detail {

inline std::optional<Precision> precision_of(mfgrad_precision p) noexcept {
  switch (p) {
    case MFGRAD_FLOAT32:
      return Precision::f32;
    case MFGRAD_FLOAT64:
      return Precision::f64;
    case MFGRAD_BFLOAT16:
      return Precision::bf16;
    case MFGRAD_FLOAT16:
      return Precision::f16;
    default:
      return std::nullopt;
  }
}

// How messages name the values the enum allows.
inline constexpr const char* kPrecisionValues =
    "MFGRAD_FLOAT32 (0), MFGRAD_FLOAT64 (1), MFGRAD_BFLOAT16 (2) or MFGRAD_FLOAT16 (3)";

}  // namespace mfgrad::detail
