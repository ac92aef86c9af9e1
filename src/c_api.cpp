// The C interface (include/mfgrad/mfgrad.h) over the C++ API: argument checks the C++ types cannot
// express (NULL pointers, negative sizes, option structures), and every exception turned into a status
// and a per-thread message before it can reach C.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <exception>
#include <filesystem>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "c_precision.hpp"
#include "format.hpp"
#include "mfgrad/half.hpp"
#include "mfgrad/mfgrad.h"
#include "mfgrad/observed.hpp"
#include "mfgrad/plan.hpp"
#include "mfgrad/version.h"

struct mfgrad_observed {
  std::shared_ptr<const mfgrad::Observed> observed;
};

struct mfgrad_plan {
  std::shared_ptr<const mfgrad::Observed> observed;  // keeps Ω alive for as long as the plan
  mfgrad::Plan plan;
  std::string choice;
  bool check_factors;
};

namespace {

// A refusal decided here, with its status; mfgrad::Error from the library is taken as an invalid argument.
struct Failure {
  mfgrad_status status;
  std::string message;
};

thread_local std::string last_message;
thread_local const char* last_fixed = nullptr;  // used when the message itself could not be stored

// Records the message of the call that just ended ("" after a success). Never throws: the handlers
// below run inside noexcept functions.
void remember(const char* prefix, const char* text) noexcept {
  try {
    last_message.assign(prefix);
    last_message.append(text);
    last_fixed = nullptr;
  } catch (...) {
    last_fixed = "out of memory (while recording an error message)";
  }
}

template <class Body>
mfgrad_status guarded(Body&& body) noexcept {
  try {
    body();
    remember("", "");
    return MFGRAD_OK;
  } catch (const Failure& f) {
    remember("", f.message.c_str());
    return f.status;
  } catch (const mfgrad::OutOfMemory& e) {
    remember("", e.what());
    return MFGRAD_ERROR_OUT_OF_MEMORY;
  } catch (const mfgrad::FileError& e) {
    remember("", e.what());
    return MFGRAD_ERROR_FILE;
  } catch (const mfgrad::Error& e) {
    remember("", e.what());
    return MFGRAD_ERROR_INVALID_ARGUMENT;
  } catch (const std::bad_alloc&) {
    remember("", "out of memory");
    return MFGRAD_ERROR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    remember("internal error: ", e.what());
    return MFGRAD_ERROR_INTERNAL;
  } catch (...) {
    remember("internal error: ", "an exception of unknown type");
    return MFGRAD_ERROR_INTERNAL;
  }
}

[[noreturn]] void refuse(const char* function, const std::string& what) {
  throw Failure{MFGRAD_ERROR_INVALID_ARGUMENT, std::string(function) + ": " + what};
}

void require(const char* function, const void* pointer, const char* name) {
  if (pointer == nullptr) refuse(function, std::string("argument '") + name + "' is NULL");
}

// An array of `count` elements may be NULL only when it is empty.
void require_array(const char* function, const void* pointer, const char* name, std::int64_t count) {
  if (pointer == nullptr && count > 0)
    refuse(function,
           std::string("argument '") + name + "' is NULL but must hold " + std::to_string(count) + " elements");
}

void require_shape(const char* function, std::int32_t rows, std::int32_t cols) {
  if (rows < 0 || cols < 0)
    refuse(function, "matrix shape " + std::to_string(rows) + " x " + std::to_string(cols) + " is negative");
}

mfgrad::DuplicatePolicy duplicate_policy(const char* function, mfgrad_duplicates d) {
  switch (d) {
    case MFGRAD_DUPLICATES_ERROR:
      return mfgrad::DuplicatePolicy::error;
    case MFGRAD_DUPLICATES_SUM:
      return mfgrad::DuplicatePolicy::sum;
    case MFGRAD_DUPLICATES_LAST:
      return mfgrad::DuplicatePolicy::last;
    case MFGRAD_DUPLICATES_MAX_ENUM:
      break;
  }
  refuse(function, "duplicates is " + std::to_string(static_cast<int>(d)) +
                       ", not one of MFGRAD_DUPLICATES_ERROR (0), _SUM (1), _LAST (2)");
}

// Entries of the given shape, filled by `fill`, validated and sorted into a new handle.
template <class Fill>
void build(std::int32_t rows, std::int32_t cols, mfgrad::DuplicatePolicy policy, mfgrad_observed** out, Fill&& fill) {
  mfgrad::Entries e;
  e.rows = rows;
  e.cols = cols;
  fill(e);
  auto observed = std::make_shared<const mfgrad::Observed>(mfgrad::Observed::build(e, policy));
  *out = new mfgrad_observed{std::move(observed)};
}

// Wisdom files fail as files (the library's messages name the path), whatever the exception's type.
template <class Body>
void with_file(Body&& body) {
  try {
    body();
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const mfgrad::OutOfMemory&) {
    throw;
  } catch (const std::exception& e) {
    throw Failure{MFGRAD_ERROR_FILE, e.what()};
  }
}

mfgrad_plan_options default_options() noexcept {
  const mfgrad::PlanOptions defaults;
  mfgrad_plan_options o{};
  o.struct_size = sizeof(mfgrad_plan_options);
  o.threads = defaults.threads;
  o.mode = MFGRAD_PLAN_ESTIMATE;
  o.kernel = nullptr;
  o.seconds_per_candidate = defaults.seconds_per_candidate;
  o.wisdom_file = nullptr;
  o.check_factors = 0;
  return o;
}

// The caller's options, read up to the size of the structure it was compiled with; the rest default.
mfgrad::PlanOptions plan_options(const char* function, const mfgrad_plan_options* given, std::string* wisdom,
                                 bool* check_factors) {
  mfgrad_plan_options o = default_options();
  if (given != nullptr) {
    constexpr std::size_t first_version = offsetof(mfgrad_plan_options, check_factors) + sizeof(o.check_factors);
    if (given->struct_size < first_version || given->struct_size > sizeof(o))
      refuse(function, "options->struct_size is " + std::to_string(given->struct_size) +
                           ", not a size of "
                           "mfgrad_plan_options this library knows (" +
                           std::to_string(sizeof(o)) + "): fill the options with mfgrad_plan_options_init first");
    std::memcpy(&o, given, given->struct_size);
  }
  mfgrad::PlanOptions p;
  p.threads = o.threads;
  if (o.mode == MFGRAD_PLAN_ESTIMATE)
    p.mode = mfgrad::PlanMode::estimate;
  else if (o.mode == MFGRAD_PLAN_MEASURE)
    p.mode = mfgrad::PlanMode::measure;
  else
    refuse(function, "options->mode is " + std::to_string(static_cast<int>(o.mode)) +
                         ", not MFGRAD_PLAN_ESTIMATE (0) or MFGRAD_PLAN_MEASURE (1)");
  if (!(std::isfinite(o.seconds_per_candidate) && o.seconds_per_candidate > 0))
    refuse(function, "options->seconds_per_candidate is " + mfgrad::format_number(o.seconds_per_candidate) +
                         "; it must be a finite number of seconds above 0");
  p.seconds_per_candidate = o.seconds_per_candidate;
  if (o.kernel != nullptr) p.kernel = o.kernel;
  if (o.wisdom_file != nullptr) {
    if (*o.wisdom_file == '\0') refuse(function, "options->wisdom_file is empty; give a path or NULL");
    *wisdom = o.wisdom_file;
  }
  *check_factors = o.check_factors != 0;
  return p;
}

// S: the factors' element type as the C++ API knows it; C passes 16-bit factors as uint16_t arrays.
template <class S, class T, class G>
mfgrad_status evaluate(const char* function, mfgrad_plan* plan, std::int64_t m, std::int64_t n, std::int64_t k,
                       const T* u, const T* v, double lambda, G* grad_u, G* grad_v, double* loss) noexcept {
  static_assert(sizeof(S) == sizeof(T) && std::is_same_v<G, mfgrad::compute_t<S>>);
  return guarded([&] {
    require(function, plan, "plan");
    require(function, loss, "loss");
    if (m < 0 || n < 0 || k < 0)
      refuse(function, "shape m = " + std::to_string(m) + ", n = " + std::to_string(n) + ", k = " + std::to_string(k) +
                           " is negative");
    // The plan checks the rest, with the C++ API's messages: precision, k and the shapes against its
    // own before any size is used, then NULL arrays, λ and overlaps.
    const auto rows_u = static_cast<std::size_t>(m), rows_v = static_cast<std::size_t>(n);
    const auto cols = static_cast<std::size_t>(k);
    const auto* us = reinterpret_cast<const S*>(u);
    const auto* vs = reinterpret_cast<const S*>(v);
    const double f = plan->plan.evaluate<S>({us, rows_u, cols}, {vs, rows_v, cols}, lambda, {grad_u, rows_u, cols},
                                            {grad_v, rows_v, cols}, {.check_factors = plan->check_factors});
    *loss = f;
  });
}

// round_to or widen over C arrays of `count` elements; the library's refusals (overlap) name the function.
template <class In, class Out, class Convert>
mfgrad_status convert(const char* function, const In* in, std::int64_t count, Out* out, Convert&& body) noexcept {
  return guarded([&] {
    if (count < 0) refuse(function, "count is " + std::to_string(count) + "; it must be at least 0");
    require_array(function, in, "in", count);
    require_array(function, out, "out", count);
    if (count == 0) return;
    try {
      body(static_cast<std::size_t>(count));
    } catch (const mfgrad::Error& e) {
      refuse(function, e.what());
    }
  });
}

}  // namespace

