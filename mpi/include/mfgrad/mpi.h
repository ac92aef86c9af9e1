/* mfgrad — the evaluation over the ranks of an MPI communicator, for C (mfgrad::mpi, mfgrad/mpi.hpp).
 *
 * Rows (or columns) of Ω are split across the ranks, balanced on entries; each rank holds its rows of
 * the partitioned factor and all of the other one (docs/mpi.md). Every function that takes a
 * communicator, a share or a plan is collective: every rank of the communicator calls it, in the same
 * order. A failure on any rank — a bad entry in its part, arrays of the wrong shape — is returned by
 * every rank with the same status, and mfgrad_mpi_last_error() names the rank and what went wrong, so
 * that no rank is left waiting. Status codes are mfgrad.h's. Link: pkg-config mfgrad-mpi.
 */
#ifndef MFGRAD_MPI_H
#define MFGRAD_MPI_H

/* MPI's C interface only (Open MPI's and MPICH's C++ bindings would need one more library). */
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include "mfgrad/mfgrad.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mfgrad_mpi_partition {
  MFGRAD_MPI_AUTO = 0,    /* rows when n <= m (or on one rank), columns otherwise */
  MFGRAD_MPI_ROWS = 1,    /* each rank owns rows of Ω, U and dF/dU; V is replicated, dF/dV reduced */
  MFGRAD_MPI_COLUMNS = 2, /* each rank owns columns of Ω, V and dF/dV; U is replicated, dF/dU reduced */
  MFGRAD_MPI_PARTITION_MAX_ENUM = 0x7fffffff
} mfgrad_mpi_partition;

/* This rank's share of Ω (immutable once made). */
typedef struct mfgrad_mpi_share mfgrad_mpi_share;
/* A node-local plan on this rank's block and the reduction. */
typedef struct mfgrad_mpi_plan mfgrad_mpi_plan;

/* The message of the last failed call on this thread ("" when none). */
const char* mfgrad_mpi_last_error(void);

/* A generator preset ("tiny", "netflix-25m", ...) or a ratings file: each rank generates or reads only
   its own part. */
mfgrad_status mfgrad_mpi_share_load(MPI_Comm comm, const char* what, mfgrad_mpi_partition partition,
                                    mfgrad_mpi_share** out);

/* This rank's part of Ω as COO triplets with global 0-based ids of a rows x cols matrix (any part: the
   union over the ranks is Ω, in rank order as its input order). */
mfgrad_status mfgrad_mpi_share_from_coo(MPI_Comm comm, int32_t rows, int32_t cols, int64_t count, const int32_t* row,
                                        const int32_t* col, const double* value, mfgrad_mpi_partition partition,
                                        mfgrad_duplicates duplicates, mfgrad_mpi_share** out);

/* The whole matrix's shape and entries, the side it was cut on (ROWS or COLUMNS), and the ids this rank
   owns on that side: begin .. end - 1. Any output pointer may be NULL. Not collective. */
mfgrad_status mfgrad_mpi_share_info(const mfgrad_mpi_share* share, int32_t* rows, int32_t* cols, int64_t* nnz,
                                    mfgrad_mpi_partition* side, int32_t* begin, int32_t* end);

void mfgrad_mpi_share_destroy(mfgrad_mpi_share* share);

/* A plan for float32, float64, bfloat16 or float16 factors with k columns; options (NULL: the defaults) serve the
   node-local plan: threads, mode, kernel, seconds_per_candidate, check_factors (wisdom_file must be NULL).
   The plan keeps its own copy of the share. */
mfgrad_status mfgrad_mpi_plan_create(const mfgrad_mpi_share* share, int64_t k, mfgrad_precision precision,
                                     const mfgrad_plan_options* options, mfgrad_mpi_plan** out);

void mfgrad_mpi_plan_destroy(mfgrad_mpi_plan* plan);

/* One evaluation of the whole Ω. m x k and n x k are the caller's arrays: for ROWS, u and grad_u are this
   rank's rows (m = end - begin) and v and grad_v all n rows of V; for COLUMNS, u and grad_u all m rows of
   U and v and grad_v this rank's rows of V (n = end - begin). F goes to *loss, the same on every rank. */
mfgrad_status mfgrad_mpi_plan_evaluate_f32(mfgrad_mpi_plan* plan, int64_t m, int64_t n, int64_t k, const float* u,
                                           const float* v, double lambda, float* grad_u, float* grad_v, double* loss);
mfgrad_status mfgrad_mpi_plan_evaluate_f64(mfgrad_mpi_plan* plan, int64_t m, int64_t n, int64_t k, const double* u,
                                           const double* v, double lambda, double* grad_u, double* grad_v,
                                           double* loss);
/* 16-bit factors (MFGRAD_BFLOAT16 / MFGRAD_FLOAT16 plans) as their uint16_t bits, float32 gradients. */
mfgrad_status mfgrad_mpi_plan_evaluate_bf16(mfgrad_mpi_plan* plan, int64_t m, int64_t n, int64_t k, const uint16_t* u,
                                            const uint16_t* v, double lambda, float* grad_u, float* grad_v,
                                            double* loss);
mfgrad_status mfgrad_mpi_plan_evaluate_f16(mfgrad_mpi_plan* plan, int64_t m, int64_t n, int64_t k, const uint16_t* u,
                                           const uint16_t* v, double lambda, float* grad_u, float* grad_v,
                                           double* loss);

/* Of the latest evaluation: this rank's compute and communication seconds, the slowest rank's compute
   divided by the mean, and the bytes this rank sent. Any output pointer may be NULL. Not collective. */
mfgrad_status mfgrad_mpi_plan_stats(const mfgrad_mpi_plan* plan, double* compute_seconds, double* communication_seconds,
                                    double* imbalance, uint64_t* bytes_sent);

#ifdef __cplusplus
}
#endif

#endif /* MFGRAD_MPI_H */
