// tiled_simd — Ω cut into 2-D tiles sized for the caches; a residual pass, then a gradient pass.
//
//   pass 1, rows:    r_ij and ∂U = λU − R V. Threads take row bands; in a band, rows are visited
//                    column band by column band, u_i and Σ_j r_ij v_j in registers across the row's
//                    entries in the tile, the next V rows prefetched. By default there is one column
//                    band: V is read from wherever it fits (see the Layout comment).
//   pass 2, columns: ∂V = λV − Rᵀ U from the residuals pass 1 left in pass-2 order. Rows are grouped
//                    into strips, tall enough that each column has many entries in a strip; each
//                    thread owns a range of columns and sweeps the strips in order, Σ_i r_ij u_i for a
//                    column building up in registers while the strip's U rows stay in cache.
// Each factor row is read from memory once per segment, and each gradient row is written once per
// segment: the first segment of a row (column) writes λx − Σ, later ones subtract.
// k = W…8W, 16W and 32W (W = SIMD width) are compiled in, factor rows in registers (rows too wide for
// that take pass 1 in chunks of entries, dots first, gradient sums second); other k run a loop with a
// scalar tail. Pass 1 gathers V from a copy in descending-degree order (hot rows together). Every sum
// runs in an order fixed by the data alone, so the result is bitwise identical at any thread count.
// The layout is built once per (Ω, k, threads) and kept in the Workspace; its bands (choose_tiles,
// detail/tile_sizes.hpp) depend on Ω, k and the machine, never on the thread count. The OpenMP driver
// is compiled once, here; the per-ISA code (simd/tiled_simd.hpp) runs one row band or one column
// owner per call. Scratch: one residual per entry, one double per column.
#include "simd/tiled_simd.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <span>
#include <thread>

#include "detail/common.hpp"
#include "detail/degree_order.hpp"
#include "detail/tile_sizes.hpp"
#include "detail/tiles.hpp"
#include "simd/dispatch.hpp"

namespace mfgrad::kernels::tiled_simd {

MFGRAD_SIMD_EXTERN(MFGRAD_TILED_SIMD_RUN)
MFGRAD_SIMD_EXTERN_HALF(MFGRAD_TILED_SIMD_RUN)

TileSizes choose_tiles(const OmegaShape& omega, std::size_t row_bytes, const TileCaches& caches) {
  row_bytes = std::max<std::size_t>(row_bytes, 1);
  const std::size_t l2 = std::max<std::size_t>(caches.l2, 1), l3 = std::max<std::size_t>(caches.l3, 1);
  const std::size_t threads = std::max(caches.threads, 1u);
  const auto rows = static_cast<double>(omega.rows), cols = static_cast<double>(omega.cols);
  // Counts of rows or columns fit index_t whatever the caches (a 4 GiB L2 over 4-byte rows is 2^31).
  const auto count = [](double x) {
    return static_cast<index_t>(std::clamp<double>(std::floor(x), 1, std::numeric_limits<index_t>::max()));
  };
  TileSizes t{};
  t.band_rows = count(std::max<double>(4, static_cast<double>(l2 / 2 / row_bytes)));
  t.band_entries = std::max<offset_t>(4096, omega.entries / (8 * static_cast<offset_t>(threads)));
  t.band_cols = count(!caches.column_bands
                          ? cols + 1
                          : std::min(cols + 1, std::max<double>(4, static_cast<double>(l3 / 2 / threads / row_bytes))));
  const double for_segments = 16.0 * rows * cols / std::max<double>(1, static_cast<double>(omega.entries));
  const double fewest = std::max<double>(1, static_cast<double>(2 * l2 / row_bytes));
  t.strip_rows =
      count(std::clamp<double>(for_segments, fewest, std::max(fewest, static_cast<double>(l3 / 2 / row_bytes))));
  return t;
}

TileCaches tile_caches(const Workspace::CacheSizes& asked) {
  return {.l2 = asked.l2 ? asked.l2 : cache_bytes(2, 1 << 20),
          .l3 = asked.l3 ? asked.l3 : cache_bytes(3, 8 << 20),
          .column_bands = asked.l3 != 0,
          .threads = std::max(1u, std::thread::hardware_concurrency())};
}

namespace {

// Band bounds over `count` rows (columns) with pointer array ptr: a band closes at max_width rows, or
// before a row that would take it past max_entries (a single row may exceed it).
std::vector<index_t> cut_bands(std::span<const offset_t> ptr, index_t count, index_t max_width, offset_t max_entries) {
  std::vector<index_t> b{0};
  for (index_t x = 0; x < count; ++x)
    if (x - b.back() >= max_width || (x > b.back() && ptr[x + 1] - ptr[b.back()] > max_entries)) b.push_back(x);
  b.push_back(count);
  return b;
}

// The tile layout of Ω for one (k, precision, machine): the orders and segment lists of
// detail/tiles.hpp, built by the steps below in this order.
// S: how the factors are stored, which sizes the tiles (rows of k·sizeof(S) bytes); the values are
// T = compute_t<S>.
template <class S, class T = compute_t<S>>
struct Layout : PreparedState {
  detail::DegreeOrder order;
  std::vector<index_t> row_band, col_band, owner_col, empty_row, empty_col, rseg_row, cseg_col;
  std::vector<std::size_t> strip_band;
  std::vector<offset_t> tile_first, tile_rseg, rseg_end, strip_first, strip_cseg, cseg_end, empty_rows;
  std::vector<std::uint8_t> rseg_first, cseg_first;
  Buffer<index_t> col, row;
  Buffer<T> val;
  Buffer<std::uint32_t> res_slot;
  int owners = 1;

