// Input text, numbers and sizes inside messages (mfgrad/message.hpp).
#include "mfgrad/message.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iterator>

#include "mfgrad/types.hpp"

namespace mfgrad {

namespace {

// Length of the well-formed UTF-8 sequence of a printable character starting at text[at], or 0 when
// the bytes there are not one (stray continuation bytes, overlong forms, surrogates, C1 controls).
std::size_t printable_utf8(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[at + k]); };
  const unsigned char lead = byte(0);
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    if (lead == 0xC2) low = 0xA0;  // U+0080..U+009F are the C1 control characters
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // UTF-16 surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // beyond U+10FFFF
  } else {
    return 0;
  }
  if (text.size() - at < length || byte(1) < low || byte(1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k)
    if (byte(k) < 0x80 || byte(k) > 0xBF) return 0;
  return length;
}

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7F; }

// A byte that must not reach a terminal raw, as an escape.
void append_escaped(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  switch (c) {
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\0':
      out += "\\0";
      break;
    default:
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
  }
}

}  // namespace

std::string quote(std::string_view text, std::size_t max) {
  std::string out = "'";
  std::size_t at = 0;
  while (at < text.size() && at < max) {
    const auto c = static_cast<unsigned char>(text[at]);
    if (c >= 0x80) {
      const std::size_t length = printable_utf8(text, at);
      if (length != 0 && at + length <= max) {
        out.append(text, at, length);
        at += length;
        continue;
      }
      if (length != 0) break;  // a whole character or none
    }
    ++at;
    if (c == '\\')
      out += "\\\\";
    else if (c >= 0x80 || is_control(c))
      append_escaped(out, c);
    else
      out += static_cast<char>(c);
  }
  if (at < text.size()) out += "...";
  return out + "'";
}

// Every message is one printable line even when code puts input text in it without quote(): control
// bytes that reach here are escaped (backslashes are left alone, quote() has written them already).
std::string printable_line(std::string message) {
  if (std::none_of(message.begin(), message.end(), [](char c) { return is_control(static_cast<unsigned char>(c)); }))
    return message;
  std::string out;
  for (const char c : message)
    if (is_control(static_cast<unsigned char>(c)))
      append_escaped(out, static_cast<unsigned char>(c));
    else
      out += c;
  return out;
}

Error::Error(const std::string& message) : std::runtime_error(printable_line(message)) {}
Error::Error(const char* message) : Error(std::string(message)) {}

FileError::FileError(const std::string& message, std::string path, int error_code)
    : Error(message), path_(std::move(path)), error_code_(error_code) {}

std::string format_number(double v) {
  char buf[32];
  for (int digits = 6; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

std::string format_bytes(std::size_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
  double value = static_cast<double>(bytes) / 1024;
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f %s", value < 10 ? 2 : value < 100 ? 1 : 0, value, kUnits[unit]);
  return buf;
}

}  // namespace mfgrad
