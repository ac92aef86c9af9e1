// graphblas — the objective as a SuiteSparse:GraphBLAS user would write it.
//
//   P⟨M, struct⟩ = U ⊕.⊗ Vᵀ      masked GrB_mxm, PLUS_TIMES, structural mask, second input transposed
//   R            = M − P         GrB_eWiseAdd with MINUS (R has exactly M's pattern)
//   ∂U           = λU − R V      GrB_apply (TIMES, λ), then GrB_mxm with MINUS as the accumulator
//   ∂V           = λV − Rᵀ U     the same with the first input transposed
//   F            = ½ Σ r² + λ/2 (‖U‖² + ‖V‖²)   R's values extracted as double and summed in double
//
// M (Ω with its values, type FP32 or FP64 as T) is imported once as CSR and kept as prepared state,
// with every other matrix handle. Per evaluation U and V are copied into GraphBLAS-owned buffers and
// packed as full row-major matrices (O(1) after the copy, which is part of the honest cost); ∂U and ∂V
// are unpacked and copied out, and all four buffers are kept for the next evaluation. Threads are
// GraphBLAS's process-wide GxB_NTHREADS, set to ws.threads() on every evaluation. Not bitwise
// identical across thread counts.
extern "C" {
#include <GraphBLAS.h>
}

#include <algorithm>
#include <cstdint>
#include <cstdlib>
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
  static GrB_BinaryOp minus() { return GrB_MINUS_FP32; }
  static GrB_BinaryOp times() { return GrB_TIMES_FP32; }
  static GrB_Semiring plus_times() { return GrB_PLUS_TIMES_SEMIRING_FP32; }
  static constexpr auto import = GrB_Matrix_import_FP32;
  static constexpr auto apply_2nd = GrB_Matrix_apply_BinaryOp2nd_FP32;
};

template <>
struct Typed<double> {
  static GrB_Type type() { return GrB_FP64; }
  static GrB_BinaryOp minus() { return GrB_MINUS_FP64; }
  static GrB_BinaryOp times() { return GrB_TIMES_FP64; }
  static GrB_Semiring plus_times() { return GrB_PLUS_TIMES_SEMIRING_FP64; }
  static constexpr auto import = GrB_Matrix_import_FP64;
  static constexpr auto apply_2nd = GrB_Matrix_apply_BinaryOp2nd_FP64;
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

// A full rows × cols row-major matrix whose value array moves between GraphBLAS (while packed) and
// this object (between evaluations), so repeated evaluations allocate nothing. GraphBLAS frees what it
// owns with the C library's free (its default memory manager), hence std::malloc/std::free here.
template <class T>
class Full {
 public:
  Full(GrB_Index rows, GrB_Index cols) : a_(Typed<T>::type(), rows, cols), count_(rows * cols) {}
  Full(const Full&) = delete;
  Full& operator=(const Full&) = delete;
  ~Full() { std::free(spare_); }

  GrB_Matrix get() const noexcept { return a_.get(); }

  // Makes the matrix a copy of src; returns Σ src² in double.
  double pack_copy(const T* src, int threads) {
    if (spare_ == nullptr && count_ > 0) {
      spare_bytes_ = count_ * sizeof(T);
      spare_ = std::malloc(spare_bytes_);
      if (spare_ == nullptr) throw std::bad_alloc();
    }
    T* x = static_cast<T*>(spare_);
    const auto count = static_cast<std::int64_t>(count_);
    double norm2 = 0;
#pragma omp parallel for schedule(static) reduction(+ : norm2) num_threads(threads)
    for (std::int64_t e = 0; e < count; ++e) {
      x[e] = src[e];
      norm2 += static_cast<double>(src[e]) * src[e];
    }
    // On success GraphBLAS owns the array and sets spare_ to null.
    check("GxB_Matrix_pack_FullR", GxB_Matrix_pack_FullR(a_.get(), &spare_, spare_bytes_, false, nullptr));
    return norm2;
  }

  // Takes the value array back (GraphBLAS converts to full row-major, non-iso, if it held another
  // layout) and, when dst is not null, copies the matrix to it. The matrix is left empty.
  void unpack_copy(T* dst, int threads) {
    void* x = nullptr;
    GrB_Index bytes = 0;
    check("GxB_Matrix_unpack_FullR", GxB_Matrix_unpack_FullR(a_.get(), &x, &bytes, nullptr, nullptr));
    std::free(spare_);
    spare_ = x;
    spare_bytes_ = bytes;
    if (dst == nullptr) return;
    const T* from = static_cast<const T*>(x);
    const auto count = static_cast<std::int64_t>(count_);
#pragma omp parallel for schedule(static) num_threads(threads)
    for (std::int64_t e = 0; e < count; ++e) dst[e] = from[e];
  }

