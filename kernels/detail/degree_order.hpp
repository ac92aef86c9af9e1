// Internal to kernels/: columns renumbered by descending degree, so that the factor rows most entries
// touch are contiguous in memory (shared cache lines, pages and TLB entries; the hottest stay in L2).
#pragma once

#include <algorithm>
#include <numeric>
#include <vector>

#include "mfgrad/observed.hpp"

namespace mfgrad::kernels::detail {

struct DegreeOrder {
  std::vector<index_t> old_of_new;  // n: original id of new column j
  std::vector<index_t> new_of_old;  // n: new id of original column j

  // Ties keep the original order, so the numbering is a function of Ω alone.
  explicit DegreeOrder(const Observed& obs) {
    const auto col_ptr = obs.col_ptr();
    const index_t n = obs.cols();
    old_of_new.resize(static_cast<std::size_t>(n));
    std::iota(old_of_new.begin(), old_of_new.end(), index_t{0});
    std::stable_sort(old_of_new.begin(), old_of_new.end(),
                     [&](index_t a, index_t b) { return col_ptr[a + 1] - col_ptr[a] > col_ptr[b + 1] - col_ptr[b]; });
    new_of_old.resize(static_cast<std::size_t>(n));
    for (index_t j = 0; j < n; ++j) new_of_old[static_cast<std::size_t>(old_of_new[j])] = j;
  }
};

}  // namespace mfgrad::kernels::detail
