// Internal to bench/peers: the peers defined in their own translation units, each compiled only when
// its library was found (MFGRAD_HAVE_*), and listed by peers.cpp.
#pragma once

#include <cstddef>

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

}  // namespace mfgrad::bench
