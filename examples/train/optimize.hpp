// Full-batch optimizers over one flat parameter vector, for an objective that returns its value and
// writes its gradient:
//   L-BFGS — the two-loop recursion over the last `memory` steps with a line search that meets the
//            strong Wolfe conditions by bracketing and cubic interpolation (as described in Nocedal &
//            Wright, Numerical Optimization, 2nd ed., chapters 3 and 7);
//   Adam   — per-coordinate steps from bias-corrected running moments (Kingma & Ba, 2015).
// T is float or double; inner products are summed in double.
#pragma once

#include <cmath>
#include <cstddef>
#include <deque>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace train {

template <class T>
using Objective = std::function<double(const std::vector<T>& x, std::vector<T>& grad)>;

// What the caller sees after every iteration ("epoch"); returning false from the callback stops.
struct Epoch {
  int number = 0;
  double loss = 0;
  double grad_norm = 0;
  long evaluations = 0;  // objective evaluations so far, line searches included
};

template <class T>
using Progress = std::function<bool(const Epoch&, const std::vector<T>& x)>;

// Why an optimizer stopped.
enum class Stop { max_epochs, by_caller, converged, no_progress, diverged };

inline const char* to_string(Stop s) {
  switch (s) {
    case Stop::max_epochs:
      return "maximum number of epochs reached";
    case Stop::by_caller:
      return "stopped early";
    case Stop::converged:
      return "gradient norm below tolerance";
    case Stop::no_progress:
      return "the line search found no lower point along the search direction";
    case Stop::diverged:
      return "the loss became infinite or NaN (try a smaller learning rate)";
  }
  return "?";
}

// The optimizers' vectors are as long as U and V together, so their passes cost about as much as an
// evaluation: the sum may be vectorized (reassociated), which only changes its rounding.
template <class T>
double dot(const std::vector<T>& a, const std::vector<T>& b) {
  double s = 0;
  const T* pa = a.data();
  const T* pb = b.data();
  const std::size_t n = a.size();
#pragma omp simd reduction(+ : s)
  for (std::size_t i = 0; i < n; ++i) s += static_cast<double>(pa[i]) * static_cast<double>(pb[i]);
  return s;
}

template <class T>
class Lbfgs {
 public:
  struct Options {
    int memory = 5;  // steps kept for the inverse-Hessian estimate
    int max_epochs = 100;
    double grad_tolerance = 1e-6;   // stop when |g| <= this · max(1, |g0|)
    double c1 = 1e-4;               // sufficient decrease
    double c2 = 0.9;                // curvature (strong Wolfe)
    int max_line_evaluations = 20;  // per line search
  };

  explicit Lbfgs(Options o) : o_(o) {}

  Stop run(std::vector<T>& x, const Objective<T>& f, const Progress<T>& progress) {
    const std::size_t n = x.size();
    g_.assign(n, T(0));
    d_.assign(n, T(0));
    xt_.assign(n, T(0));
    gt_.assign(n, T(0));
    history_.clear();
    evaluations_ = 0;
    double fx = f(x, g_);
    ++evaluations_;
    const double tolerance = o_.grad_tolerance * std::max(1.0, std::sqrt(dot(g_, g_)));
    for (int epoch = 1; epoch <= o_.max_epochs; ++epoch) {
      if (std::sqrt(dot(g_, g_)) <= tolerance) return Stop::converged;
      direction();
      double slope = dot(g_, d_);
      if (!(slope < 0)) {  // not a descent direction (the curvature pairs went stale): restart
        history_.clear();
        direction();
        slope = dot(g_, d_);
      }
      // Unit steps once curvature is known; the first step moves by about one unit of x.
      const double first = history_.empty() ? 1.0 / std::max(1.0, std::sqrt(dot(d_, d_))) : 1.0;
      double ft = 0;
      if (!line_search(x, fx, slope, first, f, ft)) {
        if (history_.empty()) return Stop::no_progress;
        history_.clear();  // retry once along the steepest descent before giving up
        --epoch;
        continue;
      }
      remember(x);
      x.swap(xt_);
      g_.swap(gt_);
      fx = ft;
      if (!progress(Epoch{epoch, fx, std::sqrt(dot(g_, g_)), evaluations_}, x)) return Stop::by_caller;
    }
    return Stop::max_epochs;
  }

 private:
  struct Pair {
    std::vector<T> s, y;  // step and change of gradient
    double rho;           // 1 / (y·s)
  };

  // d = −H·g by the two-loop recursion, H₀ = γI with γ = s·y / y·y of the newest pair.
  void direction() {
    const std::size_t n = g_.size();
    for (std::size_t i = 0; i < n; ++i) d_[i] = -g_[i];
    std::vector<double> alpha(history_.size());
    for (std::size_t p = history_.size(); p-- > 0;) {
      const Pair& h = history_[p];
      alpha[p] = h.rho * dot(h.s, d_);
      for (std::size_t i = 0; i < n; ++i) d_[i] -= static_cast<T>(alpha[p]) * h.y[i];
    }
    if (!history_.empty()) {
      const Pair& last = history_.back();
      const auto gamma = static_cast<T>(1.0 / (last.rho * dot(last.y, last.y)));
      for (std::size_t i = 0; i < n; ++i) d_[i] *= gamma;
    }
    for (std::size_t p = 0; p < history_.size(); ++p) {
      const Pair& h = history_[p];
      const double beta = h.rho * dot(h.y, d_);
      for (std::size_t i = 0; i < n; ++i) d_[i] += static_cast<T>(alpha[p] - beta) * h.s[i];
    }
  }

