// Internal to kernels/ (baseline code and tests only): tiled_simd's tile sizes as data, from a pure
// function of Ω's shape, the factor row size and the caches, so that the rules can be tested and the
// plan's cache-size variants reach them directly (Workspace::CacheSizes → tile_caches → choose_tiles).
#pragma once

#include <cstddef>

#include "mfgrad/types.hpp"
#include "mfgrad/workspace.hpp"

namespace mfgrad::kernels::tiled_simd {

// What the sizes depend on besides the row size.
struct OmegaShape {
  index_t rows = 0, cols = 0;
  offset_t entries = 0;
};
struct TileCaches {
  std::size_t l2 = 0, l3 = 0;  // bytes, both > 0: the sizes tiles are made for
  bool column_bands = false;   // cut V into column bands (only when an L3 size was set explicitly)
  unsigned threads = 1;        // the machine's hardware threads, never the requested count: bands
                               // decide how sums are grouped, and results must not depend on threads
};

struct TileSizes {
  index_t band_rows;      // pass 1: rows per row band at most ...
  offset_t band_entries;  // ... and entries per row band at most (a band of one row may exceed it)
  index_t band_cols;      // pass 1: columns per column band (cols + 1: one band, V read where it fits)
  index_t strip_rows;     // pass 2: rows per strip, reached in whole row bands
};

// The rules (measured on Netflix-shaped and wide data; README, "Where the time goes"):
// - a row band's U and ∂U rows fit in L2: band_rows = max(4, L2 / 2 / row_bytes), and a band holds at
//   most max(4096, entries / (8 · threads)) entries, so dynamic scheduling evens out power-law rows;
// - column bands only when asked for, each a share of L3: max(4, L3 / 2 / threads / row_bytes)
//   columns; otherwise one band (shorter row segments cost more than the cache hits they buy);
// - a strip is tall enough for about 16 entries per column, 16 · rows · cols / entries, clamped to
//   [2 · L2 / row_bytes, max(that, L3 / 2 / row_bytes)] rows.
// Every count is at least 1 and at most index_t's largest value, whatever the inputs.
TileSizes choose_tiles(const OmegaShape& omega, std::size_t row_bytes, const TileCaches& caches);

// The caches to tile for: the sizes a Workspace was given (0: this machine's, from cache_bytes) and
// the machine's hardware thread count. Reads the machine; choose_tiles does not.
TileCaches tile_caches(const Workspace::CacheSizes& asked);

}  // namespace mfgrad::kernels::tiled_simd
