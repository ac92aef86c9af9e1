// Peers: the same computation written the way a user of another library would write it, timed and
// cross-checked by the benchmark exactly like mfgrad's own implementations.
#pragma once

#include <span>

#include "kernel_author.hpp"
#include "mfgrad/kernel.hpp"

namespace mfgrad::bench {

struct Peer {
  const char* name;         // "eigen", "graphblas"
  const char* description;  // how it computes F and the gradients
  const char* version;      // the library version it was built against
  EvalFn<float> f32;        // same contract as a registered kernel (kernel.hpp): validated Problem,
  EvalFn<double> f64;       // outputs overwritten, loss in double, threads = ws.threads(),
                            // one-time conversions of Ω kept in ws.prepared()
  template <class T>
  EvalFn<T> fn() const noexcept {
    return by_precision<T>(f32, f64);
  }
};

// The peers found at configure time (possibly none), in a fixed order.
std::span<const Peer> peers();

}  // namespace mfgrad::bench
