#include "mfgrad/workspace.hpp"

#include <omp.h>

#include <algorithm>
#include <string>
#include <thread>
#include <utility>

#include "mfgrad/message.hpp"

namespace mfgrad {

Workspace::Workspace(int threads) { set_threads(threads); }
Workspace::Workspace(Workspace&&) noexcept = default;
Workspace& Workspace::operator=(Workspace&&) noexcept = default;
Workspace::~Workspace() = default;

int Workspace::max_threads() noexcept {
  const unsigned hardware = std::max(1u, std::thread::hardware_concurrency());
  return static_cast<int>(std::min<unsigned long>(4096, 64ul * hardware));
}

void Workspace::set_threads(int threads) {
  if (threads > max_threads())
    throw Error("threads = " + std::to_string(threads) + " is more than " + std::to_string(max_threads()) +
                " (64 per hardware thread, at most 4096)");
  threads_ = threads > 0 ? threads : std::min(omp_get_max_threads(), max_threads());
  if (threads_ < 1) threads_ = 1;
}

void Workspace::set_cache_sizes(CacheSizes sizes) {
  for (const auto& [level, bytes] : {std::pair{"L2", sizes.l2}, std::pair{"L3", sizes.l3}})
    if (bytes > largest_cache)
      throw Error(std::string("a cache size of ") + std::to_string(bytes) + " bytes for " + level + " is beyond " +
                  format_bytes(largest_cache) + ", larger than any cache");
  cache_ = sizes;
  state_.reset();
  state_type_ = nullptr;
}

void Workspace::clear() {
  for (auto& s : slots_) s.reset(0);
  state_.reset();
  state_type_ = nullptr;
}

}  // namespace mfgrad
