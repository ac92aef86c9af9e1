// Internal to bench/peers: the peers defined in their own translation units, each compiled only when
// its library was found (MFGRAD_HAVE_*), and listed by peers.cpp.
#pragma once

#include <cstddef>
#include <type_traits>

#include "peers.hpp"

namespace mfgrad::bench {

extern const Peer plain_omp_peer;
#ifdef MFGRAD_HAVE_EIGEN
extern const Peer eigen_peer;
#endif
#ifdef MFGRAD_HAVE_GRAPHBLAS
extern const Peer graphblas_peer;
#endif
// The PyTorch peers live in a module (libmfgrad_torch_peer.so) that exports this function; it returns
// its peers and sets *count.
extern "C" using TorchPeersFn = const Peer * (*)(std::size_t * count);
inline constexpr const char* torch_peers_symbol = "mfgrad_torch_peers";

// The k values hand-written peers fix at compile time, as their users would for the ranks they train:
// f(std::integral_constant<int, K>) for k = K among 4, 8, … 256, else f(std::integral_constant<int, 0>)
// (k read at run time).
template <class F>
decltype(auto) with_fixed_k(std::size_t k, F&& f) {
  switch (k) {
    case 4:
      return f(std::integral_constant<int, 4>{});
    case 8:
      return f(std::integral_constant<int, 8>{});
    case 16:
      return f(std::integral_constant<int, 16>{});
    case 32:
      return f(std::integral_constant<int, 32>{});
    case 64:
      return f(std::integral_constant<int, 64>{});
    case 128:
      return f(std::integral_constant<int, 128>{});
    case 256:
      return f(std::integral_constant<int, 256>{});
    default:
      return f(std::integral_constant<int, 0>{});
  }
}

}  // namespace mfgrad::bench
