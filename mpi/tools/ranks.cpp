// mfgrad eval and mfgrad bench across the ranks of an MPI job: what the tool runs when an MPI launcher
// started it (mpirun -np N mfgrad eval|bench ...), in a build with MPI. Every rank runs the same command
// line; rank 0 prints and writes.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "cli.hpp"
#include "json.hpp"
#include "mfgrad/dataset.hpp"
#include "mfgrad/io.hpp"
#include "mfgrad/mpi.hpp"

namespace mfgrad::cli {

namespace {

constexpr const char* kUsage =
    "under an MPI launcher (mpirun -np N mfgrad ...), eval and bench span the ranks:\n"
    "mfgrad eval (--ratings FILE [--format F] | --data PRESET) (--k K [--seed S] [--dtype D] | --u U.npy --v V.npy)\n"
    "            --lambda L [--partition auto|rows|columns] [--kernel NAME] [--threads T]\n"
    "            [--duplicates error|sum|last] [--check-factors] [--plan estimate|measure] --out DIR\n"
    "  As the single-process eval (same loss, same gradients within the tolerance rule): each rank reads\n"
    "  its byte range of FILE (or generates its rows of PRESET) and evaluates its block; rank 0 writes\n"
    "  DIR/grad_u.npy and DIR/grad_v.npy and prints one JSON line, with ranks, partition, bounds, and per\n"
    "  evaluation compute_seconds (slowest rank), communication_seconds (rank 0), bytes_sent (per rank)\n"
    "  and imbalance (slowest rank's compute / mean). --u/--v files are read whole by every rank.\n"
    "mfgrad bench [--data PRESET|FILE]... [--k 16,64] [--dtype float32,float64] [--partition rows,columns]\n"
    "             [--reps N] [--threads T] [--kernel NAME] [--lambda L] [--json FILE] [--collectives]\n"
    "  Times the distributed evaluation: per case the median over N evaluations (default 5) of the time\n"
    "  per evaluation (slowest rank), compute (slowest and mean rank), communication (slowest rank),\n"
    "  the reduction alone (the communication of the rank that computed longest, which waits for no one),\n"
    "  imbalance and bytes sent per rank. Defaults: --data tiny --k 64 --dtype float32 --partition auto.\n"
    "  --collectives: then MPI_Allreduce, MPI_Reduce_scatter_block and MPI_Allgather alone, 8 B to 64 MiB.\n"
    "  --partition auto: rows when n <= m, columns otherwise (mfgrad/mpi.hpp).\n"
    "Threads: each rank uses --threads (default: all hardware threads; give ranks x threads <= cores).\n";

std::optional<Precision> precision_named(const std::string& name) {
  if (name == "float32") return Precision::f32;
  if (name == "float64") return Precision::f64;
  if (name == "bfloat16") return Precision::bf16;
  if (name == "float16") return Precision::f16;
  return std::nullopt;
}

PlanOptions local_plan_options(const Args& args, int threads) {
  PlanOptions o;
  o.threads = threads;
  const std::string mode = args.get("plan").value_or("estimate");
  if (mode != "estimate" && mode != "measure")
    throw UsageError("--plan expects estimate or measure, got '" + mode + "'");
  o.mode = mode == "measure" ? PlanMode::measure : PlanMode::estimate;
  if (const auto name = args.get("kernel")) o.kernel = *name;
  return o;
}

// The rows of one side owned by each rank, gathered on rank 0 (m or n rows of k).
template <class G>
std::vector<G> gather_rows(const mpi::Share& share, const std::vector<G>& mine, std::size_t k) {
  const int ranks = share.ranks();
  std::vector<int> counts(static_cast<std::size_t>(ranks)), displs(static_cast<std::size_t>(ranks));
  for (int r = 0; r < ranks; ++r) {
    counts[r] = static_cast<int>(static_cast<std::size_t>(share.bounds()[r + 1] - share.bounds()[r]) * k);
    displs[r] = static_cast<int>(static_cast<std::size_t>(share.bounds()[r]) * k);
  }
  std::vector<G> all(share.rank() == 0 ? static_cast<std::size_t>(share.bounds().back()) * k : 0);
  const MPI_Datatype type = std::is_same_v<G, double> ? MPI_DOUBLE : MPI_FLOAT;
  MPI_Gatherv(mine.data(), static_cast<int>(mine.size()), type, all.data(), counts.data(), displs.data(), type, 0,
              share.comm());
  return all;
}

template <class T>
std::vector<T> factor_rows(const NpyArray& a, std::size_t begin, std::size_t end) {
  const std::vector<T>& all = by_precision<T>(a.f32, a.f64);
  return std::vector<T>(all.begin() + static_cast<std::ptrdiff_t>(begin * a.cols),
                        all.begin() + static_cast<std::ptrdiff_t>(end * a.cols));
}

template <class T>
json::Value eval_on_ranks(const mpi::Share& share, std::vector<T> u, std::vector<T> v, std::size_t k, const Args& args,
                          int threads, double lambda) {
  using G = compute_t<T>;
  const bool by_rows = share.partition() == mpi::Partition::rows;
  const std::size_t own = static_cast<std::size_t>(share.end() - share.begin());
  const std::size_t m = by_rows ? own : static_cast<std::size_t>(share.rows());
  const std::size_t n = by_rows ? static_cast<std::size_t>(share.cols()) : own;
  std::vector<G> gu(m * k), gv(n * k);
  EvalOptions options;
  options.check_factors = args.has("check-factors");
  mpi::Plan plan(share, k, precision_of<T>(), local_plan_options(args, threads));
  const double loss =
      plan.evaluate<T>({u.data(), m, k}, {v.data(), n, k}, lambda, {gu.data(), m, k}, {gv.data(), n, k}, options);
  const mpi::EvalStats stats = plan.last();
  std::vector<G> full = gather_rows(share, by_rows ? gu : gv, k);
  std::vector<std::string> choices;
  {
    const std::string mine = plan.choice();
    std::vector<int> lengths(static_cast<std::size_t>(share.ranks()));
    const int length = static_cast<int>(mine.size());
    MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, share.comm());
    std::vector<int> displs(lengths.size(), 0);
    for (std::size_t r = 1; r < lengths.size(); ++r) displs[r] = displs[r - 1] + lengths[r - 1];
    std::string all(share.rank() == 0 ? static_cast<std::size_t>(displs.back() + lengths.back()) : 0, ' ');
    MPI_Gatherv(mine.data(), length, MPI_CHAR, all.data(), lengths.data(), displs.data(), MPI_CHAR, 0, share.comm());
    if (share.rank() == 0)
      for (std::size_t r = 0; r < lengths.size(); ++r)
        choices.push_back(all.substr(static_cast<std::size_t>(displs[r]), static_cast<std::size_t>(lengths[r])));
  }
  json::Value line;
  const std::filesystem::path out = args.required("out");
  mpi::on_every_rank(share.comm(), [&] {
    if (share.rank() != 0) return;
    const std::vector<G>& grad_u = by_rows ? full : gu;
    const std::vector<G>& grad_v = by_rows ? gv : full;
    const auto finite = [](const std::vector<G>& x) {
      return std::all_of(x.begin(), x.end(), [](G y) { return std::isfinite(y); });
    };
    if (!std::isfinite(loss) || !finite(grad_u) || !finite(grad_v))
      throw Error("the loss or a gradient is not finite, so nothing is written (the factors are not finite, or " +
                  std::string(to_string(precision_of<G>())) + " overflowed)");
    std::filesystem::create_directories(out);
    const std::string gu_path = (out / "grad_u.npy").string(), gv_path = (out / "grad_v.npy").string();
    write_gradients(gu_path, grad_u.data(), static_cast<std::size_t>(share.rows()), gv_path, grad_v.data(),
                    static_cast<std::size_t>(share.cols()), k);  // both or neither
    json::Array kernels;
    for (const std::string& c : choices) kernels.emplace_back(c);
    line["kernels"] = json::Value(std::move(kernels));
    line["dtype"] = to_string(precision_of<T>());
    line["loss"] = loss;
    line["m"] = share.rows();
    line["n"] = share.cols();
    line["nnz"] = share.nnz();
    line["k"] = k;
    line["lambda"] = lambda;
    line["threads"] = threads;
    line["ranks"] = share.ranks();
    line["partition"] = mpi::to_string(share.partition());
    json::Array bounds;
    for (const index_t b0 : share.bounds()) bounds.emplace_back(b0);
    line["bounds"] = json::Value(std::move(bounds));
    line["compute_seconds"] = stats.max_compute_seconds;
    line["communication_seconds"] = stats.communication_seconds;
    line["bytes_sent"] = stats.bytes_sent;
    line["imbalance"] = stats.imbalance();
    line["data"] = share.description();
    line["grad_u"] = gu_path;
    line["grad_v"] = gv_path;
  });
  return line;
}

int eval_command(MPI_Comm comm, const std::vector<std::string>& argv) {
  Args args("eval", argv,
            {.values = {"ratings", "format", "data", "u", "v", "k", "seed", "dtype", "lambda", "kernel", "threads",
                        "duplicates", "out", "plan", "partition"},
             .flags = {"check-factors"}});
  const bool from_files = eval_factors_from_files(args);
  if (from_files && args.has("dtype")) throw UsageError("eval: under mpirun, --dtype applies to random factors (--k)");
  if (args.has("plan") && args.has("kernel"))
    throw UsageError("eval: --plan chooses the implementation; drop --kernel");
  const std::string dtype = args.get("dtype").value_or("float32");
  const std::optional<Precision> precision = precision_named(dtype);
  if (!precision) throw UsageError("eval: --dtype expects float32, float64, bfloat16 or float16, got '" + dtype + "'");
  const double lambda = parse_number("lambda", args.required("lambda"));
  args.required("out");
  const int threads = set_threads(static_cast<int>(args.integer("threads", 0, 1, 4096)));
  const mpi::Partition partition = mpi::parse_partition(args.get("partition").value_or("auto"));
  const DuplicatePolicy duplicates = parse_duplicate_policy(args.get("duplicates").value_or("error"));
  const RatingsFormat format = parse_ratings_format(args.get("format").value_or("auto"));

  const mpi::Share share = args.has("ratings")
                               ? mpi::Share::read(comm, *args.get("ratings"), format, partition, duplicates)
                               : mpi::Share::load(comm, *args.get("data"), format, duplicates, partition);
  const bool by_rows = share.partition() == mpi::Partition::rows;
  const auto begin = static_cast<std::size_t>(share.begin()), end = static_cast<std::size_t>(share.end());
  const auto m = static_cast<std::size_t>(share.rows()), n = static_cast<std::size_t>(share.cols());
  json::Value line;
  if (from_files) {
    NpyArray u, v;
    mpi::on_every_rank(comm, [&] {
      const std::string u_path = *args.get("u"), v_path = *args.get("v");
      u = read_npy(u_path);
      v = read_npy(v_path);
      if (u.dtype != v.dtype) throw Error(u_path + " and " + v_path + " hold different dtypes");
      if (u.rows != m)
        throw Error(u_path + ": has " + std::to_string(u.rows) + " rows but the data has " + std::to_string(m) +
                    " rows (m)");
      if (v.rows != n)
        throw Error(v_path + ": has " + std::to_string(v.rows) + " rows but the data has " + std::to_string(n) +
                    " columns (n)");
      if (u.cols != v.cols || u.cols == 0)
        throw Error(u_path + " has k = " + std::to_string(u.cols) + " columns but " + v_path + " has " +
                    std::to_string(v.cols));
    });
    const std::size_t k = u.cols;
    const auto run = [&]<class T>(T) {
      std::vector<T> us = by_rows ? factor_rows<T>(u, begin, end) : factor_rows<T>(u, 0, m);
      std::vector<T> vs = by_rows ? factor_rows<T>(v, 0, n) : factor_rows<T>(v, begin, end);
      u = {};
      v = {};
      return eval_on_ranks<T>(share, std::move(us), std::move(vs), k, args, threads, lambda);
    };
    line = u.dtype == Precision::f64 ? run(double{}) : run(float{});
  } else {
    const auto k = static_cast<std::size_t>(args.integer("k", 0, 1, 1 << 20));
    const auto seed = static_cast<std::uint64_t>(args.integer("seed", 1, 0, INT64_MAX));
    // The single-process eval's factors, each rank making only its rows of the partitioned side.
    line = with_precision(*precision, [&]<class T>(T) {
      std::vector<T> u = by_rows ? random_factor_rows<T>(begin, end, k, seed) : random_factor<T>(m, k, seed);
      std::vector<T> v = by_rows ? random_factor<T>(n, k, seed + 1) : random_factor_rows<T>(begin, end, k, seed + 1);
      return eval_on_ranks<T>(share, std::move(u), std::move(v), k, args, threads, lambda);
    });
  }
  if (share.rank() == 0) std::printf("%s\n", line.dump().c_str());
  return 0;
}

double median(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  return x.empty() ? 0 : x.size() % 2 ? x[x.size() / 2] : 0.5 * (x[x.size() / 2 - 1] + x[x.size() / 2]);
}

// Median seconds of `reps` calls of f (the slowest rank's, each call started together).
template <class F>
double median_time(MPI_Comm comm, int reps, F&& f) {
  std::vector<double> times;
  for (int rep = -1; rep < reps; ++rep) {
    MPI_Barrier(comm);
    const auto start = std::chrono::steady_clock::now();
    f();
    double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, comm);
    if (rep >= 0) times.push_back(t);
  }
  return median(times);
}

