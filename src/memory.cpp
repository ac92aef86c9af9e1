// Memory estimates and the limit they are checked against (mfgrad/memory.hpp).
#include "mfgrad/memory.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string_view>

#include "kernel_author.hpp"
#include "mfgrad/kernel.hpp"
#include "mfgrad/message.hpp"

namespace mfgrad {

namespace {

constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();

std::size_t add(std::size_t a, std::size_t b) { return a > kMax - b ? kMax : a + b; }

std::size_t mul(std::size_t a, std::size_t b) {
  std::size_t out = 0;
  return __builtin_mul_overflow(a, b, &out) ? kMax : out;
}

// A count of rows or entries; negative counts (never valid shapes) count as none.
std::size_t count(std::int64_t x) { return x < 0 ? 0 : static_cast<std::size_t>(x); }

// "1024", "512M", "4G", "1T", "4GiB" (binary units); false when the text is not a size.
bool parse_size(std::string_view text, std::size_t& bytes) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return false;
  std::string_view suffix(end, static_cast<std::size_t>(text.data() + text.size() - end));
  unsigned shift = 0;
  if (!suffix.empty()) {
    const char unit = static_cast<char>(suffix.front() | 0x20);
    shift = unit == 'k' ? 10 : unit == 'm' ? 20 : unit == 'g' ? 30 : unit == 't' ? 40 : 64;
    suffix.remove_prefix(1);
    if (suffix == "iB" || suffix == "B" || suffix == "b") suffix = {};
    if (shift == 64 || !suffix.empty()) return false;
  }
  if (shift != 0 && value > (std::uint64_t{1} << (64 - shift)) - 1) return false;
  bytes = static_cast<std::size_t>(value << shift);
  return true;
}

// A "Key:   123 kB" line of a /proc file, in bytes; false when absent.
bool proc_field(const char* file, std::string_view key, std::size_t& bytes) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with(key) || line.size() <= key.size() || line[key.size()] != ':') continue;
    std::string_view rest(line);
    rest.remove_prefix(key.size() + 1);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    std::uint64_t kib = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), kib);
    if (ec != std::errc()) return false;
    bytes = kib > (kMax >> 10) ? kMax : static_cast<std::size_t>(kib << 10);
    return true;
  }
  return false;
}

// A cgroup v2 control file holding a number or "max".
bool cgroup_value(const std::string& path, std::size_t& bytes) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text == "max") return false;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return false;
  bytes = static_cast<std::size_t>(v);
  return true;
}

void lower(MemoryLimit& limit, std::size_t bytes, std::string source) {
  if (bytes < limit.bytes) limit = {bytes, std::move(source)};
}

}  // namespace

std::size_t MemoryNeed::total() const noexcept { return add(add(observed, factors), add(gradients, scratch)); }

std::string MemoryNeed::describe() const {
  std::string parts;
  const auto part = [&](const char* name, std::size_t bytes) {
    if (bytes != 0) parts += (parts.empty() ? "" : ", ") + std::string(name) + " " + format_bytes(bytes);
  };
  part("Ω", observed);
  part("factors", factors);
  part("gradients", gradients);
  part("scratch", scratch);
  return format_bytes(total()) + (parts.empty() ? "" : " (" + parts + ")");
}

// As Observed::build works: per entry the CSR and CSC arrays (40 bytes) and, for input not already in
// row-major order, the sorting permutation and its companions (32); per row and column the pointers
// and their counters.
MemoryNeed observed_memory(std::int64_t m, std::int64_t n, std::int64_t nnz) {
  MemoryNeed need;
  need.observed = add(add(mul(count(m), 24), mul(count(n), 24)), add(mul(count(nnz), 72), 64));
  return need;
}

// Scratch, the largest any implementation takes: the oracle's double accumulators for both gradients,
// or per-thread copies of ∂V; plus residuals and a tiled copy of Ω's indices and values per entry. For
// 16-bit factors the gradients, copies and residuals are float32, and an implementation that does not
// read 16-bit rows itself holds float32 copies of U and V besides.
MemoryNeed evaluation_memory(std::int64_t m, std::int64_t n, std::int64_t nnz, std::size_t k, Precision precision,
                             int threads, bool plan) {
  const std::size_t stored = element_bytes(precision), item = precision == Precision::f64 ? 8 : 4;
  const std::size_t rows = add(count(m), count(n));
  MemoryNeed need;
  need.factors = mul(mul(rows, k), stored);
  need.gradients = mul(mul(rows, k), item);
  const std::size_t accumulators = mul(mul(rows, k), sizeof(double));
  const std::size_t private_copies = mul(mul(count(threads - 1), count(n)), mul(k, item));
  const std::size_t widened = stored < item ? mul(mul(rows, k), item) : 0;
  need.scratch =
      add(add(add(std::max(accumulators, private_copies), mul(count(nnz), 24 + 2 * item)), mul(rows, 40)), widened);
  if (plan) need.scratch = add(need.scratch, add(need.factors, need.gradients));
  return need;
}