  Layout(const Observed& obs, std::size_t k, int threads, const Workspace::CacheSizes& caches)
      : order(obs), owners(std::max(threads, 1)) {
    const TileSizes sizes = choose_tiles({.rows = obs.rows(), .cols = obs.cols(), .entries = obs.nnz()}, k * sizeof(S),
                                         tile_caches(caches));
    const std::vector<index_t> band_of = cut(obs, sizes);
    count_tiles(obs, band_of);
    const std::vector<index_t> entry_row = order_pass1(obs, band_of);
    order_pass2(obs.cols(), entry_row);
    list_column_segments(obs.cols());
    renumber_by_degree();
  }

  std::size_t row_bands() const { return row_band.size() - 1; }
  std::size_t col_bands() const { return col_band.size() - 1; }
  std::size_t strips() const { return strip_band.size() - 1; }

  // Row bands, column bands, strips (whole row bands) and the column owners of pass 2 (entry-balanced).
  // Returns each column's band.
  std::vector<index_t> cut(const Observed& obs, const TileSizes& sizes) {
    row_band = cut_bands(obs.row_ptr(), obs.rows(), sizes.band_rows, sizes.band_entries);
    col_band = cut_bands(obs.col_ptr(), obs.cols(), sizes.band_cols, obs.nnz() + 1);
    owner_col = detail::split_by_entries(obs.col_ptr(), owners);
    strip_band = {0};
    for (std::size_t rb = 0; rb < row_bands(); ++rb)
      if (rb > strip_band.back() && row_band[rb + 1] - row_band[strip_band.back()] > sizes.strip_rows)
        strip_band.push_back(rb);
    strip_band.push_back(row_bands());
    std::vector<index_t> band_of(static_cast<std::size_t>(obs.cols()));
    for (std::size_t cb = 0; cb < col_bands(); ++cb)
      for (index_t j = col_band[cb]; j < col_band[cb + 1]; ++j) band_of[j] = static_cast<index_t>(cb);
    return band_of;
  }

