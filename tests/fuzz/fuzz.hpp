// What every reader must hold to whatever bytes it is given, checked by the fuzz targets: a reader
// either succeeds with consistent results or throws an mfgrad::Error whose message is one printable
// line of bounded length that names the input and where in it. Anything else (another exception, a
// malformed message, inconsistent results) aborts, so that libFuzzer keeps the input as a finding and
// the corpus replay fails on it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "mfgrad/message.hpp"
#include "mfgrad/types.hpp"

namespace mfgrad::fuzz {

// Longest acceptable message: a few quoted excerpts (80 input bytes each, up to 4 characters per byte
// once escaped) and their explanation.
constexpr std::size_t kMaxMessage = 2048;

[[noreturn]] inline void violated(std::string_view what, std::string_view detail) {
  std::fprintf(stderr, "fuzz invariant violated: %.*s\n  %s\n", static_cast<int>(what.size()), what.data(),
               quote(detail, 4096).c_str());
  std::abort();
}

inline void require(bool ok, std::string_view what, std::string_view detail = {}) {
  if (!ok) violated(what, detail);
}

// One line of printable text, not too long.
inline void check_printable(const std::string& message) {
  require(!message.empty(), "empty message");
  require(message.size() <= kMaxMessage, "message longer than kMaxMessage", message);
  for (const char c : message)
    require(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f, "control byte in a message", message);
}

// The number at the start of `text` (a line or a byte offset), or -1 when there is none.
inline std::int64_t leading_number(std::string_view text) {
  std::int64_t value = 0;
  std::size_t k = 0;
  for (; k < text.size() && k < 18 && text[k] >= '0' && text[k] <= '9'; ++k) value = value * 10 + (text[k] - '0');
  return k == 0 ? -1 : value;
}

// "NAME<separator>N: ..." with 1 <= N <= most (or 0 <= N for byte offsets, from == 0).
inline void check_located(const std::string& message, std::string_view name, std::string_view separator,
                          std::int64_t from, std::int64_t most) {
  check_printable(message);
  const std::string prefix = std::string(name) + std::string(separator);
  require(message.starts_with(prefix), "message does not start with the input's name and place", message);
  const std::string_view rest = std::string_view(message).substr(prefix.size());
  const std::int64_t at = leading_number(rest);
  require(at >= from && at <= most, "place out of the input's range", message);
  require(rest.substr(std::to_string(at).size()).starts_with(": "), "no ': ' after the place", message);
}

// Runs body; an mfgrad::Error goes to on_error (which checks its message), any other exception is a
// violation. Returns whether body completed.
template <class Body, class OnError>
bool attempt(Body&& body, OnError&& on_error) {
  try {
    body();
    return true;
  } catch (const Error& e) {
    on_error(std::string(e.what()));
  } catch (const std::exception& e) {
    violated("an exception other than mfgrad::Error escaped", e.what());
  }
  return false;
}

// Lines of a text as the readers count them.
inline std::int64_t line_count(std::string_view text) {
  std::int64_t lines = 1;
  for (const char c : text) lines += c == '\n';
  return lines;
}

}  // namespace mfgrad::fuzz
