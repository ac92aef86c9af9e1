// Instruction-set levels: the vocabulary and its names, the ceiling rule, detection against what the
// kernel reports, MFGRAD_ISA.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"

namespace mfgrad::test {
namespace {

int rank(Isa isa) { return isa_levels[static_cast<std::size_t>(isa)].rank; }

// Every level of the vocabulary is its own enumerator in order, and its name parses back to it; the
// aliases mean the baseline; an unknown name is refused with every accepted name listed.
TEST(Isa, VocabularyNamesParseBack) {
  std::set<std::string> names;
  for (std::size_t x = 0; x < std::size(isa_levels); ++x) {
    const IsaLevel& level = isa_levels[x];
    EXPECT_EQ(static_cast<std::size_t>(level.isa), x) << level.name;
    EXPECT_TRUE(names.insert(level.name).second) << "named twice: " << level.name;
    EXPECT_STREQ(to_string(level.isa), level.name);
    EXPECT_EQ(parse_isa(level.name), level.isa) << level.name;
    EXPECT_GE(level.rank, 0) << level.name;
  }
  EXPECT_EQ(parse_isa("sse2"), Isa::baseline);
  EXPECT_EQ(parse_isa("scalar"), Isa::baseline);
  const std::string msg = error_of([] { parse_isa("mmx"); });
  EXPECT_NE(msg.find("unknown instruction set 'mmx'"), std::string::npos) << msg;
  for (const IsaLevel& level : isa_levels) EXPECT_NE(msg.find(level.name), std::string::npos) << msg;
  for (const char* alias : {"sse2", "scalar"}) EXPECT_NE(msg.find(alias), std::string::npos) << msg;
}

// The levels with code: this build's family only, most capable first down to the baseline, the one
// simd_level() chose among them, and each one the CPU has reachable by set_simd_level().
TEST(Isa, BuiltLevelsAreThisFamilyMostCapableFirst) {
  const std::span<const Isa> built = built_isas();
  ASSERT_FALSE(built.empty());
  EXPECT_EQ(built.back(), Isa::baseline);
  for (std::size_t x = 0; x < built.size(); ++x) {
    const IsaLevel& level = isa_levels[static_cast<std::size_t>(built[x])];
    if (built[x] != Isa::baseline) {
      EXPECT_EQ(level.family, build_isa_family()) << level.name;
    }
    if (x > 0) {
      EXPECT_LT(level.rank, rank(built[x - 1])) << level.name;
    }
  }
  EXPECT_NE(std::find(built.begin(), built.end(), simd_level()), built.end()) << to_string(simd_level());
  for (Isa isa : built) {
    if (!cpu_supports(isa)) continue;
    const ScopedSimdLevel scoped(isa);
    EXPECT_EQ(simd_level(), isa);
  }
  EXPECT_TRUE(cpu_supports(Isa::baseline));
  EXPECT_TRUE(cpu_supports(cpu_best_isa()));
  EXPECT_GT(std::string(simd_arch_name()).size(), 0u);
}

// Within this build's family a level is allowed when its rank is at most both the CPU's best and the
// cap's; the other family's levels never are, whatever the best and the cap.
TEST(Isa, CeilingRule) {
  std::vector<Isa> levels, foreign;
  for (const IsaLevel& level : isa_levels) {
    if (level.family == IsaFamily::any || level.family == build_isa_family())
      levels.push_back(level.isa);
    else
      foreign.push_back(level.isa);
  }
  ASSERT_GE(levels.size(), 2u);
  ASSERT_FALSE(foreign.empty());
  for (Isa a : levels)
    for (Isa best : levels)
      for (Isa cap : levels)
        EXPECT_EQ(isa_allowed(a, best, cap), a == Isa::baseline || (rank(a) <= rank(best) && rank(a) <= rank(cap)))
            << to_string(a) << " on a CPU with " << to_string(best) << ", capped at " << to_string(cap);
  for (Isa f : foreign)
    for (Isa level : levels) {
      EXPECT_FALSE(isa_allowed(f, level, level)) << to_string(f);
      EXPECT_TRUE(isa_allowed(Isa::baseline, level, level));
    }
    // The facts the rule must give, by name.
#if defined(__x86_64__)
  EXPECT_TRUE(isa_allowed(Isa::avx2, Isa::avx512, Isa::avx512));
  EXPECT_FALSE(isa_allowed(Isa::avx512, Isa::avx2, Isa::avx512));
  EXPECT_FALSE(isa_allowed(Isa::avx512, Isa::avx512, Isa::avx2));
  EXPECT_FALSE(isa_allowed(Isa::neon, Isa::avx512, Isa::avx512));
#elif defined(__aarch64__)
  // NEON is part of the aarch64 baseline: a cap at "baseline" keeps it and removes SVE.
  EXPECT_TRUE(isa_allowed(Isa::neon, Isa::sve, Isa::baseline));
  EXPECT_FALSE(isa_allowed(Isa::sve, Isa::sve, Isa::baseline));
  EXPECT_FALSE(isa_allowed(Isa::avx2, Isa::sve, Isa::sve));
#endif
}

// Names in the feature list of the first processor in /proc/cpuinfo ("flags" on x86-64, "Features" on
// aarch64); empty when there is no such line.
std::set<std::string> cpuinfo_features(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0 || line.find(':') == std::string::npos) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::set<std::string> names;
    for (std::string w; words >> w;) names.insert(w);
    return names;
  }
  return {};
}

