// The peers this build has, in a fixed order: plain_omp (always built), then eigen, graphblas, pytorch
// and pytorch_autograd, each decided at configure time by whether its library was found
// (bench/peers/CMakeLists.txt).
#include <dlfcn.h>

#include <cstdio>
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
  static const std::vector<Peer> with_modules = [] {
    std::vector<Peer> list = all;
#ifdef MFGRAD_HAVE_TORCH
    // Loaded once and never unloaded: the peers' functions live in it.
    if (void* module = ::dlopen(MFGRAD_TORCH_PEER_PATH, RTLD_NOW | RTLD_LOCAL)) {
      if (auto fn = reinterpret_cast<TorchPeersFn>(::dlsym(module, torch_peers_symbol))) {
        std::size_t count = 0;
        const Peer* peers = fn(&count);
        list.insert(list.end(), peers, peers + count);
      }
    } else {
      std::fprintf(stderr, "mfgrad: the PyTorch peers are unavailable: %s\n", ::dlerror());
    }
#endif
    return list;
  }();
  return with_modules;
}

}  // namespace mfgrad::bench
