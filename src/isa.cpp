// CPU feature detection, with the OS check (XCR0) that a bare CPUID test misses.
#include "mfgrad/isa.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "mfgrad/types.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace mfgrad {

namespace {

#if defined(__x86_64__) || defined(__i386__)
Isa detect() noexcept {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return Isa::baseline;
  const bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28);
  if (!osxsave || !avx) return Isa::baseline;
  unsigned xcr0_lo, xcr0_hi;
  __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  const bool os_ymm = (xcr0_lo & 0x6) == 0x6;    // SSE and AVX state saved by the OS
  const bool os_zmm = (xcr0_lo & 0xe6) == 0xe6;  // plus opmask and both halves of zmm
  if (!os_ymm || __get_cpuid_max(0, nullptr) < 7) return Isa::baseline;
  __cpuid_count(7, 0, a, b, c, d);
  const bool avx2 = b & (1u << 5);
  const bool avx512 = (b & (1u << 16)) && (b & (1u << 17)) && (b & (1u << 28)) && (b & (1u << 30)) &&
                      (b & (1u << 31));  // F, DQ, CD, BW, VL
  if (avx512 && fma && os_zmm) return Isa::avx512;
  if (avx2 && fma) return Isa::avx2;
  return Isa::baseline;
}
#elif defined(__aarch64__)
Isa detect() noexcept { return Isa::neon; }
#else
Isa detect() noexcept { return Isa::baseline; }
#endif

bool same_family(Isa a, Isa b) noexcept { return (a == Isa::neon) == (b == Isa::neon) || a == Isa::baseline || b == Isa::baseline; }

}  // namespace

const char* to_string(Isa isa) noexcept {
  switch (isa) {
    case Isa::baseline: return "baseline";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
    case Isa::neon: return "neon";
  }
  return "?";
}

Isa parse_isa(std::string_view name) {
  if (name == "baseline" || name == "sse2" || name == "scalar") return Isa::baseline;
  if (name == "avx2") return Isa::avx2;
  if (name == "avx512") return Isa::avx512;
  if (name == "neon") return Isa::neon;
  throw Error("unknown instruction set '" + std::string(name) + "' (expected baseline, avx2, avx512 or neon)");
}

Isa cpu_best_isa() noexcept {
  static const Isa best = detect();
  return best;
}

Isa isa_ceiling() {
  static const Isa ceiling = [] {
    const char* env = std::getenv("MFGRAD_ISA");
    if (env == nullptr || *env == '\0') return cpu_best_isa();
    try {
      return parse_isa(env);
    } catch (const Error& e) {
      throw Error(std::string("MFGRAD_ISA: ") + e.what());
    }
  }();
  return ceiling;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0 || line.rfind("Model", 0) == 0) {
      const auto colon = line.find(':');
      const auto start = colon == std::string::npos ? colon : line.find_first_not_of(" \t", colon + 1);
      if (start != std::string::npos) return line.substr(start);
    }
  return "unknown cpu";
}

std::size_t cache_bytes(int level, std::size_t fallback) {
  std::ifstream f("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(level) + "/size");
  std::size_t kib = 0;
  if (f >> kib && kib > 0) return kib * 1024;
  const long size = ::sysconf(level == 2 ? _SC_LEVEL2_CACHE_SIZE : _SC_LEVEL3_CACHE_SIZE);
  return size > 0 ? static_cast<std::size_t>(size) : fallback;
}

bool cpu_supports(Isa isa) noexcept {
  const Isa best = cpu_best_isa();
  if (isa == Isa::baseline) return true;
  if (!same_family(isa, best) || static_cast<int>(isa) > static_cast<int>(best)) return false;
  Isa ceiling;
  try {
    ceiling = isa_ceiling();
  } catch (const Error&) {
    return false;
  }
  return same_family(isa, ceiling) && static_cast<int>(isa) <= static_cast<int>(ceiling);
}

}  // namespace mfgrad
