// mfgrad::mpi — partitioning Ω over the ranks, sending entries to their owners, and agreeing on errors.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <new>
#include <numeric>

#include "collective.hpp"
#include "mfgrad/mpi.hpp"

namespace mfgrad::mpi {

namespace detail {

void raise_if_any(MPI_Comm comm, const std::string& message, int kind) {
  const int failed = message.empty() ? 0 : kind;
  const std::vector<std::int32_t> kinds = allgather<std::int32_t>(comm, failed);
  const auto first = std::find_if(kinds.begin(), kinds.end(), [](std::int32_t x) { return x != 0; });
  if (first == kinds.end()) return;
  const int root = static_cast<int>(first - kinds.begin());
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  // The lowest failing rank's message, to every rank.
  std::int64_t length = rank == root ? static_cast<std::int64_t>(message.size()) : 0;
  MPI_Bcast(&length, 1, MPI_INT64_T, root, comm);
  std::string text = rank == root ? message : std::string(static_cast<std::size_t>(length), ' ');
  MPI_Bcast(text.data(), count_of(text.size(), "an error message"), MPI_CHAR, root, comm);
  const auto others = std::count_if(first + 1, kinds.end(), [](std::int32_t x) { return x != 0; });
  std::string what = "rank " + std::to_string(root) + " of " + std::to_string(kinds.size()) + ": " + text;
  if (others > 0) what += " (and " + std::to_string(others) + " more rank" + (others > 1 ? "s" : "") + " failed)";
  if (*first == 2) throw OutOfMemory(what);
  throw Error(what);
}

}  // namespace detail

void on_every_rank(MPI_Comm comm, const std::function<void()>& f) {
  std::string message;
  int kind = 1;
  try {
    f();
  } catch (const OutOfMemory& e) {
    message = e.what();
    kind = 2;
  } catch (const std::bad_alloc&) {
    message = "out of memory";
    kind = 2;
  } catch (const std::exception& e) {
    message = *e.what() != '\0' ? e.what() : "an error without a message";
  } catch (...) {
    message = "an exception that is not a std::exception";
  }
  detail::raise_if_any(comm, message, kind);
}

bool launched_by_mpi() noexcept {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(name) != nullptr) return true;
  return false;
}

Partition parse_partition(std::string_view name) {
  if (name == "auto") return Partition::automatic;
  if (name == "rows") return Partition::rows;
  if (name == "columns") return Partition::columns;
  throw Error("unknown partition '" + std::string(name) + "' (expected auto, rows or columns)");
}

const char* to_string(Partition partition) noexcept {
  switch (partition) {
    case Partition::rows:
      return "rows";
    case Partition::columns:
      return "columns";
    default:
      return "auto";
  }
}

Partition choose_partition(index_t m, index_t n, int ranks) noexcept {
  return ranks <= 1 || n <= m ? Partition::rows : Partition::columns;
}

std::vector<index_t> balanced_bounds(std::span<const offset_t> degree, int ranks) {
  const auto d = static_cast<index_t>(degree.size());
  std::vector<offset_t> prefix(degree.size() + 1, 0);
  for (std::size_t i = 0; i < degree.size(); ++i) prefix[i + 1] = prefix[i] + degree[i];
  const offset_t nnz = prefix.back();
  std::vector<index_t> bounds(static_cast<std::size_t>(ranks) + 1, 0);
  bounds.back() = d;
  for (int r = 1; r < ranks; ++r) {
    // r·nnz/P without overflow: nnz < 2^63 and r < 2^31.
    const auto target = static_cast<offset_t>(static_cast<__int128>(nnz) * r / ranks);
    auto at = static_cast<index_t>(std::lower_bound(prefix.begin(), prefix.end(), target) - prefix.begin());
    if (at > 0 && at <= d && prefix[at] - target > target - prefix[at - 1]) --at;
    bounds[r] = std::clamp(at, bounds[r - 1], d);
  }
  return bounds;
}

