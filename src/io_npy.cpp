// NumPy .npy files holding a 2-D float32 or float64 array in C order.
#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "io_detail.hpp"
#include "mfgrad/io.hpp"
#include "mfgrad/message.hpp"

namespace mfgrad {

// Data is copied as it lies in memory, and .npy files written here say '<' (little-endian).
static_assert(std::endian::native == std::endian::little, "mfgrad's .npy code assumes a little-endian machine");

namespace {

constexpr std::string_view kMagic = "\x93NUMPY";

struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::uint64_t> shape;
  std::size_t descr_at = 0, order_at = 0, shape_at = 0;  // offsets of the values in the header text
};

// Every message: "NAME: byte OFFSET: what", the offset counted from the start of the file.
[[noreturn]] void fail(const std::string& name, std::size_t offset, const std::string& what) {
  throw Error(name + ": byte " + std::to_string(offset) + ": " + what);
}

// The header is a Python dict literal such as "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }";
// keys may come in any order, with any spacing and an optional trailing comma.
class HeaderParser {
 public:
  // `start`: where the header text begins in the file, so that messages can give file offsets.
  HeaderParser(const std::string& name, std::string_view text, std::size_t start)
      : name_(name), text_(text), start_(start) {}

  NpyHeader parse() {
    NpyHeader h;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    expect('{');
    while (!eat('}')) {
      const std::string_view key = quoted("a quoted key");
      expect(':');
      skip_space();
      if (key == "descr" && !seen_descr) {
        h.descr_at = start_ + pos_;
        h.descr = quoted("a quoted dtype after 'descr'");
        seen_descr = true;
      } else if (key == "fortran_order" && !seen_order) {
        h.order_at = start_ + pos_;
        h.fortran_order = boolean();
        seen_order = true;
      } else if (key == "shape" && !seen_shape) {
        h.shape_at = start_ + pos_;
        h.shape = tuple();
        seen_shape = true;
      } else {
        fail("unexpected or repeated key " + quote(key));
      }
      if (!eat(',')) {
        expect('}');
        break;
      }
    }
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the closing '}'");
    if (!seen_descr || !seen_order || !seen_shape) fail("'descr', 'fortran_order' and 'shape' are all required");
    return h;
  }

 private:
  // Names the offset reached, and shows the header from there, as far as a message shows input text.
  [[noreturn]] void fail(const std::string& what) const {
    const std::size_t at = std::min(pos_, text_.size());
    mfgrad::fail(name_, start_ + at, "cannot parse the .npy header: " + what + ", found " + quote(text_.substr(at)));
  }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n')) ++pos_;
  }

  bool eat(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  void expect(char c) {
    if (!eat(c)) fail(std::string("expected '") + c + "'");
  }

  std::string_view quoted(const char* what) {
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) fail(std::string("expected ") + what);
    const char quote = text_[pos_++];
    const std::size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) fail("unterminated string");
    const std::string_view s = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }

  bool boolean() {
    skip_space();
    for (const bool value : {true, false}) {
      const std::string_view word = value ? "True" : "False";
      if (text_.substr(pos_).starts_with(word)) {
        pos_ += word.size();
        return value;
      }
    }
    fail("expected True or False after 'fortran_order'");
  }

  // "()", "(3,)", "(3, 4)"; old Python 2 files may write "3L".
  std::vector<std::uint64_t> tuple() {
    expect('(');
    std::vector<std::uint64_t> dims;
    while (!eat(')')) {
      skip_space();
      std::size_t end = pos_;
      while (end < text_.size() && text_[end] >= '0' && text_[end] <= '9') ++end;
      std::uint64_t dim = 0;
      const auto [ptr, ec] = std::from_chars(text_.data() + pos_, text_.data() + end, dim);
      if (ec != std::errc() || end == pos_) fail("expected a dimension (a whole number below 2^64) in 'shape'");
      dims.push_back(dim);
      pos_ = end;
      if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;
      if (!eat(',')) {
        expect(')');
        break;
      }
    }
    return dims;
  }

  const std::string& name_;
  std::string_view text_;
  std::size_t start_;
  std::size_t pos_ = 0;
};

// "(3, 4)", "(6,)"; a shape of many dimensions shows its first few and how many there are.
std::string shape_text(const std::vector<std::uint64_t>& shape) {
  constexpr std::size_t kShown = 4;
  std::string s = "(";
  for (std::size_t k = 0; k < shape.size() && k < kShown; ++k) s += (k == 0 ? "" : ", ") + std::to_string(shape[k]);
  if (shape.size() > kShown) return s + ", ...: " + std::to_string(shape.size()) + " dimensions)";
  return s + (shape.size() == 1 ? ",)" : ")");
}

// Header and data of one array into `out`, not yet committed.
template <class T>
void write_into(detail::AtomicFile& out, const T* data, std::size_t rows, std::size_t cols) {
  constexpr bool is_f32 = std::is_same_v<T, float>;
  std::string dict = std::string("{'descr': '") + (is_f32 ? "<f4" : "<f8") + "', 'fortran_order': False, 'shape': (" +
                     std::to_string(rows) + ", " + std::to_string(cols) + "), }";
  // Magic, version and length take 10 bytes; pad so that the data starts on a 64-byte boundary.
  const std::size_t unpadded = 10 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  std::string head(kMagic);
  head += '\x01';
  head += '\x00';
  head += static_cast<char>(dict.size() & 0xff);
  head += static_cast<char>(dict.size() >> 8);
  head += dict;

  out.write(head);
  out.write(std::string_view(reinterpret_cast<const char*>(data), rows * cols * sizeof(T)));
}

