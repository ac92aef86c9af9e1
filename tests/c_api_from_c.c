/* The C interface called from C: this file is compiled as strict C99, so the header must be C, and it
   checks one small evaluation against the formula written out directly in double. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mfgrad/mfgrad.h"

int mfgrad_test_from_c(char* message, size_t size);

enum { M = 4, N = 3, K = 2, NNZ = 6 };

int mfgrad_test_from_c(char* message, size_t size) {
  const int32_t row[NNZ] = {0, 0, 1, 2, 2, 3};
  const int32_t col[NNZ] = {0, 2, 1, 0, 1, 2};
  const double value[NNZ] = {4.0, 1.5, 3.0, 5.0, 2.0, 3.5};
  const double u[M * K] = {0.3, -0.2, 0.5, 0.1, -0.4, 0.6, 0.2, 0.2};
  const double v[N * K] = {0.7, 0.1, -0.3, 0.9, 0.4, -0.5};
  const double lambda = 0.25;
  double gu[M * K], gv[N * K], want_gu[M * K], want_gv[N * K], loss = 0, want_loss = 0;
  mfgrad_observed* obs = NULL;
  mfgrad_plan* plan = NULL;
  mfgrad_status s;
  int t, l, failed = 0;

  /* F = ½ Σ r² + λ/2 (|U|² + |V|²),  ∂U = λU − R V,  ∂V = λV − Rᵀ U */
  for (t = 0; t < M * K; ++t) {
    want_gu[t] = lambda * u[t];
    want_loss += 0.5 * lambda * u[t] * u[t];
  }
  for (t = 0; t < N * K; ++t) {
    want_gv[t] = lambda * v[t];
    want_loss += 0.5 * lambda * v[t] * v[t];
  }
  for (t = 0; t < NNZ; ++t) {
    double r = value[t];
    for (l = 0; l < K; ++l) r -= u[row[t] * K + l] * v[col[t] * K + l];
    want_loss += 0.5 * r * r;
    for (l = 0; l < K; ++l) {
      want_gu[row[t] * K + l] -= r * v[col[t] * K + l];
      want_gv[col[t] * K + l] -= r * u[row[t] * K + l];
    }
  }

  s = mfgrad_observed_from_coo(M, N, NNZ, row, col, value, MFGRAD_DUPLICATES_ERROR, &obs);
  if (s == MFGRAD_OK) s = mfgrad_plan_create(obs, K, MFGRAD_FLOAT64, NULL, &plan);
  if (s == MFGRAD_OK) s = mfgrad_plan_evaluate_f64(plan, M, N, K, u, v, lambda, gu, gv, &loss);
  if (s != MFGRAD_OK) {
    snprintf(message, size, "status %d (%s): %s", (int)s, mfgrad_status_string(s), mfgrad_last_error());
    failed = 1;
  }
  /* Every value here is a sum of at most 8 double terms of magnitude below 10: rounding stays below
     1e-14, and a missing or wrong term moves a value by more than 1e-3. */
  if (!failed && fabs(loss - want_loss) > 1e-12 * (1 + fabs(want_loss))) {
    snprintf(message, size, "loss %.17g, formula %.17g", loss, want_loss);
    failed = 1;
  }
  for (t = 0; !failed && t < M * K; ++t)
    if (fabs(gu[t] - want_gu[t]) > 1e-12) {
      snprintf(message, size, "grad_u[%d] = %.17g, formula %.17g", t, gu[t], want_gu[t]);
      failed = 1;
    }
  for (t = 0; !failed && t < N * K; ++t)
    if (fabs(gv[t] - want_gv[t]) > 1e-12) {
      snprintf(message, size, "grad_v[%d] = %.17g, formula %.17g", t, gv[t], want_gv[t]);
      failed = 1;
    }

  /* A refused call from C: status and message, nothing written. */
  if (!failed) {
    double kept = loss;
    s = mfgrad_plan_evaluate_f64(plan, M, N, K, u, v, NAN, gu, gv, &loss);
    if (s != MFGRAD_ERROR_INVALID_ARGUMENT || strstr(mfgrad_last_error(), "lambda") == NULL || loss != kept) {
      snprintf(message, size, "NaN lambda gave status %d, message '%s', loss %g", (int)s, mfgrad_last_error(), loss);
      failed = 1;
    }
  }
  mfgrad_plan_destroy(plan);
  mfgrad_observed_destroy(obs);
  return failed;
}
