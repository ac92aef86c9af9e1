// mfgrad::mpi::Plan — the node-local plan on this rank's block, and the fixed-order reduction.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "collective.hpp"
#include "mfgrad/mpi.hpp"

namespace mfgrad::mpi {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

template <class T>
double as_double(T x) {
  return static_cast<double>(static_cast<compute_t<T>>(x));
}

// Σ x² over count elements, in double, summed the same way at any thread count: fixed blocks, their
// sums added in block order.
template <class T>
double squared_norm(const T* x, std::size_t count) {
  constexpr std::size_t kBlock = 4096;
  const std::size_t blocks = (count + kBlock - 1) / kBlock;
  std::vector<double> partial(blocks, 0.0);
#pragma omp parallel for schedule(static)
  for (std::size_t b = 0; b < blocks; ++b) {
    double s = 0;
    for (std::size_t t = b * kBlock; t < std::min(count, (b + 1) * kBlock); ++t) s += as_double(x[t]) * as_double(x[t]);
    partial[b] = s;
  }
  double sum = 0;
  for (const double s : partial) sum += s;
  return sum;
}

// One rank's share of the loss and its timing, gathered from every rank (MPI_Allgather).
struct Terms {
  double data_loss;   // ½ Σ r² over the block
  double owned_norm;  // ‖own rows of the partitioned side's factor‖²
  double slice_norm;  // ‖own slice of the replicated factor‖²
  double compute_seconds;
  double failed;  // 0, or the kind of failure (1 Error, 2 OutOfMemory)
};

}  // namespace

struct Plan::State {
  Share share;
  std::size_t k = 0;
  Precision precision = Precision::f32;
  std::unique_ptr<::mfgrad::Plan> local;  // none on a rank without entries
  std::vector<index_t> slice;             // ranks + 1 bounds of the replicated side's rows
  std::vector<float> recv32;
  std::vector<double> recv64;
  EvalStats stats;
  std::uint64_t bytes = 0;

  template <class G>
  std::vector<G>& recv() {
    if constexpr (std::is_same_v<G, float>)
      return recv32;
    else
      return recv64;
  }
};

Plan::Plan(const Share& share, std::size_t k, Precision precision, const PlanOptions& options)
    : s_(std::make_unique<State>(State{share, k, precision, nullptr, {}, {}, {}, {}, 0})) {
  const int ranks = share.ranks();
  const bool by_rows = share.partition() == Partition::rows;
  const index_t d = by_rows ? share.cols() : share.rows();
  s_->slice.resize(static_cast<std::size_t>(ranks) + 1);
  for (int r = 0; r <= ranks; ++r) s_->slice[r] = static_cast<index_t>(static_cast<std::int64_t>(d) * r / ranks);
  on_every_rank(share.comm(), [&] {
    if (k == 0) throw Error("k must be at least 1");
    if (share.local().nnz() > 0) s_->local = std::make_unique<::mfgrad::Plan>(share.local(), k, precision, options);
  });
  const std::size_t s = element_bytes(precision) == 8 ? 8 : 4;
  const auto mine = static_cast<std::uint64_t>(s_->slice[share.rank() + 1] - s_->slice[share.rank()]);
  s_->bytes = (static_cast<std::uint64_t>(d) - mine) * k * s + static_cast<std::uint64_t>(ranks - 1) * mine * k * s +
              static_cast<std::uint64_t>(ranks - 1) * sizeof(Terms);
}

Plan::Plan(Plan&&) noexcept = default;
Plan& Plan::operator=(Plan&&) noexcept = default;
Plan::~Plan() = default;

const EvalStats& Plan::last() const noexcept { return s_->stats; }
const Share& Plan::share() const noexcept { return s_->share; }
std::size_t Plan::k() const noexcept { return s_->k; }
Precision Plan::precision() const noexcept { return s_->precision; }
std::string Plan::choice() const { return s_->local ? s_->local->choice() : std::string("-"); }
std::uint64_t Plan::bytes_sent() const noexcept { return s_->bytes; }

