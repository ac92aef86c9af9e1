// mfgrad._core — the public C++ API (Observed, Plan, evaluate, the registry, the tolerance rule) over
// NumPy arrays.
//
// Factors and gradients are used in place: a C-contiguous, aligned array of native byte order is handed
// to the kernels as a pointer, and anything else is refused rather than silently copied
// (a copy of a 480,189 × 64 factor costs more than the binding itself). Every check the C++ API makes
// (shapes, k, λ, aliasing) is left to it, so its messages reach Python unchanged as mfgrad.Error, a
// ValueError; the checks that only exist on this side (NumPy dtype, order, writability) raise
// TypeError or ValueError before anything is written. The GIL is released while a kernel or a plan's
// measurement runs.
//
// Factors stored in 16 bits: NumPy's float16 is float16; NumPy has no bfloat16, so bfloat16 factors are
// uint16 arrays holding the bit patterns (torch.bfloat16 memory viewed as uint16, or round_to's output).
// Their gradients are float32.
#include <omp.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dtypes.hpp"
#include "kernel_author.hpp"
#include "mfgrad/check.hpp"
#include "mfgrad/dataset.hpp"
#include "mfgrad/memory.hpp"
#include "mfgrad/message.hpp"
#include "mfgrad/plan.hpp"
#include "mfgrad/version.h"

namespace py = pybind11;
using namespace pybind11::literals;