  // Keeps the pair (x_t − x, g_t − g) when it has positive curvature, as the update needs.
  void remember(const std::vector<T>& x) {
    Pair p;
    if (history_.size() == static_cast<std::size_t>(o_.memory)) {
      p = std::move(history_.front());  // reuse the oldest pair's memory
      history_.pop_front();
    }
    const std::size_t n = x.size();
    p.s.resize(n);
    p.y.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      p.s[i] = xt_[i] - x[i];
      p.y[i] = gt_[i] - g_[i];
    }
    const double sy = dot(p.s, p.y);
    if (sy > std::numeric_limits<double>::epsilon() * dot(p.y, p.y)) {
      p.rho = 1.0 / sy;
      history_.push_back(std::move(p));
    }
  }

  struct Point {
    double step, value, slope;  // φ(a), φ'(a) along d
  };

  Point probe(const std::vector<T>& x, double step, const Objective<T>& f) {
    for (std::size_t i = 0; i < x.size(); ++i) xt_[i] = x[i] + static_cast<T>(step) * d_[i];
    const double value = f(xt_, gt_);
    ++evaluations_;
    return {step, value, dot(gt_, d_)};
  }

  // The minimiser of the cubic through both ends' values and slopes, kept inside the inner 80 % of
  // the interval; the midpoint when the cubic has no usable minimum.
  static double interpolate(const Point& a, const Point& b) {
    const double lo = std::min(a.step, b.step), hi = std::max(a.step, b.step), width = hi - lo;
    const double d1 = a.slope + b.slope - 3 * (a.value - b.value) / (a.step - b.step);
    const double disc = d1 * d1 - a.slope * b.slope;
    double t = std::numeric_limits<double>::quiet_NaN();
    if (disc >= 0) {
      const double d2 = std::copysign(std::sqrt(disc), b.step - a.step);
      t = b.step - (b.step - a.step) * (b.slope + d2 - d1) / (b.slope - a.slope + 2 * d2);
    }
    if (!(t >= lo + 0.1 * width && t <= hi - 0.1 * width)) t = lo + 0.5 * width;
    return t;
  }

  // On success xt_, gt_ and ft hold a point meeting the strong Wolfe conditions.
  bool line_search(const std::vector<T>& x, double f0, double slope0, double step, const Objective<T>& f, double& ft) {
    const Point origin{0, f0, slope0};
    Point previous = origin;
    int budget = o_.max_line_evaluations;
    auto sufficient = [&](const Point& p) { return p.value <= f0 + o_.c1 * p.step * slope0; };
    auto flat = [&](const Point& p) { return std::abs(p.slope) <= -o_.c2 * slope0; };
    while (budget-- > 0) {
      const Point p = probe(x, step, f);
      if (!std::isfinite(p.value) || !sufficient(p) || (previous.step > 0 && p.value >= previous.value))
        return zoom(x, previous, p, origin, budget, f, ft);
      if (flat(p)) {
        ft = p.value;
        return true;
      }
      if (p.slope >= 0) return zoom(x, p, previous, origin, budget, f, ft);
      previous = p;
      step *= 2;
    }
    return false;
  }

  // lo satisfies sufficient decrease and has the lowest value seen; the minimiser lies between lo and hi.
  bool zoom(const std::vector<T>& x, Point lo, Point hi, const Point& origin, int budget, const Objective<T>& f,
            double& ft) {
    while (budget-- > 0) {
      const Point p = probe(x, std::isfinite(hi.value) ? interpolate(lo, hi) : 0.5 * (lo.step + hi.step), f);
      if (!std::isfinite(p.value) || p.value > origin.value + o_.c1 * p.step * origin.slope || p.value >= lo.value) {
        hi = p;
      } else {
        if (std::abs(p.slope) <= -o_.c2 * origin.slope) {
          ft = p.value;
          return true;
        }
        if (p.slope * (hi.step - lo.step) >= 0) hi = lo;
        lo = p;
      }
      if (std::abs(hi.step - lo.step) <= 1e-12 * std::max(1.0, lo.step)) break;
    }
    // Out of evaluations: settle for the best point with sufficient decrease, if any was found.
    if (lo.step <= 0) return false;
    ft = probe(x, lo.step, f).value;
    return true;
  }

  Options o_;
  std::vector<T> g_, d_, xt_, gt_;
  std::deque<Pair> history_;
  long evaluations_ = 0;
};

template <class T>
class Adam {
 public:
  struct Options {
    double learning_rate = 0.01;
    double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
    int max_epochs = 1000;
  };

  explicit Adam(Options o) : o_(o) {}

  Stop run(std::vector<T>& x, const Objective<T>& f, const Progress<T>& progress) {
    const std::size_t n = x.size();
    std::vector<T> g(n);
    std::vector<double> m(n, 0.0), v(n, 0.0);
    double b1 = 1, b2 = 1;  // β₁ᵗ, β₂ᵗ
    double loss = f(x, g);
    for (int epoch = 1; epoch <= o_.max_epochs; ++epoch) {
      b1 *= o_.beta1;
      b2 *= o_.beta2;
      for (std::size_t i = 0; i < n; ++i) {
        m[i] = o_.beta1 * m[i] + (1 - o_.beta1) * g[i];
        v[i] = o_.beta2 * v[i] + (1 - o_.beta2) * static_cast<double>(g[i]) * g[i];
        const double step = o_.learning_rate * (m[i] / (1 - b1)) / (std::sqrt(v[i] / (1 - b2)) + o_.epsilon);
        x[i] = static_cast<T>(x[i] - step);
      }
      loss = f(x, g);  // at the new point, which the next step starts from
      if (!std::isfinite(loss)) return Stop::diverged;
      if (!progress(Epoch{epoch, loss, std::sqrt(dot(g, g)), epoch + 1L}, x)) return Stop::by_caller;
    }
    return Stop::max_epochs;
  }

 private:
  Options o_;
};

}  // namespace train
