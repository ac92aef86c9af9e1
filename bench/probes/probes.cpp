// Machine ceilings: FMA throughput through mfgrad's own SIMD dispatch, and main-memory bandwidth.
//
// The FMA chains are written once (fma.hpp) and compiled per ISA (files CMake generates); this baseline file
// only declares those instantiations, times them and reaches the right one through simd::dispatch, so
// the peak is that of the widest vectors the library's kernels themselves may use (MFGRAD_ISA caps
// both). Bandwidth needs no SIMD: plain loops over page-sized blocks, vectorised by the compiler.
#include "probes.hpp"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <numeric>
#include <vector>

#include "fma.hpp"
#include "gather.hpp"
#include "mfgrad/buffer.hpp"
#include "simd/dispatch.hpp"

namespace mfgrad::bench {

namespace probe {

namespace simd = kernels::simd;

MFGRAD_SIMD_EXTERN(MFGRAD_PROBE_FMA_RUN)
MFGRAD_SIMD_EXTERN(MFGRAD_PROBE_GATHER_RUN)

}  // namespace probe

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// threads <= 0: every thread the OpenMP runtime offers, as Workspace does.
int requested_threads(int threads) { return threads > 0 ? threads : std::max(1, omp_get_max_threads()); }

// ---------------------------------------------------------------------------------------------------
// FMA peak

// One timed run of the chains on a whole team.
struct FmaRep {
  double seconds;      // from the first thread's start to the last thread's end: all the work lies within
  double own_seconds;  // the shortest time one thread took for its share: the least disturbed by others
  int threads;         // the team the runtime granted (fewer than asked when nested, or under a limit)
  int lanes;
};

template <class T, class Arch>
FmaRep fma_rep(Arch arch, int threads, long long iterations) {
  const Clock::time_point origin = Clock::now();
  double first_start = 1e300, last_stop = 0, own = 1e300;
  int team = 1, lanes = 0;
#pragma omp parallel num_threads(threads) reduction(min : first_start, own) reduction(max : last_stop)
  {
#pragma omp single
    team = omp_get_num_threads();
    // The implicit barrier after single releases the team together.
    const double start = seconds_since(origin);
    const probe::ChainsRun run = probe::fma_chains<Arch, T>(arch, iterations, T(1) / 1024);
    const double stop = seconds_since(origin);
    first_start = start;
    last_stop = stop;
    own = stop - start;
#pragma omp master
    lanes = run.lanes;
  }
  return {last_stop - first_start, own, team, lanes};
}

// The result of one dispatched measurement; plain data because xsimd's dispatcher is noexcept.
struct FmaResult {
  double gflops;
  int threads;
  const char* isa;
  int vector_bits;
};

// Grows the iteration count until a repetition takes about seconds / kReps, then keeps the fastest
// repetition (calibration runs included: a short run can only understate the rate, never overstate it).
template <class T, class Arch>
FmaResult fma_peak(Arch arch, int threads, double seconds) {
  constexpr int kReps = 5;
  constexpr double kMinSeconds = 1e-3;
  const double budget = std::max(seconds, kMinSeconds), per_rep = budget / kReps;
  long long iterations = 1024;
  double spent = 0, best = 0;
  FmaResult result{0, 1, Arch::name(), 0};
  for (int full_reps = 0; full_reps < kReps && !(full_reps > 0 && spent >= budget);) {
    const FmaRep rep = fma_rep<T>(arch, threads, iterations);
    spent += rep.seconds;
    const double flops = 2.0 * probe::kChains<Arch> * rep.lanes * static_cast<double>(iterations) * rep.threads;
    if (rep.seconds > 0) best = std::max(best, flops / rep.seconds);
    result.threads = rep.threads;
    result.vector_bits = rep.lanes * static_cast<int>(sizeof(T)) * 8;
    // Calibrated on a thread's own time: with a core shared with other processes, a thread that waits for
    // its time slice stretches the team's time however little work the repetition holds.
    if (rep.own_seconds >= per_rep / 2) {
      ++full_reps;
    } else {
      iterations = static_cast<long long>(static_cast<double>(iterations) * std::min(per_rep / rep.own_seconds, 64.0));
    }
  }
  result.gflops = best / 1e9;
  return result;
}

// ---------------------------------------------------------------------------------------------------
// Bandwidth

// Every loop runs over whole 4 KiB blocks (a page on x86-64) with the same static schedule, so each
// thread streams exactly the pages it touched first, which the kernel placed on its NUMA node.
constexpr std::size_t kBlockBytes = 4096;
constexpr std::size_t kBlock = kBlockBytes / sizeof(double);

// 256 MiB per array, far past any last-level cache, but no more than 1/16 of physical memory so the
// three arrays stay well within it.
std::size_t array_blocks() {
  std::size_t bytes = std::size_t{256} << 20;
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0) bytes = std::min(bytes, static_cast<std::size_t>(pages) * page / 16);
  return std::max<std::size_t>(bytes / kBlockBytes, 1);
}