namespace mfgrad::python {

namespace {

// An Observed and where it came from.
struct PyObserved {
  Observed obs;
  std::string description;
};

// The Python object of the Observed is held so that it outlives the plan, as Plan requires.
struct PyPlan {
  py::object observed;
  const Observed* obs = nullptr;  // the one inside `observed`
  std::unique_ptr<Plan> plan;
  std::mutex busy;  // a Plan serves one evaluation at a time; callers from other threads wait here
};

// threads ≤ 0 means every hardware thread. Resolved here instead of by the OpenMP runtime's current
// default, which other libraries in the process change (importing torch sets it to its own count).
int resolve_threads(int threads) {
  if (threads > 0) return threads;
  if (const char* env = std::getenv("OMP_NUM_THREADS"); env != nullptr) {
    const long n = std::strtol(env, nullptr, 10);
    if (n > 0 && n <= std::numeric_limits<int>::max()) return static_cast<int>(n);
  }
  return omp_get_num_procs();
}

std::string type_name(py::handle obj) {
  const py::handle type = py::type::handle_of(obj);
  const std::string module = py::str(type.attr("__module__")), name = py::str(type.attr("__qualname__"));
  return module == "builtins" ? name : module + "." + name;
}

std::string shape_text(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t d = 0; d < a.ndim(); ++d) s += (d ? ", " : "") + std::to_string(a.shape(d));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

// A float dtype for values (float32 or float64).
Precision parse_dtype(const py::object& dtype) {
  const py::dtype d = py::dtype::from_args(dtype);
  if (d.kind() == 'f' && d.itemsize() == 4) return Precision::f32;
  if (d.kind() == 'f' && d.itemsize() == 8) return Precision::f64;
  throw py::type_error("dtype must be float32 or float64, got " + text(d));
}

// The precision of a factor or gradient argument: a NumPy array of float32, float64, float16 or uint16
// (bfloat16 bits) in native byte order, nothing else.
Precision float_precision(py::handle obj, const char* name) {
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(std::string(name) +
                         " must be a NumPy array of float32 or float64 (or float16, or uint16 holding bfloat16), got " +
                         type_name(obj));
  const py::dtype d = py::reinterpret_borrow<py::array>(obj).dtype();
  if (d.attr("isnative").cast<bool>()) {
    if (d.kind() == 'f' && d.itemsize() == 4) return Precision::f32;
    if (d.kind() == 'f' && d.itemsize() == 8) return Precision::f64;
    if (d.kind() == 'f' && d.itemsize() == 2) return Precision::f16;
    if (d.kind() == 'u' && d.itemsize() == 2) return Precision::bf16;
  }
  throw py::type_error(std::string(name) + " has dtype " + text(d) +
                       "; mfgrad takes float32 or float64 (or float16, or uint16 holding bfloat16) in native byte "
                       "order");
}

// A 2-D view of `obj` for the kernels, without a copy: only a C-contiguous, aligned array qualifies.
// The shape itself is left to the C++ API's checks.
template <class T>
Matrix<T> matrix_view(py::handle obj, const char* name) {
  auto a = py::reinterpret_borrow<py::array>(obj);
  if (a.ndim() != 2)
    throw py::value_error(std::string(name) + " must be 2-D (rows x k), got " + std::to_string(a.ndim()) +
                          "-D with shape " + shape_text(a));
  if (!(a.flags() & py::array::c_style))
    throw py::value_error(std::string(name) +
                          " is not C-contiguous (Fortran order or a strided view); mfgrad uses factors in place "
                          "and never copies them: pass np.ascontiguousarray(" +
                          name + ")");
  if (!(a.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_))
    throw py::value_error(std::string(name) + " is not aligned to its dtype; pass a copy (" + name + ".copy())");
  const auto rows = static_cast<std::size_t>(a.shape(0)), cols = static_cast<std::size_t>(a.shape(1));
  if constexpr (std::is_const_v<T>) {
    return {static_cast<T*>(a.data()), rows, cols};
  } else {
    if (!a.writeable()) throw py::value_error(std::string(name) + " is read-only; gradients are written into it");
    return {static_cast<T*>(a.mutable_data()), rows, cols};
  }
}

// The four arrays of one evaluation, checked and viewed; gradients not given are allocated (m×k, n×k).
// T: the factors' element type; the gradients are compute_t<T> (float32 for 16-bit factors).
template <class T>
struct Arguments {
  Matrix<const T> u, v;
  Matrix<compute_t<T>> grad_u, grad_v;
  py::object grad_u_obj, grad_v_obj;
};

// T is the precision of the evaluation; `mismatch(name, got)` words the error for an argument of the
// other float precision.
template <class T, class Mismatch>
void require_precision(py::handle obj, const char* name, const Mismatch& mismatch) {
  if (const Precision got = float_precision(obj, name); got != precision_of<T>())
    throw py::type_error(mismatch(name, got));
}

// A gradient argument of factors stored as T: T's own precision, or float32 for the 16-bit formats.
template <class T, class Mismatch>
void require_gradient_precision(py::handle obj, const char* name, const Mismatch& mismatch) {
  if constexpr (sizeof(T) == 2) {
    if (const Precision got = float_precision(obj, name); got != Precision::f32)
      throw py::type_error(std::string(name) + " is " + array_text(got) + "; the gradients of " +
                           to_string(precision_of<T>()) + " factors are float32");
  } else {
    require_precision<T>(obj, name, mismatch);
  }
}

template <class T, class Mismatch>
Arguments<T> arguments(const Observed& obs, std::size_t k, py::handle u, py::handle v, py::object grad_u,
                       py::object grad_v, const Mismatch& mismatch) {
  using G = compute_t<T>;
  require_precision<T>(u, "U", mismatch);
  require_precision<T>(v, "V", mismatch);
  if (!grad_u.is_none()) require_gradient_precision<T>(grad_u, "grad_u", mismatch);
  if (!grad_v.is_none()) require_gradient_precision<T>(grad_v, "grad_v", mismatch);
  Arguments<T> a;
  a.u = matrix_view<const T>(u, "U");
  a.v = matrix_view<const T>(v, "V");
  const auto m = static_cast<py::ssize_t>(obs.rows()), n = static_cast<py::ssize_t>(obs.cols());
  const auto kk = static_cast<py::ssize_t>(k);
  a.grad_u_obj = grad_u.is_none() ? py::object(py::array_t<G>({m, kk})) : grad_u;
  a.grad_v_obj = grad_v.is_none() ? py::object(py::array_t<G>({n, kk})) : grad_v;
  a.grad_u = matrix_view<G>(a.grad_u_obj, "grad_u");
  a.grad_v = matrix_view<G>(a.grad_v_obj, "grad_v");
  return a;
}

template <class T>
Arguments<T> plan_arguments(const PyPlan& p, py::handle u, py::handle v, py::object grad_u, py::object grad_v) {
  const Precision want = p.plan->precision();
  return arguments<T>(*p.obs, p.plan->k(), u, v, std::move(grad_u), std::move(grad_v),
                      [want](const char*, Precision got) {
                        return std::string("plan was made for ") + array_text(want) + ", not " +
                               array_text(got);  // Plan::evaluate's words
                      });
}

// call(T{}) with T the plan's precision.
template <class Call>
auto with_plan_precision(const PyPlan& p, Call&& call) {
  return with_precision(p.plan->precision(), call);
}

py::tuple plan_evaluate(PyPlan& p, py::handle u, py::handle v, double lambda, py::object grad_u, py::object grad_v,
                        bool check_factors) {
  return with_plan_precision(p, [&](auto zero) {
    using T = decltype(zero);
    auto a = plan_arguments<T>(p, u, v, grad_u, grad_v);
    double loss = 0;
    {
      py::gil_scoped_release release;
      std::lock_guard lock(p.busy);
      loss = p.plan->evaluate<T>(a.u, a.v, lambda, a.grad_u, a.grad_v, {.check_factors = check_factors});
    }
    return py::make_tuple(loss, a.grad_u_obj, a.grad_v_obj);
  });
}

std::vector<double> plan_native_seconds(PyPlan& p, py::handle u, py::handle v, double lambda, py::object grad_u,
                                        py::object grad_v, int repetitions) {
  if (repetitions < 1) throw py::value_error("repetitions must be at least 1, got " + std::to_string(repetitions));
  return with_plan_precision(p, [&](auto zero) {
    using T = decltype(zero);
    auto a = plan_arguments<T>(p, u, v, grad_u, grad_v);
    std::vector<double> seconds;
    seconds.reserve(static_cast<std::size_t>(repetitions));
    py::gil_scoped_release release;
    std::lock_guard lock(p.busy);
    for (int r = 0; r < repetitions; ++r) {
      const auto start = std::chrono::steady_clock::now();
      p.plan->evaluate<T>(a.u, a.v, lambda, a.grad_u, a.grad_v);
      seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return seconds;
  });
}

// Dispatches on the precision of U for the functions that take no plan: V and the gradients must match it.
template <class Call>
auto with_precision_of_u(py::handle u, Call&& call) {
  const Precision p = float_precision(u, "U");
  auto mismatch = [p](const char* name, Precision got) {
    return std::string(name) + " is " + array_text(got) + " but U is " + array_text(p) +
           "; the factors and gradients must share one dtype";
  };
  return with_precision(p, [&](auto zero) { return call(zero, mismatch); });
}

std::size_t columns_of(py::handle u) {
  auto a = py::reinterpret_borrow<py::array>(u);
  return a.ndim() == 2 ? static_cast<std::size_t>(a.shape(1)) : 0;
}

py::tuple evaluate_with_kernel(const PyObserved& o, py::handle u, py::handle v, double lambda, py::object grad_u,
                               py::object grad_v, const std::optional<std::string>& kernel_name, int threads,
                               bool check_factors) {
  const Kernel& kernel = kernel_name ? mfgrad::kernel(*kernel_name) : default_kernel();
  return with_precision_of_u(u, [&](auto zero, auto&& mismatch) {
    using T = decltype(zero);
    auto a = arguments<T>(o.obs, columns_of(u), u, v, grad_u, grad_v, mismatch);
    double loss = 0;
    {
      py::gil_scoped_release release;
      Workspace ws(resolve_threads(threads));
      loss = evaluate<T>(kernel, o.obs, a.u, a.v, lambda, a.grad_u, a.grad_v, ws, {.check_factors = check_factors});
    }
    return py::make_tuple(loss, a.grad_u_obj, a.grad_v_obj);
  });
}

// A NumPy array that owns `data` (no copy).
template <class T>
py::array_t<T> adopt(std::vector<T>&& data, std::vector<py::ssize_t> shape) {
  auto* owned = new std::vector<T>(std::move(data));
  py::capsule free(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(std::move(shape), owned->data(), free);
}

py::tuple bounds(const PyObserved& o, py::handle u, py::handle v, double lambda) {
  return with_precision_of_u(u, [&](auto zero, auto&& mismatch) {
    using T = decltype(zero);
    const std::size_t k = columns_of(u), m = static_cast<std::size_t>(o.obs.rows()),
                      n = static_cast<std::size_t>(o.obs.cols());
    require_precision<T>(v, "V", mismatch);
    const Matrix<const T> uu = matrix_view<const T>(u, "U"), vv = matrix_view<const T>(v, "V");
    // The evaluation's own checks, so that a bound is never computed for factors it would refuse.
    std::vector<compute_t<T>> gu(m * k), gv(n * k);
    validate<T>(o.obs, uu, vv, lambda, {gu.data(), m, k}, {gv.data(), n, k});
    ErrorBounds b;
    {
      py::gil_scoped_release release;
      b = error_bounds<T>(o.obs, uu.data, vv.data, k, lambda);
    }
    const auto mm = static_cast<py::ssize_t>(m), nn = static_cast<py::ssize_t>(n), kk = static_cast<py::ssize_t>(k);
    return py::make_tuple(b.loss, adopt(std::move(b.grad_u), {mm, kk}), adopt(std::move(b.grad_v), {nn, kk}));
  });
}

std::string describe(const Observed& o) {
  return std::to_string(o.rows()) + " x " + std::to_string(o.cols()) + ", " + std::to_string(o.nnz()) + " entries";
}

// Ids of any integer dtype, narrowed to mfgrad's 32-bit ids with a message for those that do not fit.
template <class Src>
std::vector<index_t> narrow_ids(const py::array& a, const char* what) {
  auto src = py::array_t<Src, py::array::forcecast>::ensure(a);
  auto view = src.template unchecked<1>();
  std::vector<index_t> ids(static_cast<std::size_t>(view.shape(0)));
  for (py::ssize_t t = 0; t < view.shape(0); ++t) {
    const Src x = view(t);
    const bool fits = std::is_signed_v<Src> ? (static_cast<std::int64_t>(x) >= std::numeric_limits<index_t>::min() &&
                                               static_cast<std::int64_t>(x) <= std::numeric_limits<index_t>::max())
                                            : static_cast<std::uint64_t>(x) <= std::numeric_limits<index_t>::max();
    if (!fits)
      throw py::value_error(std::string(what) + " id " + std::to_string(x) + " at input entry #" + std::to_string(t) +
                            " does not fit in 32 bits (mfgrad's row and column ids are int32)");
    ids[static_cast<std::size_t>(t)] = static_cast<index_t>(x);
  }
  return ids;
}

py::array one_dimensional(const py::object& obj, const char* name) {
  py::array a = py::module_::import("numpy").attr("asarray")(obj);
  if (a.ndim() != 1)
    throw py::value_error(std::string(name) + " must be 1-D (one per entry), got shape " + shape_text(a));
  return a;
}

std::vector<index_t> ids_of(const py::object& obj, const char* name, const char* what) {
  const py::array a = one_dimensional(obj, name);
  const char kind = a.dtype().kind();
  if (a.size() == 0) return {};  // np.asarray([]) is float64
  if (kind == 'i') return narrow_ids<std::int64_t>(a, what);
  if (kind == 'u') return narrow_ids<std::uint64_t>(a, what);
  throw py::type_error(std::string(name) + " must hold integers, got dtype " + text(a.dtype()));
}

index_t extent(const std::vector<index_t>& ids) {
  std::int64_t top = -1;
  for (index_t x : ids) top = std::max<std::int64_t>(top, x);
  return static_cast<index_t>(top + 1 > std::numeric_limits<index_t>::max() ? -1 : top + 1);
}

// One extent of shape=(m, n): an integer (TypeError otherwise) that fits in 32 bits (ValueError, naming
// the value as given, otherwise); a negative one that fits is left to Observed::build to refuse.
index_t shape_part(const py::handle& x, const char* what) {
  const py::object v = py::module_::import("operator").attr("index")(x);  // TypeError for a non-integer
  const py::int_ low(std::numeric_limits<index_t>::min()), high(std::numeric_limits<index_t>::max());
  if (v.attr("__lt__")(low).cast<bool>())
    throw py::value_error(std::string("shape: ") + what + " " + text(v) + " is negative");
  if (v.attr("__gt__")(high).cast<bool>())
    throw py::value_error(std::string("shape: ") + what + " " + text(v) +
                          " does not fit in 32 bits (mfgrad's row and column ids are int32)");
  return static_cast<index_t>(v.cast<std::int64_t>());
}

std::unique_ptr<PyObserved> make_observed_from(const py::object& rows, const py::object& cols, const py::object& values,
                                               const py::object& shape, const std::string& duplicates);

// Copying the arrays into the library's entries can run out of memory before Observed::build counts
// anything: that too is an OutOfMemory (mfgrad.OutOfMemoryError), saying what was being copied.
std::unique_ptr<PyObserved> make_observed(const py::object& rows, const py::object& cols, const py::object& values,
                                          const py::object& shape, const std::string& duplicates) {
  try {
    return make_observed_from(rows, cols, values, shape, duplicates);
  } catch (const std::bad_alloc&) {
    const py::ssize_t n = py::len(values);
    const MemoryLimit limit = memory_limit();
    throw OutOfMemory("out of memory copying " + std::to_string(n) + " entries (rows, cols, values; about " +
                      format_bytes(static_cast<std::size_t>(n) * 16) + ") from the arrays (this process may use " +
                      format_bytes(limit.bytes) + ": " + limit.source + ")");
  }
}

std::unique_ptr<PyObserved> make_observed_from(const py::object& rows, const py::object& cols, const py::object& values,
                                               const py::object& shape, const std::string& duplicates) {
  const DuplicatePolicy policy = parse_duplicate_policy(duplicates);
  Entries e;
  e.row = ids_of(rows, "rows", "row");
  e.col = ids_of(cols, "cols", "column");
  const py::array vals = one_dimensional(values, "values");
  const char kind = vals.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u' && vals.size() > 0)
    throw py::type_error("values must hold real numbers, got dtype " + text(vals.dtype()));
  const auto as_double = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(vals);
  e.value.assign(as_double.data(), as_double.data() + as_double.size());
  if (shape.is_none()) {
    if (e.row.size() != e.value.size() || e.col.size() != e.value.size()) {
      e.rows = e.cols = 0;  // Observed::build names the disagreement
    } else {
      e.rows = extent(e.row);
      e.cols = extent(e.col);
      if (e.rows < 0 || e.cols < 0)
        throw py::value_error("the shape inferred from the ids does not fit in 32 bits; pass shape=(m, n)");
    }
  } else {
    if (!py::isinstance<py::sequence>(shape) || py::len(shape) != 2)
      throw py::value_error("shape must be (m, n), got " + text(py::repr(shape)));
    const auto dims = shape.cast<py::sequence>();
    e.rows = shape_part(dims[0], "m");
    e.cols = shape_part(dims[1], "n");
  }
  py::gil_scoped_release release;
  auto o = std::make_unique<PyObserved>(PyObserved{Observed::build(e, policy), {}});
  o->description = "arrays: " + describe(o->obs);
  return o;
}

// A read-only array over memory the Observed owns; the Observed stays alive while the array does.
template <class T>
py::array borrowed(std::span<const T> data, py::handle owner) {
  py::array_t<T> a({static_cast<py::ssize_t>(data.size())}, data.data(), owner);
  a.attr("setflags")("write"_a = false);
  return a;
}

// A path as Python names one: str, bytes (decoded as the file system does) or an os.PathLike.
std::string path_of(const py::object& obj) { return py::str(py::module_::import("os").attr("fsdecode")(obj)); }

std::unique_ptr<PyPlan> make_plan(py::object observed, long long k, const py::object& dtype, int threads,
                                  const std::string& mode, const py::object& wisdom,
                                  const std::optional<std::string>& kernel, double seconds_per_candidate) {
  PlanOptions options;
  options.threads = resolve_threads(threads);
  if (mode == "estimate")
    options.mode = PlanMode::estimate;
  else if (mode == "measure")
    options.mode = PlanMode::measure;
  else
    throw py::value_error("mode must be 'estimate' or 'measure', got '" + mode + "'");
  if (!(seconds_per_candidate > 0))
    throw py::value_error("seconds_per_candidate must be positive, got " + std::to_string(seconds_per_candidate));
  options.seconds_per_candidate = seconds_per_candidate;
  options.kernel = kernel.value_or("");
  const Precision precision = parse_storage_dtype(dtype);
  const std::optional<std::string> wisdom_path = wisdom.is_none() ? std::nullopt : std::optional(path_of(wisdom));
  if (k < 1) throw Error("k must be at least 1, got " + std::to_string(k));
  if (!py::isinstance<PyObserved>(observed))
    throw py::type_error("observed must be an mfgrad.Observed, got " + type_name(observed));
  const Observed& obs = observed.cast<PyObserved&>().obs;
  auto p = std::make_unique<PyPlan>();
  p->observed = std::move(observed);
  p->obs = &obs;
  {
    py::gil_scoped_release release;
    if (wisdom_path && std::filesystem::exists(*wisdom_path)) Plan::load_wisdom(*wisdom_path);
    p->plan = std::make_unique<Plan>(obs, static_cast<std::size_t>(k), precision, options);
    if (wisdom_path) Plan::save_wisdom(*wisdom_path);
  }
  return p;
}

// A C-contiguous, aligned, native array of `count` elements of Elem named `name`, any shape, as a pointer.
template <class Elem>
Elem* flat_data(py::array a, const char* name) {
  if (!(a.flags() & py::array::c_style))
    throw py::value_error(std::string(name) + " is not C-contiguous; pass np.ascontiguousarray(" + name + ")");
  if (!(a.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_))
    throw py::value_error(std::string(name) + " is not aligned to its dtype; pass a copy (" + name + ".copy())");
  if constexpr (std::is_const_v<Elem>) {
    return static_cast<Elem*>(a.data());
  } else {
    if (!a.writeable()) throw py::value_error(std::string(name) + " is read-only; the result is written into it");
    return static_cast<Elem*>(a.mutable_data());
  }
}

std::vector<py::ssize_t> shape_of(const py::array& a) { return {a.shape(), a.shape() + a.ndim()}; }

// The output array of a conversion: `out` when given (its dtype and shape checked), else a new one.
py::array conversion_output(const py::array& in, const py::object& out, const py::dtype& want, const char* what) {
  if (out.is_none()) return py::array(want, shape_of(in));
  if (!py::isinstance<py::array>(out))
    throw py::type_error(std::string("out must be a NumPy array, got ") + type_name(out));
  auto o = py::reinterpret_borrow<py::array>(out);
  const py::dtype d = o.dtype();
  if (d.kind() != want.kind() || d.itemsize() != want.itemsize() || !d.attr("isnative").cast<bool>())
    throw py::type_error(std::string("out has dtype ") + text(d) + "; " + what + " writes " + text(want));
  if (shape_of(o) != shape_of(in))
    throw py::value_error("out has shape " + shape_text(o) + " but the input has shape " + shape_text(in));
  return o;
}

py::array round_array(const py::array& x, const py::object& dtype, const py::object& out, int threads) {
  const Precision p = parse_storage_dtype(dtype);
  if (p != Precision::bf16 && p != Precision::f16)
    throw py::type_error("round_to rounds to 'bfloat16' or float16, not " + std::string(to_string(p)));
  if (float_precision(x, "x") != Precision::f32)
    throw py::type_error("x has dtype " + text(x.dtype()) + "; round_to rounds float32 arrays");
  py::array result = conversion_output(x, out, numpy_dtype(p), "round_to");
  const float* in = flat_data<const float>(x, "x");
  void* dest = flat_data<std::uint16_t>(result, "out");
  const auto count = static_cast<std::size_t>(x.size());
  {
    py::gil_scoped_release release;
    if (p == Precision::bf16)
      round_to({in, count}, {static_cast<bfloat16*>(dest), count}, resolve_threads(threads));
    else
      round_to({in, count}, {static_cast<float16*>(dest), count}, resolve_threads(threads));
  }
  return result;
}

py::array widen_array(const py::array& x, const py::object& out, int threads) {
  const Precision p = float_precision(x, "x");
  if (p != Precision::bf16 && p != Precision::f16)
    throw py::type_error("x has dtype " + text(x.dtype()) + "; widen takes float16 or uint16 (bfloat16 bits) arrays");
  py::array result = conversion_output(x, out, py::dtype::of<float>(), "widen");
  const void* in = flat_data<const std::uint16_t>(x, "x");
  float* dest = flat_data<float>(result, "out");
  const auto count = static_cast<std::size_t>(x.size());
  {
    py::gil_scoped_release release;
    if (p == Precision::bf16)
      widen({static_cast<const bfloat16*>(in), count}, {dest, count}, resolve_threads(threads));
    else
      widen({static_cast<const float16*>(in), count}, {dest, count}, resolve_threads(threads));
  }
  return result;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "mfgrad's compiled core; use the mfgrad package, which re-exports it";
  m.attr("__version__") = MFGRAD_VERSION_STRING;
  py::register_exception<Error>(m, "Error", PyExc_ValueError);
  // Registered after Error, so that it is tried first: an OutOfMemory is also an Error.
  py::register_exception<OutOfMemory>(m, "OutOfMemoryError", PyExc_MemoryError);
  // Registered last, so tried first: a file that cannot be opened, read or written is Python's own
  // OSError(errno, message, filename), which Python makes the subclass of that errno
  // (FileNotFoundError, PermissionError, IsADirectoryError, ...).
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const FileError& e) {
      const py::object error = py::reinterpret_borrow<py::object>(PyExc_OSError)(
          e.error_code(), e.what(), py::reinterpret_steal<py::object>(PyUnicode_DecodeFSDefault(e.path().c_str())));
      PyErr_SetObject(PyExc_OSError, error.ptr());
    }
  });

