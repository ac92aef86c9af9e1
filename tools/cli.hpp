// The mfgrad command-line tool: shared pieces of its commands.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "args.hpp"
#include "mfgrad/io.hpp"
#include "mfgrad/plan.hpp"

namespace mfgrad::cli {

// The command-line reader is bench's (bench/args.hpp): `mfgrad bench` is bench's own command.
using bench::Args;
using bench::parse_integer;
using bench::parse_number;
using bench::UsageError;

// Sets the thread count of every runtime the process uses (OpenMP and oneTBB); 0 keeps the default.
// Returns the count in effect.
int set_threads(int threads);

// --plan estimate|measure, --seconds, --wisdom FILE (loaded when it exists) as PlanOptions; and saving
// the wisdom back to --wisdom after a plan was made.
PlanOptions plan_options(const Args& args, int threads);
void save_wisdom_if_asked(const Args& args);

// A plan; `what` ("making a plan for ...") is said when memory runs out, and errors name --wisdom's
// file when one was read, as the choice may come from it.
Plan make_plan(const Observed& obs, std::size_t k, Precision precision, const Args& args, int threads,
               const std::string& what);

// eval's data and factor options, checked alike by eval in one process and across MPI ranks: no
// positional argument, exactly one of --ratings and --data, --u with --v or else --k. True when the
// factors come from files.
bool eval_factors_from_files(const Args& args);

// ∂U (m × k) and ∂V (n × k) written as .npy, both or neither (write_npy), float32 or float64.
template <class G>
void write_gradients(const std::string& gu_path, const G* gu, std::size_t m, const std::string& gv_path, const G* gv,
                     std::size_t n, std::size_t k) {
  NpyOutput a{.path = gu_path, .rows = m, .cols = k}, b{.path = gv_path, .rows = n, .cols = k};
  if constexpr (std::is_same_v<G, float>) {
    a.f32 = gu;
    b.f32 = gv;
  } else {
    a.f64 = gu;
    b.f64 = gv;
  }
  write_npy({a, b});
}

int cmd_kernels(const std::vector<std::string>& argv);
int cmd_eval(const std::vector<std::string>& argv);
int cmd_gen(const std::vector<std::string>& argv);
int cmd_compare(const std::vector<std::string>& argv);
int cmd_plan(const std::vector<std::string>& argv);
int cmd_report(const std::vector<std::string>& argv);

}  // namespace mfgrad::cli
