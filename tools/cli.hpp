// The mfgrad command-line tool: shared pieces of its commands.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "args.hpp"
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

int cmd_kernels(const std::vector<std::string>& argv);
int cmd_eval(const std::vector<std::string>& argv);
int cmd_gen(const std::vector<std::string>& argv);
int cmd_compare(const std::vector<std::string>& argv);
int cmd_plan(const std::vector<std::string>& argv);
int cmd_report(const std::vector<std::string>& argv);

}  // namespace mfgrad::cli