// MPI's own collectives on float32 buffers of 8 bytes to 64 MiB: the inputs of the α–β model
// (docs/mpi.md). Reduce_scatter_block leaves each rank 1/P of the buffer.
void sweep_collectives(MPI_Comm comm, int ranks, int reps) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0)
    std::printf("\nMPI collectives, %d ranks, float32 sum, medians of %d (slowest rank)\n  %12s %14s %14s %14s\n",
                ranks, reps, "bytes", "Allreduce us", "RedScatBlk us", "Allgather us");
  for (std::size_t bytes = 8; bytes <= (std::size_t{64} << 20); bytes *= 8) {
    const std::size_t count = std::max<std::size_t>(bytes / 4 / static_cast<std::size_t>(ranks), 1);
    std::vector<float> a(count * static_cast<std::size_t>(ranks), 1.0f), b(a.size());
    const int whole = static_cast<int>(a.size()), part = static_cast<int>(count);
    const double allreduce =
        median_time(comm, reps, [&] { MPI_Allreduce(a.data(), b.data(), whole, MPI_FLOAT, MPI_SUM, comm); });
    const double scatter =
        median_time(comm, reps, [&] { MPI_Reduce_scatter_block(a.data(), b.data(), part, MPI_FLOAT, MPI_SUM, comm); });
    const double gather =
        median_time(comm, reps, [&] { MPI_Allgather(a.data(), part, MPI_FLOAT, b.data(), part, MPI_FLOAT, comm); });
    if (rank == 0)
      std::printf("  %12zu %14.1f %14.1f %14.1f\n", a.size() * 4, allreduce * 1e6, scatter * 1e6, gather * 1e6);
  }
}