  // Entries and row segments of every tile (tile_first, tile_rseg), the rows without entries per band,
  // the columns without entries. Sizes the per-entry and per-segment arrays.
  void count_tiles(const Observed& obs, const std::vector<index_t>& band_of) {
    const auto row_ptr = obs.row_ptr(), col_ptr = obs.col_ptr();
    const auto csr_col = obs.col_idx();
    const std::size_t ncb = col_bands(), tiles = row_bands() * ncb;
    std::vector<offset_t> count(tiles + 1, 0), rsegs(tiles + 1, 0);
    empty_rows.assign(row_bands() + 1, 0);
    for (std::size_t rb = 0; rb < row_bands(); ++rb) {
      for (index_t i = row_band[rb]; i < row_band[rb + 1]; ++i) {
        if (row_ptr[i] == row_ptr[i + 1]) empty_row.push_back(i);
        index_t last = -1;
        for (offset_t q = row_ptr[i]; q < row_ptr[i + 1]; ++q) {
          const index_t cb = band_of[csr_col[q]];
          ++count[rb * ncb + cb + 1];
          if (cb != last) ++rsegs[rb * ncb + cb + 1], last = cb;
        }
      }
      empty_rows[rb + 1] = static_cast<offset_t>(empty_row.size());
    }
    for (index_t j = 0; j < obs.cols(); ++j)
      if (col_ptr[j] == col_ptr[j + 1]) empty_col.push_back(j);
    for (std::size_t t = 0; t < tiles; ++t) count[t + 1] += count[t], rsegs[t + 1] += rsegs[t];
    tile_first = count;
    tile_rseg = rsegs;
    const auto segments = static_cast<std::size_t>(rsegs[tiles]);
    rseg_row.resize(segments);
    rseg_end.resize(segments);
    rseg_first.resize(segments);
    col.reset(obs.nnz());
    val.reset(obs.nnz());
    res_slot.reset(obs.nnz());
    row.reset(obs.nnz());
  }

  // Pass-1 order: tiles row-band-major, rows ascending, columns ascending within a tile; fills col
  // (caller's ids for now), val and the row segments. A row's first segment is the one in its lowest
  // column band, the first pass 1 visits. Returns each entry's row, in pass-1 order.
  std::vector<index_t> order_pass1(const Observed& obs, const std::vector<index_t>& band_of) {
    const auto row_ptr = obs.row_ptr();
    const auto csr_col = obs.col_idx();
    const auto values = obs.values<T>();
    const std::size_t ncb = col_bands();
    std::vector<index_t> entry_row(static_cast<std::size_t>(obs.nnz()));
#pragma omp parallel for schedule(dynamic, 1)
    for (std::size_t rb = 0; rb < row_bands(); ++rb) {
      std::vector<offset_t> at(tile_first.begin() + rb * ncb, tile_first.begin() + (rb + 1) * ncb);
      std::vector<offset_t> seg(tile_rseg.begin() + rb * ncb, tile_rseg.begin() + (rb + 1) * ncb);
      for (index_t i = row_band[rb]; i < row_band[rb + 1]; ++i) {
        index_t last = -1;
        for (offset_t q = row_ptr[i]; q < row_ptr[i + 1]; ++q) {
          const index_t cb = band_of[csr_col[q]];
          if (cb != last) {
            if (last >= 0) rseg_end[seg[last]++] = at[last];
            rseg_row[seg[cb]] = i;
            rseg_first[seg[cb]] = last < 0;
            last = cb;
          }
          entry_row[at[cb]] = i;
          col[at[cb]] = csr_col[q];
          val[at[cb]++] = values[q];
        }
        if (last >= 0) rseg_end[seg[last]++] = at[last];
      }
    }
    return entry_row;
  }