namespace {

// One entry on its way to its owner.
struct Packed {
  index_t row, col;
  double value;
  std::int64_t line;
};

MPI_Datatype packed_type() {
  static const MPI_Datatype type = [] {
    MPI_Datatype t;
    MPI_Type_contiguous(static_cast<int>(sizeof(Packed)), MPI_BYTE, &t);
    MPI_Type_commit(&t);
    return t;
  }();
  return type;
}

std::string entry_text(const Entries& e, std::size_t t) {
  return e.describe(static_cast<offset_t>(t)) + ": row " + std::to_string(e.row[t]) + ", column " +
         std::to_string(e.col[t]) + ", value " + std::to_string(e.value[t]);
}

// Ids outside the shape are refused where they are read, as Observed::build would: they have no owner.
void check_ids(const Entries& e) {
  if (e.row.size() != e.value.size() || e.col.size() != e.value.size() ||
      (!e.line.empty() && e.line.size() != e.value.size()))
    throw Error("entries disagree in length: " + std::to_string(e.row.size()) + " row ids, " +
                std::to_string(e.col.size()) + " column ids, " + std::to_string(e.value.size()) + " values, " +
                std::to_string(e.line.size()) + " line numbers");
  for (std::size_t t = 0; t < e.value.size(); ++t) {
    if (e.row[t] < 0 || e.row[t] >= e.rows)
      throw Error("row id " + std::to_string(e.row[t]) + " is outside the matrix's " + std::to_string(e.rows) +
                  " rows at " + entry_text(e, t));
    if (e.col[t] < 0 || e.col[t] >= e.cols)
      throw Error("column id " + std::to_string(e.col[t]) + " is outside the matrix's " + std::to_string(e.cols) +
                  " columns at " + entry_text(e, t));
  }
}

}  // namespace

Share ShareBuilder::make(MPI_Comm comm, Partition partition, index_t m, index_t n, std::vector<index_t> bounds,
                         Entries local, DuplicatePolicy duplicates, const std::string& description) {
  Share s;
  s.comm_ = comm;
  MPI_Comm_rank(comm, &s.rank_);
  s.partition_ = partition;
  s.rows_ = m;
  s.cols_ = n;
  s.bounds_ = std::move(bounds);
  on_every_rank(comm, [&] {
    try {
      s.local_ = Observed::build(local, duplicates);
    } catch (const OutOfMemory&) {
      throw;
    } catch (const Error& e) {
      // The block's ids count from its first row or column; say so beside the message.
      throw Error(std::string(e.what()) + " (ids counted from " + (partition == Partition::rows ? "row " : "column ") +
                  std::to_string(s.begin()) + ", the first of this rank's block)");
    }
  });
  s.counts_ = detail::allgather<std::int64_t>(comm, s.local_.nnz());
  s.nnz_ = std::accumulate(s.counts_.begin(), s.counts_.end(), offset_t{0});
  s.description_ = description;
  return s;
}

Share ShareBuilder::from_entries(MPI_Comm comm, const Entries& piece, Partition partition, DuplicatePolicy duplicates,
                                 const std::string& description) {
  int ranks = 0, rank = 0;
  MPI_Comm_size(comm, &ranks);
  MPI_Comm_rank(comm, &rank);
  const std::vector<std::int32_t> rows = detail::allgather<std::int32_t>(comm, piece.rows);
  const std::vector<std::int32_t> cols = detail::allgather<std::int32_t>(comm, piece.cols);
  on_every_rank(comm, [&] {
    for (int r = 0; r < ranks; ++r)
      if (rows[r] != rows[0] || cols[r] != cols[0])
        throw Error("rank " + std::to_string(r) + "'s entries are of a " + std::to_string(rows[r]) + " x " +
                    std::to_string(cols[r]) + " matrix, rank 0's of " + std::to_string(rows[0]) + " x " +
                    std::to_string(cols[0]));
    if (piece.rows < 0 || piece.cols < 0)
      throw Error("matrix shape " + std::to_string(piece.rows) + " x " + std::to_string(piece.cols) + " is negative");
    check_ids(piece);
  });
  const index_t m = piece.rows, n = piece.cols;
  if (partition == Partition::automatic) partition = choose_partition(m, n, ranks);
  const bool by_rows = partition == Partition::rows;
  const std::vector<index_t>& key = by_rows ? piece.row : piece.col;
  const index_t extent = by_rows ? m : n;

  // Entries per id over all ranks (integers: the sum is exact), then the balanced blocks.
  std::vector<offset_t> degree(static_cast<std::size_t>(extent), 0);
  for (const index_t id : key) ++degree[static_cast<std::size_t>(id)];
  detail::check_mpi(MPI_Allreduce(MPI_IN_PLACE, degree.data(), detail::count_of(degree.size(), "degree counts"),
                                  MPI_INT64_T, MPI_SUM, comm),
                    "MPI_Allreduce");
  std::vector<index_t> bounds = balanced_bounds(degree, ranks);
  degree = {};

  // Lines travel only when every piece has them.
  const std::vector<std::int32_t> have_lines =
      detail::allgather<std::int32_t>(comm, piece.line.empty() && piece.size() > 0 ? 0 : 1);
  const bool lines = std::all_of(have_lines.begin(), have_lines.end(), [](std::int32_t x) { return x != 0; });

  // Each entry to its owner, in piece order (a stable counting sort on the owner).
  std::vector<int> owner(piece.value.size());
  std::vector<std::size_t> send_count(static_cast<std::size_t>(ranks), 0);
  for (std::size_t t = 0; t < key.size(); ++t) {
    owner[t] = static_cast<int>(std::upper_bound(bounds.begin() + 1, bounds.end() - 1, key[t]) - (bounds.begin() + 1));
    ++send_count[static_cast<std::size_t>(owner[t])];
  }
  std::vector<int> sendcounts(static_cast<std::size_t>(ranks)), sdispls(static_cast<std::size_t>(ranks));
  std::size_t total = 0;
  for (int r = 0; r < ranks; ++r) {
    sdispls[r] = detail::count_of(total, "entries sent");
    sendcounts[r] = detail::count_of(send_count[r], "entries sent");
    total += send_count[r];
  }
  std::vector<Packed> out(total);
  {
    std::vector<std::size_t> next(sdispls.begin(), sdispls.end());
    for (std::size_t t = 0; t < key.size(); ++t)
      out[next[static_cast<std::size_t>(owner[t])]++] =
          Packed{piece.row[t], piece.col[t], piece.value[t], lines ? piece.line[t] : 0};
  }
  owner = {};
  std::vector<int> recvcounts(static_cast<std::size_t>(ranks)), rdispls(static_cast<std::size_t>(ranks));
  detail::check_mpi(MPI_Alltoall(sendcounts.data(), 1, MPI_INT, recvcounts.data(), 1, MPI_INT, comm), "MPI_Alltoall");
  std::size_t received = 0;
  for (int r = 0; r < ranks; ++r) {
    rdispls[r] = detail::count_of(received, "entries received");
    received += static_cast<std::size_t>(recvcounts[r]);
  }
  std::vector<Packed> in(received);
  detail::check_mpi(MPI_Alltoallv(out.data(), sendcounts.data(), sdispls.data(), packed_type(), in.data(),
                                  recvcounts.data(), rdispls.data(), packed_type(), comm),
                    "MPI_Alltoallv");
  out = {};

  const index_t begin = bounds[static_cast<std::size_t>(rank)], end = bounds[static_cast<std::size_t>(rank) + 1];
  Entries local;
  local.rows = by_rows ? end - begin : m;
  local.cols = by_rows ? n : end - begin;
  local.source = piece.source;
  local.reserve(received);
  for (const Packed& p : in) {
    local.push(by_rows ? p.row - begin : p.row, by_rows ? p.col : p.col - begin, p.value);
    if (lines) local.line.push_back(p.line);
  }
  in = {};
  return make(comm, partition, m, n, std::move(bounds), std::move(local), duplicates, description);
}

