// Machine ceilings measured by small built-in probes, so that "fraction of peak" is honest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "mfgrad/observed.hpp"
#include "mfgrad/types.hpp"

namespace mfgrad::bench {

struct FmaPeak {
  double gflops = 0;    // sustained FMA throughput, one FMA = 2 flops, summed over all threads
  int threads = 0;      // threads that ran the probe
  std::string isa;      // instruction set used (the best SIMD dispatch allows, e.g. "avx512bw")
  int vector_bits = 0;  // width of the vectors it used
};

// Peak FMA throughput of `threads` threads (each pinned by the OpenMP runtime as configured) running
// independent chains of vector FMAs in registers, in the given precision, best of a few repetitions
// that together take about `seconds`. threads <= 0: every thread the OpenMP runtime offers; the result
// names the team actually granted. The rate is timed from the first thread's start to the last one's
// end, so other processes on the same cores lower it and never raise it. Uses the widest vectors
// mfgrad's SIMD dispatch allows (MFGRAD_ISA caps it, as for the kernels).
FmaPeak measure_fma_peak(Precision precision, int threads, double seconds = 0.3);

struct Bandwidth {
  double read_gbs = 0;   // streaming read (sum of a large array)
  double triad_gbs = 0;  // a[i] = b[i] + s·c[i], counting 3 arrays of traffic (write-allocate not counted)
  int threads = 0;
  double bytes = 0;  // size of one array
};

// Main-memory bandwidth with arrays far larger than the last-level cache (default 256 MiB each,
// chosen smaller when memory is short), best of a few repetitions. threads as for measure_fma_peak;
// each thread first touches the pages it streams. `seconds` bounds the timed passes (at least 3 of
// each); allocating and first touching the 3 arrays comes on top.
Bandwidth measure_bandwidth(int threads, double seconds = 0.5);

// The gather bound of a data set at one row size: the time to read, for every entry of Ω, one whole
// factor row of `row_bytes` (rounded up to 16) picked by its column — the v_j every evaluation must
// bring to the core — from an array of n such rows, and nothing else. The rows are numbered by
// descending column degree and each row's ids sorted, the most cache-friendly order any
// implementation here uses, and the pass is split into `threads` entry-balanced parts run in
// parallel. Prefetching `distance` ids ahead is calibrated once (0, 4, 8 or 16: the fastest). No
// evaluation of Ω can move less than this, so an implementation's time over it is its efficiency
// against the memory system rather than against the FMA units.
class GatherBound {
 public:
  GatherBound(const Observed& obs, std::size_t row_bytes, int threads);
  ~GatherBound();
  GatherBound(const GatherBound&) = delete;
  GatherBound& operator=(const GatherBound&) = delete;

  void run();  // one pass (what the benchmark times)
  std::size_t row_bytes() const noexcept;
  std::size_t distance() const noexcept;  // the calibrated prefetch distance
  int threads() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace mfgrad::bench
