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
// The layout is built once per (Ω, k, threads) and kept in the Workspace; its bands depend on Ω, k and
// the machine, never on the thread count. Scratch: one residual per
// entry, one double per column.
#include <thread>

#include "detail/common.hpp"
#include "detail/degree_order.hpp"
#include "detail/tiles.hpp"
#include "simd/dispatch.hpp"
#include "simd/tiled_simd.hpp"

namespace mfgrad::kernels::tiled_simd {

MFGRAD_SIMD_EXTERN(MFGRAD_TILED_SIMD_RUN)

namespace {

template <class T>
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

  Layout(const Observed& obs, std::size_t k, int threads, Workspace::CacheSizes caches)
      : order(obs), owners(std::max(threads, 1)) {
    const index_t m = obs.rows(), n = obs.cols();
    const offset_t nnz = obs.nnz();
    const auto row_ptr = obs.row_ptr(), col_ptr = obs.col_ptr();
    const auto csr_col = obs.col_idx();
    const auto values = obs.values<T>();
    const std::size_t row_bytes = k * sizeof(T);
    const std::size_t l2 = caches.l2 ? caches.l2 : cache_bytes(2, 1 << 20);
    const std::size_t l3 = caches.l3 ? caches.l3 : cache_bytes(3, 8 << 20);
    // Sizes follow the machine's thread count, never the requested one: segment boundaries decide
    // how sums are grouped, and the result must not depend on how many threads run it.
    const std::size_t hw = std::max(1u, std::thread::hardware_concurrency());
    // Pass 1: a row band's U and ∂U rows fit in L2, since a row is visited once per column band.
    // Column bands (a band of V in a share of the last-level cache) are made only when a cache size is
    // set explicitly: measured on Netflix-shaped and wide data, the shorter row segments they cause
    // cost more than the cache hits they buy (see README, "Where the time goes"). Enough row bands per
    // thread for dynamic scheduling to even out power-law rows.
    const index_t band_rows = static_cast<index_t>(std::max<std::size_t>(4, l2 / 2 / row_bytes));
    const index_t band_cols =
        caches.l3 == 0 ? n + 1
                       : static_cast<index_t>(std::min<std::size_t>(static_cast<std::size_t>(n) + 1,
                                                                    std::max<std::size_t>(4, l3 / 2 / hw / row_bytes)));
    const offset_t band_entries = std::max<offset_t>(4096, nnz / (8 * static_cast<offset_t>(hw)));
    // Pass 2: a strip is tall enough that a column has about 16 entries in it (so each ∂V row is
    // read and written rarely), at least twice the L2 in U rows (measured best on Netflix-shaped data;
    // see README), at most half the last-level cache.
    const double rows_for_segments = 16.0 * m * static_cast<double>(n) / std::max<double>(1, static_cast<double>(nnz));
    const double fewest = static_cast<double>(2 * l2 / row_bytes);
    const index_t strip_rows = static_cast<index_t>(
        std::clamp<double>(rows_for_segments, fewest, std::max(fewest, static_cast<double>(l3 / 2 / row_bytes))));

    const auto bands = [&](std::span<const offset_t> ptr, index_t count, index_t max_width, offset_t max_entries) {
      std::vector<index_t> b{0};
      for (index_t x = 0; x < count; ++x)
        if (x - b.back() >= max_width || (x > b.back() && ptr[x + 1] - ptr[b.back()] > max_entries)) b.push_back(x);
      b.push_back(count);
      return b;
    };
    row_band = bands(row_ptr, m, band_rows, band_entries);
    col_band = bands(col_ptr, n, band_cols, nnz + 1);
    owner_col = detail::split_by_entries(col_ptr, owners);
    const std::size_t nrb = row_band.size() - 1, ncb = col_band.size() - 1, tiles = nrb * ncb;
    strip_band = {0};
    for (std::size_t rb = 0; rb < nrb; ++rb)
      if (rb > strip_band.back() && row_band[rb + 1] - row_band[strip_band.back()] > strip_rows) strip_band.push_back(rb);
    strip_band.push_back(nrb);
    const std::size_t strips = strip_band.size() - 1;
    std::vector<index_t> band_of(static_cast<std::size_t>(n));
    for (std::size_t cb = 0; cb < ncb; ++cb)
      for (index_t j = col_band[cb]; j < col_band[cb + 1]; ++j) band_of[j] = static_cast<index_t>(cb);

    // Entries and row segments of every tile; rows without entries, per band.
    std::vector<offset_t> count(tiles + 1, 0), rsegs(tiles + 1, 0);
    empty_rows.assign(nrb + 1, 0);
    for (std::size_t rb = 0; rb < nrb; ++rb) {
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
    for (index_t j = 0; j < n; ++j)
      if (col_ptr[j] == col_ptr[j + 1]) empty_col.push_back(j);
    for (std::size_t t = 0; t < tiles; ++t) count[t + 1] += count[t], rsegs[t + 1] += rsegs[t];
    tile_first = count;
    tile_rseg = rsegs;
    rseg_row.resize(static_cast<std::size_t>(rsegs[tiles]));
    rseg_end.resize(static_cast<std::size_t>(rsegs[tiles]));
    rseg_first.resize(static_cast<std::size_t>(rsegs[tiles]));
    col.reset(nnz);
    val.reset(nnz);
    res_slot.reset(nnz);
    row.reset(nnz);

    // Pass-1 order: rows ascending, columns ascending within a tile. A row's first segment is the one
    // in its lowest column band, the first pass 1 visits.
    std::vector<index_t> entry_row(static_cast<std::size_t>(nnz));
#pragma omp parallel for schedule(dynamic, 1)
    for (std::size_t rb = 0; rb < nrb; ++rb) {
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

    // Pass-2 order within each strip (whose entries are contiguous in pass-1 order too, tiles being
    // row-band-major): a stable counting sort by column, so rows stay ascending within a column.
    strip_first.resize(strips + 1);
    for (std::size_t st = 0; st <= strips; ++st) strip_first[st] = tile_first[strip_band[st] * ncb];
    std::vector<offset_t> csegs(strips + 1, 0);
#pragma omp parallel
    {
      std::vector<offset_t> at;
#pragma omp for schedule(dynamic, 1)
      for (std::size_t st = 0; st < strips; ++st) {
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
    for (std::size_t st = 0; st < strips; ++st) csegs[st + 1] += csegs[st];
    strip_cseg = csegs;
    cseg_col.resize(static_cast<std::size_t>(csegs[strips]));
    cseg_end.resize(static_cast<std::size_t>(csegs[strips]));
    cseg_first.resize(static_cast<std::size_t>(csegs[strips]));
#pragma omp parallel
    {
      std::vector<index_t> col_at;
#pragma omp for schedule(dynamic, 1)
      for (std::size_t st = 0; st < strips; ++st) {
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
    // A column's first segment is the one in its lowest strip, the first pass 2 visits.
    std::vector<std::uint8_t> seen(static_cast<std::size_t>(n), 0);
    for (std::size_t g = 0; g < cseg_col.size(); ++g) {
      cseg_first[g] = !seen[cseg_col[g]];
      seen[cseg_col[g]] = 1;
    }
    // Pass 1 gathers V from a copy in descending-degree order, where the rows most entries touch sit
    // together; only its gather index changes. The order entries are visited in stays the caller's
    // (a row's residuals then land in its strip's pass-2 slots in ascending order).
#pragma omp parallel for schedule(static)
    for (offset_t q = 0; q < nnz; ++q) col[q] = order.new_of_old[static_cast<std::size_t>(col[q])];
  }

  detail::TileView<T> view(const T* v_in) const {
    return {.row_bands = row_band.size() - 1,
            .col_bands = col_band.size() - 1,
            .strips = strip_band.size() - 1,
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

template <class T>
double run(const Problem<T>& p, Workspace& ws) {
  const int threads = ws.threads();
  const auto& layout =
      ws.prepared<Layout<T>>(p.obs, p.k, [&] { return std::make_unique<Layout<T>>(p.obs, p.k, threads, ws.cache_sizes()); });
  const detail::TileView<T> tv = layout.view(p.v);
  detail::Raw<T> r = detail::raw(p);
  r.v = ws.scratch<T>(3, r.n * r.k);  // V in descending-degree order, filled by the kernel
  T* res = ws.scratch<T>(0, static_cast<std::size_t>(p.obs.nnz()));
  double* band = ws.scratch<double>(1, 2 * tv.row_bands);
  double* col_norm = ws.scratch<double>(2, r.n);
  simd::dispatch([&](auto arch) { tiled_simd::run(arch, r, tv, res, band, band + tv.row_bands, col_norm); });
  double sq = 0, norm_u = 0, norm_v = 0;
  for (std::size_t rb = 0; rb < tv.row_bands; ++rb) sq += band[rb], norm_u += band[tv.row_bands + rb];
  for (std::size_t j = 0; j < r.n; ++j) norm_v += col_norm[j];
  return 0.5 * sq + 0.5 * p.lambda * (norm_u + norm_v);
}

}  // namespace

MFGRAD_KERNEL_ENTRY_POINTS

// Built for rows wider than two cache lines at a compiled-in k; elsewhere the fallback, whose
// run-time loop the one-pass kernels beat on narrow rows or odd k.
Preference prefers(const ShapeHint& s) {
  const bool built_for = !detail::narrow_rows(s) && detail::whole_batches(s.k, s.lanes);
  return {built_for ? 5 : 1, "the cache-blocked two-pass kernel"};
}

}  // namespace mfgrad::kernels::tiled_simd
