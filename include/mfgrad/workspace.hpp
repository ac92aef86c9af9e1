// mfgrad — Workspace: the thread count and the reusable memory an evaluation runs with.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <typeinfo>

#include "mfgrad/buffer.hpp"
#include "mfgrad/observed.hpp"

namespace mfgrad {

// Base of a kernel's prepared layout (tiles, reorderings, thread arenas). Kernels derive from it.
struct PreparedState {
  virtual ~PreparedState() = default;
};

// One Workspace per concurrent caller: kernels keep scratch (residuals, per-thread accumulators) and
// prepared layouts here so that repeated evaluations allocate nothing after the first. Not thread-safe;
// give each concurrently evaluating thread its own.
class Workspace {
 public:
  // threads <= 0: every hardware thread the OpenMP runtime offers (omp_get_max_threads()). More than
  // max_threads() is an Error: the OpenMP runtime may end the process when it cannot start that many.
  explicit Workspace(int threads = 0);
  Workspace(Workspace&&) noexcept;
  Workspace& operator=(Workspace&&) noexcept;
  ~Workspace();

  int threads() const noexcept { return threads_; }
  void set_threads(int threads);  // drops prepared state that depends on the thread count

  // The most threads an evaluation may ask for: 64 per hardware thread, at most 4096 (the CLI's cap).
  static int max_threads() noexcept;

  // Cache sizes that cache-blocked kernels size their tiles for; 0 means "this machine's". The plan
  // varies them when it measures; tests shrink them to force many small tiles. Drops prepared state.
  // A size above largest_cache is an Error: no machine has such a cache, and tiles computed from it
  // would overflow the kernels' 32-bit row counts (wisdom files are read from disk).
  struct CacheSizes {
    std::size_t l2 = 0;
    std::size_t l3 = 0;
  };
  static constexpr std::size_t largest_cache = std::size_t{4} << 30;
  const CacheSizes& cache_sizes() const noexcept { return cache_; }
  void set_cache_sizes(CacheSizes sizes);

  // Scratch slot `slot` as at least `count` elements of U, 64-byte aligned, contents unspecified.
  // Grows, never shrinks; pointers stay valid until the same slot is asked for more.
  template <class U>
  U* scratch(std::size_t slot, std::size_t count) {
    static_assert(alignof(U) <= Buffer<std::uint64_t>::alignment);
    const std::size_t words = (count * sizeof(U) + sizeof(std::uint64_t) - 1) / sizeof(std::uint64_t);
    return reinterpret_cast<U*>(slots_.at(slot).reserve(words));
  }

  // The prepared state of type S for (obs, k, threads), built by `build()` on first use and kept.
  template <class S, class Build>
  S& prepared(const Observed& obs, std::size_t k, Build&& build) {
    if (!state_ || state_obs_ != obs.id() || state_k_ != k || state_threads_ != threads_ || state_type_ != &typeid(S)) {
      state_.reset();
      state_ = build();
      state_obs_ = obs.id();
      state_k_ = k;
      state_threads_ = threads_;
      state_type_ = &typeid(S);
    }
    return static_cast<S&>(*state_);
  }

  void clear();  // frees all scratch and prepared state

  static constexpr std::size_t slot_count = 8;

 private:
  int threads_ = 1;
  CacheSizes cache_;
  std::array<Buffer<std::uint64_t>, slot_count> slots_;
  std::unique_ptr<PreparedState> state_;
  std::uint64_t state_obs_ = 0;
  std::size_t state_k_ = 0;
  int state_threads_ = 0;
  const std::type_info* state_type_ = nullptr;
};

}  // namespace mfgrad
