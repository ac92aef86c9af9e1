// mfgrad.mpi — the distributed evaluation (mfgrad/mpi.hpp) for Python, on an mpi4py communicator:
//
//   from mpi4py import MPI
//   import mfgrad.mpi
//   share = mfgrad.mpi.Share(MPI.COMM_WORLD, "netflix-25m", partition="rows")  # a preset or a file
//   plan = mfgrad.mpi.Plan(share, k=64, dtype=np.float32)
//   loss, grad_u, grad_v = plan.evaluate(U_rows, V, 0.05)   # rows: this rank's rows of U, all of V
//
// Every call that communicates is collective: every rank of the communicator makes it, in the same
// order. Errors are mfgrad.Error (a ValueError), the same on every rank. An extension module of its
// own, built when MPI and mpi4py are found: it shares no objects with mfgrad's core module, so it takes
// data sets by name or as COO arrays, and factors as NumPy arrays.
#include <mpi4py/mpi4py.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "dtypes.hpp"  // python/src: the dtypes as the core module takes them
#include "mfgrad/mpi.hpp"

namespace py = pybind11;

namespace mfgrad {
namespace {

MPI_Comm comm_of(const py::object& comm) {
  MPI_Comm* c = PyMPIComm_Get(comm.ptr());
  if (c == nullptr) throw py::error_already_set();
  return *c;
}

// A share and the communicator object it was made on, kept alive with it.
struct PyShare {
  mpi::Share share;
  py::object comm;
};

struct PyPlan {
  std::unique_ptr<mpi::Plan> plan;
  py::object share;  // the PyShare, kept alive
  Precision precision;
};

template <class S>
py::array checked(const py::array& a, const char* name, std::size_t rows, std::size_t k) {
  if (!a.dtype().is(python::numpy_dtype(precision_of<S>())))
    throw py::type_error(std::string(name) + " must hold " + python::array_text(precision_of<S>()) +
                         " (the plan's dtype), not " +
                         py::str(static_cast<const py::object&>(a.dtype())).cast<std::string>());
  if (a.ndim() != 2 || !(a.flags() & py::array::c_style))
    throw py::type_error(std::string(name) + " must be a 2-D C-contiguous array");
  if (static_cast<std::size_t>(a.shape(0)) != rows || static_cast<std::size_t>(a.shape(1)) != k)
    throw py::value_error(std::string(name) + " has shape (" + std::to_string(a.shape(0)) + ", " +
                          std::to_string(a.shape(1)) + "), this rank expects (" + std::to_string(rows) + ", " +
                          std::to_string(k) + ")");
  return a;
}

// S: the factors' storage type; the gradients are compute_t<S> (float32 for the 16-bit formats).
template <class S>
py::tuple evaluate(PyPlan& p, const py::array& u_in, const py::array& v_in, double lambda, bool check_factors) {
  using G = compute_t<S>;
  const mpi::Share& share = p.plan->share();
  const bool by_rows = share.partition() == mpi::Partition::rows;
  const std::size_t k = p.plan->k(), own = static_cast<std::size_t>(share.end() - share.begin());
  const std::size_t m = by_rows ? own : static_cast<std::size_t>(share.rows());
  const std::size_t n = by_rows ? static_cast<std::size_t>(share.cols()) : own;
  // Shapes are checked on every rank together: one rank's wrong array must not leave the others waiting.
  py::array u, v;
  std::string wrong;
  try {
    u = checked<S>(u_in, "U", m, k);
    v = checked<S>(v_in, "V", n, k);
  } catch (const std::exception& e) {
    wrong = e.what();
  }
  mpi::on_every_rank(share.comm(), [&] {
    if (!wrong.empty()) throw Error(wrong);
  });
  py::array_t<G> gu({m, k}), gv({n, k});
  EvalOptions options;
  options.check_factors = check_factors;
  double loss = 0;
  {
    py::gil_scoped_release release;
    loss = p.plan->evaluate<S>({static_cast<const S*>(u.data()), m, k}, {static_cast<const S*>(v.data()), n, k}, lambda,
                               {gu.mutable_data(), m, k}, {gv.mutable_data(), n, k}, options);
  }
  return py::make_tuple(loss, gu, gv);
}

}  // namespace
}  // namespace mfgrad

