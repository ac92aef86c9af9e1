// pytorch, pytorch_autograd — the objective as a PyTorch user writes it, through libtorch (the C++ API
// of the same ATen kernels Python calls), on the caller's buffers without copies in. Built as a module
// that bench/peers/peers.cpp loads the first time the peers are listed: libtorch is heavy to load.
//
// pytorch (explicit gradients):
//   r  = M − (U[rows] ⊙ V[cols]).sum(1)   index_select gathers, in chunks of entries so memory stays bounded
//   ∂U = λU − R V                          torch::addmm_out with R a sparse CSR tensor, into the caller's ∂U
//   ∂V = λV − Rᵀ U                         the same with Rᵀ as a CSR tensor (the CSC of Ω, values gathered)
// pytorch_autograd (the plain expression, differentiated by autograd):
//   F = ½ Σ_chunks ((M − (U[rows] ⊙ V[cols]).sum(1))²).sum() + λ/2 (‖U‖² + ‖V‖²), backward per chunk
//
// Why this is PyTorch's best: u_i·v_j on the pattern by gathering rows is what its documentation offers
// on CPU (1.13's torch.sparse.sampled_addmm materialises the dense m × n product on CPU, 34 GB for
// netflix-25m); CSR × dense is its fastest sparse product on CPU (COO measured 2× slower for R V),
// and addmm_out writes λX − R·Y into the output in one call. Chunks of entries keep the gathered rows
// within a budget (chunk_entries), as anyone running this on 25 M entries must. Threads: ATen's
// intra-op pool, set to ws.threads() on every call. Debian's libtorch chooses its own vector
// instructions at run time (ATen's CPU capability). Not bitwise identical across thread counts.
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "peer_impls.hpp"