  py::class_<Kernel>(m, "Kernel", "A registered implementation (read-only).")
      .def_readonly("name", &Kernel::name)
      .def_readonly("description", &Kernel::description)
      .def_property_readonly(
          "isa", [](const Kernel& k) { return to_string(k.isa); }, "least instruction set it needs")
      .def_readonly("oracle", &Kernel::oracle, "the reference every other result is compared with")
      .def_readonly("serial", &Kernel::serial, "runs on one thread whatever the thread count")
      .def_readonly("deterministic", &Kernel::deterministic, "bitwise identical results at any thread count")
      .def_property_readonly(
          "simd", [](const Kernel& k) { return code(k).simd; }, "written on xsimd batches, compiled once per ISA level")
      .def_property_readonly("tier", [](const Kernel& k) { return code(k).tier; })
      .def_property_readonly("supported", &Kernel::supported, "whether this CPU (and MFGRAD_ISA) lets it run")
      .def_property_readonly(
          "invocations", [](const Kernel& k) { return invocations(k); },
          "how many evaluations it has run in this process")
      .def("__repr__", [](const Kernel& k) { return std::string("<mfgrad kernel ") + k.name + ">"; });

  m.def(
      "kernels",
      [] {
        py::list list;
        for (const Kernel& k : registry()) list.append(py::cast(&k, py::return_value_policy::reference));
        return list;
      },
      "Every registered implementation, in registry order.");
  m.def("simd_arch", &simd_arch_name,
        "The instruction set the SIMD kernels dispatch to on this CPU (after MFGRAD_ISA).");