 private:
  Handle a_;
  GrB_Index count_;
  void* spare_ = nullptr;  // the value array while this object holds it
  GrB_Index spare_bytes_ = 0;
};

template <class T>
struct GraphState : PreparedState {
  Handle omega;     // M on Ω, CSR
  Handle product;   // P = U·Vᵀ on Ω
  Handle residual;  // R = M − P
  Full<T> u, v, gu, gv;

  GraphState(const Observed& obs, std::size_t k)
      : product(Typed<T>::type(), obs.rows(), obs.cols()),
        residual(Typed<T>::type(), obs.rows(), obs.cols()),
        u(obs.rows(), k),
        v(obs.cols(), k),
        gu(obs.rows(), k),
        gv(obs.cols(), k) {
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

template <class T>
double run(const Problem<T>& p, Workspace& ws) {
  init_once();
  const int threads = ws.threads();
  check("GxB_Global_Option_set(GxB_NTHREADS)", GxB_Global_Option_set(GxB_GLOBAL_NTHREADS, threads));
  auto& s = ws.prepared<GraphState<T>>(p.obs, p.k, [&] { return std::make_unique<GraphState<T>>(p.obs, p.k); });

  const double norm_u = s.u.pack_copy(p.u, threads);
  const double norm_v = s.v.pack_copy(p.v, threads);

  check("GrB_mxm",
        GrB_mxm(s.product.get(), s.omega.get(), nullptr, Typed<T>::plus_times(), s.u.get(), s.v.get(), GrB_DESC_RST1));
  check("GrB_Matrix_eWiseAdd_BinaryOp",
        GrB_Matrix_eWiseAdd_BinaryOp(s.residual.get(), nullptr, nullptr, Typed<T>::minus(), s.omega.get(),
                                     s.product.get(), nullptr));

  // Loss: the residual values, widened to double by GraphBLAS, squared and summed here.
  const auto nnz = static_cast<std::size_t>(p.obs.nnz());
  double* r = ws.scratch<double>(0, std::max<std::size_t>(nnz, 1));
  GrB_Index extracted = nnz;
  check("GrB_Matrix_extractTuples_FP64",
        GrB_Matrix_extractTuples_FP64(nullptr, nullptr, r, &extracted, s.residual.get()));
  if (extracted != nnz)
    throw Error("graphblas peer: R has " + std::to_string(extracted) + " entries, Ω has " + std::to_string(nnz));
  const auto count = static_cast<std::int64_t>(nnz);
  double sq = 0;
#pragma omp parallel for schedule(static) reduction(+ : sq) num_threads(threads)
  for (std::int64_t e = 0; e < count; ++e) sq += r[e] * r[e];

  const T lambda = static_cast<T>(p.lambda);
  check("GrB_Matrix_apply_BinaryOp2nd",
        Typed<T>::apply_2nd(s.gu.get(), nullptr, nullptr, Typed<T>::times(), s.u.get(), lambda, nullptr));
  check("GrB_mxm",
        GrB_mxm(s.gu.get(), nullptr, Typed<T>::minus(), Typed<T>::plus_times(), s.residual.get(), s.v.get(), nullptr));
  check("GrB_Matrix_apply_BinaryOp2nd",
        Typed<T>::apply_2nd(s.gv.get(), nullptr, nullptr, Typed<T>::times(), s.v.get(), lambda, nullptr));
  check("GrB_mxm", GrB_mxm(s.gv.get(), nullptr, Typed<T>::minus(), Typed<T>::plus_times(), s.residual.get(), s.u.get(),
                           GrB_DESC_T0));

  s.gu.unpack_copy(p.grad_u, threads);
  s.gv.unpack_copy(p.grad_v, threads);
  s.u.unpack_copy(nullptr, threads);
  s.v.unpack_copy(nullptr, threads);
  return 0.5 * sq + 0.5 * p.lambda * (norm_u + norm_v);
}

double evaluate(const Problem<float>& p, Workspace& ws) { return run<float>(p, ws); }
double evaluate(const Problem<double>& p, Workspace& ws) { return run<double>(p, ws); }

}  // namespace

const Peer graphblas_peer = {
    "graphblas",
    "SuiteSparse:GraphBLAS: P<Ω> = U·Vᵀ by a structurally masked GrB_mxm, R = M − P by GrB_eWiseAdd, then "
    "∂U, ∂V by GrB_mxm with a MINUS accumulator onto λU, λV",
    MFGRAD_STRINGIFY(GxB_IMPLEMENTATION_MAJOR) "." MFGRAD_STRINGIFY(GxB_IMPLEMENTATION_MINOR) "." MFGRAD_STRINGIFY(
        GxB_IMPLEMENTATION_SUB),
    evaluate,
    evaluate,
};

}  // namespace mfgrad::bench
