// train_ranks — fits U and V to a ratings file or a preset across the ranks of an MPI job, by full-batch
// Adam on mfgrad's objective, and prints the loss after every step (rank 0). Each rank keeps its rows
// of the partitioned factor and the whole replicated one; every rank updates the replicated factor with
// the same gradient (the same bits on every rank), so the copies never drift apart. At any rank count
// the run follows the single-process run within the tolerance rule of each evaluation.
//
//   mpirun -np 4 train_ranks --data netflix-25m --k 32 --lambda 0.05 --steps 50
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "mfgrad/mpi.hpp"

namespace {

const char* const usage =
    "usage: mpirun -np N train_ranks (--ratings FILE | --data PRESET) [--k 16] [--lambda 0.05] [--steps 30]\n"
    "                                [--rate 0.01] [--dtype float32|float64] [--partition auto|rows|columns]\n"
    "                                [--threads T]\n";

// Adam on one factor: the same arithmetic on every rank for the same gradient.
template <class T>
struct Adam {
  std::vector<T> m, v;
  void step(std::vector<T>& x, const std::vector<T>& g, double rate, int t) {
    if (m.empty()) m.assign(x.size(), T{0}), v.assign(x.size(), T{0});
    const T b1 = T(0.9), b2 = T(0.999), eps = T(1e-8);
    const T c1 = T(1 - std::pow(0.9, t)), c2 = T(1 - std::pow(0.999, t)), lr = T(rate);
    for (std::size_t i = 0; i < x.size(); ++i) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      x[i] -= lr * (m[i] / c1) / (std::sqrt(v[i] / c2) + eps);
    }
  }
};

template <class T>
int train(const mfgrad::mpi::Share& share, std::size_t k, double lambda, int steps, double rate,
          const mfgrad::PlanOptions& options) {
  const bool by_rows = share.partition() == mfgrad::mpi::Partition::rows;
  const auto begin = static_cast<std::size_t>(share.begin()), end = static_cast<std::size_t>(share.end());
  const auto m_all = static_cast<std::size_t>(share.rows()), n_all = static_cast<std::size_t>(share.cols());
  const std::size_t m = by_rows ? end - begin : m_all, n = by_rows ? n_all : end - begin;
  // The factors of a single-process run, each rank holding its part.
  std::vector<T> u = by_rows ? mfgrad::random_factor_rows<T>(begin, end, k, 1) : mfgrad::random_factor<T>(m, k, 1);
  std::vector<T> v = by_rows ? mfgrad::random_factor<T>(n, k, 2) : mfgrad::random_factor_rows<T>(begin, end, k, 2);
  std::vector<T> gu(u.size()), gv(v.size());
  mfgrad::mpi::Plan plan(share, k, mfgrad::precision_of<T>(), options);
  Adam<T> adam_u, adam_v;
  for (int t = 1; t <= steps; ++t) {
    const double loss =
        plan.evaluate<T>({u.data(), m, k}, {v.data(), n, k}, lambda, {gu.data(), m, k}, {gv.data(), n, k});
    if (share.rank() == 0)
      std::printf("step %d loss %.17g compute %.3f ms communication %.3f ms imbalance %.3f\n", t, loss,
                  plan.last().max_compute_seconds * 1e3, plan.last().communication_seconds * 1e3,
                  plan.last().imbalance());
    adam_u.step(u, gu, rate, t);
    adam_v.step(v, gv, rate, t);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::string what, dtype = "float32", partition = "auto";
  std::size_t k = 16;
  double lambda = 0.05, rate = 0.01;
  int steps = 30, threads = 0;
  bool file = false;
  for (int a = 1; a < argc; ++a) {
    const std::string name = argv[a];
    if (a + 1 >= argc) {
      if (rank == 0) std::fprintf(stderr, "%s: %s needs a value\n%s", argv[0], name.c_str(), usage);
      MPI_Finalize();
      return 2;
    }
    const char* value = argv[++a];
    if (name == "--ratings" || name == "--data")
      what = value, file = name == "--ratings";
    else if (name == "--k")
      k = std::strtoul(value, nullptr, 10);
    else if (name == "--lambda")
      lambda = std::strtod(value, nullptr);
    else if (name == "--steps")
      steps = std::atoi(value);
    else if (name == "--rate")
      rate = std::strtod(value, nullptr);
    else if (name == "--dtype")
      dtype = value;
    else if (name == "--partition")
      partition = value;
    else if (name == "--threads")
      threads = std::atoi(value);
    else {
      if (rank == 0) std::fprintf(stderr, "%s: unknown option %s\n%s", argv[0], name.c_str(), usage);
      MPI_Finalize();
      return 2;
    }
  }
  int status = 0;
  try {
    if (what.empty()) throw mfgrad::Error("give --ratings FILE or --data PRESET");
    if (dtype != "float32" && dtype != "float64") throw mfgrad::Error("--dtype is float32 or float64");
    const mfgrad::mpi::Partition side = mfgrad::mpi::parse_partition(partition);
    const mfgrad::mpi::Share share =
        file ? mfgrad::mpi::Share::read(MPI_COMM_WORLD, what, mfgrad::RatingsFormat::automatic, side)
             : mfgrad::mpi::Share::load(MPI_COMM_WORLD, what, mfgrad::RatingsFormat::automatic,
                                        mfgrad::DuplicatePolicy::error, side);
    if (rank == 0)
      std::printf("%s: %lld entries on %d ranks, partition %s\n", share.description().c_str(),
                  static_cast<long long>(share.nnz()), share.ranks(), mfgrad::mpi::to_string(share.partition()));
    mfgrad::PlanOptions options;
    options.threads = threads;
    status = dtype == "float64" ? train<double>(share, k, lambda, steps, rate, options)
                                : train<float>(share, k, lambda, steps, rate, options);
  } catch (const std::exception& e) {
    if (rank == 0) std::fprintf(stderr, "train_ranks: %s\n", e.what());
    status = 1;
  }
  MPI_Finalize();
  return status;
}
