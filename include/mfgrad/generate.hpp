// mfgrad — a deterministic generator of rating-like data, and its named presets.
//
// Row and column degrees follow power laws: the r-th heaviest row has weight (r+1)^(−row_skew), the
// heaviest rows and columns are scattered over the ids by a seeded permutation, and degrees are scaled
// to hit nnz exactly (capped at n per row). Each row draws its columns without replacement with
// probability ∝ the column weights. Values come from a planted rank-`rank` truth plus Gaussian noise:
//     M_ij = mean + a_i·b_j + noise·ε_ij,   a_i, b_j ~ N(0, rank^(−1/2) I)   (so a_i·b_j has variance 1)
// Every random draw is keyed by (seed, row or column, position), so the output is identical at any
// thread count and on any machine. Entries come out sorted by (row, column).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mfgrad/observed.hpp"

namespace mfgrad {

struct DataSpec {
  std::string name;
  index_t rows = 0;
  index_t cols = 0;
  offset_t nnz = 0;
  double row_skew = 0.4;   // power-law exponent of row degree against rank; 0 = uniform
  double col_skew = 0.45;  // same for columns
  offset_t min_row_degree = 1;
  int rank = 8;  // rank of the planted truth
  double mean = 3.5;
  double noise = 0.5;
  std::uint64_t seed = 42;
  std::string summary;  // one line for listings
};

// tiny, ml-small, netflix-25m, netflix-100m, wide-50m.
std::span<const DataSpec> presets();

// The preset of that name; throws Error listing the known names.
const DataSpec& preset(std::string_view name);

// Throws Error when the spec is impossible (nnz > rows·cols, negative sizes, rank < 1, …).
void check(const DataSpec& spec);

Entries generate_entries(const DataSpec& spec);

// Rows row_begin .. row_end−1 alone, exactly as generate_entries() makes them, with row ids counted from
// row_begin (entries.rows = row_end − row_begin): a process generates its share of Ω without the rest.
Entries generate_rows(const DataSpec& spec, index_t row_begin, index_t row_end);

// The entry count of every row (what generate_rows() will make), without generating any entry.
std::vector<offset_t> row_degrees(const DataSpec& spec);

// generate_entries + Observed::build, without keeping the Entries around.
Observed generate(const DataSpec& spec);

// Factor matrix (rows × k, row-major) with entries uniform in ±√3·k^(−1/4), so that u_i·v_j has
// variance about 1 at any k; the same for a given (rows, k, seed) on every machine. For bfloat16 and
// float16, the float32 draw rounded to nearest even.
template <class T>
std::vector<T> random_factor(std::size_t rows, std::size_t k, std::uint64_t seed);

// Rows row_begin .. row_end−1 of random_factor(rows, k, seed) (for any rows ≥ row_end), alone.
template <class T>
std::vector<T> random_factor_rows(std::size_t row_begin, std::size_t row_end, std::size_t k, std::uint64_t seed);

}  // namespace mfgrad
