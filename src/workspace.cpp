#include "mfgrad/workspace.hpp"

#include <omp.h>

#include <string>
#include <utility>

#include "mfgrad/message.hpp"

namespace mfgrad {

Workspace::Workspace(int threads) { set_threads(threads); }
Workspace::Workspace(Workspace&&) noexcept = default;
Workspace& Workspace::operator=(Workspace&&) noexcept = default;
Workspace::~Workspace() = default;

void Workspace::set_threads(int threads) {
  threads_ = threads > 0 ? threads : omp_get_max_threads();
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