struct FreeDeleter {
  void operator()(double* p) const { std::free(p); }
};
using PageArray = std::unique_ptr<double[], FreeDeleter>;

// Uninitialised and page-aligned, so that the first touch decides placement.
PageArray allocate(std::size_t blocks) {
  void* p = std::aligned_alloc(kBlockBytes, blocks * kBlockBytes);
  if (p == nullptr) throw std::bad_alloc();
  return PageArray(static_cast<double*>(p));
}

// Returns the team size the runtime granted.
int first_touch(double* a, double* b, double* c, std::ptrdiff_t blocks, int threads) {
  int granted = 1;
#pragma omp parallel num_threads(threads)
  {
#pragma omp single nowait
    granted = omp_get_num_threads();
#pragma omp for schedule(static)
    for (std::ptrdiff_t k = 0; k < blocks; ++k) {
      const std::size_t o = k * kBlock;
      for (std::size_t i = 0; i < kBlock; ++i) {
        a[o + i] = 0;
        b[o + i] = 1;
        c[o + i] = 2;
      }
    }
  }
  return granted;
}

// Σ x, with enough independent partial sums per thread that the adds never throttle the loads.
double read_sum(const double* x, std::ptrdiff_t blocks, int threads) {
  constexpr std::size_t kSums = 16;
  double total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
  {
    double sums[kSums] = {};
#pragma omp for schedule(static)
    for (std::ptrdiff_t k = 0; k < blocks; ++k) {
      const double* p = x + k * kBlock;
      for (std::size_t i = 0; i < kBlock; i += kSums)
        for (std::size_t j = 0; j < kSums; ++j) sums[j] += p[i + j];
    }
    for (double s : sums) total += s;
  }
  return total;
}

void triad(double* a, const double* b, const double* c, double s, std::ptrdiff_t blocks, int threads) {
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::ptrdiff_t k = 0; k < blocks; ++k) {
    const std::size_t o = k * kBlock;
    for (std::size_t i = 0; i < kBlock; ++i) a[o + i] = b[o + i] + s * c[o + i];
  }
}

// Where the read pass leaves its sum, so that the loads cannot be optimised away.
volatile double read_sink;

}  // namespace

FmaPeak measure_fma_peak(Precision precision, int threads, double seconds) {
  const int team = requested_threads(threads);
  const FmaResult r = probe::simd::dispatch([&](auto arch) {
    return precision == Precision::f32 ? fma_peak<float>(arch, team, seconds) : fma_peak<double>(arch, team, seconds);
  });
  return {r.gflops, r.threads, r.isa, r.vector_bits};
}

