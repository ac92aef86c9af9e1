// mfgrad — basic types shared by every public header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "mfgrad/half.hpp"

namespace mfgrad {

// Row and column ids are 32-bit; positions in Ω are 64-bit so nnz may pass 2^31.
using index_t = std::int32_t;
using offset_t = std::int64_t;

// The element type of U and V. bfloat16 and float16 are storage formats (mfgrad/half.hpp): products,
// sums and the returned ∂U, ∂V are float32 for them.
enum class Precision { f32, f64, bf16, f16 };

template <class T>
inline constexpr bool is_element_v =
    std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, bfloat16> || std::is_same_v<T, float16>;

template <class T>
constexpr Precision precision_of() noexcept {
  static_assert(is_element_v<T>, "float, double, bfloat16 or float16 only");
  if constexpr (std::is_same_v<T, float>)
    return Precision::f32;
  else if constexpr (std::is_same_v<T, double>)
    return Precision::f64;
  else if constexpr (std::is_same_v<T, bfloat16>)
    return Precision::bf16;
  else
    return Precision::f16;
}

// The type products, sums and gradients are computed in for factors stored as T: T itself for float
// and double, float for the 16-bit formats.
template <class T>
using compute_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

// Bytes of one stored element.
constexpr std::size_t element_bytes(Precision p) noexcept {
  return p == Precision::f64 ? 8 : p == Precision::f32 ? 4 : 2;
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

// Of four, one per element type.
template <class T, class F, class D, class B, class H>
constexpr auto& by_precision(F& f32, D& f64, B& bf16, H& f16) noexcept {
  static_assert(is_element_v<T>, "float, double, bfloat16 or float16 only");
  if constexpr (std::is_same_v<T, float>)
    return f32;
  else if constexpr (std::is_same_v<T, double>)
    return f64;
  else if constexpr (std::is_same_v<T, bfloat16>)
    return bf16;
  else
    return f16;
}

// Calls f(T{}) with T the element type of p (float, double, bfloat16, float16).
template <class F>
decltype(auto) with_precision(Precision p, F&& f) {
  switch (p) {
    case Precision::f64:
      return f(double{});
    case Precision::bf16:
      return f(bfloat16{});
    case Precision::f16:
      return f(float16{});
    default:
      return f(float{});
  }
}

constexpr const char* to_string(Precision p) noexcept {
  switch (p) {
    case Precision::f64:
      return "float64";
    case Precision::bf16:
      return "bfloat16";
    case Precision::f16:
      return "float16";
    default:
      return "float32";
  }
}

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

// Raised when a file cannot be opened, read or written, as opposed to one whose contents are refused
// (an Error): path() names the file, error_code() is the errno value that says why (ENOENT, EACCES,
// EISDIR, ENOSPC, ...). An Error, so that a caller catching Error still catches it; the C interface
// returns MFGRAD_ERROR_FILE for it, Python raises the OSError subclass of that errno
// (FileNotFoundError, PermissionError, IsADirectoryError, ...) with its filename.
class FileError : public Error {
 public:
  FileError(const std::string& message, std::string path, int error_code);
  const std::string& path() const noexcept { return path_; }
  int error_code() const noexcept { return error_code_; }

 private:
  std::string path_;
  int error_code_;
};

}  // namespace mfgrad
