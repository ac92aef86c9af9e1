/* descent — mfgrad from C: a low-rank fit by gradient descent through the C interface.
 *
 * Built against an installed mfgrad with pkg-config and the system's C compiler:
 *
 *     cc -std=c99 -O2 descent.c $(pkg-config --cflags --libs mfgrad) -lm -o descent && ./descent
 *
 * (add -Wl,-rpath,$(pkg-config --variable=libdir mfgrad) when mfgrad is not installed where the
 * dynamic loader looks). It plants a rank-2 matrix, observes a third of its entries as CSR, checks
 * mfgrad's gradient against central differences, fits the factors by gradient descent with float32
 * evaluations and shows what a refused call looks like. Exit status 0 when every check passes.
 */
#include <math.h>
#include <mfgrad/mfgrad.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { M = 120, N = 80, K = 2 };

/* A fixed-seed linear congruential generator: the same data on every machine. */
static uint64_t state = 12345;
static double uniform(void) {
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(state >> 11) * (1.0 / 9007199254740992.0);
}

static int fail(const char* what, mfgrad_status s) {
  fprintf(stderr, "descent: %s failed: %s (%s)\n", what, mfgrad_last_error(), mfgrad_status_string(s));
  return 1;
}

int main(void) {
  static double truth_u[M * K], truth_v[N * K], value[M * N], u64[M * K], v64[N * K], gu64[M * K], gv64[N * K];
  static float u[M * K], v[N * K], gu[M * K], gv[N * K];
  static int64_t row_ptr[M + 1];
  static int32_t col_idx[M * N];
  const double lambda = 0.01;
  mfgrad_observed* obs = NULL;
  mfgrad_plan* plan32 = NULL;
  mfgrad_plan* plan64 = NULL;
  mfgrad_plan_options options;
  mfgrad_status s;
  const char* choice = "";
  double loss = 0, first_loss = 0, worst = 0;
  int64_t nnz = 0;
  int i, j, l, t, step;

  printf("mfgrad %s from C\n", mfgrad_version());

  /* M = U* V*ᵀ with entries of U*, V* uniform in [0, 1]; each entry observed with probability 1/3. */
  for (t = 0; t < M * K; ++t) truth_u[t] = uniform();
  for (t = 0; t < N * K; ++t) truth_v[t] = uniform();
  for (i = 0; i < M; ++i) {
    for (j = 0; j < N; ++j)
      if (uniform() < 1.0 / 3) {
        col_idx[nnz] = j;
        value[nnz] = 0;
        for (l = 0; l < K; ++l) value[nnz] += truth_u[i * K + l] * truth_v[j * K + l];
        ++nnz;
      }
    row_ptr[i + 1] = nnz;
  }
  s = mfgrad_observed_from_csr(M, N, row_ptr, col_idx, value, MFGRAD_DUPLICATES_ERROR, &obs);
  if (s != MFGRAD_OK) return fail("mfgrad_observed_from_csr", s);
  printf("observed %lld of %d entries of a %d x %d rank-%d matrix\n", (long long)nnz, M * N, M, N, K);

  /* Central differences in double: F is quadratic in any single coordinate, so (F(x+h) − F(x−h)) / 2h
     is its derivative up to rounding, about 1e-16·F/h = 1e-11 here; a wrong gradient misses by O(1). */
  s = mfgrad_plan_create(obs, K, MFGRAD_FLOAT64, NULL, &plan64);
  if (s != MFGRAD_OK) return fail("mfgrad_plan_create (float64)", s);
  for (t = 0; t < M * K; ++t) u64[t] = uniform() - 0.5;
  for (t = 0; t < N * K; ++t) v64[t] = uniform() - 0.5;
  s = mfgrad_plan_evaluate_f64(plan64, M, N, K, u64, v64, lambda, gu64, gv64, &loss);
  if (s != MFGRAD_OK) return fail("mfgrad_plan_evaluate_f64", s);
  for (t = 0; t < M * K; t += 7) {
    static double scratch_u[M * K], scratch_v[N * K];
    const double h = 1e-3, keep = u64[t];
    double up, down, fd;
    u64[t] = keep + h;
    s = mfgrad_plan_evaluate_f64(plan64, M, N, K, u64, v64, lambda, scratch_u, scratch_v, &up);
    u64[t] = keep - h;
    if (s == MFGRAD_OK) s = mfgrad_plan_evaluate_f64(plan64, M, N, K, u64, v64, lambda, scratch_u, scratch_v, &down);
    u64[t] = keep;
    if (s != MFGRAD_OK) return fail("mfgrad_plan_evaluate_f64", s);
    fd = (up - down) / (2 * h);
    if (fabs(fd - gu64[t]) > worst) worst = fabs(fd - gu64[t]);
  }
  printf("dF/dU against central differences: largest difference %.2e\n", worst);
  if (!(worst < 1e-6)) {
    fprintf(stderr, "descent: the gradient disagrees with central differences by %g\n", worst);
    return 1;
  }

  /* Gradient descent in float32 from a small random start, with a plan measured for this data. */
  s = mfgrad_plan_options_init(&options);
  if (s != MFGRAD_OK) return fail("mfgrad_plan_options_init", s);
  options.mode = MFGRAD_PLAN_MEASURE;
  options.seconds_per_candidate = 0.02;
  s = mfgrad_plan_create(obs, K, MFGRAD_FLOAT32, &options, &plan32);
  if (s == MFGRAD_OK) s = mfgrad_plan_choice(plan32, &choice);
  if (s != MFGRAD_OK) return fail("mfgrad_plan_create (float32, measured)", s);
  printf("plan: %s\n", choice);
  for (t = 0; t < M * K; ++t) u[t] = (float)(0.5 * uniform());
  for (t = 0; t < N * K; ++t) v[t] = (float)(0.5 * uniform());
  for (step = 0; step <= 2000; ++step) {
    s = mfgrad_plan_evaluate_f32(plan32, M, N, K, u, v, lambda, gu, gv, &loss);
    if (s != MFGRAD_OK) return fail("mfgrad_plan_evaluate_f32", s);
    if (step == 0) first_loss = loss;
    if (step % 500 == 0) printf("step %4d  loss %.6f\n", step, loss);
    for (t = 0; t < M * K; ++t) u[t] -= 0.01f * gu[t];
    for (t = 0; t < N * K; ++t) v[t] -= 0.01f * gv[t];
  }
  /* The planted factors reach a loss of at most λ/2 (|U*|² + |V*|²) ≤ λ/2·(M + N)·K: the fit must get
     within a factor of two of that from a start a hundred times higher. */
  if (!(loss < 2 * 0.5 * lambda * (M + N) * K && loss < first_loss / 100)) {
    fprintf(stderr, "descent: the loss went from %g to %g only\n", first_loss, loss);
    return 1;
  }

  /* A refused call: a status and a message naming the problem, and nothing written. */
  s = mfgrad_plan_evaluate_f32(plan32, M, N, K + 1, u, v, lambda, gu, gv, &loss);
  printf("with k = %d instead of %d: status %d (%s): %s\n", K + 1, K, (int)s, mfgrad_status_string(s),
         mfgrad_last_error());
  if (s != MFGRAD_ERROR_INVALID_ARGUMENT || strstr(mfgrad_last_error(), "k = 2") == NULL) return 1;

  mfgrad_plan_destroy(plan32);
  mfgrad_plan_destroy(plan64);
  mfgrad_observed_destroy(obs);
  printf("ok\n");
  return 0;
}