namespace {

// Both offset widths: the offsets are checked here, in order, before col_idx and value are read, so
// that a row_ptr claiming more entries than any array could hold is refused, not allocated for.
template <class Offset>
mfgrad_status observed_from_csr(const char* fn, int32_t rows, int32_t cols, const Offset* row_ptr,
                                const int32_t* col_idx, const double* value, mfgrad_duplicates duplicates,
                                mfgrad_observed** out) {
  return guarded([&] {
    require(fn, out, "out");
    require_shape(fn, rows, cols);
    require(fn, row_ptr, "row_ptr");
    if (row_ptr[0] != 0) refuse(fn, "row_ptr[0] is " + std::to_string(row_ptr[0]) + " but must be 0");
    for (std::int32_t i = 0; i < rows; ++i)
      if (row_ptr[i + 1] < row_ptr[i])
        refuse(fn, "row_ptr decreases at row " + std::to_string(i) + ": row_ptr[" + std::to_string(i) +
                       "] = " + std::to_string(row_ptr[i]) + " > row_ptr[" + std::to_string(i + 1) +
                       "] = " + std::to_string(row_ptr[i + 1]));
    const std::int64_t nnz = row_ptr[rows];
    constexpr std::int64_t most = PTRDIFF_MAX / static_cast<std::int64_t>(sizeof(double));
    if (nnz > most)
      refuse(fn, "row_ptr[" + std::to_string(rows) + "] = " + std::to_string(nnz) +
                     " entries: more than an array of doubles can hold in this address space");
    require_array(fn, col_idx, "col_idx", nnz);
    require_array(fn, value, "value", nnz);
    const auto n = static_cast<std::size_t>(nnz);
    const mfgrad::DuplicatePolicy policy = duplicate_policy(fn, duplicates);
    auto observed = std::make_shared<const mfgrad::Observed>(mfgrad::Observed::from_csr<Offset>(
        rows, cols, {row_ptr, static_cast<std::size_t>(rows) + 1}, {col_idx, n}, {value, n}, policy));
    *out = new mfgrad_observed{std::move(observed)};
  });
}

}  // namespace

