// mfgrad — basic types shared by every public header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace mfgrad {

// Row and column ids are 32-bit; positions in Ω are 64-bit so nnz may pass 2^31.
using index_t = std::int32_t;
using offset_t = std::int64_t;

enum class Precision { f32, f64 };

template <class T>
constexpr Precision precision_of() noexcept {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "float or double only");
  return std::is_same_v<T, float> ? Precision::f32 : Precision::f64;
}

// Of a float/double pair (two functions, two tables, …), the one that serves T.
template <class T, class F, class D>
constexpr auto& by_precision(F& f32, D& f64) noexcept {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "float or double only");
  if constexpr (std::is_same_v<T, float>)
    return f32;
  else
    return f64;
}

constexpr const char* to_string(Precision p) noexcept { return p == Precision::f32 ? "float32" : "float64"; }

// Raised for every input the library refuses: out-of-range ids, non-finite values, duplicates,
// shape mismatches, k = 0, bad λ, malformed files. The message names the offending item. It is one
// line of printable text: control bytes in it (NUL included) are escaped as mfgrad::quote() does, so
// what() is never cut short and never acts on a terminal.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message);
  explicit Error(const char* message);
};

// Raised when memory runs out, or would (mfgrad/memory.hpp checks before large allocations): the
// message says what was being allocated, how much, and what limit applied. An Error, so that a caller
// catching Error still catches it; the C interface returns MFGRAD_ERROR_OUT_OF_MEMORY for it, Python
// raises mfgrad.OutOfMemoryError, a MemoryError.
class OutOfMemory : public Error {
 public:
  using Error::Error;
};

}  // namespace mfgrad