Bandwidth measure_bandwidth(int threads, double seconds) {
  constexpr int kMinReps = 3;
  const int team = requested_threads(threads);
  const std::size_t blocks = array_blocks();
  const auto n = static_cast<std::ptrdiff_t>(blocks);
  PageArray a = allocate(blocks), b = allocate(blocks), c = allocate(blocks);
  Bandwidth out;
  out.threads = first_touch(a.get(), b.get(), c.get(), n, team);
  out.bytes = static_cast<double>(blocks * kBlockBytes);
  double spent = 0;
  for (int rep = 0; rep < kMinReps || spent < seconds; ++rep) {
    Clock::time_point start = Clock::now();
    read_sink = read_sum(b.get(), n, team);
    const double read_s = seconds_since(start);
    start = Clock::now();
    triad(a.get(), b.get(), c.get(), 3.0, n, team);
    const double triad_s = seconds_since(start);
    spent += read_s + triad_s;
    out.read_gbs = std::max(out.read_gbs, out.bytes / read_s / 1e9);
    out.triad_gbs = std::max(out.triad_gbs, 3 * out.bytes / triad_s / 1e9);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Gather bound

struct GatherBound::State {
  std::size_t width = 0;  // floats per row
  int threads = 1;
  std::size_t distance = 0;
  Buffer<float> rows;
  Buffer<std::int32_t> ids;
  std::vector<std::size_t> bounds;  // threads + 1 entry bounds

  double pass(std::size_t d) {
    double sum = 0;
#pragma omp parallel for schedule(static, 1) num_threads(threads) reduction(+ : sum)
    for (int t = 0; t < threads; ++t) {
      const std::size_t begin = bounds[t], count = bounds[t + 1] - begin;
      const float* r = rows.data();
      const std::int32_t* id = ids.data() + begin;
      const std::size_t w = width;
      sum += probe::simd::dispatch(
          [&](auto arch) { return probe::gather_rows<decltype(arch), float>(arch, r, w, id, count, d); });
    }
    return sum;
  }
};

namespace {
volatile double gather_sink;
}

GatherBound::GatherBound(const Observed& obs, std::size_t row_bytes, int threads) : s_(std::make_unique<State>()) {
  State& s = *s_;
  s.width = (std::max<std::size_t>(row_bytes, 1) + 15) / 16 * 4;
  s.threads = requested_threads(threads);
  const std::size_t n = static_cast<std::size_t>(obs.cols()), nnz = static_cast<std::size_t>(obs.nnz());
  // Columns by descending degree, ties by id.
  const auto col_ptr = obs.col_ptr();
  std::vector<std::int32_t> by_degree(n), new_of_old(n);
  std::iota(by_degree.begin(), by_degree.end(), 0);
  std::stable_sort(by_degree.begin(), by_degree.end(), [&](std::int32_t a, std::int32_t b) {
    return col_ptr[a + 1] - col_ptr[a] > col_ptr[b + 1] - col_ptr[b];
  });
  for (std::size_t j = 0; j < n; ++j) new_of_old[static_cast<std::size_t>(by_degree[j])] = static_cast<std::int32_t>(j);
  s.ids.reset(std::max<std::size_t>(nnz, 1));
  const auto row_ptr = obs.row_ptr();
  const auto col = obs.col_idx();
#pragma omp parallel for schedule(dynamic, 1024)
  for (std::int64_t i = 0; i < obs.rows(); ++i) {
    std::int32_t* out = s.ids.data() + row_ptr[i];
    for (offset_t q = row_ptr[i]; q < row_ptr[i + 1]; ++q)
      out[q - row_ptr[i]] = new_of_old[static_cast<std::size_t>(col[q])];
    std::sort(out, out + (row_ptr[i + 1] - row_ptr[i]));
  }
  // Entry-balanced parts; the rows' first touch spread the same way as the kernels' copies.
  s.bounds.resize(static_cast<std::size_t>(s.threads) + 1);
  for (int t = 0; t <= s.threads; ++t)
    s.bounds[t] = nnz * static_cast<std::size_t>(t) / static_cast<std::size_t>(s.threads);
  s.rows.reset(std::max<std::size_t>(n, 1) * s.width);
#pragma omp parallel for schedule(static) num_threads(s.threads)
  for (std::int64_t x = 0; x < static_cast<std::int64_t>(n * s.width); ++x)
    s.rows[x] = 1.0f / static_cast<float>(1 + x % 7);
  // Calibration: a warm-up pass, then one timed pass per distance; the fastest distance is kept.
  gather_sink = s.pass(0);
  double best = HUGE_VAL;
  for (std::size_t d : {0, 4, 8, 16}) {
    const Clock::time_point start = Clock::now();
    gather_sink = s.pass(d);
    if (const double t = seconds_since(start); t < best) best = t, s.distance = d;
  }
}

GatherBound::~GatherBound() = default;

void GatherBound::run() { gather_sink = s_->pass(s_->distance); }
std::size_t GatherBound::row_bytes() const noexcept { return s_->width * sizeof(float); }
std::size_t GatherBound::distance() const noexcept { return s_->distance; }
int GatherBound::threads() const noexcept { return s_->threads; }

}  // namespace mfgrad::bench