PYBIND11_MODULE(mpi, m) {
  using namespace mfgrad;
  if (import_mpi4py() < 0) throw py::error_already_set();
  m.doc() = "mfgrad's evaluation over the ranks of an mpi4py communicator (mfgrad/mpi.hpp)";
  // mfgrad's own exception types, so that `except mfgrad.Error` catches these too.
  const py::module_ core = py::module_::import("mfgrad");
  static py::object error_type = core.attr("Error");
  static py::object memory_type = core.attr("OutOfMemoryError");
  py::register_exception_translator([](std::exception_ptr e) {
    try {
      if (e) std::rethrow_exception(e);
    } catch (const OutOfMemory& x) {
      PyErr_SetString(memory_type.ptr(), x.what());
    } catch (const Error& x) {
      PyErr_SetString(error_type.ptr(), x.what());
    }
  });

  py::class_<PyShare>(m, "Share",
                      "This rank's share of Ω: a block of rows or of columns balanced on entries (collective)")
      .def(py::init([](py::object comm, const std::string& what, const std::string& format,
                       const std::string& duplicates, const std::string& partition, std::uint64_t seed) {
             const MPI_Comm c = comm_of(comm);
             const RatingsFormat f = parse_ratings_format(format);
             const DuplicatePolicy d = parse_duplicate_policy(duplicates);
             const mpi::Partition side = mpi::parse_partition(partition);
             py::gil_scoped_release release;
             return PyShare{mpi::Share::load(c, what, f, d, side, seed), std::move(comm)};
           }),
           py::arg("comm"), py::arg("what"), py::arg("format") = "auto", py::arg("duplicates") = "error",
           py::arg("partition") = "auto", py::arg("seed") = 0,
           "A preset name or a ratings file: each rank generates or reads its own part")
      .def_static(
          "from_coo",
          [](py::object comm, py::array_t<index_t, py::array::c_style | py::array::forcecast> rows,
             py::array_t<index_t, py::array::c_style | py::array::forcecast> cols,
             py::array_t<double, py::array::c_style | py::array::forcecast> values, std::pair<index_t, index_t> shape,
             const std::string& partition, const std::string& duplicates) {
            const MPI_Comm c = comm_of(comm);
            Entries e;
            e.rows = shape.first;
            e.cols = shape.second;
            if (rows.size() != values.size() || cols.size() != values.size())
              throw py::value_error("rows, cols and values must have one length");
            e.row.assign(rows.data(), rows.data() + rows.size());
            e.col.assign(cols.data(), cols.data() + cols.size());
            e.value.assign(values.data(), values.data() + values.size());
            const mpi::Partition side = mpi::parse_partition(partition);
            const DuplicatePolicy d = parse_duplicate_policy(duplicates);
            py::gil_scoped_release release;
            return PyShare{mpi::Share::from_entries(c, e, side, d), std::move(comm)};
          },
          py::arg("comm"), py::arg("rows"), py::arg("cols"), py::arg("values"), py::arg("shape"),
          py::arg("partition") = "auto", py::arg("duplicates") = "error",
          "This rank's entries of Ω, with global ids (any part of Ω on each rank; the union is Ω)")
      .def_property_readonly("rank", [](const PyShare& s) { return s.share.rank(); })
      .def_property_readonly("ranks", [](const PyShare& s) { return s.share.ranks(); })
      .def_property_readonly("partition", [](const PyShare& s) { return mpi::to_string(s.share.partition()); })
      .def_property_readonly("shape", [](const PyShare& s) { return py::make_tuple(s.share.rows(), s.share.cols()); })
      .def_property_readonly("nnz", [](const PyShare& s) { return s.share.nnz(); })
      .def_property_readonly("begin", [](const PyShare& s) { return s.share.begin(); })
      .def_property_readonly("end", [](const PyShare& s) { return s.share.end(); })
      .def_property_readonly(
          "bounds",
          [](const PyShare& s) { return std::vector<index_t>(s.share.bounds().begin(), s.share.bounds().end()); })
      .def_property_readonly("description", [](const PyShare& s) { return s.share.description(); });

  py::class_<PyPlan>(m, "Plan", "A node-local plan on this rank's block and the fixed-order reduction (collective)")
      .def(py::init([](py::object share, std::size_t k, py::object dtype, int threads, const std::string& mode,
                       std::optional<std::string> kernel) {
             const Precision precision = python::parse_storage_dtype(dtype);
             PlanOptions options;
             options.threads = threads;
             if (mode != "estimate" && mode != "measure")
               throw py::value_error("mode must be 'estimate' or 'measure', not '" + mode + "'");
             options.mode = mode == "measure" ? PlanMode::measure : PlanMode::estimate;
             if (kernel) options.kernel = *kernel;
             const PyShare& s = share.cast<const PyShare&>();
             std::unique_ptr<mpi::Plan> plan;
             {
               py::gil_scoped_release release;
               plan = std::make_unique<mpi::Plan>(s.share, k, precision, options);
             }
             return PyPlan{std::move(plan), std::move(share), precision};
           }),
           py::arg("share"), py::arg("k"), py::arg("dtype") = py::dtype::of<float>(), py::arg("threads") = 0,
           py::arg("mode") = "estimate", py::arg("kernel") = py::none())
      .def(
          "evaluate",
          [](PyPlan& p, const py::array& u, const py::array& v, double lam, bool check_factors) {
            switch (p.precision) {
              case Precision::f64:
                return evaluate<double>(p, u, v, lam, check_factors);
              case Precision::bf16:
                return evaluate<bfloat16>(p, u, v, lam, check_factors);
              case Precision::f16:
                return evaluate<float16>(p, u, v, lam, check_factors);
              default:
                return evaluate<float>(p, u, v, lam, check_factors);
            }
          },
          py::arg("U"), py::arg("V"), py::arg("lam"), py::arg("check_factors") = false,
          "(loss, grad_u, grad_v). rows: U and grad_u are this rank's rows (end - begin), V and grad_v all n; "
          "columns: U and grad_u all m rows, V and grad_v this rank's rows. U and V in the plan's dtype (uint16 "
          "bit patterns for 'bfloat16'); the gradients float32 for the 16-bit dtypes")
      .def_property_readonly("choice", [](const PyPlan& p) { return p.plan->choice(); })
      .def_property_readonly("k", [](const PyPlan& p) { return p.plan->k(); })
      .def_property_readonly("bytes_sent", [](const PyPlan& p) { return p.plan->bytes_sent(); })
      .def_property_readonly("last", [](const PyPlan& p) {
        const mpi::EvalStats& s = p.plan->last();
        py::dict d;
        d["compute_seconds"] = s.compute_seconds;
        d["communication_seconds"] = s.communication_seconds;
        d["max_compute_seconds"] = s.max_compute_seconds;
        d["mean_compute_seconds"] = s.mean_compute_seconds;
        d["imbalance"] = s.imbalance();
        d["bytes_sent"] = s.bytes_sent;
        return d;
      });

  m.def("choose_partition",
        [](index_t rows, index_t cols, int ranks) { return mpi::to_string(mpi::choose_partition(rows, cols, ranks)); });
}
