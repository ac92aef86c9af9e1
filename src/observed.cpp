// Validation and the one-time sort of Ω into CSR, CSC and input order.
#include "mfgrad/observed.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <new>
#include <numeric>
#include <span>
#include <type_traits>

#include "format.hpp"
#include "mfgrad/memory.hpp"

namespace mfgrad {

namespace {

std::atomic<std::uint64_t> next_observed_id{1};

std::string entry_text(const Entries& e, offset_t t) {
  return e.describe(t) + ": row " + std::to_string(e.row[t]) + ", column " + std::to_string(e.col[t]) + ", value " +
         format_number(e.value[t]);
}

// First entry (in input order) whose ids or value are invalid; -1 when all are fine.
offset_t first_invalid(const Entries& e) {
  const offset_t n = e.size();
  offset_t first = std::numeric_limits<offset_t>::max();
#pragma omp parallel for schedule(static) reduction(min : first)
  for (offset_t t = 0; t < n; ++t) {
    bool bad = e.row[t] < 0 || e.row[t] >= e.rows || e.col[t] < 0 || e.col[t] >= e.cols || !std::isfinite(e.value[t]);
    if (bad && t < first) first = t;
  }
  return first == std::numeric_limits<offset_t>::max() ? -1 : first;
}

[[noreturn]] void reject_entry(const Entries& e, offset_t t) {
  const index_t i = e.row[t], j = e.col[t];
  std::string what;
  if (i < 0 || i >= e.rows)
    what = "row id " + std::to_string(i) + " is outside the matrix's " + std::to_string(e.rows) + " rows (valid: 0.." +
           std::to_string(static_cast<std::int64_t>(e.rows) - 1) + ")";
  else if (j < 0 || j >= e.cols)
    what = "column id " + std::to_string(j) + " is outside the matrix's " + std::to_string(e.cols) +
           " columns (valid: 0.." + std::to_string(static_cast<std::int64_t>(e.cols) - 1) + ")";
  else
    what = "value is not finite";
  throw Error(what + " at " + entry_text(e, t));
}

bool strictly_row_major(const Entries& e) {
  const offset_t n = e.size();
  bool ordered = true;
#pragma omp parallel for schedule(static) reduction(&& : ordered)
  for (offset_t t = 1; t < n; ++t)
    ordered = ordered && (e.row[t - 1] < e.row[t] || (e.row[t - 1] == e.row[t] && e.col[t - 1] < e.col[t]));
  return ordered;
}

}  // namespace

void Entries::reserve(std::size_t count) {
  row.reserve(count);
  col.reserve(count);
  value.reserve(count);
  line.reserve(count);
}

std::string Entries::describe(offset_t t) const {
  std::string s = "input entry #" + std::to_string(t);
  if (!line.empty() && t >= 0 && t < static_cast<offset_t>(line.size())) {
    s += " (line " + std::to_string(line[t]);
    if (!source.empty()) s += " of " + source;
    s += ")";
  } else if (!source.empty()) {
    s += " of " + source;
  }
  return s;
}

DuplicatePolicy parse_duplicate_policy(std::string_view name) {
  if (name == "error") return DuplicatePolicy::error;
  if (name == "sum") return DuplicatePolicy::sum;
  if (name == "last") return DuplicatePolicy::last;
  throw Error("unknown duplicate policy " + quote(name) + " (expected error, sum or last)");
}

const char* to_string(DuplicatePolicy policy) noexcept {
  switch (policy) {
    case DuplicatePolicy::error:
      return "error";
    case DuplicatePolicy::sum:
      return "sum";
    case DuplicatePolicy::last:
      return "last";
  }
  return "?";
}

Observed Observed::build(const Entries& e, DuplicatePolicy policy) {
  const offset_t n_in = e.size();
  if (e.rows < 0 || e.cols < 0)
    throw Error("matrix shape " + std::to_string(e.rows) + " x " + std::to_string(e.cols) + " is negative");
  if (static_cast<offset_t>(e.row.size()) != n_in || static_cast<offset_t>(e.col.size()) != n_in)
    throw Error("entries disagree in length: " + std::to_string(e.row.size()) + " row ids, " +
                std::to_string(e.col.size()) + " column ids, " + std::to_string(n_in) + " values");
  if (!e.line.empty() && static_cast<offset_t>(e.line.size()) != n_in)
    throw Error("entries carry " + std::to_string(e.line.size()) + " line numbers for " + std::to_string(n_in) +
                " values");
  if (offset_t bad = first_invalid(e); bad >= 0) reject_entry(e, bad);

  const std::string what = "building Ω" + (e.source.empty() ? std::string() : " of " + e.source) + " (" +
                           std::to_string(e.rows) + " x " + std::to_string(e.cols) + ", " + std::to_string(n_in) +
                           (n_in == 1 ? " entry)" : " entries)");
  const MemoryNeed need = observed_memory(e.rows, e.cols, n_in);
  check_memory(need, what);
  try {
    return assemble(e, policy);
  } catch (const std::bad_alloc&) {
    const MemoryLimit limit = memory_limit();
    throw OutOfMemory("out of memory " + what + ", which needs about " + need.describe() + " (this process may use " +
                      format_bytes(limit.bytes) + ": " + limit.source + ")");
  }
}

template <class Offset>
Observed Observed::from_csr(index_t rows, index_t cols, std::span<const Offset> row_ptr,
                            std::span<const index_t> col_idx, std::span<const double> values, DuplicatePolicy policy) {
  static_assert(std::is_same_v<Offset, std::int32_t> || std::is_same_v<Offset, std::int64_t>,
                "CSR offsets are std::int32_t or std::int64_t");
  if (rows < 0 || cols < 0)
    throw Error("matrix shape " + std::to_string(rows) + " x " + std::to_string(cols) + " is negative");
  if (row_ptr.size() != static_cast<std::size_t>(rows) + 1)
    throw Error("row_ptr has " + std::to_string(row_ptr.size()) +
                " offsets but must have rows + 1 = " + std::to_string(static_cast<std::int64_t>(rows) + 1));
  if (row_ptr[0] != 0) throw Error("row_ptr[0] is " + std::to_string(row_ptr[0]) + " but must be 0");
  for (std::size_t i = 0; i < static_cast<std::size_t>(rows); ++i)
    if (row_ptr[i + 1] < row_ptr[i])
      throw Error("row_ptr decreases at row " + std::to_string(i) + ": row_ptr[" + std::to_string(i) +
                  "] = " + std::to_string(row_ptr[i]) + " > row_ptr[" + std::to_string(i + 1) +
                  "] = " + std::to_string(row_ptr[i + 1]));
  const std::int64_t nnz = row_ptr[static_cast<std::size_t>(rows)];
  if (static_cast<std::uint64_t>(nnz) != col_idx.size() || static_cast<std::uint64_t>(nnz) != values.size())
    throw Error("row_ptr[" + std::to_string(rows) + "] = " + std::to_string(nnz) + " entries, but col_idx has " +
                std::to_string(col_idx.size()) + " and values " + std::to_string(values.size()));

  // The entries' copy (ids and values) on top of what build() itself needs, checked before it is made.
  MemoryNeed need = observed_memory(rows, cols, nnz);
  const std::size_t copy = static_cast<std::size_t>(nnz) * (2 * sizeof(index_t) + sizeof(double));
  need.observed = need.observed > SIZE_MAX - copy ? SIZE_MAX : need.observed + copy;
  const std::string what = "building Ω from CSR (" + std::to_string(rows) + " x " + std::to_string(cols) + ", " +
                           std::to_string(nnz) + (nnz == 1 ? " entry)" : " entries)");
  check_memory(need, what);
  Entries e;
  e.rows = rows;
  e.cols = cols;
  try {
    e.row.resize(static_cast<std::size_t>(nnz));
    e.col.assign(col_idx.begin(), col_idx.end());
    e.value.assign(values.begin(), values.end());
  } catch (const std::bad_alloc&) {
    throw OutOfMemory("out of memory " + what + ", which needs about " + need.describe());
  }
  for (std::size_t i = 0; i < static_cast<std::size_t>(rows); ++i)
    std::fill(e.row.begin() + static_cast<std::ptrdiff_t>(row_ptr[i]),
              e.row.begin() + static_cast<std::ptrdiff_t>(row_ptr[i + 1]), static_cast<index_t>(i));
  return build(e, policy);
}

template Observed Observed::from_csr<std::int32_t>(index_t, index_t, std::span<const std::int32_t>,
                                                   std::span<const index_t>, std::span<const double>, DuplicatePolicy);
template Observed Observed::from_csr<std::int64_t>(index_t, index_t, std::span<const std::int64_t>,
                                                   std::span<const index_t>, std::span<const double>, DuplicatePolicy);

namespace {

// Input positions in (row, column, input position) order: a counting sort on the row, then each row
// sorted by column (stable, so repeats keep their input order).
std::vector<offset_t> row_major_order(const Entries& e) {
  const offset_t n_in = e.size();
  const index_t m = e.rows;
  std::vector<offset_t> start(static_cast<std::size_t>(m) + 1, 0);
  for (offset_t t = 0; t < n_in; ++t) ++start[e.row[t] + 1];
  std::partial_sum(start.begin(), start.end(), start.begin());
  std::vector<offset_t> perm(n_in);
  {
    std::vector<offset_t> fill(start.begin(), start.end() - 1);
    for (offset_t t = 0; t < n_in; ++t) perm[fill[e.row[t]]++] = t;  // stable: input order within a row
  }
#pragma omp parallel for schedule(dynamic, 256)
  for (index_t i = 0; i < m; ++i)
    std::sort(perm.begin() + start[i], perm.begin() + start[i + 1],
              [&](offset_t a, offset_t b) { return e.col[a] < e.col[b] || (e.col[a] == e.col[b] && a < b); });
  return perm;
}

// Under DuplicatePolicy::error: the duplicate whose second occurrence comes first in the input.
void reject_duplicates(const Entries& e, const std::vector<offset_t>& perm) {
  const offset_t n_in = e.size();
  offset_t second = std::numeric_limits<offset_t>::max();
#pragma omp parallel for schedule(static) reduction(min : second)
  for (offset_t q = 1; q < n_in; ++q)
    if (e.row[perm[q]] == e.row[perm[q - 1]] && e.col[perm[q]] == e.col[perm[q - 1]] && perm[q] < second)
      second = perm[q];
  if (second == std::numeric_limits<offset_t>::max()) return;
  offset_t first = second;
  for (offset_t t = 0; t < second; ++t)
    if (e.row[t] == e.row[second] && e.col[t] == e.col[second]) {
      first = t;
      break;
    }
  throw Error("duplicate entry (row " + std::to_string(e.row[second]) + ", column " + std::to_string(e.col[second]) +
              "): " + entry_text(e, second) + " repeats " + entry_text(e, first) +
              " (use duplicates=sum or duplicates=last to accept repeats)");
}

// Equal (i, j) runs of perm, one per retained entry: one past each run's last position in perm.
std::vector<offset_t> group_ends(const Entries& e, const std::vector<offset_t>& perm) {
  const offset_t n_in = e.size();
  std::vector<offset_t> group_end;
  group_end.reserve(n_in);
  for (offset_t q = 0; q < n_in; ++q) {
    const bool ends = q + 1 == n_in || e.row[perm[q + 1]] != e.row[perm[q]] || e.col[perm[q + 1]] != e.col[perm[q]];
    if (ends) group_end.push_back(q + 1);
  }
  return group_end;
}

}  // namespace

// The steps of assemble(), each filling part of the Observed being built.
struct Observed::Assembly {
  // Column, row and value of each retained entry in CSR order. Returns rep: the input position that
  // stands for each retained entry (empty when the input is already in CSR order, rep[g] = g).
  static std::vector<offset_t> gather(Data& o, const Entries& e, const std::vector<offset_t>& perm,
                                      const std::vector<offset_t>& group_end, DuplicatePolicy policy) {
    const offset_t nnz = o.nnz;
    o.col_idx.reset(nnz);
    o.row_of.reset(nnz);
    o.values64.reset(nnz);
    o.values32.reset(nnz);
    if (perm.empty()) {
#pragma omp parallel for schedule(static)
      for (offset_t q = 0; q < nnz; ++q) {
        o.col_idx[q] = e.col[q];
        o.row_of[q] = e.row[q];
        o.values64[q] = e.value[q];
      }
      return {};
    }
    std::vector<offset_t> rep(nnz);
#pragma omp parallel for schedule(static)
    for (offset_t g = 0; g < nnz; ++g) {
      const offset_t begin = g == 0 ? 0 : group_end[g - 1], end = group_end[g];
      const offset_t head = perm[begin];
      double v = e.value[perm[end - 1]];
      rep[g] = perm[end - 1];
      if (policy == DuplicatePolicy::sum) {
        v = 0.0;
        for (offset_t q = begin; q < end; ++q) v += e.value[perm[q]];
        rep[g] = head;
      }
      o.col_idx[g] = e.col[head];
      o.row_of[g] = e.row[head];
      o.values64[g] = v;
    }
    for (offset_t g = 0; g < nnz; ++g)
      if (!std::isfinite(o.values64[g]))
        throw Error("duplicates at (row " + std::to_string(o.row_of[g]) + ", column " + std::to_string(o.col_idx[g]) +
                    ") sum to a value that is not finite; first of them: " + entry_text(e, rep[g]));
    return rep;
  }

