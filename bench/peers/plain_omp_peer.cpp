// plain_omp — the yardstick: the fused OpenMP loop a competent engineer writes in an afternoon.
//
//   for each row i (OpenMP, dynamic chunks of rows):
//     ∂U_i = λu_i
//     for each (i, j) ∈ Ω in CSR order:
//       r     = M_ij − u_i·v_j           `omp simd reduction` dot product
//       ∂U_i −= r v_j                     `omp simd`
//       ∂V_j −= r u_i                     into this thread's own copy of ∂V
//   ∂V = λV + Σ_threads copies            one parallel sweep at the end
//
// Why this is its best: one pass over Ω (each entry's v_j is used twice while it is in registers or
// L1), no atomics (private ∂V copies), and the two things an expert adds to such a loop in an afternoon:
// - k fixed at compile time for the k values people use (4, 8, … 256, a power of two), so that the
//   inner loops are fully unrolled straight-line vector code; other k take the run-time loop;
// - reassociation allowed in this one file (-fassociative-math -fno-signed-zeros -fno-trapping-math,
//   see CMakeLists.txt), so that GCC ends each `omp simd reduction` in a tree of vector adds rather
//   than an in-order chain of scalar ones.
// The whole file is built for the host (-march=native), so the vectoriser uses every instruction the
// machine has. Nothing mfgrad-specific is used: no tiling, no reordering, no prepared state beyond the
// per-thread copies, which are allocated once and kept as a real program would.
// Not bitwise identical across thread counts (the ∂V copies and the loss reduction depend on it).
#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "peer_impls.hpp"

#define MFGRAD_STRINGIFY_(x) #x
#define MFGRAD_STRINGIFY(x) MFGRAD_STRINGIFY_(x)
// No library behind it: its version is that of the compiler that built it.
#if defined(__clang__)
#define MFGRAD_PLAIN_VERSION \
  MFGRAD_STRINGIFY(__clang_major__) "." MFGRAD_STRINGIFY(__clang_minor__) "." MFGRAD_STRINGIFY(__clang_patchlevel__)
#else
#define MFGRAD_PLAIN_VERSION \
  MFGRAD_STRINGIFY(__GNUC__) "." MFGRAD_STRINGIFY(__GNUC_MINOR__) "." MFGRAD_STRINGIFY(__GNUC_PATCHLEVEL__)
#endif

namespace mfgrad::bench {

namespace {

// K > 0: k known at compile time (= K); K == 0: k read at run time.
template <class T, std::size_t K>
double run(const Problem<T>& p, Workspace& ws) {
  const std::int64_t m = p.obs.rows();
  const std::size_t n = static_cast<std::size_t>(p.obs.cols()), k = K > 0 ? K : p.k;
  const offset_t* row_ptr = p.obs.row_ptr().data();
  const index_t* col = p.obs.col_idx().data();
  const T* val = p.obs.template values<T>().data();
  const T* u = p.u;
  const T* v = p.v;
  T* gu = p.grad_u;
  T* gv = p.grad_v;
  const T lambda = static_cast<T>(p.lambda);
  const int threads = ws.threads();
  // One ∂V copy per thread, kept across calls in the workspace.
  T* copies = ws.scratch<T>(0, static_cast<std::size_t>(threads) * n * k);

  double sq = 0, norm = 0;
#pragma omp parallel num_threads(threads) reduction(+ : sq, norm)
  {
    const int t = omp_get_thread_num(), team = omp_get_num_threads();
    T* dv = copies + static_cast<std::size_t>(t) * n * k;
    std::fill(dv, dv + n * k, T(0));
#pragma omp barrier
#pragma omp for schedule(dynamic, 256) nowait
    for (std::int64_t i = 0; i < m; ++i) {
      const T* ui = u + static_cast<std::size_t>(i) * k;
      T* gi = gu + static_cast<std::size_t>(i) * k;
#pragma omp simd reduction(+ : norm)
      for (std::size_t l = 0; l < k; ++l) {
        gi[l] = lambda * ui[l];
        norm += static_cast<double>(ui[l]) * ui[l];
      }
      for (offset_t q = row_ptr[i]; q < row_ptr[i + 1]; ++q) {
        const T* vj = v + static_cast<std::size_t>(col[q]) * k;
        T* dvj = dv + static_cast<std::size_t>(col[q]) * k;
        T dot = 0;
#pragma omp simd reduction(+ : dot)
        for (std::size_t l = 0; l < k; ++l) dot += ui[l] * vj[l];
        const T r = val[q] - dot;
        sq += static_cast<double>(r) * r;
#pragma omp simd
        for (std::size_t l = 0; l < k; ++l) {
          gi[l] -= r * vj[l];
          dvj[l] -= r * ui[l];
        }
      }
    }
#pragma omp barrier
#pragma omp for schedule(static)
    for (std::size_t j = 0; j < n; ++j) {
      T* gj = gv + j * k;
      const T* vj = v + j * k;
      double nj = 0;
#pragma omp simd reduction(+ : nj)
      for (std::size_t l = 0; l < k; ++l) {
        T s = lambda * vj[l];
        for (int c = 0; c < team; ++c) s += copies[static_cast<std::size_t>(c) * n * k + j * k + l];
        gj[l] = s;
        nj += static_cast<double>(vj[l]) * vj[l];
      }
      norm += nj;
    }
  }
  return 0.5 * sq + 0.5 * p.lambda * norm;
}

template <class T>
double dispatch(const Problem<T>& p, Workspace& ws) {
  return with_fixed_k(p.k, [&](auto k) { return run<T, static_cast<std::size_t>(decltype(k)::value)>(p, ws); });
}

double evaluate(const Problem<float>& p, Workspace& ws) { return dispatch<float>(p, ws); }
double evaluate(const Problem<double>& p, Workspace& ws) { return dispatch<double>(p, ws); }

}  // namespace

const Peer plain_omp_peer = {
    "plain_omp",
    "the yardstick: one fused OpenMP pass over CSR rows, omp simd dot products, per-thread ∂V copies summed at "
    "the end; k fixed at compile time for powers of two 4..256, reassociation allowed, built for the host",
    MFGRAD_PLAIN_VERSION,
    evaluate,
    evaluate,
};

}  // namespace mfgrad::bench
