// Internal to bench/peers: the peers defined in their own translation units, each compiled only when
// its library was found (MFGRAD_HAVE_*), and listed by peers.cpp.
#pragma once

#include "peers.hpp"

namespace mfgrad::bench {

extern const Peer plain_omp_peer;
#ifdef MFGRAD_HAVE_EIGEN
extern const Peer eigen_peer;
#endif
#ifdef MFGRAD_HAVE_GRAPHBLAS
extern const Peer graphblas_peer;
#endif
#ifdef MFGRAD_HAVE_TORCH
extern const Peer torch_peer;
extern const Peer torch_autograd_peer;
#endif

}  // namespace mfgrad::bench