  // Pass-2 order within each strip (whose entries are contiguous in pass-1 order too, tiles being
  // row-band-major): a stable counting sort by column, so rows stay ascending within a column. Fills
  // row, res_slot (each entry's place in its strip's pass-2 order), strip_first and strip_cseg.
  void order_pass2(index_t n, const std::vector<index_t>& entry_row) {
    const std::size_t ncb = col_bands();
    strip_first.resize(strips() + 1);
    for (std::size_t st = 0; st <= strips(); ++st) strip_first[st] = tile_first[strip_band[st] * ncb];
    std::vector<offset_t> csegs(strips() + 1, 0);
#pragma omp parallel
    {
      std::vector<offset_t> at;
#pragma omp for schedule(dynamic, 1)
      for (std::size_t st = 0; st < strips(); ++st) {
        at.assign(static_cast<std::size_t>(n) + 1, 0);
        for (offset_t q = strip_first[st]; q < strip_first[st + 1]; ++q) ++at[col[q] + 1];
        offset_t distinct = 0;
        for (index_t j = 0; j < n; ++j) distinct += at[j + 1] > 0, at[j + 1] += at[j];
        csegs[st + 1] = distinct;
        for (offset_t q = strip_first[st]; q < strip_first[st + 1]; ++q) {
          const offset_t p = at[col[q]]++;
          res_slot[q] = static_cast<std::uint32_t>(p);
          row[strip_first[st] + p] = entry_row[q];
        }
      }
    }
    for (std::size_t st = 0; st < strips(); ++st) csegs[st + 1] += csegs[st];
    strip_cseg = csegs;
  }

  // The column segments of every strip in pass-2 order: column, end, and whether it is the column's
  // first (the one in its lowest strip, the first pass 2 visits).
  void list_column_segments(index_t n) {
    const auto segments = static_cast<std::size_t>(strip_cseg[strips()]);
    cseg_col.resize(segments);
    cseg_end.resize(segments);
    cseg_first.resize(segments);
#pragma omp parallel
    {
      std::vector<index_t> col_at;
#pragma omp for schedule(dynamic, 1)
      for (std::size_t st = 0; st < strips(); ++st) {
        col_at.resize(static_cast<std::size_t>(strip_first[st + 1] - strip_first[st]));
        for (offset_t q = strip_first[st]; q < strip_first[st + 1]; ++q) col_at[res_slot[q]] = col[q];
        offset_t g = strip_cseg[st];
        for (std::size_t p = 0; p < col_at.size(); ++p)
          if (p + 1 == col_at.size() || col_at[p + 1] != col_at[p]) {
            cseg_col[g] = col_at[p];
            cseg_end[g++] = strip_first[st] + static_cast<offset_t>(p) + 1;
          }
      }
    }
    std::vector<std::uint8_t> seen(static_cast<std::size_t>(n), 0);
    for (std::size_t g = 0; g < segments; ++g) {
      cseg_first[g] = !seen[cseg_col[g]];
      seen[cseg_col[g]] = 1;
    }
  }

  // Pass 1 gathers V from a copy in descending-degree order, where the rows most entries touch sit
  // together; only its gather index changes. The order entries are visited in stays the caller's
  // (a row's residuals then land in its strip's pass-2 slots in ascending order).
  void renumber_by_degree() {
    const offset_t nnz = static_cast<offset_t>(col.size());
#pragma omp parallel for schedule(static)
    for (offset_t q = 0; q < nnz; ++q) col[q] = order.new_of_old[static_cast<std::size_t>(col[q])];
  }

