// The oracle comparison rule of check.hpp, computed in parallel so it is cheap next to one naive run.
#include "mfgrad/check.hpp"

#include <cfloat>
#include <cmath>
#include <limits>

#include "format.hpp"

namespace mfgrad {

namespace {

double gamma(double n, double unit) { return n * unit / (1.0 - n * unit); }

constexpr double merge_terms = 64;

}  // namespace

template <class T>
ErrorBounds error_bounds(const Observed& obs, const T* u, const T* v, std::size_t k, double lambda) {
  // 16-bit factors are computed in float32: the float32 rule, on the stored (exactly widened) values.
  const double unit_t = std::numeric_limits<compute_t<T>>::epsilon() / 2, unit_d = DBL_EPSILON / 2;
  const std::size_t m = static_cast<std::size_t>(obs.rows()), n = static_cast<std::size_t>(obs.cols());
  const auto row_ptr = obs.row_ptr(), col_ptr = obs.col_ptr();
  const auto col = obs.col_idx();
  const auto row = obs.row_idx();
  const auto to_csr = obs.csc_to_csr();
  const auto val = obs.values<compute_t<T>>();
  const double dot_gamma = gamma(k + 1.0, unit_t) + gamma(k + 1.0, unit_d);

  // Per entry: |r_ij| and a_ij, in double.
  std::vector<double> abs_r(static_cast<std::size_t>(obs.nnz())), mag(static_cast<std::size_t>(obs.nnz()));
  double dot_part = 0, f_abs = 0;
#pragma omp parallel for schedule(dynamic, 256) reduction(+ : dot_part, f_abs)
  for (std::size_t i = 0; i < m; ++i)
    for (offset_t q = row_ptr[i]; q < row_ptr[i + 1]; ++q) {
      const T* ui = u + i * k;
      const T* vj = v + static_cast<std::size_t>(col[q]) * k;
      double dot = 0, a = std::fabs(static_cast<double>(val[q]));
      for (std::size_t l = 0; l < k; ++l) {
        const double p = static_cast<double>(ui[l]) * static_cast<double>(vj[l]);
        dot += p;
        a += std::fabs(p);
      }
      const double r = std::fabs(static_cast<double>(val[q]) - dot);
      abs_r[q] = r;
      mag[q] = a;
      dot_part += r * a;
      f_abs += 0.5 * r * r;
    }
  double reg = 0;
#pragma omp parallel for schedule(static) reduction(+ : reg)
  for (std::size_t x = 0; x < m * k; ++x) reg += static_cast<double>(u[x]) * static_cast<double>(u[x]);
#pragma omp parallel for schedule(static) reduction(+ : reg)
  for (std::size_t x = 0; x < n * k; ++x) reg += static_cast<double>(v[x]) * static_cast<double>(v[x]);
  f_abs += 0.5 * lambda * reg;

  ErrorBounds b;
  b.grad_u.resize(m * k);
  b.grad_v.resize(n * k);
  // One output row: λ|x_l| and Σ over its entries of |r|·|other_l| and a·|other_l|.
  auto row_bound = [&](const T* x, double degree, double* out, auto&& entries) {
    std::vector<double> sum_r(k, 0.0), sum_a(k, 0.0);
    entries([&](offset_t q, const T* other) {
      for (std::size_t l = 0; l < k; ++l) {
        const double o = std::fabs(static_cast<double>(other[l]));
        sum_r[l] += abs_r[q] * o;
        sum_a[l] += mag[q] * o;
      }
    });
    const double g = gamma(degree + merge_terms + 2, unit_t) + gamma(degree + 2, unit_d);
    for (std::size_t l = 0; l < k; ++l)
      out[l] = 2 * (g * (lambda * std::fabs(static_cast<double>(x[l])) + sum_r[l]) + dot_gamma * sum_a[l]) +
               std::numeric_limits<T>::denorm_min();
  };
#pragma omp parallel for schedule(dynamic, 256)
  for (std::size_t i = 0; i < m; ++i)
    row_bound(u + i * k, static_cast<double>(row_ptr[i + 1] - row_ptr[i]), b.grad_u.data() + i * k, [&](auto&& visit) {
      for (offset_t q = row_ptr[i]; q < row_ptr[i + 1]; ++q) visit(q, v + static_cast<std::size_t>(col[q]) * k);
    });
#pragma omp parallel for schedule(dynamic, 256)
  for (std::size_t j = 0; j < n; ++j)
    row_bound(v + j * k, static_cast<double>(col_ptr[j + 1] - col_ptr[j]), b.grad_v.data() + j * k, [&](auto&& visit) {
      for (offset_t s = col_ptr[j]; s < col_ptr[j + 1]; ++s) visit(to_csr[s], u + static_cast<std::size_t>(row[s]) * k);
    });
  const double total = static_cast<double>(obs.nnz()) + static_cast<double>(m + n);
  b.loss = 2 * (dot_gamma * dot_part + 2 * gamma(total + 2, unit_d) * f_abs) + DBL_MIN;
  return b;
}

template <class T>
CheckReport check(const Observed& obs, std::size_t k, const ErrorBounds& bounds, const Evaluation<T>& want,
                  const Evaluation<T>& got) {
  CheckReport report;
  report.passed = true;
  auto note = [&](double err, double bound, const std::string& where, double g, double w) {
    const double ratio = std::isnan(err) ? HUGE_VAL : err / bound;
    if (ratio > report.worst) report.worst = ratio;
    if (!(err <= bound) && report.passed) {
      report.passed = false;
      report.message = where + " = " + format_number(g) + " but the oracle gives " + format_number(w) +
                       " (|difference| " + format_number(err) + " exceeds the bound " + format_number(bound) + ")";
    }
  };
  note(std::fabs(got.loss - want.loss), bounds.loss, "loss", got.loss, want.loss);
  auto compare = [&](const char* name, const T* g, const T* w, const std::vector<double>& bound, std::size_t rows) {
    for (std::size_t x = 0; x < rows * k; ++x) {
      const double gx = static_cast<double>(g[x]), wx = static_cast<double>(w[x]);
      note(std::fabs(gx - wx), bound[x],
           std::string(name) + "[" + std::to_string(x / k) + ", " + std::to_string(x % k) + "]", gx, wx);
    }
  };
  compare("grad_U", got.grad_u, want.grad_u, bounds.grad_u, static_cast<std::size_t>(obs.rows()));
  compare("grad_V", got.grad_v, want.grad_v, bounds.grad_v, static_cast<std::size_t>(obs.cols()));
  return report;
}

template ErrorBounds error_bounds<float>(const Observed&, const float*, const float*, std::size_t, double);
template ErrorBounds error_bounds<double>(const Observed&, const double*, const double*, std::size_t, double);
template ErrorBounds error_bounds<bfloat16>(const Observed&, const bfloat16*, const bfloat16*, std::size_t, double);
template ErrorBounds error_bounds<float16>(const Observed&, const float16*, const float16*, std::size_t, double);
template CheckReport check<float>(const Observed&, std::size_t, const ErrorBounds&, const Evaluation<float>&,
                                  const Evaluation<float>&);
template CheckReport check<double>(const Observed&, std::size_t, const ErrorBounds&, const Evaluation<double>&,
                                   const Evaluation<double>&);

}  // namespace mfgrad