template <class T>
double Plan::evaluate(Matrix<const T> u, Matrix<const T> v, double lambda, Matrix<compute_t<T>> grad_u,
                      Matrix<compute_t<T>> grad_v, const EvalOptions& options) {
  using G = compute_t<T>;
  State& s = *s_;
  const Share& share = s.share;
  const MPI_Comm comm = share.comm();
  const int ranks = share.ranks(), rank = share.rank();
  const bool by_rows = share.partition() == Partition::rows;
  const std::size_t k = s.k;
  // The partitioned side's factor and gradient (this rank's rows), and the replicated side's (all).
  const Matrix<const T> owned = by_rows ? u : v, replicated = by_rows ? v : u;
  const Matrix<G> grad_owned = by_rows ? grad_u : grad_v, grad_replicated = by_rows ? grad_v : grad_u;
  const auto own_rows = static_cast<std::size_t>(share.end() - share.begin());
  const auto all_rows = static_cast<std::size_t>(by_rows ? share.cols() : share.rows());

  const auto start = Clock::now();
  Terms mine{0, 0, 0, 0, 0};
  std::string failure;
  try {
    if (precision_of<T>() != s.precision)
      throw Error(std::string("this plan evaluates ") + to_string(s.precision) + " factors, not " +
                  to_string(precision_of<T>()));
    const auto check = [&](const char* name, std::size_t rows, std::size_t cols, std::size_t want, const char* what) {
      if (rows != want || cols != k)
        throw Error(std::string(name) + " is " + std::to_string(rows) + " x " + std::to_string(cols) + ", expected " +
                    std::to_string(want) + " x " + std::to_string(k) + " (" + what + ")");
    };
    const char* own_text = by_rows ? "this rank's rows" : "this rank's columns of M";
    const char* all_text = by_rows ? "all columns of M" : "all rows of M";
    check("U", u.rows, u.cols, by_rows ? own_rows : all_rows, by_rows ? own_text : all_text);
    check("V", v.rows, v.cols, by_rows ? all_rows : own_rows, by_rows ? all_text : own_text);
    check("grad_U", grad_u.rows, grad_u.cols, by_rows ? own_rows : all_rows, by_rows ? own_text : all_text);
    check("grad_V", grad_v.rows, grad_v.cols, by_rows ? all_rows : own_rows, by_rows ? all_text : own_text);
    if (!std::isfinite(lambda) || lambda < 0)
      throw Error("lambda must be finite and >= 0, got " + std::to_string(lambda));
    // ½Σr² of the block and its partial gradients; λ is added below, once.
    if (s.local) {
      mine.data_loss = s.local->evaluate<T>(u, v, 0.0, grad_u, grad_v, options);
    } else {
      std::fill_n(grad_owned.data, own_rows * k, G{0});
      std::fill_n(grad_replicated.data, all_rows * k, G{0});
    }
    const G l = static_cast<G>(lambda);
    const std::size_t owned_count = own_rows * k;
#pragma omp parallel for schedule(static)
    for (std::size_t t = 0; t < owned_count; ++t) grad_owned.data[t] += l * static_cast<G>(owned.data[t]);
    mine.owned_norm = squared_norm(owned.data, owned_count);
    const auto first = static_cast<std::size_t>(s.slice[rank]) * k;
    mine.slice_norm = squared_norm(replicated.data + first, static_cast<std::size_t>(s.slice[rank + 1]) * k - first);
  } catch (const OutOfMemory& e) {
    failure = e.what();
    mine.failed = 2;
  } catch (const std::bad_alloc&) {
    failure = "out of memory";
    mine.failed = 2;
  } catch (const std::exception& e) {
    failure = e.what();
    mine.failed = 1;
  }
  mine.compute_seconds = seconds_since(start);

  const auto comm_start = Clock::now();
  std::vector<Terms> terms(static_cast<std::size_t>(ranks));
  detail::check_mpi(MPI_Allgather(&mine, static_cast<int>(sizeof(Terms)), MPI_BYTE, terms.data(),
                                  static_cast<int>(sizeof(Terms)), MPI_BYTE, comm),
                    "MPI_Allgather");
  if (std::any_of(terms.begin(), terms.end(), [](const Terms& t) { return t.failed != 0; }))
    detail::raise_if_any(comm, failure, static_cast<int>(mine.failed));

  // Reduce-scatter: slice b of every rank's partial gradient goes to rank b, which adds them in rank order.
  std::vector<int> sendcounts(static_cast<std::size_t>(ranks)), sdispls(static_cast<std::size_t>(ranks));
  std::vector<int> recvcounts(static_cast<std::size_t>(ranks)), rdispls(static_cast<std::size_t>(ranks));
  const std::size_t slice_rows = static_cast<std::size_t>(s.slice[rank + 1] - s.slice[rank]);
  const std::size_t slice_count = slice_rows * k;
  for (int r = 0; r < ranks; ++r) {
    sdispls[r] = detail::count_of(static_cast<std::size_t>(s.slice[r]) * k, "the reduced gradient");
    sendcounts[r] = detail::count_of(static_cast<std::size_t>(s.slice[r + 1] - s.slice[r]) * k, "the reduced gradient");
    recvcounts[r] = detail::count_of(slice_count, "the reduced gradient");
    rdispls[r] = detail::count_of(static_cast<std::size_t>(r) * slice_count, "the reduced gradient");
  }
  // On one rank the partial sums are the sums, in place: nothing to send.
  std::vector<G>& recv = s.template recv<G>();
  const MPI_Datatype type = detail::datatype<G>();
  if (ranks > 1) {
    recv.resize(slice_count * static_cast<std::size_t>(ranks));
    detail::check_mpi(MPI_Alltoallv(grad_replicated.data, sendcounts.data(), sdispls.data(), type, recv.data(),
                                    recvcounts.data(), rdispls.data(), type, comm),
                      "MPI_Alltoallv");
  }
  {
    G* out = grad_replicated.data + static_cast<std::size_t>(s.slice[rank]) * k;
    const G* parts = ranks > 1 ? recv.data() : out;
    const T* x = replicated.data + static_cast<std::size_t>(s.slice[rank]) * k;
    const G l = static_cast<G>(lambda);
#pragma omp parallel for schedule(static)
    for (std::size_t t = 0; t < slice_count; ++t) {
      G sum = parts[t];
      for (int r = 1; r < ranks; ++r) sum += parts[static_cast<std::size_t>(r) * slice_count + t];
      out[t] = sum + l * static_cast<G>(x[t]);
    }
  }
  for (int r = 0; r < ranks; ++r) {
    recvcounts[r] = sendcounts[r];
    rdispls[r] = sdispls[r];
  }
  if (ranks > 1)
    detail::check_mpi(
        MPI_Allgatherv(MPI_IN_PLACE, 0, type, grad_replicated.data, recvcounts.data(), rdispls.data(), type, comm),
        "MPI_Allgatherv");

  double data_loss = 0, norms = 0, max_compute = 0, sum_compute = 0;
  for (const Terms& t : terms) {
    data_loss += t.data_loss;
    norms += t.owned_norm + t.slice_norm;
    max_compute = std::max(max_compute, t.compute_seconds);
    sum_compute += t.compute_seconds;
  }
  s.stats.compute_seconds = mine.compute_seconds;
  s.stats.communication_seconds = seconds_since(comm_start);
  s.stats.max_compute_seconds = max_compute;
  s.stats.mean_compute_seconds = sum_compute / ranks;
  s.stats.bytes_sent = s.bytes;
  return data_loss + 0.5 * lambda * norms;
}

#define MFGRAD_MPI_EVALUATE(T)                                                                      \
  template double Plan::evaluate<T>(Matrix<const T>, Matrix<const T>, double, Matrix<compute_t<T>>, \
                                    Matrix<compute_t<T>>, const EvalOptions&);
MFGRAD_MPI_EVALUATE(float)
MFGRAD_MPI_EVALUATE(double)
MFGRAD_MPI_EVALUATE(bfloat16)
MFGRAD_MPI_EVALUATE(float16)
#undef MFGRAD_MPI_EVALUATE

}  // namespace mfgrad::mpi
