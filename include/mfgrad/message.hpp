// mfgrad — how messages show what they are about: text from an input, numbers and sizes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mfgrad {

// Text taken from an input, as every message shows it: in single quotes, at most `max` bytes of it
// (then "..."), with backslashes, control bytes (NUL included) and bytes that are not printable UTF-8
// written as escapes (\\, \t, \r, \n, \0, \xNN). A message built with it stays one line of printable
// text, whatever the input held, and is never cut short by a NUL.
std::string quote(std::string_view text, std::size_t max = 80);

// `message` as one line of printable text: control bytes (NUL and newlines included) escaped as quote()
// writes them, the rest unchanged (backslashes too: quote() has escaped those of the inputs it shows).
// What every mfgrad::Error's what() is made of.
std::string printable_line(std::string message);

// The shortest text that reads back as the same double: "4.5", "1e+39", "inf", "nan".
std::string format_number(double v);

// Bytes in binary units, three significant digits: "512 bytes", "3.50 KiB", "4.42 GiB".
std::string format_bytes(std::size_t bytes);

}  // namespace mfgrad