  detail::TileView<S> view(const S* v_in) const {
    return {.row_bands = row_bands(),
            .col_bands = col_bands(),
            .strips = strips(),
            .row_band = row_band.data(),
            .col_band = col_band.data(),
            .strip_band = strip_band.data(),
            .tile_first = tile_first.data(),
            .tile_rseg = tile_rseg.data(),
            .rseg_row = rseg_row.data(),
            .rseg_end = rseg_end.data(),
            .rseg_first = rseg_first.data(),
            .col = col.data(),
            .val = val.data(),
            .res_slot = res_slot.data(),
            .strip_first = strip_first.data(),
            .strip_cseg = strip_cseg.data(),
            .cseg_col = cseg_col.data(),
            .cseg_end = cseg_end.data(),
            .cseg_first = cseg_first.data(),
            .row = row.data(),
            .empty_rows = empty_rows.data(),
            .empty_row = empty_row.data(),
            .empty_cols = empty_col.size(),
            .empty_col = empty_col.data(),
            .owner_col = owner_col.data(),
            .owners = owners,
            .old_col = order.old_of_new.data(),
            .v_in = v_in};
  }
};

// The OpenMP driver, compiled once: V copied into degree order, then pass 1 with threads taking whole
// row bands (dynamic: power-law rows), then pass 2 with column owners fixed, not scheduled, since each
// owner's ∂V rows must see the strips in order. The per-ISA code runs one band or one owner at a time.
template <class S, class T = compute_t<S>>
void drive(const detail::TilePasses<S>& passes, const detail::Raw<S>& r, const detail::TileView<S>& tv, T* res,
           double* band_sq, double* band_norm, double* col_norm) {
  const std::size_t k = r.k;
  S* v_copy = const_cast<S*>(r.v);
#pragma omp parallel num_threads(tv.owners)
  {
#pragma omp for schedule(static)
    for (std::size_t j = 0; j < r.n; ++j)
      std::memcpy(v_copy + j * k, tv.v_in + static_cast<std::size_t>(tv.old_col[j]) * k, k * sizeof(S));
#pragma omp for schedule(dynamic, 1)
    for (std::size_t rb = 0; rb < tv.row_bands; ++rb) passes.rows(r, tv, rb, res, band_sq, band_norm);
#pragma omp for schedule(static, 1)
    for (int owner = 0; owner < tv.owners; ++owner) passes.columns(r, tv, owner, res, col_norm);
  }
}

// S: how U and V are stored (16-bit rows are read as they are and widened in registers, so both passes
// gather half the bytes; the residuals stay compute_t<S>).
template <class S>
double run(const Problem<S>& p, Workspace& ws) {
  using T = compute_t<S>;
  const int threads = ws.threads();
  const auto& layout = ws.prepared<Layout<S>>(
      p.obs, p.k, [&] { return std::make_unique<Layout<S>>(p.obs, p.k, threads, ws.cache_sizes()); });
  const detail::TileView<S> tv = layout.view(p.v);
  detail::Raw<S> r = detail::raw(p);
  r.v = ws.scratch<S>(3, r.n * r.k);  // V in descending-degree order, filled by the driver
  T* res = ws.scratch<T>(0, static_cast<std::size_t>(p.obs.nnz()));
  double* band = ws.scratch<double>(1, 2 * tv.row_bands);
  double* col_norm = ws.scratch<double>(2, r.n);
  const detail::TilePasses<S> code =
      simd::dispatch([&](auto arch) { return tiled_simd::passes<decltype(arch), S>(arch, r.k); });
  drive(code, r, tv, res, band, band + tv.row_bands, col_norm);
  double sq = 0, norm_u = 0, norm_v = 0;
  for (std::size_t rb = 0; rb < tv.row_bands; ++rb) sq += band[rb], norm_u += band[tv.row_bands + rb];
  for (std::size_t j = 0; j < r.n; ++j) norm_v += col_norm[j];
  return 0.5 * sq + 0.5 * p.lambda * (norm_u + norm_v);
}

}  // namespace

MFGRAD_KERNEL_ENTRY_POINTS_HALF

// Built for rows wider than two cache lines at a compiled-in k; elsewhere the fallback, whose
// run-time loop the one-pass kernels beat on narrow rows or odd k.
Preference prefers(const ShapeHint& s) {
  const bool built_for = !detail::narrow_rows(s) && detail::whole_batches(s.k, s.lanes);
  return {built_for ? Fit::built_for : Fit::fallback, "the cache-blocked two-pass kernel"};
}

}  // namespace mfgrad::kernels::tiled_simd
