#include "json.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <new>
#include <sstream>
#include <stdexcept>

#include "mfgrad/message.hpp"

namespace mfgrad::json {

namespace {

[[noreturn]] void type_error(const char* want) { throw std::runtime_error(std::string("JSON: expected ") + want); }

void quote(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Value document() {
    Value v = value();
    skip();
    if (pos_ != s_.size()) fail("unexpected text after the value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    std::size_t line = 1, col = 1;
    for (std::size_t x = 0; x < pos_ && x < s_.size(); ++x) s_[x] == '\n' ? (++line, col = 1) : ++col;
    throw std::runtime_error("JSON: line " + std::to_string(line) + ", column " + std::to_string(col) + ": " + what);
  }
  void skip() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t'))
      line_ += s_[pos_++] == '\n';
  }
  bool eat(char c) {
    skip();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) fail(std::string("expected '") + c + "'");
  }
  bool word(std::string_view w) {
    if (s_.substr(pos_, w.size()) == w) {
      pos_ += w.size();
      return true;
    }
    return false;
  }

  Value value() {
    skip();
    Value v = bare_value();
    v.set_line(line_);
    return v;
  }
  Value bare_value() {
    if (pos_ >= s_.size()) fail("unexpected end of text");
    const char c = s_[pos_];
    if (c == '{' || c == '[') {
      if (depth_ == kMaxDepth) fail("arrays and objects nest deeper than " + std::to_string(kMaxDepth) + " levels");
      ++depth_;
      Value v = c == '{' ? object() : array();
      --depth_;
      return v;
    }
    if (c == '"') return string();
    if (word("true")) return true;
    if (word("false")) return false;
    if (word("null")) return nullptr;
    if (word("NaN")) return std::nan("");  // Google Benchmark may print these
    if (word("Infinity")) return HUGE_VAL;
    if (word("-Infinity")) return -HUGE_VAL;
    return number();
  }
  Value number() {
    double d = 0;
    const char* begin = s_.data() + pos_;
    auto [end, ec] = std::from_chars(begin, s_.data() + s_.size(), d);
    if (ec == std::errc::result_out_of_range)
      fail("number " + mfgrad::quote(std::string_view(begin, end - begin)) + " is out of range for a double");
    if (ec != std::errc() || end == begin) fail("expected a value");
    pos_ += static_cast<std::size_t>(end - begin);
    return d;
  }
  std::string string() {
    expect('"');
    std::string out;
    while (true) {
      if (pos_ >= s_.size()) fail("unterminated string");
      const char c = s_[pos_++];
      if (c == '"') return out;
      if (c != '\\') {
        line_ += c == '\n';
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) fail("unterminated escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          if (pos_ + 4 > s_.size()) fail("short \\u escape");
          unsigned code = 0;
          auto [p, ec] = std::from_chars(s_.data() + pos_, s_.data() + pos_ + 4, code, 16);
          if (ec != std::errc() || p != s_.data() + pos_ + 4) fail("bad \\u escape");
          pos_ += 4;
          // UTF-8 for the basic plane; surrogate pairs are not expected in benchmark files.
          if (code < 0x80) {
            out += static_cast<char>(code);
          } else if (code < 0x800) {
            out += static_cast<char>(0xc0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3f));
          } else {
            out += static_cast<char>(0xe0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (code & 0x3f));
          }
          break;
        }
        default:
          fail("bad escape " + mfgrad::quote(std::string_view(s_.data() + pos_ - 2, 2)));
      }
    }
  }
  Value array() {
    expect('[');
    Array a;
    if (eat(']')) return a;
    do a.push_back(value());
    while (eat(','));
    expect(']');
    return a;
  }
  Value object() {
    expect('{');
    Object o;
    if (eat('}')) return o;
    do {
      skip();
      std::string key = string();
      expect(':');
      o.emplace_back(std::move(key), value());
    } while (eat(','));
    expect('}');
    return o;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;  // of s_[pos_]
  int depth_ = 0;         // arrays and objects open around pos_
};

}  // namespace

bool Value::as_bool() const {
  if (!is_bool()) type_error("a boolean");
  return std::get<bool>(v_);
}
double Value::as_number() const {
  if (!is_number()) type_error("a number");
  return std::get<double>(v_);
}
const std::string& Value::as_string() const {
  if (!is_string()) type_error("a string");
  return std::get<std::string>(v_);
}
const Array& Value::as_array() const {
  if (!is_array()) type_error("an array");
  return *std::get<std::shared_ptr<Array>>(v_);
}
Array& Value::as_array() {
  if (!is_array()) type_error("an array");
  return *std::get<std::shared_ptr<Array>>(v_);
}
const Object& Value::as_object() const {
  if (!is_object()) type_error("an object");
  return *std::get<std::shared_ptr<Object>>(v_);
}
Object& Value::as_object() {
  if (!is_object()) type_error("an object");
  return *std::get<std::shared_ptr<Object>>(v_);
}

const Value* Value::find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const auto& [k, v] : as_object())
    if (k == key) return &v;
  return nullptr;
}

Value& Value::operator[](std::string_view key) {
  if (is_null()) v_ = std::make_shared<Object>();
  Object& o = as_object();
  for (auto& [k, v] : o)
    if (k == key) return v;
  o.emplace_back(std::string(key), Value());
  return o.back().second;
}

std::string Value::dump(int indent) const {
  std::string out;
  dump_to(out, indent, 0);
  return out;
}

void Value::dump_to(std::string& out, int indent, int depth) const {
  const auto newline = [&](int d) {
    if (indent < 0) return;
    out += '\n';
    out.append(static_cast<std::size_t>(indent * d), ' ');
  };
  if (is_null()) {
    out += "null";
  } else if (is_bool()) {
    out += as_bool() ? "true" : "false";
  } else if (is_number()) {
    const double d = as_number();
    if (!std::isfinite(d)) {
      out += "null";  // JSON has no NaN or infinity
    } else {
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
      out.append(buf, end);
    }
  } else if (is_string()) {
    quote(out, as_string());
  } else if (is_array()) {
    const Array& a = as_array();
    out += '[';
    for (std::size_t x = 0; x < a.size(); ++x) {
      if (x) out += indent < 0 ? ", " : ",";
      newline(depth + 1);
      a[x].dump_to(out, indent, depth + 1);
    }
    if (!a.empty()) newline(depth);
    out += ']';
  } else {
    const Object& o = as_object();
    out += '{';
    for (std::size_t x = 0; x < o.size(); ++x) {
      if (x) out += indent < 0 ? ", " : ",";
      newline(depth + 1);
      quote(out, o[x].first);
      out += ": ";
      o[x].second.dump_to(out, indent, depth + 1);
    }
    if (!o.empty()) newline(depth);
    out += '}';
  }
}

Value parse(std::string_view text) { return Parser(text).document(); }

Value parse_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  try {
    std::ostringstream text;
    text << in.rdbuf();
    return parse(text.str());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  } catch (const std::bad_alloc&) {
    throw std::runtime_error(path + ": out of memory reading and parsing it");
  }
}

}  // namespace mfgrad::json
