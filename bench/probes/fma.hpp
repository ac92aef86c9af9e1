// FMA probe, the per-ISA part: independent chains of vector FMAs held in registers, written once on
// xsimd batches and compiled per ISA by bench/probes/fma_<isa>.cpp with that ISA's flags.
//
// Like kernels/detail/raw.hpp, this header uses nothing but xsimd and plain loops, so a file compiled
// with -mavx512* instantiates no inline function that baseline code also uses.
#pragma once

#include <xsimd/xsimd.hpp>

namespace mfgrad::bench::probe {

// Independent accumulators per thread. To keep every FMA pipe busy a core needs latency × pipes chains
// in flight: 4 cycles × 2 pipes = 8 on current x86 cores (AVX-512 and AVX2 alike) and on wide Arm
// cores. 12 leaves margin for slower FMAs and still fits, with the two operands, in 16 registers
// (the ymm/xmm files of AVX2 and SSE2).
inline constexpr int kChains = 12;

// What one call of fma_chains did.
struct ChainsRun {
  double checksum;  // Σ of the final accumulators: computing it keeps every chain live
  int lanes;        // elements per vector, so each iteration is kChains × lanes FMAs
};

// Runs `iterations` × kChains FMAs acc = acc·(1 − seed) + seed, kChains independent chains of full
// vectors. Every value tends to 1 for 0 < seed < 1, so nothing overflows or turns subnormal. SSE2 has
// no FMA instruction: xsimd then issues a multiply and an add, still 2 flops.
template <class Arch, class T>
ChainsRun fma_chains(Arch, long long iterations, T seed) {
  using B = xsimd::batch<T, Arch>;
  const B mul(T(1) - seed), add(seed);
  B acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = B(T(c));
  for (long long i = 0; i < iterations; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = xsimd::fma(acc[c], mul, add);
  }
  B sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum += acc[c];
  T lanes[B::size];  // summed by hand: GCC 12 warns about the undefined upper half inside xsimd::hadd
  sum.store_unaligned(lanes);
  double checksum = 0;
  for (T x : lanes) checksum += x;
  return {checksum, static_cast<int>(B::size)};
}

#define MFGRAD_PROBE_FMA_INSTANTIATE(ARCH)                            \
  template ChainsRun fma_chains<ARCH, float>(ARCH, long long, float); \
  template ChainsRun fma_chains<ARCH, double>(ARCH, long long, double);

}  // namespace mfgrad::bench::probe
