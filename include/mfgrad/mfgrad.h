/* mfgrad — the C interface: the masked matrix-factorization objective and its gradients, for C and
 * for every language that can call C (Fortran, Rust, Julia, Go, Python's ctypes, ...).
 *
 * Given the observed entries Ω of M (m x n) and factors U (m x k), V (n x k):
 *
 *     F(U,V) = 1/2 sum_{(i,j) in Ω} (M_ij - u_i.v_j)^2  +  lambda/2 (|U|_F^2 + |V|_F^2)
 *     dF/dU  = -R V   + lambda U        R_ij = M_ij - u_i.v_j on Ω, 0 elsewhere
 *     dF/dV  = -R^T U + lambda V
 *
 * Rows and columns with no observed entry still get lambda u_i and lambda v_j. The loss is summed in
 * double at every precision.
 *
 * Precisions. U and V are float32 or float64, or stored in 16 bits as bfloat16 or IEEE 754 float16
 * (uint16_t arrays holding the bit patterns, the layout of torch.bfloat16/float16 and NumPy's float16).
 * For 16-bit factors every product and sum is float32 and the gradients are float32 arrays: the
 * mixed-precision recipe of keeping float32 master weights, refreshing a 16-bit copy with
 * mfgrad_round_to_bf16 (or _f16) after each step and evaluating on that copy.
 *
 *     mfgrad_observed* obs;  mfgrad_plan* plan;  double loss;
 *     mfgrad_observed_from_coo(m, n, nnz, row, col, value, MFGRAD_DUPLICATES_ERROR, &obs);
 *     mfgrad_plan_create(obs, k, MFGRAD_FLOAT32, NULL, &plan);     // once per problem
 *     for (...)                                                     // as often as the optimizer likes
 *       mfgrad_plan_evaluate_f32(plan, m, n, k, U, V, lambda, gradU, gradV, &loss);
 *     mfgrad_plan_destroy(plan);  mfgrad_observed_destroy(obs);
 *
 * Errors. Every function that can fail returns an mfgrad_status, MFGRAD_OK (0) on success. After a
 * failure mfgrad_last_error() gives a one-line message naming what is wrong and where: for refused
 * data or shapes, exactly the message the C++ API's mfgrad::Error carries (for an invalid entry: its
 * position, row, column and value). A refused call writes nothing: *out handles, gradients and the
 * loss keep what they held. No C++ exception ever leaves these functions.
 *
 * Pointers. Every pointer argument must be non-NULL, except that an array of zero elements may be
 * NULL and the plan options may be NULL (defaults). A NULL where data is needed is refused with
 * MFGRAD_ERROR_INVALID_ARGUMENT, naming the argument.
 *
 * Layout. U, V, dF/dU, dF/dV are dense, row-major and contiguous: row i of U starts at U + i*k.
 * Ids are 0-based: row ids in [0, m), column ids in [0, n).
 *
 * Ownership. Arrays passed in are read during the call only: the observed data is copied into the
 * handle, factors and gradients are not kept after the call returns. Handles belong to the caller,
 * who releases them with the matching *_destroy function (which accepts NULL). A plan keeps its own
 * reference to the observed data, so the two may be destroyed in either order.
 *
 * Aliasing. gradU and gradV must not overlap each other, U or V (refused when they do). They are
 * overwritten and never read, so whatever they held before (NaN included) cannot reach the result.
 *
 * Threads. An mfgrad_observed is immutable and may be shared by any number of threads and plans. An
 * mfgrad_plan holds scratch memory and must be used by one thread at a time: give each concurrently
 * evaluating thread its own plan. A second evaluation started on a plan while one runs is refused
 * (MFGRAD_ERROR_INVALID_ARGUMENT, nothing written), never answered wrongly. mfgrad_last_error() is
 * per thread.
 *
 * Stability. Within one SONAME (libmfgrad.so.MAJOR.MINOR while the major version is 0) the functions
 * and types declared here keep their signatures and meaning; later versions only add to them.
 * mfgrad_plan_options may grow at its end: its struct_size field tells the library which version of
 * the structure the caller was compiled with, and fields the caller does not know keep their defaults.
 */
#ifndef MFGRAD_MFGRAD_H
#define MFGRAD_MFGRAD_H

#include <stddef.h>
#include <stdint.h>

#include "mfgrad/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Each enum ends with a *_MAX_ENUM that is not a value: it makes the enum as wide as int, so that any int
   a caller passes is a value the library may receive and refuse (MFGRAD_ERROR_INVALID_ARGUMENT). */
