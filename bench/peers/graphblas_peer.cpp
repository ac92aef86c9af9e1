// graphblas — the objective as a SuiteSparse:GraphBLAS user would write it, in the forms its user
// guide recommends for speed.
//
//   N            = −M                  GrB_apply (AINV) on Ω's values, into a matrix kept across calls
//   N⟨M, struct⟩ += U ⊕.⊗ Vᵀ          masked GrB_mxm with PLUS accumulator: N = U·Vᵀ − M = −R on Ω
//   ∂U           = λU;  ∂U += N V      GrB_mxm with PLUS accumulator onto a full matrix: in place
//   ∂V           = λV;  ∂V += Nᵀ U     the same with the first input transposed (descriptor T0)
//   F            = ½ Σ r² + λ/2 (‖U‖² + ‖V‖²)   N's values summed in double after an O(1) unpack
//
// Why this is its best: the guide singles out C += A*B with a full C and an accumulator equal to the
// semiring's monoid as computed in place (no new C, no mask), so the gradients are written as λX plus
// a product of −R rather than λX minus a product of R (a MINUS accumulator does not qualify). U, V,
// ∂U and ∂V are the caller's own buffers, moved in and out of GraphBLAS by GxB pack/unpack in O(1):
// nothing is copied. Every GrB_Matrix is allocated once and reused. Threads are GraphBLAS's own,
// set through GxB_NTHREADS on every call. The library is Debian's build; it chooses its own vector
// instructions at run time. Not bitwise identical across thread counts.
extern "C" {
#include <GraphBLAS.h>
}

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "peer_impls.hpp"

#define MFGRAD_STRINGIFY_(x) #x
#define MFGRAD_STRINGIFY(x) MFGRAD_STRINGIFY_(x)

namespace mfgrad::bench {

namespace {

const char* info_name(GrB_Info info) {
  static constexpr struct {
    GrB_Info info;
    const char* name;
  } names[] = {
      {GrB_UNINITIALIZED_OBJECT, "GrB_UNINITIALIZED_OBJECT"},
      {GrB_NULL_POINTER, "GrB_NULL_POINTER"},
      {GrB_INVALID_VALUE, "GrB_INVALID_VALUE"},
      {GrB_INVALID_INDEX, "GrB_INVALID_INDEX"},
      {GrB_DOMAIN_MISMATCH, "GrB_DOMAIN_MISMATCH"},
      {GrB_DIMENSION_MISMATCH, "GrB_DIMENSION_MISMATCH"},
      {GrB_OUTPUT_NOT_EMPTY, "GrB_OUTPUT_NOT_EMPTY"},
      {GrB_NOT_IMPLEMENTED, "GrB_NOT_IMPLEMENTED"},
      {GrB_PANIC, "GrB_PANIC"},
      {GrB_OUT_OF_MEMORY, "GrB_OUT_OF_MEMORY"},
      {GrB_INSUFFICIENT_SPACE, "GrB_INSUFFICIENT_SPACE"},
      {GrB_INVALID_OBJECT, "GrB_INVALID_OBJECT"},
      {GrB_INDEX_OUT_OF_BOUNDS, "GrB_INDEX_OUT_OF_BOUNDS"},
      {GrB_EMPTY_OBJECT, "GrB_EMPTY_OBJECT"},
  };
  for (const auto& n : names)
    if (n.info == info) return n.name;
  return "unknown";
}

// The peer runs only on validated problems, so any failure here is an internal error (or memory).
void check(const char* function, GrB_Info info) {
  if (info != GrB_SUCCESS)
    throw Error(std::string("graphblas peer: ") + function + " returned " + std::to_string(static_cast<int>(info)) +
                " (" + info_name(info) + ")");
}

void init_once() {
  static std::once_flag once;
  std::call_once(once, [] { check("GrB_init", GrB_init(GrB_NONBLOCKING)); });
}

// The typed names GraphBLAS spells with a suffix.
template <class T>
struct Typed;

template <>
struct Typed<float> {
  static GrB_Type type() { return GrB_FP32; }
  static GrB_BinaryOp plus() { return GrB_PLUS_FP32; }
  static GrB_UnaryOp ainv() { return GrB_AINV_FP32; }
  static GrB_Semiring plus_times() { return GrB_PLUS_TIMES_SEMIRING_FP32; }
  static constexpr auto import = GrB_Matrix_import_FP32;
};

template <>
struct Typed<double> {
  static GrB_Type type() { return GrB_FP64; }
  static GrB_BinaryOp plus() { return GrB_PLUS_FP64; }
  static GrB_UnaryOp ainv() { return GrB_AINV_FP64; }
  static GrB_Semiring plus_times() { return GrB_PLUS_TIMES_SEMIRING_FP64; }
  static constexpr auto import = GrB_Matrix_import_FP64;
};

// Owns one GrB_Matrix handle.
class Handle {
 public:
  Handle() = default;
  Handle(GrB_Type type, GrB_Index rows, GrB_Index cols) {
    check("GrB_Matrix_new", GrB_Matrix_new(&a_, type, rows, cols));
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { GrB_Matrix_free(&a_); }

  GrB_Matrix get() const noexcept { return a_; }
  GrB_Matrix* put() noexcept { return &a_; }

 private:
  GrB_Matrix a_ = nullptr;
};

// Lends a caller-owned rows × cols row-major buffer to GraphBLAS as a full matrix, without copying,
// and takes it back when the scope ends (GraphBLAS only reads inputs and updates C += A*B in place,
// so the same array comes back; were it ever a different one, its contents are copied to the caller's
// buffer and GraphBLAS's array is freed).
template <class T>
class Lent {
 public:
  Lent(GrB_Matrix a, T* data, std::size_t count) : a_(a), data_(data), bytes_(count * sizeof(T)) {
    void* x = data_;
    check("GxB_Matrix_pack_FullR", GxB_Matrix_pack_FullR(a_, &x, bytes_, false, nullptr));
  }
  Lent(const Lent&) = delete;
  Lent& operator=(const Lent&) = delete;
  ~Lent() noexcept(false) {
    void* x = nullptr;
    GrB_Index bytes = 0;
    check("GxB_Matrix_unpack_FullR", GxB_Matrix_unpack_FullR(a_, &x, &bytes, nullptr, nullptr));
    if (x != data_) {
      std::memcpy(data_, x, bytes_);
      std::free(x);
    }
  }

