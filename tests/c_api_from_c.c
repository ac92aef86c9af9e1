/* The C interface called from C: this file is compiled as strict C99, so the header must be C, and it
   checks one small evaluation against the formula written out directly in double, in float64 and with
   the factors stored as bfloat16. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mfgrad/mfgrad.h"

int mfgrad_test_from_c(char* message, size_t size);

enum { M = 4, N = 3, K = 2, NNZ = 6 };

/* F, dF/dU and dF/dV by the formula, in double. */
static double formula(const int32_t* row, const int32_t* col, const double* value, const double* u, const double* v,
                      double lambda, double* gu, double* gv) {
  double loss = 0;
  int t, l;
  /* F = ½ Σ r² + λ/2 (|U|² + |V|²),  ∂U = λU − R V,  ∂V = λV − Rᵀ U */
  for (t = 0; t < M * K; ++t) {
    gu[t] = lambda * u[t];
    loss += 0.5 * lambda * u[t] * u[t];
  }
  for (t = 0; t < N * K; ++t) {
    gv[t] = lambda * v[t];
    loss += 0.5 * lambda * v[t] * v[t];
  }
  for (t = 0; t < NNZ; ++t) {
    double r = value[t];
    for (l = 0; l < K; ++l) r -= u[row[t] * K + l] * v[col[t] * K + l];
    loss += 0.5 * r * r;
    for (l = 0; l < K; ++l) {
      gu[row[t] * K + l] -= r * v[col[t] * K + l];
      gv[col[t] * K + l] -= r * u[row[t] * K + l];
    }
  }
  return loss;
}

/* Nonzero, with the message filled, when the loss differs from the formula's by more than
   tolerance·(1 + |loss|) or a gradient element by more than tolerance. */
static int differs(const char* label, double loss, double want_loss, const double* gu, const double* want_gu,
                   const double* gv, const double* want_gv, double tolerance, char* message, size_t size) {
  int t;
  if (fabs(loss - want_loss) > tolerance * (1 + fabs(want_loss))) {
    snprintf(message, size, "%s: loss %.17g, formula %.17g", label, loss, want_loss);
    return 1;
  }
  for (t = 0; t < M * K; ++t)
    if (fabs(gu[t] - want_gu[t]) > tolerance) {
      snprintf(message, size, "%s: grad_u[%d] = %.17g, formula %.17g", label, t, gu[t], want_gu[t]);
      return 1;
    }
  for (t = 0; t < N * K; ++t)
    if (fabs(gv[t] - want_gv[t]) > tolerance) {
      snprintf(message, size, "%s: grad_v[%d] = %.17g, formula %.17g", label, t, gv[t], want_gv[t]);
      return 1;
    }
  return 0;
}

/* The same data with U and V stored as bfloat16: rounded by mfgrad_round_to_bf16, read back exactly by
   mfgrad_widen_bf16, evaluated with float32 gradients. The formula on the widened values is the answer;
   float32 sums of at most 8 terms below 10 stay within 1e-4 of it, a wrong term moves it by over 1e-3.
   Returns nonzero, with the message filled, on failure. */