int bench_command(MPI_Comm comm, const std::vector<std::string>& argv) {
  Args args("bench", argv,
            {.values = {"reps", "threads", "kernel", "lambda", "json", "seed"},
             .repeatable = {"data", "k", "dtype", "partition"},
             .flags = {"collectives"}});
  if (!args.positional().empty()) throw UsageError("bench: unexpected argument '" + args.positional()[0] + "'");
  int rank = 0, ranks = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  const int threads = set_threads(static_cast<int>(args.integer("threads", 0, 1, 4096)));
  const auto reps = static_cast<int>(args.integer("reps", 5, 1, 1000));
  const double lambda = args.number("lambda", 0.05);
  std::vector<std::string> data = args.list("data"), ks = args.list("k"), dtypes = args.list("dtype"),
                           partitions = args.list("partition");
  if (data.empty()) data = {"tiny"};
  if (ks.empty()) ks = {"64"};
  if (dtypes.empty()) dtypes = {"float32"};
  if (partitions.empty()) partitions = {"auto"};
  for (const std::string& d : dtypes)
    if (d != "float32" && d != "float64")
      throw UsageError("bench: under mpirun, --dtype takes float32 or float64, got '" + d + "'");
  PlanOptions options;
  options.threads = threads;
  if (const auto name = args.get("kernel")) options.kernel = *name;

  json::Array results;
  if (rank == 0)
    std::printf("%d ranks x %d threads; medians of %d evaluations; times of the slowest rank unless said\n", ranks,
                threads, reps);
  for (const std::string& what : data) {
    for (const std::string& side : partitions) {
      const mpi::Share share =
          mpi::Share::load(comm, what, RatingsFormat::automatic, DuplicatePolicy::error, mpi::parse_partition(side));
      if (rank == 0) {
        std::printf("\n%s: %d x %d, %lld entries; partition %s, bounds", share.description().c_str(), share.rows(),
                    share.cols(), static_cast<long long>(share.nnz()), mpi::to_string(share.partition()));
        for (const index_t b : share.bounds()) std::printf(" %d", b);
        std::printf("\n  %-8s %5s %10s %12s %12s %10s %10s %10s %12s %10s\n", "dtype", "k", "eval ms", "compute max",
                    "compute mean", "comm max", "reduce ms", "imbalance", "MB sent/rank", "Mentries/s");
      }
      for (const std::string& dtype : dtypes) {
        for (const std::string& k_text : ks) {
          const auto k = static_cast<std::size_t>(parse_integer("k", k_text, 1, 1 << 16));
          with_precision(*precision_named(dtype), [&]<class T>(T) {
            if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
              using G = compute_t<T>;
              const bool by_rows = share.partition() == mpi::Partition::rows;
              const auto own = static_cast<std::size_t>(share.end() - share.begin());
              const std::size_t m = by_rows ? own : static_cast<std::size_t>(share.rows());
              const std::size_t n = by_rows ? static_cast<std::size_t>(share.cols()) : own;
              const auto begin = static_cast<std::size_t>(share.begin()), end = static_cast<std::size_t>(share.end());
              const std::vector<T> u = by_rows ? random_factor_rows<T>(begin, end, k, 1) : random_factor<T>(m, k, 1);
              const std::vector<T> v = by_rows ? random_factor<T>(n, k, 2) : random_factor_rows<T>(begin, end, k, 2);
              std::vector<G> gu(m * k), gv(n * k);
              mpi::Plan plan(share, k, precision_of<T>(), options);
              std::vector<double> wall, compute_max, compute_mean, comm_max, reduce;
              for (int rep = -1; rep < reps; ++rep) {  // one warm-up evaluation first
                MPI_Barrier(comm);
                const auto start = std::chrono::steady_clock::now();
                plan.evaluate<T>({u.data(), m, k}, {v.data(), n, k}, lambda, {gu.data(), m, k}, {gv.data(), n, k});
                double t[2] = {std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                               plan.last().communication_seconds};
                // The communication of the rank that computed longest waited for no one: the reduction alone.
                const double pair[2] = {plan.last().compute_seconds, plan.last().communication_seconds};
                std::vector<double> pairs(2 * static_cast<std::size_t>(ranks));
                MPI_Allgather(pair, 2, MPI_DOUBLE, pairs.data(), 2, MPI_DOUBLE, comm);
                MPI_Allreduce(MPI_IN_PLACE, t, 2, MPI_DOUBLE, MPI_MAX, comm);
                if (rep < 0) continue;
                std::size_t slowest = 0;
                for (std::size_t r = 1; r < static_cast<std::size_t>(ranks); ++r)
                  if (pairs[2 * r] > pairs[2 * slowest]) slowest = r;
                reduce.push_back(pairs[2 * slowest + 1]);
                wall.push_back(t[0]);
                compute_max.push_back(plan.last().max_compute_seconds);
                compute_mean.push_back(plan.last().mean_compute_seconds);
                comm_max.push_back(t[1]);
              }
              const double eval = median(wall), cmax = median(compute_max), cmean = median(compute_mean);
              std::uint64_t bytes = plan.bytes_sent();
              MPI_Allreduce(MPI_IN_PLACE, &bytes, 1, MPI_UINT64_T, MPI_MAX, comm);
              if (rank == 0) {
                std::printf("  %-8s %5zu %10.3f %12.3f %12.3f %10.3f %10.3f %10.3f %12.3f %10.1f\n", dtype.c_str(), k,
                            eval * 1e3, cmax * 1e3, cmean * 1e3, median(comm_max) * 1e3, median(reduce) * 1e3,
                            cmax / cmean, static_cast<double>(bytes) / 1e6,
                            static_cast<double>(share.nnz()) / eval / 1e6);
                json::Value row;
                row["data"] = share.description();
                row["partition"] = mpi::to_string(share.partition());
                row["ranks"] = ranks;
                row["threads"] = threads;
                row["dtype"] = dtype;
                row["k"] = k;
                row["nnz"] = share.nnz();
                row["eval_seconds"] = eval;
                row["compute_max_seconds"] = cmax;
                row["compute_mean_seconds"] = cmean;
                row["communication_max_seconds"] = median(comm_max);
                row["reduction_seconds"] = median(reduce);
                row["imbalance"] = cmax / cmean;
                row["bytes_sent_per_rank"] = bytes;
                results.push_back(std::move(row));
              }
            }
            return 0;
          });
        }
      }
    }
  }
  if (args.has("collectives")) sweep_collectives(comm, ranks, reps);
  if (const auto path = args.get("json"))
    mpi::on_every_rank(comm, [&] {
      if (rank != 0) return;
      std::FILE* f = std::fopen(path->c_str(), "w");
      if (f == nullptr) throw Error("cannot write " + *path);
      std::fprintf(f, "%s\n", json::Value(results).dump(2).c_str());
      std::fclose(f);
    });
  return 0;
}

}  // namespace

// The tool's entry under an MPI launcher: true (and `status` set) when it ran `eval` or `bench` across
// the ranks; false for anything else, which then runs as in any other process.
bool ranks_command(const std::vector<std::string>& args, int& status) {
  if (!mpi::launched_by_mpi() || args.empty() || (args[0] != "eval" && args[0] != "bench")) return false;
  for (const std::string& a : args)
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      status = 0;
      return true;
    }
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  try {
    status = args[0] == "eval" ? eval_command(MPI_COMM_WORLD, rest) : bench_command(MPI_COMM_WORLD, rest);
  } catch (const UsageError& e) {
    if (rank == 0) std::fprintf(stderr, "mfgrad: %s\n", e.what());
    status = 2;
  } catch (const std::exception& e) {
    // Errors of the collective steps are the same on every rank: rank 0 says it.
    if (rank == 0) std::fprintf(stderr, "mfgrad %s: error: %s\n", args[0].c_str(), e.what());
    status = 1;
  }
  MPI_Finalize();
  return true;
}

}  // namespace mfgrad::cli
