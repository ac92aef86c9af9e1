// mfgrad — instruction sets the library can dispatch to, and what this CPU offers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mfgrad {

// Ordered from least to most capable within a family. The library itself is built for the
// baseline (x86-64 SSE2 / aarch64); the others are reached only through run-time dispatch.
enum class Isa {
  baseline,  // x86-64 SSE2, or aarch64 (NEON is part of its baseline)
  avx2,      // AVX2 + FMA3
  avx512,    // AVX-512 F/CD/DQ/BW/VL
  neon,      // aarch64 Advanced SIMD
};

const char* to_string(Isa isa) noexcept;
Isa parse_isa(std::string_view name);  // throws Error; accepts baseline|sse2|avx2|avx512|neon

// Whether the CPU (and OS) runs `isa`, and the environment's ceiling allows it.
bool cpu_supports(Isa isa) noexcept;

// The most capable Isa this CPU offers, ignoring any ceiling.
Isa cpu_best_isa() noexcept;

// MFGRAD_ISA=<isa> caps dispatch (e.g. avx2 under valgrind, which cannot run AVX-512). Unset: no cap.
// An unknown value is an error, raised by the first call.
Isa isa_ceiling();

// The CPU's model name as the OS reports it ("unknown cpu" when it does not).
std::string cpu_model();

// Bytes in one instance of cache level 2 or 3, as the cores sharing it see it; `fallback` when the OS
// does not say. Read from sysfs first: glibc's sysconf may report the sum over every instance on the
// host (seen: 384 MiB of "L3" on a VM sharing 32 MiB).
std::size_t cache_bytes(int level, std::size_t fallback);

}  // namespace mfgrad
