// mfgrad — Plan: the implementation chosen for one problem shape, with its prepared layout.
//
// A plan is made once for (Ω, k, precision, threads) and then evaluated many times, as an optimizer
// does. Making it either estimates from the shape (instant) or measures every supported candidate on
// the real Ω (a fraction of a second each, once) and keeps the fastest; either way the chosen
// implementation's prepared layout (tiles, splits, arenas) is built inside the plan, never during
// evaluate(). Measured choices can be saved as wisdom, per machine, and reused by later plans — in this
// process or, after save/load, in others — without measuring again.
//
//   mfgrad::Plan plan(obs, 64, mfgrad::Precision::f32, {.mode = mfgrad::PlanMode::measure});
//   for (...) loss = plan.evaluate<float>(U, V, lambda, gradU, gradV);
//
// The plan keeps its own share of the Observed (copies of an Observed share one store), so it stays
// valid however the Observed it was made from is moved or destroyed afterwards. A plan serves one
// evaluation at a time: make one per concurrently evaluating thread.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "mfgrad/kernel.hpp"

namespace mfgrad {

enum class PlanMode {
  estimate,  // choose from the shape of Ω, k, precision and threads
  measure,   // time every supported candidate on this Ω (or use wisdom for this shape)
};

struct PlanOptions {
  int threads = 0;  // ≤ 0: all hardware threads
  PlanMode mode = PlanMode::estimate;
  std::string kernel = {};             // non-empty: use this implementation, no search
  double seconds_per_candidate = 0.3;  // measure mode: timing budget per candidate
};

struct PlanCandidate {
  std::string name;  // implementation, with its cache-size variant when it has one
  const Kernel* kernel = nullptr;
  Workspace::CacheSizes caches;  // the sizes its tiles were made for ({0, 0}: this machine's)
  double seconds = -1;           // median seconds per evaluation (dropped: its one cold run)
  bool dropped = false;          // over twice the best on its first run, so not timed further;
                                 // candidates() lists these after every one that was
};

class Plan {
 public:
  Plan(const Observed& obs, std::size_t k, Precision precision, const PlanOptions& options = {});
  Plan(Plan&&) noexcept;
  Plan& operator=(Plan&&) noexcept;
  ~Plan();

  // As mfgrad::evaluate() with the chosen implementation; T must be the plan's precision and the
  // shapes those the plan was made for. A plan never changes the precision: a bfloat16 plan chooses
  // among implementations run on bfloat16 factors.
  template <class T>
  double evaluate(Matrix<const T> u, Matrix<const T> v, double lambda, Matrix<compute_t<T>> grad_u,
                  Matrix<compute_t<T>> grad_v, const EvalOptions& options = {});

  // The same on flat row-major arrays: u and grad_u of m·k elements, v and grad_v of n·k (m × n the
  // shape of the plan's Ω, k the plan's); another size is an Error naming the argument.
  template <class T>
  double evaluate(std::span<const T> u, std::span<const T> v, double lambda, std::span<compute_t<T>> grad_u,
                  std::span<compute_t<T>> grad_v, const EvalOptions& options = {});

  const Kernel& kernel() const noexcept;
  const Workspace::CacheSizes& cache_sizes() const noexcept;  // of the chosen variant
  std::string choice() const;                  // the implementation, and its cache-size variant when not the default
  const std::string& reason() const noexcept;  // why this implementation
  const std::vector<PlanCandidate>& candidates() const noexcept;  // measured times (measure mode)
  int threads() const noexcept;
  std::size_t k() const noexcept;
  Precision precision() const noexcept;
  bool from_wisdom() const noexcept;

  // Wisdom, process-wide. load merges a file written by save (an Error names a malformed line);
  // save writes every choice known to this process, for this and other machines.
  static void load_wisdom(const std::string& path);
  static void save_wisdom(const std::string& path);
  static void forget_wisdom();

  // What identifies this machine in wisdom: CPU model, hardware threads, dispatched ISA.
  static std::string machine_signature();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace mfgrad
