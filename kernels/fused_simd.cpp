// fused_simd — csr_rows_omp's single fused pass with explicit SIMD, one source for every ISA.
//
// The row loop (kernels/simd/fused_simd.hpp) is written once on xsimd::batch<T, Arch> and compiled
// per ISA (AVX-512, AVX2+FMA, SSE2 on x86-64; NEON on aarch64); xsimd::dispatch picks the best this
// CPU runs, within MFGRAD_ISA. Threads own contiguous entry-balanced row ranges; ∂V goes through
// per-thread copies added in thread order. Deterministic for a fixed thread count, not across counts.
#include "detail/common.hpp"
#include "simd/dispatch.hpp"
#include "simd/fused_simd.hpp"

namespace mfgrad::kernels::fused_simd {

#define MFGRAD_DECLARE(ARCH)                                                                                   \
  extern template void run<simd::ARCH, float>(simd::ARCH, const detail::Raw<float>&, const index_t*,          \
                                              const index_t*, int, float*, detail::Partial*);                 \
  extern template void run<simd::ARCH, double>(simd::ARCH, const detail::Raw<double>&, const index_t*,        \
                                               const index_t*, int, double*, detail::Partial*);
MFGRAD_SIMD_ARCHS(MFGRAD_DECLARE)
#undef MFGRAD_DECLARE

namespace {

template <class T>
double run(const Problem<T>& p, Workspace& ws) {
  const int threads = ws.threads();
  const auto& split =
      ws.prepared<detail::ThreadSplit>(p.obs, 0, [&] { return std::make_unique<detail::ThreadSplit>(p.obs, threads); });
  const detail::Raw<T> r = detail::raw(p);
  T* private_dv = ws.scratch<T>(0, static_cast<std::size_t>(threads - 1) * r.n * r.k);
  detail::Partial* part = ws.scratch<detail::Partial>(1, 2 * static_cast<std::size_t>(threads));
  simd::dispatch([&](auto arch) {
    fused_simd::run(arch, r, split.rows.data(), split.cols.data(), threads, private_dv, part);
  });
  return detail::loss_from({part, static_cast<std::size_t>(threads)}, {part + threads, static_cast<std::size_t>(threads)},
                           p.lambda);
}

}  // namespace

MFGRAD_KERNEL_ENTRY_POINTS

}  // namespace mfgrad::kernels::fused_simd

namespace mfgrad {
const char* simd_arch_name() {
  return kernels::simd::dispatch([](auto arch) { return decltype(arch)::name(); });
}
std::size_t simd_bytes() {
  return kernels::simd::dispatch([](auto arch) { return decltype(arch)::alignment(); });  // = register width
}
}  // namespace mfgrad