static int check_bfloat16(mfgrad_observed* obs, const int32_t* row, const int32_t* col, const double* value,
                          const double* u, const double* v, double lambda, char* message, size_t size) {
  float u32[M * K], v32[N * K], gu[M * K], gv[N * K], wide_u[M * K], wide_v[N * K];
  uint16_t ub[M * K], vb[N * K];
  double du[M * K], dv[N * K], dgu[M * K], dgv[N * K], want_gu[M * K], want_gv[N * K], want_loss, loss = 0;
  mfgrad_plan* plan = NULL;
  mfgrad_status s;
  int t, failed = 0;

  for (t = 0; t < M * K; ++t) u32[t] = (float)u[t];
  for (t = 0; t < N * K; ++t) v32[t] = (float)v[t];
  s = mfgrad_round_to_bf16(u32, M * K, ub, 1);
  if (s == MFGRAD_OK) s = mfgrad_round_to_bf16(v32, N * K, vb, 1);
  if (s == MFGRAD_OK) s = mfgrad_widen_bf16(ub, M * K, wide_u, 1);
  if (s == MFGRAD_OK) s = mfgrad_widen_bf16(vb, N * K, wide_v, 1);
  if (s == MFGRAD_OK) s = mfgrad_plan_create(obs, K, MFGRAD_BFLOAT16, NULL, &plan);
  if (s == MFGRAD_OK) s = mfgrad_plan_evaluate_bf16(plan, M, N, K, ub, vb, lambda, gu, gv, &loss);
  mfgrad_plan_destroy(plan);
  if (s != MFGRAD_OK) {
    snprintf(message, size, "bfloat16: status %d (%s): %s", (int)s, mfgrad_status_string(s), mfgrad_last_error());
    return 1;
  }
  /* The stored values are within bfloat16's unit roundoff (2^-8 relative) of the input. */
  for (t = 0; t < M * K; ++t) du[t] = wide_u[t];
  for (t = 0; t < N * K; ++t) dv[t] = wide_v[t];
  for (t = 0; !failed && t < M * K; ++t)
    if (fabs(du[t] - u[t]) > fabs(u[t]) / 256) {
      snprintf(message, size, "bfloat16 u[%d] = %.9g from %.17g", t, du[t], u[t]);
      failed = 1;
    }
  if (failed) return 1;
  want_loss = formula(row, col, value, du, dv, lambda, want_gu, want_gv);
  for (t = 0; t < M * K; ++t) dgu[t] = gu[t];
  for (t = 0; t < N * K; ++t) dgv[t] = gv[t];
  return differs("bfloat16", loss, want_loss, dgu, want_gu, dgv, want_gv, 1e-4, message, size);
}

int mfgrad_test_from_c(char* message, size_t size) {
  const int32_t row[NNZ] = {0, 0, 1, 2, 2, 3};
  const int32_t col[NNZ] = {0, 2, 1, 0, 1, 2};
  const double value[NNZ] = {4.0, 1.5, 3.0, 5.0, 2.0, 3.5};
  const double u[M * K] = {0.3, -0.2, 0.5, 0.1, -0.4, 0.6, 0.2, 0.2};
  const double v[N * K] = {0.7, 0.1, -0.3, 0.9, 0.4, -0.5};
  const double lambda = 0.25;
  double gu[M * K], gv[N * K], want_gu[M * K], want_gv[N * K], loss = 0;
  const double want_loss = formula(row, col, value, u, v, lambda, want_gu, want_gv);
  mfgrad_observed* obs = NULL;
  mfgrad_plan* plan = NULL;
  mfgrad_status s;
  int failed = 0;

  s = mfgrad_observed_from_coo(M, N, NNZ, row, col, value, MFGRAD_DUPLICATES_ERROR, &obs);
  if (s == MFGRAD_OK) s = mfgrad_plan_create(obs, K, MFGRAD_FLOAT64, NULL, &plan);
  if (s == MFGRAD_OK) s = mfgrad_plan_evaluate_f64(plan, M, N, K, u, v, lambda, gu, gv, &loss);
  if (s != MFGRAD_OK) {
    snprintf(message, size, "status %d (%s): %s", (int)s, mfgrad_status_string(s), mfgrad_last_error());
    failed = 1;
  }
  /* Every value here is a sum of at most 8 double terms of magnitude below 10: rounding stays below
     1e-14, and a missing or wrong term moves a value by more than 1e-3. */
  if (!failed) failed = differs("float64", loss, want_loss, gu, want_gu, gv, want_gv, 1e-12, message, size);

  /* A refused call from C: status and message, nothing written. */
  if (!failed) {
    double kept = loss;
    s = mfgrad_plan_evaluate_f64(plan, M, N, K, u, v, NAN, gu, gv, &loss);
    if (s != MFGRAD_ERROR_INVALID_ARGUMENT || strstr(mfgrad_last_error(), "lambda") == NULL || loss != kept) {
      snprintf(message, size, "NaN lambda gave status %d, message '%s', loss %g", (int)s, mfgrad_last_error(), loss);
      failed = 1;
    }
  }
  if (!failed) failed = check_bfloat16(obs, row, col, value, u, v, lambda, message, size);
  mfgrad_plan_destroy(plan);
  mfgrad_observed_destroy(obs);
  return failed;
}
