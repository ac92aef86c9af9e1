/* The C interface of mfgrad::mpi used from C (compiled as strict C99, so mfgrad/mpi.h is proven C):
   a share by rows from this rank's COO part, a float64 plan, one evaluation. u and grad_u hold all m
   rows of U and of dF/dU: this rank reads and writes its own rows only. */
#include <mfgrad/mpi.h>

mfgrad_status c_rows_evaluate(MPI_Comm comm, int32_t rows, int32_t cols, int64_t count, const int32_t* row,
                              const int32_t* col, const double* value, int64_t k, const double* u, const double* v,
                              double lambda, double* grad_u, double* grad_v, double* loss) {
  mfgrad_mpi_share* share = NULL;
  mfgrad_mpi_plan* plan = NULL;
  int32_t begin = 0, end = 0;
  mfgrad_status status = mfgrad_mpi_share_from_coo(comm, rows, cols, count, row, col, value, MFGRAD_MPI_ROWS,
                                                   MFGRAD_DUPLICATES_ERROR, &share);
  if (status != MFGRAD_OK) return status;
  status = mfgrad_mpi_share_info(share, NULL, NULL, NULL, NULL, &begin, &end);
  if (status == MFGRAD_OK) status = mfgrad_mpi_plan_create(share, k, MFGRAD_FLOAT64, NULL, &plan);
  if (status == MFGRAD_OK)
    status = mfgrad_mpi_plan_evaluate_f64(plan, end - begin, cols, k, u + (int64_t)begin * k, v, lambda,
                                          grad_u + (int64_t)begin * k, grad_v, loss);
  mfgrad_mpi_plan_destroy(plan);
  mfgrad_mpi_share_destroy(share);
  return status;
}
