// The peers this build has, in a fixed order: plain_omp (always), eigen, then graphblas. Which ones exist is decided at
// configure time (bench/peers/CMakeLists.txt); a build without either library has none.
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
  };
  return all;
}

}  // namespace mfgrad::bench