Share Share::from_entries(MPI_Comm comm, const Entries& piece, Partition partition, DuplicatePolicy duplicates) {
  return ShareBuilder::from_entries(comm, piece, partition, duplicates,
                                    (piece.source.empty() ? std::string("entries") : piece.source) + ": " +
                                        std::to_string(piece.rows) + " x " + std::to_string(piece.cols));
}

Share Share::generate(MPI_Comm comm, const DataSpec& spec, Partition partition) {
  int ranks = 0, rank = 0;
  MPI_Comm_size(comm, &ranks);
  MPI_Comm_rank(comm, &rank);
  std::vector<offset_t> degree;
  on_every_rank(comm, [&] { degree = row_degrees(spec); });
  if (partition == Partition::automatic) partition = choose_partition(spec.rows, spec.cols, ranks);
  // Rows balanced on entries: the block each rank generates (and, for rows, keeps).
  std::vector<index_t> bounds = balanced_bounds(degree, ranks);
  degree = {};
  const index_t begin = bounds[static_cast<std::size_t>(rank)], end = bounds[static_cast<std::size_t>(rank) + 1];
  const std::string description =
      "generated preset " + spec.name + " (seed " + std::to_string(spec.seed) + "): " + spec.summary;
  Entries e;
  on_every_rank(comm, [&] { e = generate_rows(spec, begin, end); });
  if (partition == Partition::rows)
    return ShareBuilder::make(comm, partition, spec.rows, spec.cols, std::move(bounds), std::move(e),
                              DuplicatePolicy::error, description);
  for (index_t& i : e.row) i += begin;
  e.rows = spec.rows;
  return ShareBuilder::from_entries(comm, e, partition, DuplicatePolicy::error, description);
}

Share Share::load(MPI_Comm comm, const std::string& what, RatingsFormat format, DuplicatePolicy duplicates,
                  Partition partition, std::uint64_t seed) {
  for (const DataSpec& spec : presets()) {
    if (spec.name != what) continue;
    DataSpec s = spec;
    if (seed != 0) s.seed = seed;
    return generate(comm, s, partition);
  }
  return read(comm, what, format, partition, duplicates);
}

}  // namespace mfgrad::mpi
