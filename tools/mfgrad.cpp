// mfgrad — command-line entry point: dispatches to the commands in tools/cmd_*.cpp, and `bench` to
// bench/command.cpp.
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "cli.hpp"
#include "command.hpp"
#include "mfgrad/isa.hpp"
#include "mfgrad/types.hpp"
#include "mfgrad/version.h"

#ifdef MFGRAD_WITH_MPI
namespace mfgrad::cli {
bool ranks_command(const std::vector<std::string>& args, int& status);  // mpi/tools/ranks.cpp
}
#endif

namespace {

struct Command {
  const char* name;
  int (*run)(const std::vector<std::string>&);
  const char* summary;
  const char* usage;
};

const Command commands[] = {
    {"bench", mfgrad::bench::bench_command, "time every implementation and peer side by side (the main job)",
     "mfgrad bench [--data PRESET|FILE]... [--k 16,64] [--threads 1,2] [--impl a,b|all] [--peers "
     "eigen,graphblas|all|none]\n"
     "             [--dtype float32,float64,bfloat16,float16] [--reps N] [--min-time S] [--json FILE]\n"
     "             [--plot DIR] [--isa avx2,avx512] [--instructions] [--seed S] [--lambda L]\n"
     "  Times one evaluation (loss and both gradients) of each implementation, a measured plan ('plan')\n"
     "  and each peer on the same data\n"
     "  and factors, after checking its result against the oracle (naive); prints a table with the median\n"
     "  time, M entries/s, GFLOP/s (6k flops per entry), the fraction of this machine's measured FMA peak\n"
     "  and the speedups over naive and over the best peer. Progress goes to stderr. Each block (data set,\n"
     "  dtype, k) leads with gather_bound, the time to gather one stored factor row per entry and nothing\n"
     "  else (the least any evaluation moves); '% bound' is its median over each row's. bfloat16 and\n"
     "  float16 store U and V in 16 bits (computed in float32); their blocks also time round_to, the\n"
     "  optimizer's refresh of its 16-bit copy of U and V. No peer offers 16-bit storage.\n"
     "  Defaults: --data netflix-25m --k 64 --threads 1,<hardware threads> --impl all --peers all --reps 5\n"
     "  --min-time 0.2 (seconds per repetition). Options may repeat or take comma lists.\n"
     "  --json FILE      results with the machine context and measured ceilings (bench/results.hpp)\n"
     "  --plot DIR       PNG plots (gnuplot): median time per implementation, GFLOP/s against threads\n"
     "  --instructions   instead of timing, count the instructions of one single-threaded evaluation of each\n"
     "                   implementation under valgrind's callgrind (MFGRAD_ISA=avx2): repeatable on noisy CI\n"
     "  --isa LEVELS     run the SIMD implementations once per listed level (`mfgrad kernels` lists the levels\n"
     "                   this build has), in one process, rows named <impl>@<level>; a level this CPU (or\n"
     "                   MFGRAD_ISA) lacks is an error\n"
     "  Exit status 1 when any check against the oracle fails.\n"},
    {"compare", mfgrad::cli::cmd_compare, "the regression gate: compare two results files, benchmark by benchmark",
     "mfgrad compare BASELINE.json CONTENDER.json [--threshold PCT] [--alpha A] [--instructions-threshold PCT]\n"
     "               [--filter GLOB] [--format text|markdown|json] [--strict-context]\n"
     "  Compares two results files benchmark by benchmark (matched by name) and prints one line each:\n"
     "  verdict, each side's median ± MAD (n), the change of the median, the Mann–Whitney p-value and the\n"
     "  change of the instruction count; then a summary and the verdict. Either file may be mfgrad's\n"
     "  ('mfgrad bench --json') or Google Benchmark's JSON (mfgrad_bench --benchmark_out=FILE\n"
     "  --benchmark_out_format=json --benchmark_repetitions=N), told apart by content.\n"
     "  Time: regression (improvement) when the median is more than PCT slower (faster) AND a two-sided\n"
     "  Mann–Whitney U test on the repetitions gives p < A; beyond PCT without that is inconclusive (the\n"
     "  test needs at least 4 repetitions per side for p < 0.05). Instruction counts (--instructions\n"
     "  files): regression (improvement) beyond ±PCT, no statistics. Both when both are present.\n"
     "  --threshold               percent change of the median time that matters (default 10)\n"
     "  --alpha                   significance level of the test (default 0.05)\n"
     "  --instructions-threshold  percent change of the instruction count that matters (default 2)\n"
     "  --filter                  only benchmarks whose whole name matches this glob ('*' any text, '/'\n"
     "                            included; '?' one character): 'eval/fused_simd/*'\n"
     "  --format                  text (default), markdown (a pull-request comment) or json (every field)\n"
     "  --strict-context          exit 2 when the runs' contexts differ (otherwise a warning)\n"
     "  The two runs' contexts (CPU, hardware threads, ISA, compiler, flags, mfgrad version,\n"
     "  OMP_NUM_THREADS, thread counts) are compared where both state them; a difference is a warning\n"
     "  line (a quoted note in markdown, \"context_differences\" in json).\n"
     "  Exit status 1 when a benchmark regressed, failed its check (either side) or is missing from\n"
     "  the contender; 2 for a bad command line, a file that cannot be read or parsed, nothing left to\n"
     "  compare, or a context difference under --strict-context; 0 otherwise (inconclusive and new\n"
     "  benchmarks pass).\n"},
    {"kernels", mfgrad::cli::cmd_kernels, "list the implementations and whether this CPU runs each",
     "mfgrad kernels\n"
     "  Lists every registered implementation: name, whether this CPU (and MFGRAD_ISA) allows it,\n"
     "  whether it is bitwise deterministic across thread counts, the ISA it needs, what it does.\n"},
    {"eval", mfgrad::cli::cmd_eval, "evaluate F, dF/dU and dF/dV once; write the gradients as .npy",
     "mfgrad eval (--ratings FILE [--format F] | --data PRESET)\n"
     "            (--u U.npy --v V.npy [--dtype bfloat16|float16] | --k K [--seed S] [--dtype D])\n"
     "            --lambda L [--kernel NAME] [--threads T] [--duplicates error|sum|last] [--check-factors]\n"
     "            [--plan estimate|measure [--seconds S] [--wisdom FILE]] --out DIR\n"
     "  Reads Ω and the factors, evaluates once and writes DIR/grad_u.npy and DIR/grad_v.npy (dtype of\n"
     "  the factors; float32 for bfloat16 and float16), then prints one JSON line: kernel, isa, dtype,\n"
     "  loss, m, n, nnz, k, lambda, threads, seconds (the evaluation alone), data.\n"
     "  --dtype      how the factors are stored: with --k, float32 (default), float64, bfloat16 or float16;\n"
     "               with --u/--v, bfloat16 or float16 stores the files' float32/float64 values rounded to\n"
     "               nearest even (a finite value beyond the format's range is an error). For 16-bit\n"
     "               storage every product and sum is float32, and so are the gradients\n"
     "  --format     auto (default), udata, dat, csv, triplets, mm\n"
     "  --kernel     an implementation from 'mfgrad kernels'; default: $MFGRAD_KERNEL, else the best\n"
     "  --threads    threads for OpenMP and oneTBB alike (default: all hardware threads)\n"
     "  --seed       seed of the random factors when --k is given (default 1)\n"
     "  --check-factors  refuse NaN or infinite entries in U or V before evaluating (a loss or gradient\n"
     "               that is not finite is refused in any case: JSON cannot hold it)\n"
     "  --plan       let a plan choose the implementation (see 'mfgrad help plan'); the JSON line then\n"
     "               has a 'plan' field saying why; --seconds and --wisdom as for 'mfgrad plan'\n"
     "  Nothing is written to DIR unless the whole evaluation succeeds. Memory is checked before it is\n"
     "  allocated (MFGRAD_MEMORY_LIMIT=8G sets the limit; default: what the machine has available).\n"},
    {"plan", mfgrad::cli::cmd_plan, "show which implementation a plan picks for a data set and k, and why",
     "mfgrad plan (--data PRESET | --ratings FILE [--format F]) --k K\n"
     "            [--dtype float32|float64|bfloat16|float16] [--threads T] [--plan estimate|measure]\n"
     "            [--seconds S] [--wisdom FILE]\n"
     "  Makes a plan as a program linking mfgrad would (mfgrad::Plan) and prints the choice and the reason;\n"
     "  in measure mode (the default) also every candidate's median time on this data.\n"
     "  --plan     estimate: choose from the shape alone; measure: time the candidates once (default)\n"
     "  --seconds  measuring budget per candidate (default 0.3)\n"
     "  --wisdom   file of earlier measured choices for this machine: read when it exists, then written\n"
     "             back with this plan's choice, so the next plan for the same shape skips measuring\n"},
    {"report", mfgrad::cli::cmd_report, "put benchmark runs from several machines side by side (Markdown, plots)",
     "mfgrad report RUN.json [RUN.json ...] --out DIR [--allow-mixed-versions]\n"
     "  Reads results files of 'mfgrad bench --json' (one per machine, or per setting: MFGRAD_ISA, thread\n"
     "  counts) and writes DIR/report.md with a PNG plot per data set, dtype and k: each run's context side\n"
     "  by side (CPU, threads, SIMD level, compiler, flags, mfgrad version, OpenMP settings, measured peaks),\n"
     "  the differences that matter flagged; then per implementation each run's median time at its most\n"
     "  threads, GFLOP/s, % of its own FMA peak, 1 -> T scaling and the ratio to the first run, the fastest\n"
     "  run in bold. Prints the files written.\n"
     "  Refused: runs of different mfgrad versions (unless --allow-mixed-versions, then flagged), a data\n"
     "  set of one name with different entry counts, instruction counts instead of times.\n"},
    {"gen", mfgrad::cli::cmd_gen, "write a generated data set as a Matrix Market file",
     "mfgrad gen PRESET --out FILE [--seed S]\n"
     "  Presets: tiny, ml-small, netflix-25m, netflix-100m, wide-50m (see 'mfgrad gen --list').\n"},
};

void print_help() {
  std::printf(
      "mfgrad — fast CPU kernels for the masked matrix-factorization objective and its gradients\n\n"
      "usage: mfgrad <command> [options]      mfgrad help <command>      mfgrad --version\n\ncommands:\n");
  for (const Command& c : commands) std::printf("  %-9s %s\n", c.name, c.summary);
  std::printf(
      "\nenvironment: MFGRAD_KERNEL forces an implementation; MFGRAD_ISA caps SIMD dispatch;\n"
      "             MFGRAD_MEMORY_LIMIT (bytes, or 512M, 8G, ...) caps the memory mfgrad plans to use\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    print_help();
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version" || args[0] == "version") {
    std::printf("mfgrad %s\n", MFGRAD_VERSION_STRING);
    return 0;
  }
  if (args[0] == "help") {
    if (args.size() > 1)
      for (const Command& c : commands)
        if (args[1] == c.name) {
          std::fputs(c.usage, stdout);
          return 0;
        }
    print_help();
    return 0;
  }
#ifdef MFGRAD_WITH_MPI
  // Started by mpirun: eval and bench span the ranks (mpi/tools/ranks.cpp).
  if (int status = 0; mfgrad::cli::ranks_command(args, status)) return status;
#endif
  for (const Command& c : commands) {
    if (args[0] != c.name) continue;
    std::vector<std::string> rest(args.begin() + 1, args.end());
    for (const std::string& a : rest)
      if (a == "--help" || a == "-h") {
        std::fputs(c.usage, stdout);
        return 0;
      }
    try {
      mfgrad::isa_ceiling();  // an invalid MFGRAD_ISA fails every command up front, in one line
      return c.run(rest);
    } catch (const mfgrad::cli::UsageError& e) {
      std::fprintf(stderr, "mfgrad: %s\n", e.what());
      return 2;
    } catch (const std::bad_alloc&) {
      // Allocations made for an input say what they were for; this catches any other.
      std::fprintf(stderr, "mfgrad %s: error: out of memory (std::bad_alloc)\n", c.name);
      return 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "mfgrad %s: error: %s\n", c.name, e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "mfgrad: unknown command '%s' (see 'mfgrad --help')\n", args[0].c_str());
  return 2;
}
