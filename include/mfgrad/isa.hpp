// mfgrad — instruction sets the library can dispatch to, and what this CPU offers.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace mfgrad {

// The one vocabulary of instruction-set levels, one line each: X(name, family, rank, what it is).
// `name` is the enumerator and the string to_string() returns and parse_isa() and MFGRAD_ISA accept;
// `family` is the processor family whose CPUs can have the level (`any`: the baseline, which every
// family has); `rank` orders one family's levels from the least capable (0). Two families today:
// x86-64 (baseline = SSE2, avx2, avx512) and aarch64 (baseline = neon, sve). A new level is a line at
// the end (the enumerators' values are part of the ABI) and its CPU detection in src/isa.cpp; the
// levels this build has code for are kernels/simd/isas.hpp's list, which is checked against this one
// when the library compiles. A level named here with no code there (SVE) is detected and reported but
// never dispatched to. The library itself is built for its family's baseline; the levels above it are
// reached only through run-time dispatch, and the other family's never apply.
#define MFGRAD_ISA_LEVELS(X)                                                          \
  X(baseline, any, 0, "x86-64 SSE2, or aarch64 (NEON is part of its baseline)")       \
  X(avx2, x86_64, 1, "AVX2 + FMA3 + F16C")                                            \
  X(avx512, x86_64, 2, "AVX-512 F/CD/DQ/BW/VL + FMA3 + F16C")                         \
  X(neon, aarch64, 0, "aarch64 Advanced SIMD: on aarch64 the same level as baseline") \
  X(sve, aarch64, 1, "Scalable Vector Extension, at the vector length the OS gives the process")

enum class Isa {
#define MFGRAD_ISA_ENUMERATOR(name, family, rank, what) name,
  MFGRAD_ISA_LEVELS(MFGRAD_ISA_ENUMERATOR)
#undef MFGRAD_ISA_ENUMERATOR
};

enum class IsaFamily { any, x86_64, aarch64 };

struct IsaLevel {
  Isa isa;
  const char* name;
  IsaFamily family;
  int rank;  // within the family, 0 the least capable
  const char* what;
};

// Every level of MFGRAD_ISA_LEVELS, in the enum's order (isa_levels[static_cast<int>(isa)].isa == isa).
inline constexpr IsaLevel isa_levels[] = {
#define MFGRAD_ISA_ENTRY(name, family, rank, what) {Isa::name, #name, IsaFamily::family, rank, what},
    MFGRAD_ISA_LEVELS(MFGRAD_ISA_ENTRY)
#undef MFGRAD_ISA_ENTRY
};

const char* to_string(Isa isa) noexcept;
const char* to_string(IsaFamily family) noexcept;  // "x86-64", "aarch64"; "any" for the baseline's

// A level's name, one of its aliases (scalar for baseline; sse2 for the x86-64 baseline, and every other
// name of kernels/simd/isas.hpp's list) or an Error listing every name it would accept.
Isa parse_isa(std::string_view name);

// The family this library is built for.
IsaFamily build_isa_family() noexcept;

// The levels this build has SIMD code for (kernels/simd/isas.hpp), most capable first; the last is the
// baseline. What simd_level() chooses from and set_simd_level() accepts.
std::span<const Isa> built_isas() noexcept;

// The rule behind cpu_supports(): whether dispatch may use `isa` on a CPU whose most capable level is
// `best`, under the cap `ceiling` (both of this build's family, as cpu_best_isa() and isa_ceiling()
// give them). Baseline always; any other `isa` must belong to the family this library is built for and
// be at most both `best` and `ceiling`.
bool isa_allowed(Isa isa, Isa best, Isa ceiling) noexcept;

// Whether the CPU (and OS) runs `isa`, and the environment's ceiling allows it. False for everything
// above the baseline while MFGRAD_ISA is invalid (isa_ceiling() says why).
bool cpu_supports(Isa isa) noexcept;

// The most capable Isa this CPU offers, ignoring any ceiling. Detected with CPUID and XGETBV on x86-64,
// with the kernel's hardware capability bits (getauxval(AT_HWCAP)) on aarch64.
Isa cpu_best_isa() noexcept;

// Bits in one SVE vector as this process runs (prctl PR_SVE_GET_VL); 0 when the CPU has no SVE.
// SVE code compiled for a fixed vector length (as xsimd's is) may only run when they agree.
unsigned sve_vector_bits() noexcept;

// MFGRAD_ISA=<isa> caps dispatch (e.g. avx2 under valgrind, which cannot run AVX-512). Unset: no cap.
// An unknown value, or a level of the other family (avx2 on aarch64, neon on x86-64), is an Error
// naming the variable and the values this build accepts; evaluate() and the CLI raise it.
Isa isa_ceiling();

// The level the SIMD kernels dispatch to: the one set_simd_level() chose, else the most capable level
// with built code that cpu_supports() allows (x86-64: avx512, avx2, baseline; aarch64: baseline, whose
// NEON code every aarch64 CPU runs). An invalid MFGRAD_ISA is an Error here (isa_ceiling()), so that
// everything that dispatches — a Plan, simd_arch_name(), the bindings — refuses it alike.
Isa simd_level();

// Makes the SIMD kernels dispatch to `isa` in this whole process (for comparing levels side by side:
// tests, `mfgrad bench --isa`). An Error, naming the level, when this build has no code for it or the
// CPU (or MFGRAD_ISA) does not allow it. Not while evaluations run on other threads.
void set_simd_level(Isa isa);

// Back to the default of simd_level().
void reset_simd_level() noexcept;

// set_simd_level() for one scope; the level before it comes back when the guard is destroyed.
class ScopedSimdLevel {
 public:
  explicit ScopedSimdLevel(Isa isa);
  ~ScopedSimdLevel();
  ScopedSimdLevel(const ScopedSimdLevel&) = delete;
  ScopedSimdLevel& operator=(const ScopedSimdLevel&) = delete;

 private:
  int previous_;  // the override before this guard, -1 for none
};

// Name of the instruction set the xsimd-dispatched kernels run with on this CPU (after MFGRAD_ISA),
// and the width of its vectors in bytes; an Error while MFGRAD_ISA is invalid.
const char* simd_arch_name();
std::size_t simd_bytes();

// The CPU's model name as the OS reports it ("unknown cpu" when it does not).
std::string cpu_model();

// The same from the text of /proc/cpuinfo: its "model name" (x86-64) or "Model" line; else, as the
// aarch64 kernel names no model, the first core's implementer and part numbers ("aarch64 CPU
// implementer 0x41 part 0xd0c", a Neoverse N1); else "unknown cpu".
std::string cpu_model_from_cpuinfo(std::string_view cpuinfo);

// Bytes in one instance of cache level 2 or 3, as the cores sharing it see it; `fallback` when the OS
// does not say. Read from sysfs first: glibc's sysconf may report the sum over every instance on the
// host (seen: 384 MiB of "L3" on a VM sharing 32 MiB).
std::size_t cache_bytes(int level, std::size_t fallback);

}  // namespace mfgrad
