// CPU feature detection: CPUID with the OS check (XCR0) that a bare CPUID test misses on x86-64, the
// kernel's hardware capability bits on aarch64; and the MFGRAD_ISA ceiling, checked against the family.
#include "mfgrad/isa.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "mfgrad/message.hpp"
#include "mfgrad/types.hpp"
#include "simd/dispatch.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#elif defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#endif

namespace mfgrad {

namespace {

enum class Family { any, x86_64, aarch64 };

#if defined(__x86_64__) || defined(__i386__)
constexpr Family kBuild = Family::x86_64;
#elif defined(__aarch64__)
constexpr Family kBuild = Family::aarch64;
#else
constexpr Family kBuild = Family::any;  // only the baseline applies
#endif

const char* family_name(Family f) noexcept {
  switch (f) {
    case Family::x86_64:
      return "x86-64";
    case Family::aarch64:
      return "aarch64";
    case Family::any:
      break;
  }
  return "this processor";
}

// Every name MFGRAD_ISA and parse_isa() accept, the level it means and the family it belongs to.
struct IsaName {
  std::string_view name;
  Isa isa;
  Family family;
};
constexpr IsaName kNames[] = {
    {"baseline", Isa::baseline, Family::any}, {"scalar", Isa::baseline, Family::any},
    {"sse2", Isa::baseline, Family::x86_64},  {"avx2", Isa::avx2, Family::x86_64},
    {"avx512", Isa::avx512, Family::x86_64},  {"neon", Isa::neon, Family::aarch64},
    {"sve", Isa::sve, Family::aarch64},
};

Family family_of(Isa isa) noexcept {
  for (const IsaName& n : kNames)
    if (n.isa == isa) return n.family;
  return Family::any;
}

// Position within the family; NEON is the aarch64 baseline, so it ranks with it.
int rank(Isa isa) noexcept {
  switch (isa) {
    case Isa::baseline:
    case Isa::neon:
      return 0;
    case Isa::avx2:
    case Isa::sve:
      return 1;
    case Isa::avx512:
      return 2;
  }
  return 0;
}

// The names this build accepts, for error messages.
std::string accepted_names() {
  std::vector<std::string_view> names;
  for (const IsaName& n : kNames)
    if (n.family == Family::any || n.family == kBuild) names.push_back(n.name);
  std::string s;
  for (std::size_t i = 0; i < names.size(); ++i)
    s += std::string(i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + std::string(names[i]);
  return s;
}

#if defined(__x86_64__) || defined(__i386__)
Isa detect() noexcept {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return Isa::baseline;
  // F16C (float16 conversions) came with the first AVX2 CPUs; the avx2 and avx512 levels require it.
  const bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28), f16c = c & (1u << 29);
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
  if (avx512 && fma && f16c && os_zmm) return Isa::avx512;
  if (avx2 && fma && f16c) return Isa::avx2;
  return Isa::baseline;
}
unsigned detect_sve_bits() noexcept { return 0; }
#elif defined(__aarch64__)
// The kernel sets HWCAP_SVE only when it also manages the SVE state, as XCR0 does for AVX on x86.
Isa detect() noexcept {
  const unsigned long hwcap = getauxval(AT_HWCAP);
  if (hwcap & HWCAP_SVE) return Isa::sve;
  return (hwcap & HWCAP_ASIMD) ? Isa::neon : Isa::baseline;
}
unsigned detect_sve_bits() noexcept {
  if (!(getauxval(AT_HWCAP) & HWCAP_SVE)) return 0;
  const int vl = prctl(PR_SVE_GET_VL);
  return vl < 0 ? 0 : 8 * static_cast<unsigned>(vl & PR_SVE_VL_LEN_MASK);
}
#else
Isa detect() noexcept { return Isa::baseline; }
unsigned detect_sve_bits() noexcept { return 0; }
#endif

Isa parse_ceiling(std::string_view value) {
  for (const IsaName& n : kNames) {
    if (n.name != value) continue;
    if (n.family != Family::any && n.family != kBuild)
      throw Error("MFGRAD_ISA=" + std::string(value) + " names an " + family_name(n.family) +
                  " instruction set, but this build is for " + family_name(kBuild) + " (it accepts " +
                  accepted_names() + ")");
    return n.isa;
  }
  throw Error("MFGRAD_ISA: unknown instruction set " + quote(value) + " (this " + family_name(kBuild) +
              " build accepts " + accepted_names() + ")");
}

}  // namespace

const char* to_string(Isa isa) noexcept {
  switch (isa) {
    case Isa::baseline:
      return "baseline";
    case Isa::avx2:
      return "avx2";
    case Isa::avx512:
      return "avx512";
    case Isa::neon:
      return "neon";
    case Isa::sve:
      return "sve";
  }
  return "?";
}

Isa parse_isa(std::string_view name) {
  for (const IsaName& n : kNames)
    if (n.name == name) return n.isa;
  throw Error("unknown instruction set " + quote(name) +
              " (expected baseline, scalar, sse2, avx2, avx512, neon or sve)");
}

bool isa_allowed(Isa isa, Isa best, Isa ceiling) noexcept {
  if (isa == Isa::baseline) return true;
  return family_of(isa) == kBuild && rank(isa) <= rank(best) && rank(isa) <= rank(ceiling);
}

Isa cpu_best_isa() noexcept {
  static const Isa best = detect();
  return best;
}

unsigned sve_vector_bits() noexcept {
  static const unsigned bits = detect_sve_bits();
  return bits;
}

Isa isa_ceiling() {
  static const Isa ceiling = [] {
    const char* env = std::getenv("MFGRAD_ISA");
    return env == nullptr || *env == '\0' ? cpu_best_isa() : parse_ceiling(env);
  }();
  return ceiling;
}

std::string cpu_model_from_cpuinfo(std::string_view cpuinfo) {
  std::string implementer, part;
  while (!cpuinfo.empty()) {
    const std::size_t end = cpuinfo.find('\n');
    const std::string_view line = cpuinfo.substr(0, end);
    cpuinfo.remove_prefix(end == std::string_view::npos ? cpuinfo.size() : end + 1);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::size_t start = line.find_first_not_of(" \t", colon + 1);
    const std::string value(start == std::string_view::npos ? std::string_view{} : line.substr(start));
    if (value.empty()) continue;
    if (line.starts_with("model name") || line.starts_with("Model")) return value;
    if (line.starts_with("CPU implementer") && implementer.empty()) implementer = value;
    if (line.starts_with("CPU part") && part.empty()) part = value;
  }
  if (!implementer.empty() && !part.empty()) return "aarch64 CPU implementer " + implementer + " part " + part;
  return "unknown cpu";
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::ostringstream text;
  text << in.rdbuf();
  return cpu_model_from_cpuinfo(text.str());
}

std::size_t cache_bytes(int level, std::size_t fallback) {
  std::ifstream f("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(level) + "/size");
  std::size_t kib = 0;
  if (f >> kib && kib > 0) return kib * 1024;
  const long size = ::sysconf(level == 2 ? _SC_LEVEL2_CACHE_SIZE : _SC_LEVEL3_CACHE_SIZE);
  return size > 0 ? static_cast<std::size_t>(size) : fallback;
}

bool cpu_supports(Isa isa) noexcept {
  if (isa == Isa::baseline) return true;
  try {
    return isa_allowed(isa, cpu_best_isa(), isa_ceiling());
  } catch (const Error&) {
    return false;
  }
}

namespace {
// The level set_simd_level() chose, as an int of Isa; -1: none (the default of simd_level()).
std::atomic<int> level_override{-1};

// The levels this build has SIMD code for (kernels/simd/isas.hpp), most capable first.
#define MFGRAD_SIMD_LEVEL(level, family, isa, ...) MFGRAD_SIMD_FAMILY_##family(Isa::isa, )
constexpr Isa kBuiltLevels[] = {MFGRAD_SIMD_ISA_LIST(MFGRAD_SIMD_LEVEL)};
#undef MFGRAD_SIMD_LEVEL

bool built_level(Isa isa) noexcept {
  return std::find(std::begin(kBuiltLevels), std::end(kBuiltLevels), isa) != std::end(kBuiltLevels);
}
}  // namespace

Isa simd_level() {
  const int forced = level_override.load(std::memory_order_relaxed);
  if (forced >= 0) return static_cast<Isa>(forced);
  isa_ceiling();  // the one gate: an invalid MFGRAD_ISA is an Error here, for every entry point
  for (Isa isa : kBuiltLevels)
    if (cpu_supports(isa)) return isa;
  return Isa::baseline;
}

void set_simd_level(Isa isa) {
  if (kBuild == Family::aarch64 && isa == Isa::neon) isa = Isa::baseline;  // NEON is the aarch64 baseline
  if (!built_level(isa))
    throw Error(std::string("SIMD level ") + to_string(isa) + ": this " + family_name(kBuild) +
                " build has no code for it");
  if (!cpu_supports(isa))
    throw Error(std::string("SIMD level ") + to_string(isa) + ": this CPU (or MFGRAD_ISA) does not allow it");
  level_override.store(static_cast<int>(isa));
}

void reset_simd_level() noexcept { level_override.store(-1); }

ScopedSimdLevel::ScopedSimdLevel(Isa isa) : previous_(level_override.load()) { set_simd_level(isa); }
ScopedSimdLevel::~ScopedSimdLevel() { level_override.store(previous_); }

// The level the SIMD kernels dispatch to, as xsimd names it.
const char* simd_arch_name() {
  return kernels::simd::dispatch([](auto arch) { return decltype(arch)::name(); });
}
std::size_t simd_bytes() {
  return kernels::simd::dispatch([](auto arch) { return decltype(arch)::alignment(); });  // = register width
}

}  // namespace mfgrad
