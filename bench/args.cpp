#include "args.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <exception>

#include "mfgrad/message.hpp"

namespace mfgrad::bench {

namespace {
bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}
}  // namespace

Args::Args(const std::string& command, const std::vector<std::string>& argv, const Spec& spec)
    : command_(command), help_(spec.help.empty() ? "'mfgrad help " + command + "'" : spec.help) {
  for (std::size_t x = 0; x < argv.size(); ++x) {
    const std::string& a = argv[x];
    if (a.size() < 3 || a.compare(0, 2, "--") != 0) {
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    if (contains(spec.flags, name)) {
      if (inline_value) throw UsageError(command + ": --" + name + " takes no value");
      flags_[name] = true;
    } else if (contains(spec.values, name) || contains(spec.repeatable, name)) {
      if (!inline_value) {
        if (x + 1 >= argv.size()) throw UsageError(command + ": --" + name + " needs a value");
        value = argv[++x];
      }
      auto& slot = values_[name];
      if (!slot.empty() && !contains(spec.repeatable, name))
        throw UsageError(command + ": --" + name + " given more than once");
      slot.push_back(value);
    } else {
      throw UsageError(command + ": unknown option " + quote("--" + name) + " (see " + help_ + ")");
    }
  }
}

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second.back();
}

std::string Args::required(const std::string& name) const {
  auto v = get(name);
  if (!v) throw UsageError(command_ + ": --" + name + " is required (see " + help_ + ")");
  return *v;
}

std::vector<std::string> Args::all(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

std::vector<std::string> Args::list(const std::string& name) const {
  std::vector<std::string> out;
  for (const std::string& v : all(name)) {
    std::size_t start = 0;
    while (start <= v.size()) {
      const std::size_t comma = std::min(v.find(',', start), v.size());
      if (comma > start) out.push_back(v.substr(start, comma - start));
      start = comma + 1;
    }
  }
  return out;
}

std::int64_t parse_integer(const std::string& option, const std::string& text, std::int64_t min, std::int64_t max) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < min || v > max)
    throw UsageError("--" + option + " expects a whole number from " + std::to_string(min) + " to " +
                     std::to_string(max) + ", got " + quote(text));
  return v;
}

double parse_number(const std::string& option, const std::string& text) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    throw UsageError("--" + option + " expects a number, got " + quote(text));
  return v;
}

double parse_number(const std::string& option, const std::string& text, double min, double max, bool open_min) {
  const double v = parse_number(option, text);
  if (!(open_min ? v > min : v >= min) || !(v <= max) || !std::isfinite(v))
    throw UsageError("--" + option + " expects a number " + (open_min ? "above " : "from ") + format_number(min) +
                     (open_min ? " and at most " : " to ") + format_number(max) + ", got " + quote(text));
  return v;
}

double Args::seconds(const std::string& name, double fallback) const {
  auto v = get(name);
  return v ? parse_number(name, *v, 0, 86400, true) : fallback;
}

std::int64_t Args::integer(const std::string& name, std::int64_t fallback, std::int64_t min, std::int64_t max) const {
  auto v = get(name);
  return v ? parse_integer(name, *v, min, max) : fallback;
}

double Args::number(const std::string& name, double fallback) const {
  auto v = get(name);
  return v ? parse_number(name, *v) : fallback;
}

int run_program(const std::string& program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    // Messages from the option reader already name the program; others (a bad value) do not.
    const std::string what = e.what();
    std::fprintf(stderr, "%s%s\n", what.rfind(program + ": ", 0) == 0 ? "" : (program + ": ").c_str(), what.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", program.c_str(), e.what());
    return 1;
  }
}

}  // namespace mfgrad::bench
