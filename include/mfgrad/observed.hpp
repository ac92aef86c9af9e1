// mfgrad — the observed entries Ω of M: raw (Entries) and validated, sorted, immutable (Observed).
//
//   Entries  — COO triplets in any order, exactly as read or generated.
//   Observed — built once from Entries: CSR by row (columns ascending within a row), CSC by column
//              (rows ascending within a column) with the permutation into CSR order, the order of
//              the input, and degree statistics. Every kernel reads the same Observed; none writes it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mfgrad/buffer.hpp"
#include "mfgrad/types.hpp"

namespace mfgrad {

// Triplets (row, col, value) with the shape of M. Ids are 0-based. `line` optionally records where
// each entry came from (a line number in `source`) so that validation errors can point at it.
struct Entries {
  index_t rows = 0;  // m
  index_t cols = 0;  // n
  std::vector<index_t> row;
  std::vector<index_t> col;
  std::vector<double> value;
  std::vector<std::int64_t> line;  // empty, or one source line per entry
  std::string source;              // e.g. a file name; empty for generated data

  offset_t size() const noexcept { return static_cast<offset_t>(value.size()); }
  void reserve(std::size_t count);
  void push(index_t i, index_t j, double v) {
    row.push_back(i);
    col.push_back(j);
    value.push_back(v);
  }
  void push(index_t i, index_t j, double v, std::int64_t source_line) {
    push(i, j, v);
    line.push_back(source_line);
  }
  // "input entry #12 (line 14 of ratings.csv)" — how messages name entry t.
  std::string describe(offset_t t) const;
};

// What to do with two entries at the same (i, j).
enum class DuplicatePolicy {
  error,  // reject, naming both entries (default)
  sum,    // add the values in input order
  last,   // keep the value that comes last in the input
};

DuplicatePolicy parse_duplicate_policy(std::string_view name);  // "error" | "sum" | "last"
const char* to_string(DuplicatePolicy policy) noexcept;

struct ObservedStats {
  offset_t max_row_nnz = 0;
  offset_t max_col_nnz = 0;
  index_t empty_rows = 0;
  index_t empty_cols = 0;
  offset_t duplicates_merged = 0;  // entries folded into another under the sum/last policies
};

// Copies share one immutable store (a copy costs a reference count, not the entries), and the store
// lives as long as any copy: whatever holds an Observed — a Plan, a Dataset, a binding — keeps Ω alive
// on its own, however the Observed it was given is later moved or destroyed.
class Observed {
 public:
  // Validates every entry before building anything, so a rejected input leaves nothing behind.
  // Throws mfgrad::Error naming the first offending entry (in input order): an id outside the
  // shape, a NaN or infinite value, or — under DuplicatePolicy::error — a repeated (i, j). Throws
  // mfgrad::OutOfMemory (an Error), naming the source, the shape, the bytes and the limit, when
  // building would need more memory than this process may use (mfgrad/memory.hpp) or an allocation
  // fails.
  static Observed build(const Entries& entries, DuplicatePolicy policy = DuplicatePolicy::error);

  // Ω from compressed sparse rows with 32- or 64-bit offsets (Offset: std::int32_t or std::int64_t):
  // the entries of row i are positions row_ptr[i] .. row_ptr[i+1]-1 of col_idx and values, columns in
  // any order within a row; row_ptr holds rows + 1 offsets, starts at 0, never decreases and ends at
  // col_idx.size() == values.size(). Throws Error naming the first bad offset, or as build() does for
  // the entries (entry #t is CSR position t); OutOfMemory before copying anything when the entries
  // cannot fit.
  template <class Offset>
  static Observed from_csr(index_t rows, index_t cols, std::span<const Offset> row_ptr,
                           std::span<const index_t> col_idx, std::span<const double> values,
                           DuplicatePolicy policy = DuplicatePolicy::error);

  Observed();  // 0 x 0, no entries

  index_t rows() const noexcept { return d_->rows; }
  index_t cols() const noexcept { return d_->cols; }
  offset_t nnz() const noexcept { return d_->nnz; }

  // CSR: entries of row i are positions row_ptr[i] .. row_ptr[i+1]-1, columns strictly ascending.
  std::span<const offset_t> row_ptr() const noexcept { return d_->row_ptr.span(); }
  std::span<const index_t> col_idx() const noexcept { return d_->col_idx.span(); }
  std::span<const index_t> row_of() const noexcept { return d_->row_of.span(); }  // row id per CSR position

  // Values in CSR order. float32 kernels read the float copy, made once here.
  template <class T>
  std::span<const T> values() const noexcept;

  // CSC: entries of column j are csc positions col_ptr[j] .. col_ptr[j+1]-1, rows strictly ascending;
  // csc_to_csr maps each to its CSR position (where its value and residual live).
  std::span<const offset_t> col_ptr() const noexcept { return d_->col_ptr.span(); }
  std::span<const index_t> row_idx() const noexcept { return d_->row_idx.span(); }
  std::span<const offset_t> csc_to_csr() const noexcept { return d_->csc_to_csr.span(); }

  // CSR position of the t-th retained input entry, in input order (what `naive` walks).
  offset_t input_to_csr(offset_t t) const noexcept {
    return d_->input_to_csr.empty() ? t : d_->input_to_csr[static_cast<std::size_t>(t)];
  }

  const ObservedStats& stats() const noexcept { return d_->stats; }

  // float32 kernels need every value representable as a finite float; the first one that is not
  // (empty when all are), named as its input entry (line and source when the Entries had them) —
  // evaluate() names it when a float32 evaluation is asked for.
  const std::string& float32_overflow() const noexcept { return d_->float32_overflow; }

  // The entry of largest magnitude, named the same way (empty when Ω is): what to quote when a
  // float64 evaluation overflows.
  const std::string& largest_value() const noexcept { return d_->largest_value; }

  // Distinct for every Observed built in this process (copies share it); prepared kernel state is
  // keyed on it.
  std::uint64_t id() const noexcept { return d_->id; }

 private:
  struct Data {
    index_t rows = 0;
    index_t cols = 0;
    offset_t nnz = 0;
    Buffer<offset_t> row_ptr;
    Buffer<index_t> col_idx;
    Buffer<index_t> row_of;
    Buffer<double> values64;
    Buffer<float> values32;
    Buffer<offset_t> col_ptr;
    Buffer<index_t> row_idx;
    Buffer<offset_t> csc_to_csr;
    Buffer<offset_t> input_to_csr;  // empty when the input already was in CSR order
    ObservedStats stats;
    std::string float32_overflow;
    std::string largest_value;
    std::uint64_t id = 0;
  };
  explicit Observed(std::shared_ptr<const Data> d) : d_(std::move(d)) {}
  static Observed assemble(const Entries& entries, DuplicatePolicy policy);  // build() after validation
  struct Assembly;                                                           // assemble()'s steps (src/observed.cpp)

  std::shared_ptr<const Data> d_;  // never null
};

template <>
inline std::span<const double> Observed::values<double>() const noexcept {
  return d_->values64.span();
}
template <>
inline std::span<const float> Observed::values<float>() const noexcept {
  return d_->values32.span();
}

}  // namespace mfgrad