  py::class_<PyObserved>(m, "Observed",
                         "The observed entries Ω of M, validated and sorted once (CSR and CSC); immutable.")
      .def(py::init(&make_observed), "rows"_a, "cols"_a, "values"_a, "shape"_a = py::none(), "duplicates"_a = "error",
           "Entries (rows[t], cols[t], values[t]) in any order; ids 0-based. shape=(m, n), by default one past the "
           "largest ids. duplicates: 'error', 'sum' or 'last'.")
      .def_property_readonly("shape", [](const PyObserved& o) { return py::make_tuple(o.obs.rows(), o.obs.cols()); })
      .def_property_readonly("nnz", [](const PyObserved& o) { return o.obs.nnz(); })
      .def_readonly("description", &PyObserved::description)
      .def_property_readonly("stats",
                             [](const PyObserved& o) {
                               const ObservedStats& s = o.obs.stats();
                               return py::dict("max_row_nnz"_a = s.max_row_nnz, "max_col_nnz"_a = s.max_col_nnz,
                                               "empty_rows"_a = s.empty_rows, "empty_cols"_a = s.empty_cols,
                                               "duplicates_merged"_a = s.duplicates_merged);
                             })
      .def(
          "coo",
          [](py::object self, const py::object& dtype) {
            const Observed& o = self.cast<PyObserved&>().obs;
            py::array values = parse_dtype(dtype) == Precision::f32 ? borrowed(o.values<float>(), self)
                                                                    : borrowed(o.values<double>(), self);
            return py::make_tuple(borrowed(o.row_of(), self), borrowed(o.col_idx(), self), values);
          },
          "dtype"_a = py::dtype::of<double>(),
          "(rows, cols, values) in CSR order (by row, columns ascending), read-only views of the Observed's own "
          "memory; values in float64 or float32.")
      .def("__repr__", [](const PyObserved& o) { return "<mfgrad.Observed " + describe(o.obs) + ">"; });