MemoryNeed kernel_memory(const Kernel& kernel, std::int64_t m, std::int64_t n, std::int64_t nnz, std::size_t k,
                         Precision precision, int threads, bool plan) {
  // 16-bit factors: U and V stored in 2 bytes, everything else float32; an implementation that does not
  // read 16-bit rows itself holds float32 copies of U and V besides.
  const std::size_t stored = element_bytes(precision), item = precision == Precision::f64 ? 8 : 4;
  const std::size_t rows = add(count(m), count(n));
  const std::size_t padded_row = mul((add(mul(k, item), 63) / 64), 64);  // a factor row on whole cache lines
  MemoryNeed need;
  need.factors = mul(mul(rows, k), stored);
  need.gradients = mul(mul(rows, k), item);
  const std::size_t widened =
      stored < item && !(kernel.code != nullptr && kernel.code->native_half) ? mul(mul(rows, k), item) : 0;
  std::size_t own = 0;
  if (kernel.oracle) own = mul(mul(rows, k), sizeof(double));
  if (!kernel.deterministic && !kernel.serial)
    own = std::max(own, mul(add(count(threads), 1), mul(count(n), padded_row)));
  need.scratch = add(add(add(own, mul(count(nnz), 24 + 2 * item)), mul(rows, 40)), widened);
  if (plan) need.scratch = add(need.scratch, add(need.factors, need.gradients));
  return need;
}

void check_rank(std::size_t k) {
  if (k < 1 || k > max_rank)
    throw Error("k = " + std::to_string(k) + " is outside 1.." + std::to_string(max_rank) +
                " (2^24, the largest rank mfgrad evaluates)");
}

MemoryLimit memory_limit() {
  if (const char* env = std::getenv("MFGRAD_MEMORY_LIMIT"); env != nullptr && *env != '\0') {
    std::size_t bytes = 0;
    if (!parse_size(env, bytes))
      throw Error("MFGRAD_MEMORY_LIMIT=" + quote(env) + " is not a size (bytes, or a whole number with K, M, G or T)");
    return {bytes, "MFGRAD_MEMORY_LIMIT"};
  }
  MemoryLimit limit{kMax, "no limit known"};
  if (std::size_t available = 0; proc_field("/proc/meminfo", "MemAvailable", available))
    lower(limit, available, "MemAvailable in /proc/meminfo");
  const std::pair<int, const char*> rlimits[] = {{RLIMIT_AS, "VmSize"}, {RLIMIT_DATA, "VmData"}};
  for (const auto& [resource, usage_key] : rlimits) {
    struct rlimit r {};
    if (::getrlimit(resource, &r) != 0 || r.rlim_cur == RLIM_INFINITY) continue;
    std::size_t used = 0;
    proc_field("/proc/self/status", usage_key, used);
    const auto cap = static_cast<std::size_t>(r.rlim_cur);
    lower(limit, cap > used ? cap - used : 0,
          std::string(resource == RLIMIT_AS ? "RLIMIT_AS" : "RLIMIT_DATA") + " less " + usage_key);
  }
  // cgroup v2: the process's group and every group above it may have a memory.max.
  std::ifstream groups("/proc/self/cgroup");
  for (std::string line; std::getline(groups, line);) {
    if (!line.starts_with("0::")) continue;
    std::string group = line.substr(3);
    for (;;) {
      const std::string dir = "/sys/fs/cgroup" + (group == "/" ? std::string() : group);
      std::size_t max = 0, current = 0;
      if (cgroup_value(dir + "/memory.max", max) && cgroup_value(dir + "/memory.current", current))
        lower(limit, max > current ? max - current : 0, "memory.max less memory.current of " + dir);
      if (group.empty() || group == "/") break;
      const std::size_t slash = group.rfind('/');
      group = slash == 0 || slash == std::string::npos ? "/" : group.substr(0, slash);
    }
  }
  return limit;
}

void check_memory(const MemoryNeed& need, const std::string& what) {
  const MemoryLimit limit = memory_limit();
  if (need.total() <= limit.bytes) return;
  throw OutOfMemory(what + " needs about " + need.describe() + ", more than the " + format_bytes(limit.bytes) +
                    " this process may use (" + limit.source +
                    (limit.source == "MFGRAD_MEMORY_LIMIT" ? "" : "; MFGRAD_MEMORY_LIMIT sets another limit") + ")");
}

}  // namespace mfgrad
