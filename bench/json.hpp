// A small JSON value: built and printed by the benchmark and the CLI, parsed by `mfgrad compare`.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace mfgrad::json {

class Value;
using Array = std::vector<Value>;
using Object = std::vector<std::pair<std::string, Value>>;  // keeps insertion order

class Value {
 public:
  Value() = default;  // null
  Value(std::nullptr_t) {}
  Value(bool b) : v_(b) {}
  Value(double d) : v_(d) {}
  Value(int i) : v_(static_cast<double>(i)) {}
  Value(long i) : v_(static_cast<double>(i)) {}
  Value(long long i) : v_(static_cast<double>(i)) {}
  Value(unsigned long i) : v_(static_cast<double>(i)) {}
  Value(unsigned long long i) : v_(static_cast<double>(i)) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(std::string_view s) : v_(std::string(s)) {}
  Value(Array a) : v_(std::make_shared<Array>(std::move(a))) {}
  Value(Object o) : v_(std::make_shared<Object>(std::move(o))) {}

  bool is_null() const { return std::holds_alternative<std::monostate>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_number() const { return std::holds_alternative<double>(v_); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_array() const { return std::holds_alternative<std::shared_ptr<Array>>(v_); }
  bool is_object() const { return std::holds_alternative<std::shared_ptr<Object>>(v_); }

  // Accessors throw std::runtime_error naming the expected type when it does not match.
  bool as_bool() const;
  double as_number() const;
  const std::string& as_string() const;
  const Array& as_array() const;
  Array& as_array();
  const Object& as_object() const;
  Object& as_object();

  // Object member, or nullptr when absent (or when this is not an object).
  const Value* find(std::string_view key) const;
  // Object member; adds it (null) when absent. Turns null into an empty object first.
  Value& operator[](std::string_view key);

  // indent < 0: one line.
  std::string dump(int indent = -1) const;

  // The line of the text it was parsed from where the value starts (from 1); 0 when built in code.
  std::size_t line() const { return line_; }
  void set_line(std::size_t line) { line_ = line; }

 private:
  void dump_to(std::string& out, int indent, int depth) const;
  std::variant<std::monostate, bool, double, std::string, std::shared_ptr<Array>, std::shared_ptr<Object>> v_;
  std::size_t line_ = 0;
};

// Arrays and objects may nest this deep; deeper text is refused rather than recursed into.
inline constexpr int kMaxDepth = 256;

// Throws std::runtime_error "JSON: line L, column C: what" on malformed text.
Value parse(std::string_view text);

// Reads and parses a file; errors name the file.
Value parse_file(const std::string& path);

}  // namespace mfgrad::json