typedef enum mfgrad_status {
  MFGRAD_OK = 0,
  MFGRAD_ERROR_INVALID_ARGUMENT = 1, /* refused input: a NULL pointer, a size or shape that does not match,
                                        a negative or non-finite lambda, an id out of range, a NaN value,
                                        a duplicate entry, an unknown option value or implementation */
  MFGRAD_ERROR_FILE = 2,             /* a file could not be opened, read or written, or a wisdom file is
                                        malformed */
  MFGRAD_ERROR_OUT_OF_MEMORY = 3,    /* memory ran out, or would: building Ω or a plan needs more than the
                                         process may use (MFGRAD_MEMORY_LIMIT, the cgroup or rlimit, or the
                                         memory available); the message says what, how much and which limit */
  MFGRAD_ERROR_INTERNAL = 4,         /* anything else: a fault inside mfgrad; the message says what */
  MFGRAD_STATUS_MAX_ENUM = 0x7fffffff
} mfgrad_status;

/* What to do with two entries at the same (i, j). */
typedef enum mfgrad_duplicates {
  MFGRAD_DUPLICATES_ERROR = 0, /* refuse the data, naming both entries */
  MFGRAD_DUPLICATES_SUM = 1,   /* add their values */
  MFGRAD_DUPLICATES_LAST = 2,  /* keep the value that comes last in the input */
  MFGRAD_DUPLICATES_MAX_ENUM = 0x7fffffff
} mfgrad_duplicates;

typedef enum mfgrad_precision {
  MFGRAD_FLOAT32 = 0,
  MFGRAD_FLOAT64 = 1,
  MFGRAD_BFLOAT16 = 2, /* 16-bit storage: evaluate with mfgrad_plan_evaluate_bf16 */
  MFGRAD_FLOAT16 = 3,  /* 16-bit storage: evaluate with mfgrad_plan_evaluate_f16 */
  MFGRAD_PRECISION_MAX_ENUM = 0x7fffffff
} mfgrad_precision;

typedef enum mfgrad_plan_mode {
  MFGRAD_PLAN_ESTIMATE = 0, /* choose the implementation from the shape of the problem (instant) */
  MFGRAD_PLAN_MEASURE = 1,  /* time every candidate on this data once and keep the fastest */
  MFGRAD_PLAN_MODE_MAX_ENUM = 0x7fffffff
} mfgrad_plan_mode;

/* The observed entries Ω, validated and sorted once (opaque). */
typedef struct mfgrad_observed mfgrad_observed;

/* The implementation chosen for one (Ω, k, precision, threads), with its prepared layout (opaque). */
typedef struct mfgrad_plan mfgrad_plan;

/* The loaded library's version, "MAJOR.MINOR.PATCH"; a static string. */
const char* mfgrad_version(void);

/* The loaded library's version as numbers, to compare with the MFGRAD_VERSION_MAJOR/MINOR/PATCH of
   <mfgrad/version.h> that the caller was compiled with. Any pointer may be NULL. */
void mfgrad_version_numbers(int* major, int* minor, int* patch);

/* The message of the last call on this thread that failed; "" after a call that succeeded. Valid until
   the next mfgrad call on this thread. */
const char* mfgrad_last_error(void);

/* "ok", "invalid argument", "file", "out of memory", "internal"; "unknown status" for other values. */
const char* mfgrad_status_string(mfgrad_status status);

/* Ω from coordinate triplets: entry t is (row[t], col[t], value[t]), in any order, for a matrix of
   `rows` x `cols`. Refused: negative sizes, an id outside the matrix, a NaN or infinite value, and
   under MFGRAD_DUPLICATES_ERROR a repeated (i, j) — the message names the first such entry in input
   order. On success *out is a new handle. */
mfgrad_status mfgrad_observed_from_coo(int32_t rows, int32_t cols, int64_t nnz, const int32_t* row, const int32_t* col,
                                       const double* value, mfgrad_duplicates duplicates, mfgrad_observed** out);

/* Ω from compressed sparse rows: the entries of row i are positions row_ptr[i] .. row_ptr[i+1]-1 of
   col_idx and value (columns in any order within a row). row_ptr has rows + 1 elements, starts at 0
   and never decreases; nnz is row_ptr[rows]. Refused as for COO, and when row_ptr is malformed. */
mfgrad_status mfgrad_observed_from_csr(int32_t rows, int32_t cols, const int64_t* row_ptr, const int32_t* col_idx,
                                       const double* value, mfgrad_duplicates duplicates, mfgrad_observed** out);

/* The same with 32-bit row offsets (at most 2^31 - 1 entries), as many sparse libraries store them. */
mfgrad_status mfgrad_observed_from_csr32(int32_t rows, int32_t cols, const int32_t* row_ptr, const int32_t* col_idx,
                                         const double* value, mfgrad_duplicates duplicates, mfgrad_observed** out);

