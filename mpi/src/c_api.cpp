// The C interface of mfgrad::mpi (mfgrad/mpi.h): handles around Share and Plan, exceptions as statuses.
#include <memory>
#include <new>
#include <optional>
#include <string>

#include "c_precision.hpp"
#include "mfgrad/mpi.h"
#include "mfgrad/mpi.hpp"

struct mfgrad_mpi_share {
  mfgrad::mpi::Share share;
};

struct mfgrad_mpi_plan {
  mfgrad::mpi::Plan plan;
  bool check_factors = false;
};

namespace {

thread_local std::string last_error;

// Runs f, turning what it throws into a status and the message of mfgrad_mpi_last_error().
template <class F>
mfgrad_status guarded(F&& f) {
  try {
    f();
    last_error.clear();
    return MFGRAD_OK;
  } catch (const mfgrad::OutOfMemory& e) {
    last_error = e.what();
    return MFGRAD_ERROR_OUT_OF_MEMORY;
  } catch (const mfgrad::Error& e) {
    last_error = e.what();
    return MFGRAD_ERROR_INVALID_ARGUMENT;
  } catch (const std::bad_alloc&) {
    last_error = "out of memory";
    return MFGRAD_ERROR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    last_error = e.what();
    return MFGRAD_ERROR_INTERNAL;
  }
}

mfgrad::mpi::Partition partition_of(mfgrad_mpi_partition p) {
  switch (p) {
    case MFGRAD_MPI_AUTO:
      return mfgrad::mpi::Partition::automatic;
    case MFGRAD_MPI_ROWS:
      return mfgrad::mpi::Partition::rows;
    case MFGRAD_MPI_COLUMNS:
      return mfgrad::mpi::Partition::columns;
    default:
      throw mfgrad::Error("partition " + std::to_string(static_cast<int>(p)) +
                          " is none of MFGRAD_MPI_AUTO, MFGRAD_MPI_ROWS, MFGRAD_MPI_COLUMNS");
  }
}

// Arguments every rank checks before a collective step, so that one rank's NULL fails them all.
void require(MPI_Comm comm, bool fine, const char* what) {
  mfgrad::mpi::on_every_rank(comm, [&] {
    if (!fine) throw mfgrad::Error(what);
  });
}

// S: the storage type of the factors (16-bit ones arrive as uint16_t bits); gradients are compute_t<S>.
template <class S, class Stored>
mfgrad_status evaluate(mfgrad_mpi_plan* p, int64_t m, int64_t n, int64_t k, const Stored* u_bits, const Stored* v_bits,
                       double lambda, mfgrad::compute_t<S>* grad_u, mfgrad::compute_t<S>* grad_v, double* loss) {
  static_assert(sizeof(S) == sizeof(Stored));
  const S* u = reinterpret_cast<const S*>(u_bits);
  const S* v = reinterpret_cast<const S*>(v_bits);
  return guarded([&] {
    if (p == nullptr) throw mfgrad::Error("plan is NULL");
    const MPI_Comm comm = p->plan.share().comm();
    require(comm,
            m >= 0 && n >= 0 && k >= 1 && loss != nullptr && ((u && grad_u) || m == 0) && ((v && grad_v) || n == 0),
            "evaluate: a NULL array, a NULL loss or a negative size");
    mfgrad::EvalOptions options;
    options.check_factors = p->check_factors;
    *loss = p->plan.evaluate<S>({u, m, k}, {v, n, k}, lambda, {grad_u, m, k}, {grad_v, n, k}, options);
  });
}

}  // namespace

