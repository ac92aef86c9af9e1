// mfgrad — memory: what building Ω and evaluating on it take, checked against what this process may
// use before anything large is allocated, so that a shape too large for the machine is refused with a
// message instead of ending in std::bad_alloc or the kernel's out-of-memory killer.
//
// The limit is the smallest of: the memory the kernel reports available (MemAvailable in /proc/meminfo),
// the soft RLIMIT_AS and RLIMIT_DATA, and the room left under the process's cgroup memory.max. The
// environment variable MFGRAD_MEMORY_LIMIT (bytes, or with a K, M, G or T suffix, binary), when set and
// not empty, replaces it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "mfgrad/types.hpp"

namespace mfgrad {

struct Kernel;

// Bytes, as upper estimates; sums saturate instead of overflowing.
struct MemoryNeed {
  std::size_t observed = 0;   // Ω: CSR, CSC, input order, double and float values, while being built
  std::size_t factors = 0;    // U and V
  std::size_t gradients = 0;  // ∂U and ∂V
  std::size_t scratch = 0;    // the largest workspace of any implementation, and a measuring plan's copies
  std::size_t total() const noexcept;
  std::string describe() const;  // "4.42 GiB (Ω 1.10 GiB, factors ..., gradients ..., scratch ...)"
};

// Building an Observed of nnz entries on an m×n shape (the entries themselves not counted).
MemoryNeed observed_memory(std::int64_t m, std::int64_t n, std::int64_t nnz);

// One evaluation at rank k in `precision` on `threads` threads by any registered implementation, Ω
// not included (it exists by then); `plan`: also the factors and gradients a Plan times candidates with.
MemoryNeed evaluation_memory(std::int64_t m, std::int64_t n, std::int64_t nnz, std::size_t k, Precision precision,
                             int threads, bool plan = false);

// What one implementation needs for one evaluation (its own scratch and layouts, and for the oracle its
// double accumulators; an implementation that is not bitwise deterministic across thread counts is
// taken to keep a copy of ∂V per thread, and one of V), Ω not included; `plan`: also the factors and
// gradients a measuring Plan times candidates with.
MemoryNeed kernel_memory(const Kernel& kernel, std::int64_t m, std::int64_t n, std::int64_t nnz, std::size_t k,
                         Precision precision, int threads, bool plan = false);

// The largest rank any plan or evaluation accepts, whatever the entry point (C++, C, Python): factor
// rows of up to 2^24 elements keep every size of an int32-indexed shape within 64 bits.
inline constexpr std::size_t max_rank = std::size_t{1} << 24;

// Throws an Error unless 1 <= k <= max_rank.
void check_rank(std::size_t k);

struct MemoryLimit {
  std::size_t bytes = 0;
  std::string source;  // where the figure comes from, for messages
};
MemoryLimit memory_limit();

// Throws an Error "WHAT needs about N (...), more than the M this process may use (SOURCE)" when
// need.total() exceeds memory_limit().
void check_memory(const MemoryNeed& need, const std::string& what);

}  // namespace mfgrad