template <class T>
void write(const std::string& path, const T* data, std::size_t rows, std::size_t cols) {
  detail::AtomicFile out(path);
  write_into(out, data, rows, cols);
  out.commit();
}

void check_magic(std::string_view b, const std::string& name) {
  if (!b.starts_with(kMagic))
    fail(name, 0, "not a .npy file: it starts with " + quote(b.substr(0, kMagic.size())) + ", not '\\x93NUMPY'");
}

}  // namespace

NpyArray parse_npy(std::string_view bytes, const std::string& name) {
  std::string_view b = bytes;
  check_magic(b, name);
  if (b.size() < 8) fail(name, b.size(), "truncated .npy header: the file ends before the version");
  const auto major = static_cast<unsigned char>(b[6]), minor = static_cast<unsigned char>(b[7]);
  if (major < 1 || major > 3 || minor != 0)
    fail(name, 6,
         "unsupported .npy version " + std::to_string(major) + "." + std::to_string(minor) +
             " (supported: 1.0, 2.0, 3.0)");
  // Version 1.0 stores the header length in 2 bytes, later versions in 4; both little-endian.
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  const std::size_t header_start = 8 + length_bytes;
  if (b.size() < header_start) fail(name, b.size(), "truncated .npy header: the file ends inside the header length");
  std::size_t header_length = 0;
  for (std::size_t k = 0; k < length_bytes; ++k)
    header_length |= static_cast<std::size_t>(static_cast<unsigned char>(b[8 + k])) << (8 * k);
  b.remove_prefix(header_start);
  if (b.size() < header_length)
    fail(name, 8,
         "truncated .npy header: its length field says " + std::to_string(header_length) + " bytes, the file has " +
             std::to_string(b.size()) + " after it");
  const NpyHeader h = HeaderParser(name, b.substr(0, header_length), header_start).parse();
  b.remove_prefix(header_length);
  const std::size_t data_start = header_start + header_length;

  NpyArray a;
  if (h.descr == "<f4") {
    a.dtype = Precision::f32;
  } else if (h.descr == "<f8") {
    a.dtype = Precision::f64;
  } else if (h.descr.starts_with('>')) {
    fail(name, h.descr_at,
         "big-endian dtype " + quote(h.descr) + " is not supported, save as little-endian ('<f4' or '<f8')");
  } else {
    fail(name, h.descr_at, "dtype " + quote(h.descr) + " is not supported, only '<f4' (float32) or '<f8' (float64)");
  }
  if (h.fortran_order) fail(name, h.order_at, "Fortran order is not supported, save with np.ascontiguousarray");
  if (h.shape.size() != 2)
    fail(name, h.shape_at, "shape " + shape_text(h.shape) + " is not supported, only 2-D arrays");

  const std::size_t item = a.dtype == Precision::f32 ? sizeof(float) : sizeof(double);
  std::size_t count = 0, need = 0;
  if (__builtin_mul_overflow(h.shape[0], h.shape[1], &count) || __builtin_mul_overflow(count, item, &need))
    fail(name, h.shape_at, "shape " + shape_text(h.shape) + " is too large: its size overflows 64 bits");
  // The data must be there before anything is allocated for it: memory follows the file's size.
  if (b.size() < need)
    fail(name, data_start,
         "truncated: shape " + shape_text(h.shape) + " needs " + std::to_string(need) + " bytes of data, found " +
             std::to_string(b.size()));
  if (b.size() > need)
    fail(name, data_start + need,
         "shape " + shape_text(h.shape) + " needs " + std::to_string(need) + " bytes of data, found " +
             std::to_string(b.size()) + " (extra bytes after the array)");
  a.rows = static_cast<std::size_t>(h.shape[0]);
  a.cols = static_cast<std::size_t>(h.shape[1]);
  try {
    if (a.dtype == Precision::f32) {
      a.f32.resize(count);
      if (need != 0) std::memcpy(a.f32.data(), b.data(), need);
    } else {
      a.f64.resize(count);
      if (need != 0) std::memcpy(a.f64.data(), b.data(), need);
    }
  } catch (const std::bad_alloc&) {
    throw OutOfMemory(name + ": byte " + std::to_string(data_start) + ": " + "out of memory: cannot allocate " +
                      format_bytes(need) + " for its " + shape_text(h.shape) + " " + to_string(a.dtype) + " array");
  }
  return a;
}

NpyArray read_npy(const std::string& path) {
  // The magic is checked before the rest is read.
  const detail::FileBytes bytes(
      path, [&](std::string_view head) { check_magic(head, path); }, kMagic.size());
  return parse_npy(bytes.view(), path);
}

void write_npy(const std::string& path, const float* data, std::size_t rows, std::size_t cols) {
  write(path, data, rows, cols);
}

void write_npy(const std::string& path, const double* data, std::size_t rows, std::size_t cols) {
  write(path, data, rows, cols);
}

void write_npy(const std::vector<NpyOutput>& outputs) {
  std::vector<std::unique_ptr<detail::AtomicFile>> files;
  for (const NpyOutput& o : outputs) files.push_back(std::make_unique<detail::AtomicFile>(o.path));
  for (std::size_t x = 0; x < outputs.size(); ++x) {
    const NpyOutput& o = outputs[x];
    if (o.f32 != nullptr)
      write_into(*files[x], o.f32, o.rows, o.cols);
    else
      write_into(*files[x], o.f64, o.rows, o.cols);
    files[x]->finish();
  }
  for (auto& f : files) f->commit();  // renames only, once every file is whole
}

}  // namespace mfgrad