extern "C" {

const char* mfgrad_mpi_last_error(void) { return last_error.c_str(); }

mfgrad_status mfgrad_mpi_share_load(MPI_Comm comm, const char* what, mfgrad_mpi_partition partition,
                                    mfgrad_mpi_share** out) {
  return guarded([&] {
    require(comm, what != nullptr && out != nullptr, "share_load: what or out is NULL");
    const mfgrad::mpi::Partition side = partition_of(partition);
    *out = new mfgrad_mpi_share{
        mfgrad::mpi::Share::load(comm, what, mfgrad::RatingsFormat::automatic, mfgrad::DuplicatePolicy::error, side)};
  });
}

mfgrad_status mfgrad_mpi_share_from_coo(MPI_Comm comm, int32_t rows, int32_t cols, int64_t count, const int32_t* row,
                                        const int32_t* col, const double* value, mfgrad_mpi_partition partition,
                                        mfgrad_duplicates duplicates, mfgrad_mpi_share** out) {
  return guarded([&] {
    require(comm, out != nullptr && count >= 0 && ((row && col && value) || count == 0),
            "share_from_coo: out is NULL, count is negative or an array is NULL");
    const mfgrad::mpi::Partition side = partition_of(partition);
    mfgrad::DuplicatePolicy policy = mfgrad::DuplicatePolicy::error;
    if (duplicates == MFGRAD_DUPLICATES_SUM) policy = mfgrad::DuplicatePolicy::sum;
    if (duplicates == MFGRAD_DUPLICATES_LAST) policy = mfgrad::DuplicatePolicy::last;
    mfgrad::Entries e;
    e.rows = rows;
    e.cols = cols;
    const auto n = static_cast<std::size_t>(count);
    e.row.assign(row, row + n);
    e.col.assign(col, col + n);
    e.value.assign(value, value + n);
    *out = new mfgrad_mpi_share{mfgrad::mpi::Share::from_entries(comm, e, side, policy)};
  });
}

mfgrad_status mfgrad_mpi_share_info(const mfgrad_mpi_share* share, int32_t* rows, int32_t* cols, int64_t* nnz,
                                    mfgrad_mpi_partition* side, int32_t* begin, int32_t* end) {
  return guarded([&] {
    if (share == nullptr) throw mfgrad::Error("share is NULL");
    const mfgrad::mpi::Share& s = share->share;
    if (rows) *rows = s.rows();
    if (cols) *cols = s.cols();
    if (nnz) *nnz = s.nnz();
    if (side) *side = s.partition() == mfgrad::mpi::Partition::rows ? MFGRAD_MPI_ROWS : MFGRAD_MPI_COLUMNS;
    if (begin) *begin = s.begin();
    if (end) *end = s.end();
  });
}

void mfgrad_mpi_share_destroy(mfgrad_mpi_share* share) { delete share; }

mfgrad_status mfgrad_mpi_plan_create(const mfgrad_mpi_share* share, int64_t k, mfgrad_precision precision,
                                     const mfgrad_plan_options* options, mfgrad_mpi_plan** out) {
  return guarded([&] {
    if (share == nullptr) throw mfgrad::Error("share is NULL");
    const MPI_Comm comm = share->share.comm();
    require(comm, out != nullptr, "plan_create: out is NULL");
    mfgrad::PlanOptions o;
    bool check_factors = false;
    const std::optional<mfgrad::Precision> p = mfgrad::detail::precision_of(precision);
    mfgrad::mpi::on_every_rank(comm, [&] {
      if (!p)
        throw mfgrad::Error("precision is " + std::to_string(static_cast<int>(precision)) + ", not " +
                            mfgrad::detail::kPrecisionValues);
      if (k < 1) throw mfgrad::Error("k must be at least 1, got " + std::to_string(k));
      if (options == nullptr) return;
      if (options->wisdom_file != nullptr) throw mfgrad::Error("wisdom_file is not used across ranks: leave it NULL");
      o.threads = options->threads;
      o.mode = options->mode == MFGRAD_PLAN_MEASURE ? mfgrad::PlanMode::measure : mfgrad::PlanMode::estimate;
      if (options->kernel != nullptr) o.kernel = options->kernel;
      o.seconds_per_candidate = options->seconds_per_candidate;
      check_factors = options->check_factors != 0;
    });
    *out = new mfgrad_mpi_plan{mfgrad::mpi::Plan(share->share, static_cast<std::size_t>(k), *p, o), check_factors};
  });
}

void mfgrad_mpi_plan_destroy(mfgrad_mpi_plan* plan) { delete plan; }

mfgrad_status mfgrad_mpi_plan_evaluate_f32(mfgrad_mpi_plan* plan, int64_t m, int64_t n, int64_t k, const float* u,
                                           const float* v, double lambda, float* grad_u, float* grad_v, double* loss) {
  return evaluate<float>(plan, m, n, k, u, v, lambda, grad_u, grad_v, loss);
}

mfgrad_status mfgrad_mpi_plan_evaluate_bf16(mfgrad_mpi_plan* plan, int64_t m, int64_t n, int64_t k, const uint16_t* u,
                                            const uint16_t* v, double lambda, float* grad_u, float* grad_v,
                                            double* loss) {
  return evaluate<mfgrad::bfloat16>(plan, m, n, k, u, v, lambda, grad_u, grad_v, loss);
}

mfgrad_status mfgrad_mpi_plan_evaluate_f16(mfgrad_mpi_plan* plan, int64_t m, int64_t n, int64_t k, const uint16_t* u,
                                           const uint16_t* v, double lambda, float* grad_u, float* grad_v,
                                           double* loss) {
  return evaluate<mfgrad::float16>(plan, m, n, k, u, v, lambda, grad_u, grad_v, loss);
}

mfgrad_status mfgrad_mpi_plan_evaluate_f64(mfgrad_mpi_plan* plan, int64_t m, int64_t n, int64_t k, const double* u,
                                           const double* v, double lambda, double* grad_u, double* grad_v,
                                           double* loss) {
  return evaluate<double>(plan, m, n, k, u, v, lambda, grad_u, grad_v, loss);
}

mfgrad_status mfgrad_mpi_plan_stats(const mfgrad_mpi_plan* plan, double* compute_seconds, double* communication_seconds,
                                    double* imbalance, uint64_t* bytes_sent) {
  return guarded([&] {
    if (plan == nullptr) throw mfgrad::Error("plan is NULL");
    const mfgrad::mpi::EvalStats& s = plan->plan.last();
    if (compute_seconds) *compute_seconds = s.compute_seconds;
    if (communication_seconds) *communication_seconds = s.communication_seconds;
    if (imbalance) *imbalance = s.imbalance();
    if (bytes_sent) *bytes_sent = s.bytes_sent;
  });
}

}  // extern "C"
