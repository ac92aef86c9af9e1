// How mfgrad's Python modules (the core module and mfgrad.mpi) take and name factor dtypes: NumPy's
// float32, float64 and float16, and bfloat16, which NumPy lacks, as uint16 arrays of the bit patterns.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "mfgrad/types.hpp"

namespace mfgrad::python {

inline std::string text(pybind11::handle obj) { return pybind11::str(obj); }

// A factor dtype: float32, float64, float16, or "bfloat16" (NumPy has none; its arrays are uint16).
inline Precision parse_storage_dtype(const pybind11::object& dtype) {
  if (pybind11::isinstance<pybind11::str>(dtype) && dtype.cast<std::string>() == "bfloat16") return Precision::bf16;
  const pybind11::dtype d = pybind11::dtype::from_args(dtype);
  if (d.kind() == 'f' && d.itemsize() == 2) return Precision::f16;
  if (d.kind() == 'f' && d.itemsize() == 4) return Precision::f32;
  if (d.kind() == 'f' && d.itemsize() == 8) return Precision::f64;
  throw pybind11::type_error("dtype must be float32, float64, float16 or 'bfloat16', got " + text(d));
}

// The NumPy dtype of arrays holding factors stored as p (uint16 for bfloat16).
inline pybind11::dtype numpy_dtype(Precision p) {
  switch (p) {
    case Precision::f64:
      return pybind11::dtype::of<double>();
    case Precision::bf16:
      return pybind11::dtype::of<std::uint16_t>();
    case Precision::f16:
      return pybind11::dtype("float16");
    default:
      return pybind11::dtype::of<float>();
  }
}

// What an array of precision p is called in messages: bfloat16 arrays are uint16 on this side.
inline std::string array_text(Precision p) {
  return p == Precision::bf16 ? std::string("bfloat16 (uint16)") : std::string(to_string(p));
}

}  // namespace mfgrad::python
