#include "mfgrad/workspace.hpp"

#include <omp.h>

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