  // row_ptr from the row id of each CSR position.
  static void row_pointers(Data& o) {
    const index_t m = o.rows;
    o.row_ptr.reset(static_cast<std::size_t>(m) + 1);
    std::fill(o.row_ptr.data(), o.row_ptr.data() + m + 1, offset_t{0});
    for (offset_t q = 0; q < o.nnz; ++q) ++o.row_ptr[o.row_of[q] + 1];
    for (index_t i = 0; i < m; ++i) o.row_ptr[i + 1] += o.row_ptr[i];
  }

  // float32 copy; remember the first value that does not fit (converting it would be undefined: it
  // is stored as infinity, and float32 evaluations are refused), and the largest magnitude.
  static void float32_values(Data& o, const Entries& e, const std::vector<offset_t>& rep) {
    const offset_t nnz = o.nnz;
    offset_t overflow_at = std::numeric_limits<offset_t>::max();
    double largest = -1;
#pragma omp parallel for schedule(static) reduction(min : overflow_at) reduction(max : largest)
    for (offset_t q = 0; q < nnz; ++q) {
      const double v = o.values64[q];
      const bool fits = std::fabs(v) <= static_cast<double>(FLT_MAX);
      constexpr float inf = std::numeric_limits<float>::infinity();
      o.values32[q] = fits ? static_cast<float>(v) : v > 0 ? inf : -inf;
      if (!fits && q < overflow_at) overflow_at = q;
      largest = std::max(largest, std::fabs(v));
    }
    // Entry g as messages show it: its input entry, and the value kept when duplicates were summed.
    const auto retained_text = [&](offset_t g) {
      const offset_t t = rep.empty() ? g : rep[g];
      if (o.values64[g] == e.value[t]) return entry_text(e, t);
      return "the sum " + format_number(o.values64[g]) + " of duplicates at " + entry_text(e, t);
    };
    if (overflow_at != std::numeric_limits<offset_t>::max())
      o.float32_overflow =
          retained_text(overflow_at) + " does not fit in float32 (largest finite: " + format_number(FLT_MAX) + ")";
    for (offset_t g = 0; g < nnz; ++g)
      if (std::fabs(o.values64[g]) == largest) {
        o.largest_value = retained_text(g);
        break;
      }
  }

