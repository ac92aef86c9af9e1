#include <omp.h>
#include <oneapi/tbb/global_control.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>

#include "cli.hpp"

namespace mfgrad::cli {

int set_threads(int threads) {
  static std::unique_ptr<oneapi::tbb::global_control> tbb_limit;
  if (threads > 0) {
    omp_set_num_threads(threads);
    tbb_limit = std::make_unique<oneapi::tbb::global_control>(oneapi::tbb::global_control::max_allowed_parallelism,
                                                              static_cast<std::size_t>(threads));
  }
  return omp_get_max_threads();
}

}  // namespace mfgrad::cli