extern "C" {

const char* mfgrad_version(void) { return MFGRAD_VERSION_STRING; }

void mfgrad_version_numbers(int* major, int* minor, int* patch) {
  if (major != nullptr) *major = MFGRAD_VERSION_MAJOR;
  if (minor != nullptr) *minor = MFGRAD_VERSION_MINOR;
  if (patch != nullptr) *patch = MFGRAD_VERSION_PATCH;
}

const char* mfgrad_last_error(void) { return last_fixed != nullptr ? last_fixed : last_message.c_str(); }

const char* mfgrad_status_string(mfgrad_status status) {
  switch (status) {
    case MFGRAD_OK:
      return "ok";
    case MFGRAD_ERROR_INVALID_ARGUMENT:
      return "invalid argument";
    case MFGRAD_ERROR_FILE:
      return "file";
    case MFGRAD_ERROR_OUT_OF_MEMORY:
      return "out of memory";
    case MFGRAD_ERROR_INTERNAL:
      return "internal";
    case MFGRAD_STATUS_MAX_ENUM:
      break;
  }
  return "unknown status";
}

mfgrad_status mfgrad_observed_from_coo(int32_t rows, int32_t cols, int64_t nnz, const int32_t* row, const int32_t* col,
                                       const double* value, mfgrad_duplicates duplicates, mfgrad_observed** out) {
  static constexpr const char* fn = "mfgrad_observed_from_coo";
  return guarded([&] {
    require(fn, out, "out");
    require_shape(fn, rows, cols);
    if (nnz < 0) refuse(fn, "nnz is " + std::to_string(nnz) + "; it must be at least 0");
    require_array(fn, row, "row", nnz);
    require_array(fn, col, "col", nnz);
    require_array(fn, value, "value", nnz);
    build(rows, cols, duplicate_policy(fn, duplicates), out, [&](mfgrad::Entries& e) {
      if (nnz == 0) return;
      e.row.assign(row, row + nnz);
      e.col.assign(col, col + nnz);
      e.value.assign(value, value + nnz);
    });
  });
}

mfgrad_status mfgrad_observed_from_csr(int32_t rows, int32_t cols, const int64_t* row_ptr, const int32_t* col_idx,
                                       const double* value, mfgrad_duplicates duplicates, mfgrad_observed** out) {
  return observed_from_csr("mfgrad_observed_from_csr", rows, cols, row_ptr, col_idx, value, duplicates, out);
}

mfgrad_status mfgrad_observed_from_csr32(int32_t rows, int32_t cols, const int32_t* row_ptr, const int32_t* col_idx,
                                         const double* value, mfgrad_duplicates duplicates, mfgrad_observed** out) {
  return observed_from_csr("mfgrad_observed_from_csr32", rows, cols, row_ptr, col_idx, value, duplicates, out);
}

mfgrad_status mfgrad_observed_shape(const mfgrad_observed* observed, int32_t* rows, int32_t* cols, int64_t* nnz) {
  static constexpr const char* fn = "mfgrad_observed_shape";
  return guarded([&] {
    require(fn, observed, "observed");
    require(fn, rows, "rows");
    require(fn, cols, "cols");
    require(fn, nnz, "nnz");
    *rows = observed->observed->rows();
    *cols = observed->observed->cols();
    *nnz = observed->observed->nnz();
  });
}

void mfgrad_observed_destroy(mfgrad_observed* observed) { delete observed; }

mfgrad_status mfgrad_plan_options_init(mfgrad_plan_options* options) {
  return guarded([&] {
    require("mfgrad_plan_options_init", options, "options");
    *options = default_options();
  });
}

mfgrad_status mfgrad_plan_create(const mfgrad_observed* observed, int64_t k, mfgrad_precision precision,
                                 const mfgrad_plan_options* options, mfgrad_plan** out) {
  static constexpr const char* fn = "mfgrad_plan_create";
  return guarded([&] {
    require(fn, observed, "observed");
    require(fn, out, "out");
    const mfgrad::Observed& obs = *observed->observed;
    // The upper bound on k, the threads and the memory are the library's (the Plan checks them).
    if (k < 1) refuse(fn, "k is " + std::to_string(k) + "; it must be at least 1");
    const std::optional<mfgrad::Precision> p = mfgrad::detail::precision_of(precision);
    if (!p)
      refuse(fn, "precision is " + std::to_string(static_cast<int>(precision)) + ", not " +
                     mfgrad::detail::kPrecisionValues);
    std::string wisdom;
    bool check_factors = false;
    const mfgrad::PlanOptions po = plan_options(fn, options, &wisdom, &check_factors);
    if (!wisdom.empty())
      with_file([&] {
        if (std::filesystem::exists(wisdom)) mfgrad::Plan::load_wisdom(wisdom);
      });
    mfgrad::Plan plan(obs, static_cast<std::size_t>(k), *p, po);
    if (!wisdom.empty()) with_file([&] { mfgrad::Plan::save_wisdom(wisdom); });
    std::string choice = plan.choice();
    *out = new mfgrad_plan{observed->observed, std::move(plan), std::move(choice), check_factors};
  });
}

void mfgrad_plan_destroy(mfgrad_plan* plan) { delete plan; }

mfgrad_status mfgrad_plan_evaluate_f32(mfgrad_plan* plan, int64_t m, int64_t n, int64_t k, const float* u,
                                       const float* v, double lambda, float* grad_u, float* grad_v, double* loss) {
  return evaluate<float>("mfgrad_plan_evaluate_f32", plan, m, n, k, u, v, lambda, grad_u, grad_v, loss);
}

mfgrad_status mfgrad_plan_evaluate_f64(mfgrad_plan* plan, int64_t m, int64_t n, int64_t k, const double* u,
                                       const double* v, double lambda, double* grad_u, double* grad_v, double* loss) {
  return evaluate<double>("mfgrad_plan_evaluate_f64", plan, m, n, k, u, v, lambda, grad_u, grad_v, loss);
}

mfgrad_status mfgrad_plan_evaluate_bf16(mfgrad_plan* plan, int64_t m, int64_t n, int64_t k, const uint16_t* u,
                                        const uint16_t* v, double lambda, float* grad_u, float* grad_v, double* loss) {
  return evaluate<mfgrad::bfloat16>("mfgrad_plan_evaluate_bf16", plan, m, n, k, u, v, lambda, grad_u, grad_v, loss);
}

mfgrad_status mfgrad_plan_evaluate_f16(mfgrad_plan* plan, int64_t m, int64_t n, int64_t k, const uint16_t* u,
                                       const uint16_t* v, double lambda, float* grad_u, float* grad_v, double* loss) {
  return evaluate<mfgrad::float16>("mfgrad_plan_evaluate_f16", plan, m, n, k, u, v, lambda, grad_u, grad_v, loss);
}

mfgrad_status mfgrad_round_to_bf16(const float* in, int64_t count, uint16_t* out, int32_t threads) {
  return convert("mfgrad_round_to_bf16", in, count, out, [&](std::size_t c) {
    mfgrad::round_to({in, c}, {reinterpret_cast<mfgrad::bfloat16*>(out), c}, threads);
  });
}

mfgrad_status mfgrad_round_to_f16(const float* in, int64_t count, uint16_t* out, int32_t threads) {
  return convert("mfgrad_round_to_f16", in, count, out, [&](std::size_t c) {
    mfgrad::round_to({in, c}, {reinterpret_cast<mfgrad::float16*>(out), c}, threads);
  });
}

mfgrad_status mfgrad_widen_bf16(const uint16_t* in, int64_t count, float* out, int32_t threads) {
  return convert("mfgrad_widen_bf16", in, count, out, [&](std::size_t c) {
    mfgrad::widen({reinterpret_cast<const mfgrad::bfloat16*>(in), c}, {out, c}, threads);
  });
}

mfgrad_status mfgrad_widen_f16(const uint16_t* in, int64_t count, float* out, int32_t threads) {
  return convert("mfgrad_widen_f16", in, count, out, [&](std::size_t c) {
    mfgrad::widen({reinterpret_cast<const mfgrad::float16*>(in), c}, {out, c}, threads);
  });
}

mfgrad_status mfgrad_plan_choice(const mfgrad_plan* plan, const char** choice) {
  return guarded([&] {
    require("mfgrad_plan_choice", plan, "plan");
    require("mfgrad_plan_choice", choice, "choice");
    *choice = plan->choice.c_str();
  });
}

mfgrad_status mfgrad_plan_reason(const mfgrad_plan* plan, const char** reason) {
  return guarded([&] {
    require("mfgrad_plan_reason", plan, "plan");
    require("mfgrad_plan_reason", reason, "reason");
    *reason = plan->plan.reason().c_str();
  });
}

mfgrad_status mfgrad_plan_threads(const mfgrad_plan* plan, int32_t* threads) {
  return guarded([&] {
    require("mfgrad_plan_threads", plan, "plan");
    require("mfgrad_plan_threads", threads, "threads");
    *threads = plan->plan.threads();
  });
}

}  // extern "C"
