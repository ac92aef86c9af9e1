// Internal to kernels/: the tile layout of Ω as plain pointers, safe for per-ISA files (see raw.hpp).
//
// Pass 1 (rows) works on tiles: rows cut into row bands, columns into column bands; tile (rb, cb)
// holds the entries in both, tiles stored row-band-major, each tile's entries by row then column and
// grouped into row segments (a non-empty row of the tile).
// Pass 2 (columns) works on strips: runs of consecutive row bands, taller than a band so that a column
// has many entries in each; a strip's entries are listed by column then row and grouped into column
// segments. Entry q of pass-1 order keeps its residual at res[strip_first[s] + res_slot[q]], its place
// in its strip's pass-2 order, so pass 2 reads residuals in sequence.
// A segment flagged `first` is the first of its row (column) in the order its pass visits them, so it
// writes the gradient row instead of adding to it.
// `col` (pass 1's gather index) numbers columns by descending degree (detail/degree_order.hpp): pass 1
// reads V from a copy in that order. Everything else (bands, cseg_col, owner_col, empty_col) uses the
// caller's column ids.
#pragma once

#include <cstdint>

#include "detail/raw.hpp"

namespace mfgrad::kernels::detail {

// tiled_simd's compiled-k rule: its factor rows live in registers only when k is a whole number of
// W-lane batches (kernels/simd/tiled_simd.hpp, passes()); any other k takes a run-time loop with a scalar
// tail. Estimate mode (the prefers column of kernels.inc) reads the same rule.
constexpr bool whole_batches(std::size_t k, std::size_t lanes) { return k % lanes == 0; }

// S: how V is stored (v_in); the values are compute_t<S>.
template <class S>
struct TileView {
  std::size_t row_bands, col_bands, strips;
  const index_t* row_band;         // row_bands+1 bounds
  const index_t* col_band;         // col_bands+1 bounds
  const std::size_t* strip_band;   // strips+1: the row bands of each strip
  const offset_t* tile_first;      // tiles+1: first entry of tile t (t = rb·col_bands + cb), pass-1 order
  const offset_t* tile_rseg;       // tiles+1: first row segment of tile t
  const index_t* rseg_row;         // per row segment: its row
  const offset_t* rseg_end;        // per row segment: one past its last entry (pass-1 order)
  const std::uint8_t* rseg_first;  // per row segment: 1 when it is its row's first
  const index_t* col;              // per entry, pass-1 order: column, descending-degree id
  const compute_t<S>* val;         // per entry, pass-1 order: M_ij
  const std::uint32_t* res_slot;   // per entry, pass-1 order: its place in its strip's pass-2 order
  const offset_t* strip_first;     // strips+1: first entry of each strip, pass-2 order
  const offset_t* strip_cseg;      // strips+1: first column segment of each strip
  const index_t* cseg_col;         // per column segment: its column
  const offset_t* cseg_end;        // per column segment: one past its last entry (pass-2 order)
  const std::uint8_t* cseg_first;  // per column segment: 1 when it is its column's first
  const index_t* row;              // per entry, pass-2 order: row
  const offset_t* empty_rows;      // row_bands+1: range of empty_row for each row band
  const index_t* empty_row;        // rows without entries, by row band
  std::size_t empty_cols;          // columns without entries ...
  const index_t* empty_col;        // ... ascending
  const index_t* owner_col;        // owners+1 bounds: the columns each thread owns in pass 2
  int owners;                      // number of column owners (the thread count)
  const index_t* old_col;          // n: the caller's id of pass 1's column j
  const S* v_in;                   // the caller's V (n × k); the kernel reads the copy it makes of it
};

// One ISA's code for the two passes, for one k: what the OpenMP driver (kernels/tiled_simd.cpp,
// compiled once) hands each thread. Pass 1 runs rows(rb) for every row band, pass 2 columns(owner) for
// every column owner; the loss partials land per band and per column, summed by the caller.
template <class S, class T = compute_t<S>>
struct TilePasses {
  void (*rows)(const Raw<S>& r, const TileView<S>& tv, std::size_t rb, T* res, double* band_sq, double* band_norm);
  void (*columns)(const Raw<S>& r, const TileView<S>& tv, int owner, const T* res, double* col_norm);
};

}  // namespace mfgrad::kernels::detail