// Detection against what the kernel reports, independently of CPUID/HWCAP: the feature names of
// /proc/cpuinfo natively; on an emulated CPU (qemu-user shows the host's /proc/cpuinfo) the level and
// SVE vector length given by whoever chose that CPU, in MFGRAD_EXPECT_ISA and MFGRAD_EXPECT_SVE_BITS.
TEST(Isa, DetectionMatchesTheCpu) {
  std::string want;
  long want_sve_bits = -1;  // -1: not known
  if (const char* e = std::getenv("MFGRAD_EXPECT_ISA")) {
    want = e;
    const char* bits = std::getenv("MFGRAD_EXPECT_SVE_BITS");
    ASSERT_NE(bits, nullptr) << "MFGRAD_EXPECT_ISA comes with MFGRAD_EXPECT_SVE_BITS";
    want_sve_bits = std::atol(bits);
  } else {
#if defined(__x86_64__)
    const std::set<std::string> f = cpuinfo_features("flags");
    if (f.empty()) GTEST_SKIP() << "no x86 flags in /proc/cpuinfo";
    auto has = [&](std::initializer_list<const char*> names) {
      return std::all_of(names.begin(), names.end(), [&](const char* n) { return f.count(n) > 0; });
    };
    want = has({"avx512f", "avx512cd", "avx512dq", "avx512bw", "avx512vl", "fma"}) ? "avx512"
           : has({"avx2", "fma"})                                                  ? "avx2"
                                                                                   : "baseline";
    want_sve_bits = 0;
#elif defined(__aarch64__)
    const std::set<std::string> f = cpuinfo_features("Features");
    if (f.count("asimd") == 0) GTEST_SKIP() << "/proc/cpuinfo does not describe this aarch64 CPU (emulated?)";
    want = f.count("sve") ? "sve" : "neon";
    // The length a new process starts with, unless a parent changed it for its children.
    std::ifstream default_length("/proc/sys/abi/sve_default_vector_length");
    if (long bytes = 0; want == "sve" && default_length >> bytes) want_sve_bits = 8 * bytes;
    if (want == "neon") want_sve_bits = 0;
#endif
  }
  EXPECT_EQ(to_string(cpu_best_isa()), want);
  if (want_sve_bits >= 0) {
    EXPECT_EQ(static_cast<long>(sve_vector_bits()), want_sve_bits);
  }
}

// Model names as x86-64 and aarch64 kernels write /proc/cpuinfo: aarch64 names no model, so the first
// core's implementer and part stand for it.
TEST(Isa, CpuModelFromCpuinfo) {
  EXPECT_EQ(cpu_model_from_cpuinfo("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel\t\t: 17\n"
                                   "model name\t: AMD EPYC 9355 32-Core Processor\nflags\t\t: fpu\n"),
            "AMD EPYC 9355 32-Core Processor");
  EXPECT_EQ(cpu_model_from_cpuinfo("processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd sve\n"
                                   "CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x1\n"
                                   "CPU part\t: 0xd40\nCPU revision\t: 1\n\nprocessor\t: 1\n"
                                   "CPU implementer\t: 0x46\nCPU part\t: 0x001\n"),
            "aarch64 CPU implementer 0x41 part 0xd40");
  EXPECT_EQ(cpu_model_from_cpuinfo("CPU implementer\t: 0x41\nCPU part\t: 0xd08\nModel\t\t: Raspberry Pi 4 Model B\n"),
            "Raspberry Pi 4 Model B");
  EXPECT_EQ(cpu_model_from_cpuinfo("processor\t: 0\nCPU part\t: 0xd08\n"), "unknown cpu");
  EXPECT_EQ(cpu_model_from_cpuinfo(""), "unknown cpu");
}

// MFGRAD_ISA as this process was started with. ctest also runs this test with invalid values (unknown,
// or a level of the other processor family) and the message they must produce in
// MFGRAD_EXPECT_ISA_ERROR: then every evaluation must fail with it, and nothing above the baseline runs.
TEST(Isa, CeilingFromTheEnvironment) {
  const char* value = std::getenv("MFGRAD_ISA");
  const char* want_error = std::getenv("MFGRAD_EXPECT_ISA_ERROR");
  if (want_error == nullptr) {
    // Dispatch goes to the most capable built level within both the CPU's best and the cap (no cap when
    // MFGRAD_ISA is unset), and every built level above the cap is refused by name.
    const bool capped = value != nullptr && *value != '\0';
    const Isa best = cpu_best_isa(), cap = capped ? parse_isa(value) : best;
    Isa want = Isa::baseline;
    for (Isa isa : built_isas())
      if (rank(isa) <= rank(best) && rank(isa) <= rank(cap)) {
        want = isa;
        break;
      }
    EXPECT_EQ(simd_level(), want) << "MFGRAD_ISA=" << (capped ? value : "") << ", CPU " << to_string(best);
    for (Isa isa : built_isas()) {
      if (rank(isa) <= rank(cap)) continue;
      EXPECT_FALSE(cpu_supports(isa)) << to_string(isa);
      const std::string msg = error_of([&] { set_simd_level(isa); });
      EXPECT_NE(msg.find(std::string("SIMD level ") + to_string(isa)), std::string::npos) << msg;
    }
    return;
  }
  EXPECT_NE(error_of([] { isa_ceiling(); }).find(want_error), std::string::npos);
  const Observed& obs = observed("k7");
  const Factors<float> f = random_factors<float>(obs.rows(), obs.cols(), 7, 1);
  EXPECT_NE(error_of([&] { run(kernel("naive"), obs, f, 0.1, 1); }).find(want_error), std::string::npos);
  for (const IsaLevel& level : isa_levels) {
    if (level.isa != Isa::baseline) {
      EXPECT_FALSE(cpu_supports(level.isa)) << level.name;
    }
  }
}

}  // namespace
}  // namespace mfgrad::test
