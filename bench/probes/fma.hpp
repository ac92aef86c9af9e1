// FMA probe, the per-ISA part: independent chains of vector FMAs held in registers, written once on
// xsimd batches and compiled per ISA in files CMake generates (mfgrad_simd_instances), each with that ISA's flags.
//
// Like kernels/detail/raw.hpp, this header uses nothing but xsimd and plain loops, so a file compiled
// with -mavx512* instantiates no inline function that baseline code also uses.
#pragma once

#include <type_traits>
#include <xsimd/xsimd.hpp>

namespace mfgrad::bench::probe {

// Independent accumulators per thread. To keep every FMA pipe busy a core needs latency × pipes chains
// in flight: 4 cycles × 2 pipes = 8 on current x86 cores (AVX-512 and AVX2 alike). 12 leaves margin for
// slower FMAs and still fits, with the two operands, in 16 registers (the ymm/xmm files of AVX2 and
// SSE2). Wide Arm cores need more: 4 cycles × 4 NEON pipes = 16 on Neoverse V1/V2 (Graviton 3/4, Grace),
// 9 × 2 = 18 on A64FX; 20 still leaves 10 of NEON's 32 registers free.
template <class Arch>
inline constexpr int kChains = 12;
#if defined(__aarch64__)
template <>
inline constexpr int kChains<xsimd::neon64> = 20;
#endif

// What one call of fma_chains did.
struct ChainsRun {
  double checksum;  // Σ of the final accumulators: computing it keeps every chain live
  int lanes;        // elements per vector, so each iteration is kChains<Arch> × lanes FMAs
};

// One step of a chain. x86 FMAs overwrite whichever operand the compiler likes, so there the accumulator
// is a multiplicand, acc·mul + add: when xsimd has no FMA instruction (SSE2) and issues a multiply and an
// add, the multiply still depends on acc and cannot be hoisted out of the loop. NEON's FMLA overwrites
// only its addend, so there the accumulator is the addend, acc + mul·add (vfmaq, which the compiler keeps
// whole); the other order costs a register copy per FMA. Neither overflows or turns subnormal: acc·mul +
// add tends to 1, and acc + mul·add grows by about seed per step until rounding stops it.
template <class Arch, class B>
B chain_step(B acc, B mul, B add) {
#if defined(__aarch64__)
  if constexpr (std::is_same_v<Arch, xsimd::neon64>) return xsimd::fma(mul, add, acc);
#endif
  return xsimd::fma(acc, mul, add);
}

// Runs `iterations` × kChains<Arch> FMAs, kChains<Arch> independent chains of full vectors with
// mul = 1 − seed and add = seed (0 < seed < 1). Every loop over the chains is unrolled so that they live
// in registers: with a rolled loop GCC 12 keeps the array in memory and, on aarch64, stores it back on
// every iteration. SSE2 has no FMA instruction: xsimd then issues a multiply and an add, still 2 flops.
template <class Arch, class T>
ChainsRun fma_chains(Arch, long long iterations, T seed) {
  using B = xsimd::batch<T, Arch>;
  const B mul(T(1) - seed), add(seed);
  constexpr int chains = kChains<Arch>;
  B acc[chains];
#pragma GCC unroll 32
  for (int c = 0; c < chains; ++c) acc[c] = B(T(c));
  for (long long i = 0; i < iterations; ++i) {
#pragma GCC unroll 32
    for (int c = 0; c < chains; ++c) acc[c] = chain_step<Arch>(acc[c], mul, add);
  }
  B sum = acc[0];
#pragma GCC unroll 32
  for (int c = 1; c < chains; ++c) sum += acc[c];
  T lanes[B::size];  // summed by hand: GCC 12 warns about the undefined upper half inside xsimd::hadd
  sum.store_unaligned(lanes);
  double checksum = 0;
  for (T x : lanes) checksum += x;
  return {checksum, static_cast<int>(B::size)};
}

// fma_chains' signature for one (ARCH, T), written once: the generated per-ISA files instantiate it and
// probes.cpp declares it extern (MFGRAD_SIMD_EXTERN).
#define MFGRAD_PROBE_FMA_RUN(ARCH, T) ChainsRun fma_chains<ARCH, T>(ARCH, long long, T)

}  // namespace mfgrad::bench::probe