namespace mfgrad::bench {

namespace {

// Entries per chunk: the gathered rows of U and V and their product (three chunk × k tensors) kept
// within 1/16 of the memory available now and at most 256 MiB, between 4,096 and 2^20 entries. (The
// module sees only what the tool itself links of the library, so it asks the system, not
// mfgrad::memory_limit.)
// With room to spare, that is about 350,000 entries at k = 64 in float32 and 44,000 at k = 256 in
// float64.
std::int64_t chunk_entries(std::int64_t k, std::size_t element) {
  static const std::size_t budget = [] {
    const long pages = ::sysconf(_SC_AVPHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
    const std::size_t available = pages > 0 && page > 0 ? static_cast<std::size_t>(pages) * page : 0;
    return std::min<std::size_t>(std::size_t{256} << 20, std::max<std::size_t>(available / 16, std::size_t{64} << 20));
  }();
  const std::size_t per_entry = 3 * static_cast<std::size_t>(k) * element;
  return std::clamp<std::int64_t>(static_cast<std::int64_t>(budget / per_entry), 4096, std::int64_t{1} << 20);
}

template <class T>
torch::Dtype dtype() {
  return std::is_same_v<T, float> ? torch::kFloat32 : torch::kFloat64;
}

torch::Tensor int64_tensor(std::span<const offset_t> x) {
  return torch::tensor(std::vector<std::int64_t>(x.begin(), x.end()), torch::kInt64);
}
torch::Tensor int64_tensor(std::span<const index_t> x) {
  return torch::tensor(std::vector<std::int64_t>(x.begin(), x.end()), torch::kInt64);
}

// Ω as the tensors a PyTorch program would hold: COO ids for the gathers, CSR of Ω and of Ωᵀ.
template <class T>
struct TorchState : PreparedState {
  torch::Tensor rows, cols, values;    // per entry, CSR order
  torch::Tensor crow;                  // m+1
  torch::Tensor ccol, rows_t, to_csr;  // Ωᵀ as CSR: n+1 pointers, row ids, CSR position of each entry

  explicit TorchState(const Observed& obs)
      : rows(int64_tensor(obs.row_of())),
        cols(int64_tensor(obs.col_idx())),
        values(torch::tensor(std::vector<T>(obs.template values<T>().begin(), obs.template values<T>().end()),
                             dtype<T>())),
        crow(int64_tensor(obs.row_ptr())),
        ccol(int64_tensor(obs.col_ptr())),
        rows_t(int64_tensor(obs.row_idx())),
        to_csr(int64_tensor(obs.csc_to_csr())) {}
};

template <class T>
torch::Tensor wrap(const T* data, std::int64_t rows, std::int64_t cols) {
  return torch::from_blob(const_cast<T*>(data), {rows, cols}, dtype<T>());
}

template <class T>
double explicit_gradients(const Problem<T>& p, Workspace& ws) {
  torch::NoGradGuard no_grad;
  at::set_num_threads(ws.threads());
  auto& s = ws.prepared<TorchState<T>>(p.obs, 0, [&] { return std::make_unique<TorchState<T>>(p.obs); });
  const std::int64_t m = p.obs.rows(), n = p.obs.cols(), k = static_cast<std::int64_t>(p.k), nnz = p.obs.nnz();
  const torch::Tensor u = wrap(p.u, m, k), v = wrap(p.v, n, k);
  torch::Tensor gu = wrap(p.grad_u, m, k), gv = wrap(p.grad_v, n, k);

  torch::Tensor r = torch::empty({nnz}, dtype<T>());
  const std::int64_t chunk = chunk_entries(k, sizeof(T));
  for (std::int64_t b = 0; b < nnz; b += chunk) {
    const std::int64_t e = std::min(nnz, b + chunk);
    const auto dots = (u.index_select(0, s.rows.slice(0, b, e)) * v.index_select(0, s.cols.slice(0, b, e))).sum(1);
    r.slice(0, b, e).copy_(s.values.slice(0, b, e) - dots);
  }
  const auto R = torch::sparse_csr_tensor(s.crow, s.cols, r, {m, n}, torch::TensorOptions().dtype(dtype<T>()));
  const auto Rt = torch::sparse_csr_tensor(s.ccol, s.rows_t, r.index_select(0, s.to_csr), {n, m},
                                           torch::TensorOptions().dtype(dtype<T>()));
  torch::addmm_out(gu, u, R, v, p.lambda, -1.0);
  torch::addmm_out(gv, v, Rt, u, p.lambda, -1.0);
  const double sq = r.to(torch::kFloat64).square().sum().template item<double>();
  const double norm = u.to(torch::kFloat64).square().sum().template item<double>() +
                      v.to(torch::kFloat64).square().sum().template item<double>();
  return 0.5 * sq + 0.5 * p.lambda * norm;
}

template <class T>
double autograd(const Problem<T>& p, Workspace& ws) {
  at::set_num_threads(ws.threads());
  auto& s = ws.prepared<TorchState<T>>(p.obs, 0, [&] { return std::make_unique<TorchState<T>>(p.obs); });
  const std::int64_t m = p.obs.rows(), n = p.obs.cols(), k = static_cast<std::int64_t>(p.k), nnz = p.obs.nnz();
  // Leaves over the caller's factors; autograd allocates their .grad.
  torch::Tensor u = wrap(p.u, m, k).detach().requires_grad_(true);
  torch::Tensor v = wrap(p.v, n, k).detach().requires_grad_(true);
  double loss = 0;
  const std::int64_t chunk = chunk_entries(k, sizeof(T));
  for (std::int64_t b = 0; b < nnz; b += chunk) {
    const std::int64_t e = std::min(nnz, b + chunk);
    const auto r = s.values.slice(0, b, e) -
                   (u.index_select(0, s.rows.slice(0, b, e)) * v.index_select(0, s.cols.slice(0, b, e))).sum(1);
    (0.5 * r.square().sum()).backward();
    loss += 0.5 * r.detach().to(torch::kFloat64).square().sum().template item<double>();
  }
  (0.5 * p.lambda * (u.square().sum() + v.square().sum())).backward();
  {
    torch::NoGradGuard no_grad;
    loss += 0.5 * p.lambda *
            (u.detach().to(torch::kFloat64).square().sum().template item<double>() +
             v.detach().to(torch::kFloat64).square().sum().template item<double>());
    wrap(p.grad_u, m, k).copy_(u.grad());
    wrap(p.grad_v, n, k).copy_(v.grad());
  }
  return loss;
}

double explicit_f32(const Problem<float>& p, Workspace& ws) { return explicit_gradients<float>(p, ws); }
double explicit_f64(const Problem<double>& p, Workspace& ws) { return explicit_gradients<double>(p, ws); }
double autograd_f32(const Problem<float>& p, Workspace& ws) { return autograd<float>(p, ws); }
double autograd_f64(const Problem<double>& p, Workspace& ws) { return autograd<double>(p, ws); }

}  // namespace

const Peer torch_peers[] = {
    {
        "pytorch",
        "libtorch: residuals by index_select gathers in chunks, then λU − R·V and λV − Rᵀ·U by addmm_out with sparse "
        "CSR tensors",
        TORCH_VERSION,
        explicit_f32,
        explicit_f64,
    },
    {
        "pytorch_autograd",
        "libtorch autograd: the plain loss expression over index_select gathers, backward per chunk of entries",
        TORCH_VERSION,
        autograd_f32,
        autograd_f64,
    }};

}  // namespace mfgrad::bench

extern "C" __attribute__((visibility("default"))) const mfgrad::bench::Peer* mfgrad_torch_peers(std::size_t* count) {
  *count = sizeof mfgrad::bench::torch_peers / sizeof mfgrad::bench::torch_peers[0];
  return mfgrad::bench::torch_peers;
}
