// The command-line reader shared by bench's binaries (mfgrad_bench, mfgrad_count) and the mfgrad tool,
// whose commands include bench's: "--name value", "--name=value", bare flags, the rest positional.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "mfgrad/message.hpp"
#include "mfgrad/types.hpp"

namespace mfgrad::bench {

// A command line that does not make sense (unknown option, missing value). Exit status 2. Its message
// is one printable line, as mfgrad::Error's is: a value echoed from the command line cannot drive the
// terminal or break the line. Not an Error, so that catching Error never turns a usage error into a
// failure of the work.
class UsageError : public std::runtime_error {
 public:
  explicit UsageError(const std::string& message) : std::runtime_error(printable_line(message)) {}
};

// Options of one command: "--name value", "--name=value", or a bare "--flag"; the rest positional.
// Only the names declared are accepted; an option may be repeated when declared repeatable.
class Args {
 public:
  struct Spec {
    std::vector<std::string> values = {};      // options that take a value
    std::vector<std::string> repeatable = {};  // ... and may be given more than once
    std::vector<std::string> flags = {};       // options without a value
    std::string help = {};                     // where usage is explained; empty: 'mfgrad help <command>'
  };
  Args(const std::string& command, const std::vector<std::string>& argv, const Spec& spec);

  bool has(const std::string& name) const { return values_.count(name) > 0 || flags_.count(name) > 0; }
  std::optional<std::string> get(const std::string& name) const;
  std::string required(const std::string& name) const;
  std::vector<std::string> all(const std::string& name) const;  // every occurrence, in order
  // Comma-separated lists across all occurrences: --k 16,64 --k 128 → {16, 64, 128}.
  std::vector<std::string> list(const std::string& name) const;

  std::int64_t integer(const std::string& name, std::int64_t fallback, std::int64_t min, std::int64_t max) const;
  double number(const std::string& name, double fallback) const;
  // A duration in seconds, above 0 and at most a day.
  double seconds(const std::string& name, double fallback) const;

  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::string command_, help_;
  std::map<std::string, std::vector<std::string>> values_;
  std::map<std::string, bool> flags_;
  std::vector<std::string> positional_;
};

std::int64_t parse_integer(const std::string& option, const std::string& text, std::int64_t min, std::int64_t max);
double parse_number(const std::string& option, const std::string& text);
// A number within [min, max] (finite when both are): what every option with a range reads through,
// so that 0, a negative, nan or inf never reaches the code behind it.
double parse_number(const std::string& option, const std::string& text, double min, double max, bool open_min = false);

// A bench program's main around `body`: what it throws becomes one line on stderr naming `program`,
// and exit status 2 for a bad command line (UsageError), 1 for anything else.
int run_program(const std::string& program, const std::function<int()>& body);

}  // namespace mfgrad::bench