  // Input order: retained entries sorted by the input position that stands for them; left empty when
  // it is CSR order.
  static void input_order(Data& o, const std::vector<offset_t>& rep, offset_t n_in) {
    if (rep.empty()) return;
    std::vector<offset_t> csr_of_input(n_in, -1);
    for (offset_t g = 0; g < o.nnz; ++g) csr_of_input[rep[g]] = g;
    o.input_to_csr.reset(o.nnz);
    offset_t t = 0;
    bool identity = true;
    for (offset_t p = 0; p < n_in; ++p)
      if (csr_of_input[p] >= 0) {
        identity = identity && csr_of_input[p] == t;
        o.input_to_csr[t++] = csr_of_input[p];
      }
    if (identity) o.input_to_csr.reset(0);
  }

  // CSC by a stable counting sort of CSR positions on their column: rows stay ascending.
  static void columns(Data& o) {
    const index_t n = o.cols;
    const offset_t nnz = o.nnz;
    o.col_ptr.reset(static_cast<std::size_t>(n) + 1);
    o.row_idx.reset(nnz);
    o.csc_to_csr.reset(nnz);
    std::fill(o.col_ptr.data(), o.col_ptr.data() + n + 1, offset_t{0});
    for (offset_t q = 0; q < nnz; ++q) ++o.col_ptr[o.col_idx[q] + 1];
    for (index_t j = 0; j < n; ++j) o.col_ptr[j + 1] += o.col_ptr[j];
    std::vector<offset_t> fill(o.col_ptr.data(), o.col_ptr.data() + n);
    for (offset_t q = 0; q < nnz; ++q) {
      const offset_t p = fill[o.col_idx[q]]++;
      o.csc_to_csr[p] = q;
      o.row_idx[p] = o.row_of[q];
    }
  }