  m.def(
      "load_dataset",
      [](const py::object& what, const std::string& format, const std::string& duplicates, std::uint64_t seed,
         bool return_ids) -> py::object {
        const std::string name = path_of(what);
        const RatingsFormat f = parse_ratings_format(format);
        const DuplicatePolicy policy = parse_duplicate_policy(duplicates);
        std::optional<Dataset> d;
        {
          py::gil_scoped_release release;
          d.emplace(load_dataset(name, f, policy, seed));
        }
        const auto ids = [](const std::vector<std::int64_t>& v) {
          return py::array_t<std::int64_t>(static_cast<py::ssize_t>(v.size()), v.data());
        };
        py::object row_ids, col_ids;
        if (return_ids) {
          row_ids = ids(d->row_ids);
          col_ids = ids(d->col_ids);
        }
        py::object observed =
            py::cast(std::make_unique<PyObserved>(PyObserved{std::move(d->observed), std::move(d->description)}));
        if (!return_ids) return observed;
        return py::make_tuple(observed, row_ids, col_ids);
      },
      "what"_a, "format"_a = "auto", "duplicates"_a = "error", "seed"_a = 0, "return_ids"_a = false,
      "A generated preset (see presets()) or a ratings file (MovieLens u.data / ratings.dat / ratings.csv, "
      "triplets, Matrix Market); file ids become dense 0-based indices in ascending order of the original id. "
      "With return_ids=True, returns (observed, row_ids, col_ids): int64 arrays whose element i is the "
      "original id of row (column) i (a Matrix Market file's 1-based indices; a preset's own indices). A "
      "file that cannot be opened raises the OSError of its errno (FileNotFoundError when it does not exist).");
  m.def(
      "presets",
      [] {
        py::list list;
        for (const DataSpec& s : presets())
          list.append(py::dict("name"_a = s.name, "rows"_a = s.rows, "cols"_a = s.cols, "nnz"_a = s.nnz,
                               "summary"_a = s.summary));
        return list;
      },
      "The generator's named data sets.");
  m.def(
      "random_factor",
      [](std::size_t rows, std::size_t k, std::uint64_t seed, const py::object& dtype) -> py::array {
        const auto r = static_cast<py::ssize_t>(rows), kk = static_cast<py::ssize_t>(k);
        const Precision p = parse_storage_dtype(dtype);
        return with_precision(p, [&]<class T>(T) -> py::array {
          std::vector<T> f = random_factor<T>(rows, k, seed);
          if constexpr (sizeof(T) == 2) {  // the same bits, as the uint16 or float16 array they are in NumPy
            py::array a(numpy_dtype(p), std::vector<py::ssize_t>{r, kk});
            std::memcpy(a.mutable_data(), f.data(), f.size() * sizeof(T));
            return a;
          } else {
            return adopt(std::move(f), {r, kk});
          }
        });
      },
      "rows"_a, "k"_a, "seed"_a = 1, "dtype"_a = py::dtype::of<float>(),
      "rows x k factor, entries uniform in ±√3·k^(−1/4) (u·v of variance about 1), the same for a given "
      "(rows, k, seed) on every machine — the factors `mfgrad bench` and `mfgrad eval --k` use. dtype: "
      "float32, float64, float16, or 'bfloat16' (the float32 draw rounded; a uint16 array of its bits).");
  m.def("round_to", &round_array, "x"_a, "dtype"_a = "bfloat16", "out"_a = py::none(), "threads"_a = 0,
        "x (a float32 array, any shape) rounded to nearest, ties to even, in 16 bits: dtype 'bfloat16' gives a "
        "uint16 array of bfloat16 bit patterns (NumPy has no bfloat16), np.float16 a float16 array. Written into "
        "out when given (same shape, that dtype; returned), else into a new array. The refresh of a 16-bit copy "
        "of float32 master factors after each optimizer step; vectorised, on `threads` threads (0: all).");
  m.def("widen", &widen_array, "x"_a, "out"_a = py::none(), "threads"_a = 0,
        "The exact float32 values of x: a float16 array, or a uint16 array of bfloat16 bit patterns. Written "
        "into out when given (float32, same shape; returned), else into a new array.");