/* The shape of M and the number of retained entries (after merging duplicates). */
mfgrad_status mfgrad_observed_shape(const mfgrad_observed* observed, int32_t* rows, int32_t* cols, int64_t* nnz);

void mfgrad_observed_destroy(mfgrad_observed* observed);

typedef struct mfgrad_plan_options {
  size_t struct_size;           /* sizeof(mfgrad_plan_options) as compiled: set by mfgrad_plan_options_init */
  int32_t threads;              /* threads per evaluation; <= 0: every hardware thread (default 0); at
                                   most 64 per hardware thread and 4096 in all */
  mfgrad_plan_mode mode;        /* default MFGRAD_PLAN_ESTIMATE */
  const char* kernel;           /* NULL or "": let the plan choose (default); else an implementation's name,
                                   as `mfgrad kernels` lists them */
  double seconds_per_candidate; /* measure mode: timing budget per candidate, > 0 (default 0.3) */
  const char* wisdom_file;      /* NULL (default), or a file of earlier measured choices: read before planning
                                   when it exists, written back with this plan's choice afterwards */
  int32_t check_factors;        /* nonzero: refuse NaN or infinite entries in U or V at every evaluation
                                   (default 0: they propagate as IEEE 754 says) */
} mfgrad_plan_options;

/* Fills *options with the defaults above. */
mfgrad_status mfgrad_plan_options_init(mfgrad_plan_options* options);

/* A plan for factors with k columns at the given precision; options may be NULL for the defaults.
   Measure mode takes about seconds_per_candidate per candidate, once; estimate mode is instant. */
mfgrad_status mfgrad_plan_create(const mfgrad_observed* observed, int64_t k, mfgrad_precision precision,
                                 const mfgrad_plan_options* options, mfgrad_plan** out);

void mfgrad_plan_destroy(mfgrad_plan* plan);

/* One evaluation: F into *loss, dF/dU into grad_u (m x k) and dF/dV into grad_v (n x k). m, n, k state
   the shape of the caller's arrays — u and grad_u are m x k, v and grad_v are n x k — and must be those
   of the plan's data and k; the precision must be the plan's. lambda must be finite and >= 0. */
mfgrad_status mfgrad_plan_evaluate_f32(mfgrad_plan* plan, int64_t m, int64_t n, int64_t k, const float* u,
                                       const float* v, double lambda, float* grad_u, float* grad_v, double* loss);
mfgrad_status mfgrad_plan_evaluate_f64(mfgrad_plan* plan, int64_t m, int64_t n, int64_t k, const double* u,
                                       const double* v, double lambda, double* grad_u, double* grad_v, double* loss);

/* The same for a plan made with MFGRAD_BFLOAT16 or MFGRAD_FLOAT16: u and v hold the factors' 16-bit
   patterns, the gradients are float32. */
mfgrad_status mfgrad_plan_evaluate_bf16(mfgrad_plan* plan, int64_t m, int64_t n, int64_t k, const uint16_t* u,
                                        const uint16_t* v, double lambda, float* grad_u, float* grad_v, double* loss);
mfgrad_status mfgrad_plan_evaluate_f16(mfgrad_plan* plan, int64_t m, int64_t n, int64_t k, const uint16_t* u,
                                       const uint16_t* v, double lambda, float* grad_u, float* grad_v, double* loss);

/* Conversions of count elements, vectorised, on `threads` threads (<= 0: as many as OpenMP offers).
   round_to: out[x] = in[x] rounded to nearest, ties to even (NaN stays NaN, a value beyond the format's
   range becomes an infinity) — the refresh of a 16-bit copy after an optimizer step. widen: out[x] = the
   exact float32 value of in[x]. in and out must not overlap (refused when they do). */
mfgrad_status mfgrad_round_to_bf16(const float* in, int64_t count, uint16_t* out, int32_t threads);
mfgrad_status mfgrad_round_to_f16(const float* in, int64_t count, uint16_t* out, int32_t threads);
mfgrad_status mfgrad_widen_bf16(const uint16_t* in, int64_t count, float* out, int32_t threads);
mfgrad_status mfgrad_widen_f16(const uint16_t* in, int64_t count, float* out, int32_t threads);

/* The implementation the plan runs (with its cache-size variant when not the default), and why it was
   chosen. The strings belong to the plan and live as long as it does. */
mfgrad_status mfgrad_plan_choice(const mfgrad_plan* plan, const char** choice);
mfgrad_status mfgrad_plan_reason(const mfgrad_plan* plan, const char** reason);

/* The number of threads each evaluation of the plan uses. */
mfgrad_status mfgrad_plan_threads(const mfgrad_plan* plan, int32_t* threads);

#ifdef __cplusplus
}
#endif

#endif /* MFGRAD_MFGRAD_H */
