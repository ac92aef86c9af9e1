// tiled_simd's tile sizes (kernels/detail/tile_sizes.hpp): choose_tiles is pure, so its stated rules are
// checked as properties over a grid of shapes, row sizes and caches, from degenerate to larger than any
// machine; and tile_caches takes what a Workspace was given over what the machine says.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "detail/tile_sizes.hpp"
#include "mfgrad/isa.hpp"

namespace mfgrad::kernels::tiled_simd {
namespace {

struct Case {
  OmegaShape omega;
  std::size_t row_bytes;
  TileCaches caches;
};

std::vector<Case> grid() {
  const std::vector<OmegaShape> shapes = {{0, 0, 0},
                                          {1, 1, 1},
                                          {1000, 50, 3000},
                                          {480189, 17770, 100480507},
                                          {50, 2000000, 50000000},
                                          {10000000, 10, 20000000}};
  const std::vector<std::size_t> row_bytes = {4, 64, 256, 1024, 8 << 16};
  const std::vector<std::size_t> l2s = {4 << 10, 1 << 20, Workspace::largest_cache};
  const std::vector<std::size_t> l3s = {64 << 10, 32 << 20, Workspace::largest_cache};
  std::vector<Case> out;
  for (const OmegaShape& s : shapes)
    for (std::size_t b : row_bytes)
      for (std::size_t l2 : l2s)
        for (std::size_t l3 : l3s)
          for (bool bands : {false, true})
            for (unsigned threads : {1u, 16u, 256u}) out.push_back({s, b, {l2, l3, bands, threads}});
  return out;
}

TEST(Tiles, ChooseTilesKeepsItsStatedRules) {
  for (const Case& c : grid()) {
    const TileSizes t = choose_tiles(c.omega, c.row_bytes, c.caches);
    const auto rb = static_cast<double>(c.row_bytes), l2 = static_cast<double>(c.caches.l2),
               l3 = static_cast<double>(c.caches.l3);
    SCOPED_TRACE(::testing::Message() << "rows " << c.omega.rows << " cols " << c.omega.cols << " entries "
                                      << c.omega.entries << " row_bytes " << c.row_bytes << " l2 " << c.caches.l2
                                      << " l3 " << c.caches.l3 << " column bands " << c.caches.column_bands
                                      << " threads " << c.caches.threads);
    ASSERT_GE(t.band_rows, 1);
    ASSERT_GE(t.band_entries, 1);
    ASSERT_GE(t.band_cols, 1);
    ASSERT_GE(t.strip_rows, 1);
    // A row band's U and ∂U rows fit in L2 (half of it for U): the most rows that do, at least 4.
    if (t.band_rows > 4) {
      EXPECT_LE(t.band_rows * rb, l2 / 2);
    }
    EXPECT_GT((t.band_rows + 1) * rb, l2 / 2);
    // Enough bands per thread for dynamic scheduling: at most entries / (8 · threads), at least 4096.
    const double share = static_cast<double>(c.omega.entries) / (8.0 * c.caches.threads);
    EXPECT_GE(t.band_entries, 4096);
    if (t.band_entries > 4096) {
      EXPECT_LE(static_cast<double>(t.band_entries), share);
    }
    EXPECT_GT(static_cast<double>(t.band_entries) + 1, std::floor(share));
    // One column band unless asked for; then a share of L3 per thread, at least 4 columns.
    if (!c.caches.column_bands) {
      EXPECT_GT(t.band_cols, c.omega.cols);
    } else {
      EXPECT_LE(t.band_cols, c.omega.cols + 1);
      if (t.band_cols > 4 && t.band_cols <= c.omega.cols) {
        EXPECT_LE(t.band_cols * rb * c.caches.threads, l3 / 2);
      }
    }
    // Strips: at least twice L2 in U rows, at most half of L3 unless that is below the least; about 16
    // entries per column in between.
    // (Every count is capped at index_t's largest value: 2 · 4 GiB of 4-byte rows would overflow it.)
    const double cap = std::numeric_limits<index_t>::max();
    const double least = std::min(cap, std::max(1.0, std::floor(2 * l2 / rb))),
                 most = std::min(cap, std::max(least, std::floor(l3 / 2 / rb)));
    EXPECT_GE(t.strip_rows, least);
    EXPECT_LE(t.strip_rows, most);
    const double wanted =
        16.0 * c.omega.rows * static_cast<double>(c.omega.cols) / std::max(1.0, static_cast<double>(c.omega.entries));
    if (wanted > least && wanted < most) {
      EXPECT_NEAR(t.strip_rows, wanted, 1.0);
    }
  }
}

TEST(Tiles, ChooseTilesIsMonotoneInCachesAndRowSize) {
  for (const Case& c : grid()) {
    const TileSizes t = choose_tiles(c.omega, c.row_bytes, c.caches);
    TileCaches more = c.caches;
    more.l2 *= 2;
    more.l3 *= 2;
    const TileSizes bigger = choose_tiles(c.omega, c.row_bytes, more);
    EXPECT_GE(bigger.band_rows, t.band_rows);
    EXPECT_GE(bigger.band_cols, t.band_cols);
    const TileSizes wider = choose_tiles(c.omega, 2 * c.row_bytes, c.caches);
    EXPECT_LE(wider.band_rows, t.band_rows);
    EXPECT_LE(wider.band_cols, t.band_cols);
    // Pure: the same inputs, the same sizes.
    const TileSizes again = choose_tiles(c.omega, c.row_bytes, c.caches);
    EXPECT_EQ(again.band_rows, t.band_rows);
    EXPECT_EQ(again.band_entries, t.band_entries);
    EXPECT_EQ(again.band_cols, t.band_cols);
    EXPECT_EQ(again.strip_rows, t.strip_rows);
  }
}

TEST(Tiles, CachesAskedForWinOverTheMachines) {
  const TileCaches machine = tile_caches({});
  EXPECT_EQ(machine.l2, cache_bytes(2, 1 << 20));
  EXPECT_EQ(machine.l3, cache_bytes(3, 8 << 20));
  EXPECT_FALSE(machine.column_bands);
  EXPECT_GE(machine.threads, 1u);
  const TileCaches l2_only = tile_caches({.l2 = 12345, .l3 = 0});
  EXPECT_EQ(l2_only.l2, 12345u);
  EXPECT_EQ(l2_only.l3, machine.l3);
  EXPECT_FALSE(l2_only.column_bands);
  const TileCaches l3_too = tile_caches({.l2 = 0, .l3 = 77777});
  EXPECT_EQ(l3_too.l2, machine.l2);
  EXPECT_EQ(l3_too.l3, 77777u);
  EXPECT_TRUE(l3_too.column_bands);  // column bands only when an L3 size is set
}

}  // namespace
}  // namespace mfgrad::kernels::tiled_simd
