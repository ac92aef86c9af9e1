// eigen — the objective as an Eigen 3.4 user would write it, in the formulation Eigen runs fastest.
//
//   R_ij  = M_ij − u_i·v_j on Ω          one OpenMP loop over the rows of Ω, Eigen dot products in T
//   ∂U    = λU − R V                      RowMajor sparse × RowMajor dense, parallel over rows
//   ∂V    = λV − Rᵀ U                     the transpose of the same RowMajor R × RowMajor dense
//   F     = ½ Σ r² + λ/2 (‖U‖² + ‖V‖²)    summed in double
//
// Why this is Eigen's best: Eigen parallelises a sparse × dense product over the rows of a RowMajor
// sparse operand (SparseDenseProduct.h), each sparse entry adding a scaled dense row, vectorised since
// the dense side is RowMajor. For Rᵀ U the alternative — Rᵀ's pattern kept as its own RowMajor matrix
// (the CSC of R), values refilled each call, so that Eigen parallelises that product too — measured
// 1.9× slower on netflix-25m at 2 threads: each of its rows gathers its U rows from all of U, where
// Eigen's serial kernel for `R.transpose() * U` reads U in order and scatters into the small ∂V. The
// file is built for the host (see CMakeLists.txt), so Eigen's packets are as wide as the machine's
// vectors. For k a power of two from 4 to 256 the factor matrices have that many columns at compile time
// (Matrix<T, Dynamic, K, RowMajor>), as Eigen's docs advise for small fixed sizes: each row's dot product
// and scaled-row update is then unrolled straight-line packet code (1.1-1.9x over Dynamic columns);
// other k use Dynamic columns.
//
// Ω is copied once into an Eigen::SparseMatrix<T, RowMajor, int64> (pattern and values of M), kept as
// prepared state. R is a Map over that same pattern with its own value array, so an evaluation writes
// only values. U, V, ∂U, ∂V are Maps of the caller's row-major buffers; ∂U and ∂V are assigned, never
// read first. Not bitwise identical across thread counts (the loss is an OpenMP reduction).
#include <Eigen/Core>
#include <Eigen/SparseCore>
#include <cstdint>
#include <memory>
#include <vector>

#include "peer_impls.hpp"

#define MFGRAD_STRINGIFY_(x) #x
#define MFGRAD_STRINGIFY(x) MFGRAD_STRINGIFY_(x)

namespace mfgrad::bench {

namespace {

// Ω's positions are offset_t (64-bit): nnz may pass 2^31, which int32 storage indices cannot address.
using StorageIndex = std::int64_t;
template <class T>
using Sparse = Eigen::SparseMatrix<T, Eigen::RowMajor, StorageIndex>;
template <class T, int K>
using Dense = Eigen::Matrix<T, Eigen::Dynamic, K, Eigen::RowMajor>;

template <class T>
struct EigenState : PreparedState {
  Sparse<T> omega;                               // Ω with the values of M
  Eigen::Matrix<T, Eigen::Dynamic, 1> residual;  // R's values, on omega's pattern

  explicit EigenState(const Observed& obs) : residual(obs.nnz()) {
    // Observed's CSR is already Eigen's compressed row-major layout; only the column ids widen.
    const std::vector<StorageIndex> inner(obs.col_idx().begin(), obs.col_idx().end());
    omega = Eigen::Map<const Sparse<T>>(obs.rows(), obs.cols(), obs.nnz(), obs.row_ptr().data(), inner.data(),
                                        obs.template values<T>().data());
  }
};

// K: the factor matrices' column count at compile time, or Eigen::Dynamic.
template <class T, int K>
double run(const Problem<T>& p, Workspace& ws) {
  auto& s = ws.prepared<EigenState<T>>(p.obs, 0, [&] { return std::make_unique<EigenState<T>>(p.obs); });
  const Eigen::Index m = p.obs.rows(), n = p.obs.cols(), k = static_cast<Eigen::Index>(p.k);
  const Eigen::Map<const Dense<T, K>> u(p.u, m, k), v(p.v, n, k);
  Eigen::Map<Dense<T, K>> gu(p.grad_u, m, k), gv(p.grad_v, n, k);
  const StorageIndex* outer = s.omega.outerIndexPtr();
  const StorageIndex* inner = s.omega.innerIndexPtr();
  const T* value = s.omega.valuePtr();
  T* residual = s.residual.data();

  // Residuals row by row; ‖U‖² rides along since every row of U is visited once.
  double sq = 0, norm_u = 0, norm_v = 0;
#pragma omp parallel for schedule(dynamic, 64) reduction(+ : sq, norm_u) num_threads(ws.threads())
  for (Eigen::Index i = 0; i < m; ++i) {
    const auto ui = u.row(i);
    norm_u += ui.template cast<double>().squaredNorm();
    for (StorageIndex q = outer[i]; q < outer[i + 1]; ++q) {
      const T r = value[q] - ui.dot(v.row(inner[q]));
      residual[q] = r;
      sq += static_cast<double>(r) * r;
    }
  }
#pragma omp parallel for schedule(static) reduction(+ : norm_v) num_threads(ws.threads())
  for (Eigen::Index j = 0; j < n; ++j) norm_v += v.row(j).template cast<double>().squaredNorm();

  const Eigen::Map<const Sparse<T>> r(m, n, p.obs.nnz(), outer, inner, residual);
  const T lambda = static_cast<T>(p.lambda);
  Eigen::setNbThreads(ws.threads());  // process-wide; Eigen's sparse × dense reads it
  gu.noalias() = lambda * u;
  gu.noalias() -= r * v;
  gv.noalias() = lambda * v;
  gv.noalias() -= r.transpose() * u;
  return 0.5 * sq + 0.5 * p.lambda * (norm_u + norm_v);
}

template <class T>
double dispatch(const Problem<T>& p, Workspace& ws) {
  return with_fixed_k(p.k, [&](auto k) {
    constexpr int K = decltype(k)::value;
    return run < T, K == 0 ? Eigen::Dynamic : K > (p, ws);
  });
}

double evaluate(const Problem<float>& p, Workspace& ws) { return dispatch<float>(p, ws); }
double evaluate(const Problem<double>& p, Workspace& ws) { return dispatch<double>(p, ws); }

}  // namespace

const Peer eigen_peer = {
    "eigen",
    "Eigen SparseMatrix<RowMajor>: residuals on Ω in an OpenMP row loop, then λU − R·V and λV − Rᵀ·U by Eigen's "
    "sparse × dense products; k columns fixed at compile time for powers of two 4..256",
    MFGRAD_STRINGIFY(EIGEN_WORLD_VERSION) "." MFGRAD_STRINGIFY(EIGEN_MAJOR_VERSION) "." MFGRAD_STRINGIFY(
        EIGEN_MINOR_VERSION),
    evaluate,
    evaluate,
};

}  // namespace mfgrad::bench
