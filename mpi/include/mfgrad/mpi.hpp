// mfgrad::mpi — the same evaluation of F, ∂U and ∂V over the ranks of an MPI communicator.
//
// Ω is split into contiguous blocks on one side, balanced on entries (not on rows or columns):
//
//   Partition::rows     rank r owns rows bounds[r] .. bounds[r+1]−1 of Ω, of U and of ∂U; V is
//                       replicated (every rank holds all of it) and ∂V is reduced over the ranks.
//   Partition::columns  rank r owns columns bounds[r] .. bounds[r+1]−1 of Ω, of V and of ∂V; U is
//                       replicated and ∂U is reduced.
//
// Each rank evaluates its block with a node-local mfgrad::Plan (any implementation, the planner
// included, on all its threads) at λ = 0; the rank adds λ times its own rows of the owned factor to
// their gradient, the reduced gradient gets λ times the replicated factor once, and the loss is
// ½Σr² summed over the ranks plus λ/2(‖U‖² + ‖V‖²) counted once.
//
// The reduction is a reduce-scatter followed by an allgather, written so that its order never depends
// on message timing: the replicated side's gradient (D rows: n for rows, m for columns) is cut into one
// slice of rows per rank; MPI_Alltoallv gives rank b every rank's partial sums of slice b, which it adds
// in rank order 0, 1, …, P−1 and completes with λ times the replicated factor; MPI_Allgatherv hands the
// finished slices to every rank. The loss terms, gathered from every rank with MPI_Allgather, are summed
// in rank order too. So for a fixed rank count, thread count and implementation the bits of F, ∂U and
// ∂V are the same on every run (the node-local plan must then be fixed too: PlanMode::estimate or a
// named kernel, not a fresh measurement); across rank counts they agree within the tolerance rule of
// mfgrad/check.hpp (the per-rank partial sums are partial sums of the single-process kernel's own).
//
// Bytes each rank sends per evaluation, with D the replicated side (n or m), s the bytes of one
// gradient element (4 for float32 and the 16-bit formats, 8 for float64) and P ranks:
//     (D − D_r)·k·s   to the other ranks' slices  (MPI_Alltoallv; D_r = the rank's own slice, ≈ D/P)
//   + (P − 1)·D_r·k·s its finished slice to every other rank  (MPI_Allgatherv)
//   + 40·(P − 1)      loss terms, timing and status  (MPI_Allgather)
// about 2·(P−1)/P·D·k·s in all, the volume of a bandwidth-optimal allreduce (Plan::bytes_sent()).
//
// Memory per rank: its block of Ω (CSR and CSC), its rows of the owned factor and gradient, and the
// whole replicated factor and its gradient, plus one receive buffer of D·k·s.
//
// Errors. Every collective call here is entered by every rank; when the work of any rank fails (a bad
// line in its share of a file, an out-of-range id, NaN factors under check_factors) every rank throws
// the same mfgrad::Error, "rank R of P: what went wrong", naming the first rank that failed, so that no
// rank waits for one that already threw. Nothing is half-written: outputs are written only after every
// rank has succeeded.
#pragma once

// MPI's C interface only: Open MPI's and MPICH's deprecated C++ bindings would need one more library.
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mfgrad/dataset.hpp"
#include "mfgrad/plan.hpp"

namespace mfgrad::mpi {

enum class Partition { automatic, rows, columns };

Partition parse_partition(std::string_view name);  // "auto" | "rows" | "columns"
const char* to_string(Partition partition) noexcept;

// The rule for Partition::automatic: replicate the smaller factor, since the reduction moves the
// replicated side's gradient and each rank stores that side whole. Rows when n ≤ m (and always on one
// rank), columns when n > m. k and the rank count scale both sides alike, so they do not enter.
Partition choose_partition(index_t m, index_t n, int ranks) noexcept;

// Boundaries of P contiguous blocks of ids 0 .. D−1 (D = degree.size()) with about nnz/P entries each:
// bounds[r] is the first id whose entries start at or past r·nnz/P, moved back one id when that lands
// closer to r·nnz/P. A heavy id stays whole, so its block may hold more and the next ones none.
std::vector<index_t> balanced_bounds(std::span<const offset_t> degree, int ranks);

// This rank's share of Ω. Made collectively (every rank of comm calls the same function with the same
// arguments), and then immutable.
class Share {
 public:
  // From entries of Ω with global ids (0 .. rows−1, 0 .. cols−1; `piece.rows` and `piece.cols` the
  // global shape, equal on every rank), each rank holding any part of Ω (the union of the pieces is Ω,
  // in rank order then piece order as its input order). Entries go to the rank that owns them (one
  // MPI_Alltoallv); duplicates and bad values are reported by the owner, naming the entry's line when
  // the piece carries them.
  static Share from_entries(MPI_Comm comm, const Entries& piece, Partition partition = Partition::automatic,
                            DuplicatePolicy duplicates = DuplicatePolicy::error);

  // A ratings file (any format mfgrad::read_ratings reads) read in parallel: rank 0 reads the header,
  // every rank reads only its byte range of the rest, cut at line starts. Ids of the keyed formats are
  // made dense in ascending order of the original id over the whole file, as read_ratings does (each
  // rank's distinct ids are exchanged, not its entries). Error messages name the file and the line as
  // read_ratings would.
  static Share read(MPI_Comm comm, const std::string& path, RatingsFormat format = RatingsFormat::automatic,
                    Partition partition = Partition::automatic, DuplicatePolicy duplicates = DuplicatePolicy::error);

