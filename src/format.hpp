// Internal: number formatting for messages and JSON.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace mfgrad {

// Shortest text that reads back as the same double ("4.5", "1e+39", "nan").
inline std::string format_number(double v) {
  char buf[32];
  for (int digits = 6; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

}  // namespace mfgrad