  static void degree_stats(Data& o) {
    for (index_t i = 0; i < o.rows; ++i) {
      const offset_t d = o.row_ptr[i + 1] - o.row_ptr[i];
      o.stats.max_row_nnz = std::max(o.stats.max_row_nnz, d);
      o.stats.empty_rows += d == 0;
    }
    for (index_t j = 0; j < o.cols; ++j) {
      const offset_t d = o.col_ptr[j + 1] - o.col_ptr[j];
      o.stats.max_col_nnz = std::max(o.stats.max_col_nnz, d);
      o.stats.empty_cols += d == 0;
    }
  }
};

Observed Observed::assemble(const Entries& e, DuplicatePolicy policy) {
  const offset_t n_in = e.size();
  // perm: input positions in (row, column, input position) order; empty when the input already is.
  std::vector<offset_t> perm, group_end;
  if (!strictly_row_major(e)) {
    perm = row_major_order(e);
    if (policy == DuplicatePolicy::error) reject_duplicates(e, perm);
    group_end = group_ends(e, perm);
  }

  auto d = std::make_shared<Data>();
  Data& o = *d;
  o.rows = e.rows;
  o.cols = e.cols;
  o.id = next_observed_id.fetch_add(1);
  o.nnz = perm.empty() ? n_in : static_cast<offset_t>(group_end.size());
  o.stats.duplicates_merged = n_in - o.nnz;

  const std::vector<offset_t> rep = Assembly::gather(o, e, perm, group_end, policy);
  Assembly::row_pointers(o);
  Assembly::float32_values(o, e, rep);
  Assembly::input_order(o, rep, n_in);
  Assembly::columns(o);
  Assembly::degree_stats(o);
  return Observed(std::move(d));
}

Observed::Observed() {
  static const Observed empty = assemble(Entries{}, DuplicatePolicy::error);
  d_ = empty.d_;
}

}  // namespace mfgrad