  // A generator preset's share: for rows, each rank generates its own rows only (mfgrad::generate_rows),
  // so no rank ever holds all of Ω; for columns, each rank generates an equal share of the rows and
  // sends each entry to its column's owner.
  static Share generate(MPI_Comm comm, const DataSpec& spec, Partition partition = Partition::automatic);

  // A preset name or a file, as mfgrad::load_dataset takes it.
  static Share load(MPI_Comm comm, const std::string& what, RatingsFormat format = RatingsFormat::automatic,
                    DuplicatePolicy duplicates = DuplicatePolicy::error, Partition partition = Partition::automatic,
                    std::uint64_t seed = 0);

  MPI_Comm comm() const noexcept { return comm_; }
  int rank() const noexcept { return rank_; }
  int ranks() const noexcept { return static_cast<int>(bounds_.size()) - 1; }
  Partition partition() const noexcept { return partition_; }  // rows or columns, never automatic

  index_t rows() const noexcept { return rows_; }  // m of the whole Ω
  index_t cols() const noexcept { return cols_; }  // n
  offset_t nnz() const noexcept { return nnz_; }   // of the whole Ω

  // The ids this rank owns on the partitioned side, and every rank's (ranks() + 1 boundaries).
  index_t begin() const noexcept { return bounds_[static_cast<std::size_t>(rank_)]; }
  index_t end() const noexcept { return bounds_[static_cast<std::size_t>(rank_) + 1]; }
  std::span<const index_t> bounds() const noexcept { return bounds_; }
  // Entries each rank holds (ranks() counts).
  std::span<const offset_t> counts() const noexcept { return counts_; }

  // This rank's block, with ids counted from begin() on the partitioned side: (end() − begin()) × n
  // for rows, m × (end() − begin()) for columns.
  const Observed& local() const noexcept { return local_; }

  const std::string& description() const noexcept { return description_; }

 private:
  Share() = default;
  friend struct ShareBuilder;
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  Partition partition_ = Partition::rows;
  index_t rows_ = 0, cols_ = 0;
  offset_t nnz_ = 0;
  std::vector<index_t> bounds_;
  std::vector<offset_t> counts_;
  Observed local_;
  std::string description_;
};

// What one evaluation cost, known on every rank.
struct EvalStats {
  double compute_seconds = 0;        // this rank: its node-local evaluation and its λ terms
  double communication_seconds = 0;  // this rank: the rest (the collectives, waiting included, and the sums)
  double max_compute_seconds = 0;    // over the ranks
  double mean_compute_seconds = 0;
  std::uint64_t bytes_sent = 0;  // this rank, as counted in the header comment
  // slowest rank's compute ÷ the mean (1 = perfectly balanced)
  double imbalance() const noexcept {
    return mean_compute_seconds > 0 ? max_compute_seconds / mean_compute_seconds : 1;
  }
};

// A distributed plan: a node-local mfgrad::Plan for this rank's block (none on a rank without entries).
class Plan {
 public:
  // Collective. `options` serve the node-local plan on every rank (threads: this rank's).
  Plan(const Share& share, std::size_t k, Precision precision, const PlanOptions& options = {});
  Plan(Plan&&) noexcept;
  Plan& operator=(Plan&&) noexcept;
  ~Plan();

  // Collective. F, ∂U and ∂V of the whole Ω, as mfgrad::evaluate computes them, with each side in its
  // place: for Partition::rows, u and grad_u are this rank's rows of U and ∂U ((end − begin) × k) and
  // v and grad_v all of V and ∂V (n × k, ∂V the same on every rank); for Partition::columns, u and
  // grad_u are all of U and ∂U (m × k) and v and grad_v this rank's rows of V and ∂V. The replicated
  // factor must be the same on every rank. Returns F, the same on every rank. T must be the plan's
  // precision.
  template <class T>
  double evaluate(Matrix<const T> u, Matrix<const T> v, double lambda, Matrix<compute_t<T>> grad_u,
                  Matrix<compute_t<T>> grad_v, const EvalOptions& options = {});

  const EvalStats& last() const noexcept;  // of the latest evaluate()
  const Share& share() const noexcept;
  std::size_t k() const noexcept;
  Precision precision() const noexcept;
  std::string choice() const;  // the node-local plan's choice ("-" on a rank without entries)

  // Bytes this rank sends per evaluation (see the header comment).
  std::uint64_t bytes_sent() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Runs f on this rank and then agrees with every rank of comm: when f threw on any rank, every rank
// throws an mfgrad::Error (an OutOfMemory when that rank ran out of memory) saying "rank R of P: " and
// the message of the lowest rank that failed. Collective; f may itself call collectives only if it
// cannot throw before them.
void on_every_rank(MPI_Comm comm, const std::function<void()>& f);

// True when this process was started by an MPI launcher (mpirun, mpiexec, srun): the environment of
// Open MPI, MPICH/Hydra or PMIx says so. Needs no MPI_Init.
bool launched_by_mpi() noexcept;

}  // namespace mfgrad::mpi