  py::class_<PyPlan>(m, "Plan",
                     "The implementation chosen for one (Observed, k, dtype, threads), with its prepared layout.")
      .def(py::init(&make_plan), "observed"_a, "k"_a, "dtype"_a = py::dtype::of<float>(), "threads"_a = 0,
           "mode"_a = "estimate", "wisdom"_a = py::none(), "kernel"_a = py::none(), "seconds_per_candidate"_a = 0.3,
           "dtype: float32, float64, float16 or 'bfloat16' (factors stored in 16 bits, passed as float16 or "
           "uint16 arrays; products, sums and gradients float32). "
           "mode: 'estimate' (from the shape) or 'measure' (time every candidate on this data). threads <= 0: "
           "every hardware thread (OMP_NUM_THREADS when set). wisdom: a file of measured choices, read when it "
           "exists and written afterwards. kernel: use this implementation, no search.")
      .def("evaluate", &plan_evaluate, "U"_a, "V"_a, "lam"_a, "grad_u"_a = py::none(), "grad_v"_a = py::none(),
           "check_factors"_a = false,
           "(loss, grad_u, grad_v): F(U, V) and its gradients. Gradients are written into grad_u / grad_v when "
           "given (and those same arrays returned), else into new arrays.")
      .def("native_seconds", &plan_native_seconds, "U"_a, "V"_a, "lam"_a, "grad_u"_a = py::none(),
           "grad_v"_a = py::none(), "repetitions"_a = 1,
           "Seconds of each of `repetitions` evaluations timed inside C++, with no Python between them: the "
           "baseline against which the binding's own cost is measured.")
      .def_property_readonly("kernel", [](const PyPlan& p) { return p.plan->kernel().name; })
      .def_property_readonly(
          "choice", [](const PyPlan& p) { return p.plan->choice(); },
          "the implementation, with its cache-size variant when not the default")
      .def_property_readonly("reason", [](const PyPlan& p) { return p.plan->reason(); })
      .def_property_readonly(
          "candidates",
          [](const PyPlan& p) {
            py::list list;
            for (const PlanCandidate& c : p.plan->candidates())
              list.append(py::make_tuple(c.name, c.seconds, c.dropped));
            return list;
          },
          "(name, seconds, dropped) of each measured candidate (measure mode): those timed to the end first, "
          "fastest first, with their median seconds; then those dropped after one cold run over twice the best, "
          "with that run's seconds")
      .def_property_readonly("threads", [](const PyPlan& p) { return p.plan->threads(); })
      .def_property_readonly("k", [](const PyPlan& p) { return p.plan->k(); })
      .def_property_readonly(
          "dtype", [](const PyPlan& p) { return numpy_dtype(p.plan->precision()); },
          "the NumPy dtype of the factors it takes (uint16 for bfloat16)")
      .def_property_readonly(
          "precision", [](const PyPlan& p) { return to_string(p.plan->precision()); },
          "'float32', 'float64', 'bfloat16' or 'float16'")
      .def_property_readonly("from_wisdom", [](const PyPlan& p) { return p.plan->from_wisdom(); })
      .def_readonly("observed", &PyPlan::observed)
      .def("__repr__", [](const PyPlan& p) {
        return "<mfgrad.Plan " + p.plan->choice() + ", k = " + std::to_string(p.plan->k()) + ", " +
               to_string(p.plan->precision()) + ", " + std::to_string(p.plan->threads()) + " threads>";
      });

  m.def("evaluate", &evaluate_with_kernel, "observed"_a, "U"_a, "V"_a, "lam"_a, "grad_u"_a = py::none(),
        "grad_v"_a = py::none(), py::kw_only(), "kernel"_a = py::none(), "threads"_a = 0, "check_factors"_a = false,
        "(loss, grad_u, grad_v) with the named registered implementation (default: MFGRAD_KERNEL, else the best "
        "this CPU runs). The dtype is U's (a uint16 U holds bfloat16; 16-bit factors give float32 gradients). Prepares "
        "the implementation's layout on every call: for repeated "
        "evaluations make a Plan.");
  m.def("error_bounds", &bounds, "observed"_a, "U"_a, "V"_a, "lam"_a,
        "(loss_bound, grad_u_bound, grad_v_bound): how far an evaluation in U's dtype may lie from the "
        "double-precision oracle under the library's tolerance rule (include/mfgrad/check.hpp).");
}

}  // namespace mfgrad::python
