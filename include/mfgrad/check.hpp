// mfgrad — checking a result against the oracle with a stated error bound.
//
// The rule. An implementation working in precision T (unit roundoff u = ε_T/2) computes
//   r_ij   with error ≤ γ(k+1)·a_ij,        a_ij = |M_ij| + Σ_l |u_il v_jl|   (a dot product of length k)
//   ∂U_il  = λu_il − Σ_j r_ij v_jl, deg_i + 1 terms summed in any order, with error at most
//            γ(deg_i + 66)·(λ|u_il| + Σ_j |r_ij v_jl|) + γ(k+1)·Σ_j a_ij |v_jl|
//            (the 64 spare terms cover per-thread partial sums being merged); ∂V likewise by columns;
//   F      error ≤ γ(k+1)·Σ |r_ij| a_ij + 2γ₆₄(nnz+m+n+2)·F_abs   (the loss is summed in double)
// with γ(n) = n·u/(1 − n·u) (Higham, Accuracy and Stability of Numerical Algorithms, ch. 3). The
// double-precision oracle obeys the same bounds with u = 2⁻⁵³, so a result may differ from the oracle
// by the sum of both; the bounds below are twice that sum. A bug (a missed entry, a wrong sign, a lost
// λ term) moves results by O(1) relative, orders of magnitude beyond them.
#pragma once

#include <string>
#include <vector>

#include "mfgrad/kernel.hpp"

namespace mfgrad {

struct ErrorBounds {
  double loss = 0;
  std::vector<double> grad_u;  // m×k, per element
  std::vector<double> grad_v;  // n×k
};

// Bounds for evaluating at (U, V, λ) stored as T, following the rule above with the unit roundoff of
// compute_t<T> (float32 for bfloat16 and float16 factors, whose stored values are exact in float32).
// Parallel (OpenMP). Results of 16-bit factors are checked with check<float>.
template <class T>
ErrorBounds error_bounds(const Observed& obs, const T* u, const T* v, std::size_t k, double lambda);

template <class T>
struct Evaluation {
  double loss = 0;
  const T* grad_u = nullptr;  // m×k
  const T* grad_v = nullptr;  // n×k
};

struct CheckReport {
  bool passed = false;
  double worst = 0;     // largest |difference| / bound over the loss and every gradient element
  std::string message;  // "" when passed, else the first offending value: where, got, want, bound
};

// Compares `got` with the oracle's `want` element by element against `bounds`.
template <class T>
CheckReport check(const Observed& obs, std::size_t k, const ErrorBounds& bounds, const Evaluation<T>& want,
                  const Evaluation<T>& got);

}  // namespace mfgrad
