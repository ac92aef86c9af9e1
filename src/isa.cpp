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

#if defined(__x86_64__) || defined(__i386__)
constexpr IsaFamily kBuild = IsaFamily::x86_64;
#elif defined(__aarch64__)
constexpr IsaFamily kBuild = IsaFamily::aarch64;
#else
constexpr IsaFamily kBuild = IsaFamily::any;  // only the baseline applies
#endif

constexpr const IsaLevel& level_of(Isa isa) noexcept { return isa_levels[static_cast<std::size_t>(isa)]; }
constexpr bool valid(Isa isa) noexcept { return static_cast<std::size_t>(isa) < std::size(isa_levels); }
constexpr int rank(Isa isa) noexcept { return level_of(isa).rank; }

// One line of kernels/simd/isas.hpp: the build level's own name (sse2, avx2, ...), its family and the
// vocabulary's level it is.
struct BuiltName {
  std::string_view name;
  IsaFamily family;
  Isa isa;
};
#define MFGRAD_BUILT_NAME(level, family, isa, ...) {#level, IsaFamily::family, Isa::isa},
constexpr BuiltName kBuildList[] = {MFGRAD_SIMD_ISA_LIST(MFGRAD_BUILT_NAME)};
#undef MFGRAD_BUILT_NAME

// The build list against the vocabulary: each line is a level of its own family (or the baseline); a
// line's name that is also a level of the vocabulary means a level of the same family and rank (neon,
// the aarch64 baseline); within a family the lines run from the most capable down, one per rank, to one
// baseline: the order simd_level() walks, and the fallback dispatch() takes.
constexpr bool build_list_agrees() {
  for (std::size_t i = 0; i < std::size(kBuildList); ++i) {
    const BuiltName& b = kBuildList[i];
    if (b.family == IsaFamily::any || !valid(b.isa)) return false;
    const IsaLevel& l = level_of(b.isa);
    if (l.family != IsaFamily::any && l.family != b.family) return false;
    for (const IsaLevel& v : isa_levels)
      if (b.name == v.name && (v.rank != l.rank || (v.family != IsaFamily::any && v.family != b.family))) return false;
    int baselines = 0;
    for (std::size_t j = 0; j < std::size(kBuildList); ++j) {
      if (kBuildList[j].family != b.family) continue;
      baselines += kBuildList[j].isa == Isa::baseline;
      if (j < i && rank(kBuildList[j].isa) <= l.rank) return false;
    }
    if (baselines != 1) return false;
  }
  return true;
}
static_assert(build_list_agrees(),
              "kernels/simd/isas.hpp disagrees with MFGRAD_ISA_LEVELS (mfgrad/isa.hpp): every line a level "
              "of its family, most capable first, one per rank, ending at one baseline");

// Names a level goes by besides its own: "scalar" for the baseline, and the build list's names (sse2).
struct Alias {
  std::string_view name;
  IsaFamily family;
  Isa isa;
};
constexpr Alias kScalar{"scalar", IsaFamily::any, Isa::baseline};

// Every name parse_isa() accepts, with the level it means and the family it belongs to: the
// vocabulary's order, each level followed by its aliases. A build-list name that is also a level's own
// name (neon) means that level.
std::vector<Alias> all_names() {
  auto own_name = [](std::string_view name) {
    for (const IsaLevel& l : isa_levels)
      if (name == l.name) return true;
    return false;
  };
  std::vector<Alias> names;
  for (const IsaLevel& l : isa_levels) {
    names.push_back({l.name, l.family, l.isa});
    if (kScalar.isa == l.isa) names.push_back(kScalar);
    for (const BuiltName& b : kBuildList)
      if (b.isa == l.isa && !own_name(b.name)) names.push_back({b.name, b.family, b.isa});
  }
  return names;
}

const std::vector<Alias>& names() {
  static const std::vector<Alias> n = all_names();
  return n;
}

// "a, b or c" of the names of `family` (and the baseline's), or of every family when `family` is any.
std::string accepted_names(IsaFamily family) {
  std::vector<std::string_view> list;
  for (const Alias& n : names())
    if (family == IsaFamily::any || n.family == IsaFamily::any || n.family == family) list.push_back(n.name);
  std::string s;
  for (std::size_t i = 0; i < list.size(); ++i)
    s += std::string(i == 0 ? "" : i + 1 == list.size() ? " or " : ", ") + std::string(list[i]);
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
  for (const Alias& n : names()) {
    if (n.name != value) continue;
    if (n.family != IsaFamily::any && n.family != kBuild)
      throw Error("MFGRAD_ISA=" + std::string(value) + " names an " + to_string(n.family) +
                  " instruction set, but this build is for " + to_string(kBuild) + " (it accepts " +
                  accepted_names(kBuild) + ")");
    return n.isa;
  }
  throw Error("MFGRAD_ISA: unknown instruction set " + quote(value) + " (this " + to_string(kBuild) +
              " build accepts " + accepted_names(kBuild) + ")");
}

}  // namespace

const char* to_string(Isa isa) noexcept { return valid(isa) ? level_of(isa).name : "?"; }

const char* to_string(IsaFamily family) noexcept {
  switch (family) {
    case IsaFamily::x86_64:
      return "x86-64";
    case IsaFamily::aarch64:
      return "aarch64";
    case IsaFamily::any:
      break;
  }
  return "any";
}

IsaFamily build_isa_family() noexcept { return kBuild; }

Isa parse_isa(std::string_view name) {
  for (const Alias& n : names())
    if (n.name == name) return n.isa;
  throw Error("unknown instruction set " + quote(name) + " (expected " + accepted_names(IsaFamily::any) + ")");
}

bool isa_allowed(Isa isa, Isa best, Isa ceiling) noexcept {
  if (isa == Isa::baseline) return true;
  if (!valid(isa) || !valid(best) || !valid(ceiling)) return false;
  return level_of(isa).family == kBuild && rank(isa) <= rank(best) && rank(isa) <= rank(ceiling);
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

std::span<const Isa> built_isas() noexcept { return kBuiltLevels; }

Isa simd_level() {
  const int forced = level_override.load(std::memory_order_relaxed);
  if (forced >= 0) return static_cast<Isa>(forced);
  isa_ceiling();  // the one gate: an invalid MFGRAD_ISA is an Error here, for every entry point
  for (Isa isa : kBuiltLevels)
    if (cpu_supports(isa)) return isa;
  return Isa::baseline;
}

void set_simd_level(Isa isa) {
  // A level of the same rank as the build's baseline is that baseline (neon on aarch64).
  if (valid(isa) && level_of(isa).family == kBuild && rank(isa) == 0) isa = Isa::baseline;
  if (!built_level(isa))
    throw Error(std::string("SIMD level ") + to_string(isa) + ": this " + std::string(to_string(kBuild)) +
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
