// The peers this build has, in a fixed order: plain_omp (always built), then eigen, graphblas, pytorch
// and pytorch_autograd, each decided at configure time by whether its library was found
// (bench/peers/CMakeLists.txt).
#include <vector>

#include "peer_impls.hpp"

namespace mfgrad::bench {

std::span<const Peer> peers() {
  // Built on first use: the entries are constant-initialized objects of other translation units.
  static const std::vector<Peer> all = {
      plain_omp_peer,
#ifdef MFGRAD_HAVE_EIGEN
      eigen_peer,
#endif
#ifdef MFGRAD_HAVE_GRAPHBLAS
      graphblas_peer,
#endif
#ifdef MFGRAD_HAVE_TORCH
      torch_peer,
      torch_autograd_peer,
#endif
  };
  return all;
}

}  // namespace mfgrad::bench