 private:
  GrB_Matrix a_;
  T* data_;
  std::size_t bytes_;
};

template <class T>
struct GraphState : PreparedState {
  Handle omega;         // M on Ω, CSR
  Handle neg;           // −R on Ω
  Handle u, v, gu, gv;  // empty between calls: the caller's buffers are packed in and out

  GraphState(const Observed& obs, std::size_t k)
      : neg(Typed<T>::type(), obs.rows(), obs.cols()),
        u(Typed<T>::type(), obs.rows(), k),
        v(Typed<T>::type(), obs.cols(), k),
        gu(Typed<T>::type(), obs.rows(), k),
        gv(Typed<T>::type(), obs.cols(), k) {
    // GrB_Index is unsigned 64-bit; the arrays get at least one element so none is a null pointer.
    const auto nnz = static_cast<std::size_t>(obs.nnz());
    std::vector<GrB_Index> row_ptr(obs.row_ptr().begin(), obs.row_ptr().end());
    std::vector<GrB_Index> col(std::max<std::size_t>(nnz, 1));
    std::copy(obs.col_idx().begin(), obs.col_idx().end(), col.begin());
    std::vector<T> val(std::max<std::size_t>(nnz, 1));
    std::copy(obs.template values<T>().begin(), obs.template values<T>().end(), val.begin());
    check("GrB_Matrix_import", Typed<T>::import(omega.put(), Typed<T>::type(), obs.rows(), obs.cols(), row_ptr.data(),
                                                col.data(), val.data(), row_ptr.size(), nnz, nnz, GrB_CSR_FORMAT));
  }
};

// Σ x² and the λ-scaled copy y = λx, in one parallel sweep.
template <class T>
double scale_and_norm(const T* x, T* y, std::size_t count, T lambda, int threads) {
  const auto c = static_cast<std::int64_t>(count);
  double norm2 = 0;
#pragma omp parallel for schedule(static) reduction(+ : norm2) num_threads(threads)
  for (std::int64_t e = 0; e < c; ++e) {
    y[e] = lambda * x[e];
    norm2 += static_cast<double>(x[e]) * x[e];
  }
  return norm2;
}

// Σ of the squared values of A in double, reading its value array in place (unpacked and packed back).
template <class T>
double squared_values(GrB_Matrix a, int threads) {
  GrB_Index *ap = nullptr, *aj = nullptr, ap_size = 0, aj_size = 0, ax_size = 0;
  void* ax = nullptr;
  bool iso = false, jumbled = false;
  check("GxB_Matrix_unpack_CSR",
        GxB_Matrix_unpack_CSR(a, &ap, &aj, &ax, &ap_size, &aj_size, &ax_size, &iso, &jumbled, nullptr));
  GrB_Index rows = 0;
  check("GrB_Matrix_nrows", GrB_Matrix_nrows(&rows, a));
  const auto count = static_cast<std::int64_t>(iso ? 0 : ap[rows]);
  const T* x = static_cast<const T*>(ax);
  double sq = 0;
#pragma omp parallel for schedule(static) reduction(+ : sq) num_threads(threads)
  for (std::int64_t e = 0; e < count; ++e) sq += static_cast<double>(x[e]) * x[e];
  if (iso && ap[rows] > 0) sq = static_cast<double>(ap[rows]) * static_cast<double>(x[0]) * x[0];
  check("GxB_Matrix_pack_CSR", GxB_Matrix_pack_CSR(a, &ap, &aj, &ax, ap_size, aj_size, ax_size, iso, jumbled, nullptr));
  return sq;
}

template <class T>
double run(const Problem<T>& p, Workspace& ws) {
  init_once();
  const int threads = ws.threads();
  check("GxB_Global_Option_set(GxB_NTHREADS)", GxB_Global_Option_set(GxB_GLOBAL_NTHREADS, threads));
  auto& s = ws.prepared<GraphState<T>>(p.obs, p.k, [&] { return std::make_unique<GraphState<T>>(p.obs, p.k); });
  const std::size_t m = static_cast<std::size_t>(p.obs.rows()), n = static_cast<std::size_t>(p.obs.cols());
  const T lambda = static_cast<T>(p.lambda);

  // The gradients start as λU and λV, written straight into the caller's buffers.
  const double norm_u = scale_and_norm(p.u, p.grad_u, m * p.k, lambda, threads);
  const double norm_v = scale_and_norm(p.v, p.grad_v, n * p.k, lambda, threads);
  double sq = 0;
  {
    // GraphBLAS only reads U and V; the const is cast away to lend them.
    const Lent<T> u(s.u.get(), const_cast<T*>(p.u), m * p.k);
    const Lent<T> v(s.v.get(), const_cast<T*>(p.v), n * p.k);
    const Lent<T> gu(s.gu.get(), p.grad_u, m * p.k);
    const Lent<T> gv(s.gv.get(), p.grad_v, n * p.k);
    check("GrB_Matrix_apply",
          GrB_Matrix_apply(s.neg.get(), nullptr, nullptr, Typed<T>::ainv(), s.omega.get(), nullptr));
    check("GrB_mxm", GrB_mxm(s.neg.get(), s.omega.get(), Typed<T>::plus(), Typed<T>::plus_times(), s.u.get(), s.v.get(),
                             GrB_DESC_ST1));
    sq = squared_values<T>(s.neg.get(), threads);
    check("GrB_mxm",
          GrB_mxm(s.gu.get(), nullptr, Typed<T>::plus(), Typed<T>::plus_times(), s.neg.get(), s.v.get(), nullptr));
    check("GrB_mxm",
          GrB_mxm(s.gv.get(), nullptr, Typed<T>::plus(), Typed<T>::plus_times(), s.neg.get(), s.u.get(), GrB_DESC_T0));
  }
  return 0.5 * sq + 0.5 * p.lambda * (norm_u + norm_v);
}

double evaluate(const Problem<float>& p, Workspace& ws) { return run<float>(p, ws); }
double evaluate(const Problem<double>& p, Workspace& ws) { return run<double>(p, ws); }

}  // namespace

const Peer graphblas_peer = {
    "graphblas",
    "SuiteSparse:GraphBLAS: −R = U·Vᵀ − M by a structurally masked GrB_mxm accumulated onto −M, then ∂U, ∂V "
    "by in-place C += A·B onto λU, λV, the caller's buffers lent by GxB pack/unpack",
    MFGRAD_STRINGIFY(GxB_IMPLEMENTATION_MAJOR) "." MFGRAD_STRINGIFY(GxB_IMPLEMENTATION_MINOR) "." MFGRAD_STRINGIFY(
        GxB_IMPLEMENTATION_SUB),
    evaluate,
    evaluate,
};

}  // namespace mfgrad::bench
