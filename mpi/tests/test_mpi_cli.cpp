// `mpirun -np 3 mfgrad eval` against the single-process `mfgrad eval --kernel naive` (the oracle) on the
// same file: the same loss and gradients within the tolerance rule, for rows and for columns, and the
// same bits from a second run; a bad line in one rank's share fails every rank and writes nothing;
// `mfgrad bench` under mpirun reports its columns; the trainer at 3 ranks follows the one-process run.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "mfgrad/check.hpp"
#include "mfgrad/generate.hpp"
#include "mfgrad/io.hpp"
#include "support.hpp"  // Outcome, run_command, slurp

namespace mfgrad {
namespace {

namespace fs = std::filesystem;

using test::Outcome;
using test::run_command;
using test::slurp;

class Tool : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mfgrad_test_mpi_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // `ranks` 0: alone; else under mpirun with that many ranks. The tool, or (tool = false) the program
  // named at the start of args.
  Outcome run(int ranks, const std::string& args, bool tool = true) {
    const std::string launcher =
        ranks == 0 ? std::string()
                   : std::string(MFGRAD_MPIEXEC) + " --oversubscribe -np " + std::to_string(ranks) + " ";
    return run_command(launcher + (tool ? std::string(MFGRAD_CLI) + " " : std::string()) + args, dir_);
  }

  fs::path dir_;
};

double loss_of(const std::string& json) {
  const std::size_t at = json.find("\"loss\": ");
  return at == std::string::npos ? std::nan("") : std::strtod(json.c_str() + at + 8, nullptr);
}

template <class T>
const std::vector<T>& data_of(const NpyArray& a) {
  return by_precision<T>(a.f32, a.f64);
}

template <class T>
void expect_same_evaluation(const fs::path& file, const fs::path& want_dir, double want_loss, const fs::path& got_dir,
                            double got_loss, std::size_t k, double lambda) {
  const Observed obs = Observed::build(read_ratings(file.string()).entries);
  const auto m = static_cast<std::size_t>(obs.rows()), n = static_cast<std::size_t>(obs.cols());
  const std::vector<T> u = random_factor<T>(m, k, 1), v = random_factor<T>(n, k, 2);
  const NpyArray want_u = read_npy((want_dir / "grad_u.npy").string()),
                 want_v = read_npy((want_dir / "grad_v.npy").string());
  const NpyArray got_u = read_npy((got_dir / "grad_u.npy").string()),
                 got_v = read_npy((got_dir / "grad_v.npy").string());
  ASSERT_EQ(got_u.rows, m);
  ASSERT_EQ(got_v.rows, n);
  ASSERT_EQ(got_u.dtype, precision_of<T>());
  const ErrorBounds bounds = error_bounds<T>(obs, u.data(), v.data(), k, lambda);
  const CheckReport report = check<T>(obs, k, bounds, {want_loss, data_of<T>(want_u).data(), data_of<T>(want_v).data()},
                                      {got_loss, data_of<T>(got_u).data(), data_of<T>(got_v).data()});
  EXPECT_TRUE(report.passed) << got_dir << ": " << report.message;
}

TEST_F(Tool, ThreeRanksGiveTheSingleProcessEvaluation) {
  DataSpec spec = preset("tiny");
  spec.rows = 700;
  spec.cols = 500;
  spec.nnz = 12000;
  const fs::path file = dir_ / "ratings.mtx";
  write_matrix_market(file.string(), generate_entries(spec));
  for (const std::string dtype : {"float32", "float64"}) {
    const std::string common = "eval --ratings " + file.string() + " --k 8 --lambda 0.05 --dtype " + dtype + " --out " +
                               (dir_ / dtype).string();
    const Outcome one = run(0, common + "/one --kernel naive");
    ASSERT_EQ(one.status, 0) << one.err;
    for (const std::string side : {"rows", "columns"}) {
      const Outcome three = run(3, common + "/" + side + " --partition " + side);
      ASSERT_EQ(three.status, 0) << three.err;
      EXPECT_NE(three.out.find("\"ranks\": 3"), std::string::npos) << three.out;
      EXPECT_NE(three.out.find("\"partition\": \"" + side + "\""), std::string::npos) << three.out;
      EXPECT_NE(three.out.find("\"imbalance\": "), std::string::npos) << three.out;
      const fs::path want = dir_ / dtype / "one", got = dir_ / dtype / side;
      // Another process group, the same bits: the reduction's order never follows message timing.
      const Outcome again = run(3, common + "/" + side + "_again --partition " + side);
      ASSERT_EQ(again.status, 0) << again.err;
      EXPECT_EQ(loss_of(again.out), loss_of(three.out));
      for (const char* g : {"grad_u.npy", "grad_v.npy"})
        EXPECT_EQ(slurp(got / g), slurp(dir_ / dtype / (side + "_again") / g)) << side << " " << g;
      if (dtype == std::string("float32"))
        expect_same_evaluation<float>(file, want, loss_of(one.out), got, loss_of(three.out), 8, 0.05);
      else
        expect_same_evaluation<double>(file, want, loss_of(one.out), got, loss_of(three.out), 8, 0.05);
    }
  }
}

TEST_F(Tool, BadLineInOneShareFailsEveryRankAndWritesNothing) {
  std::string text = "%%MatrixMarket matrix coordinate real general\n40 30 300\n";
  for (int t = 0; t < 300; ++t)
    text += t == 290 ? "7 3 four\n" : std::to_string(t % 40 + 1) + " " + std::to_string(t / 40 + 1) + " 2.5\n";
  const fs::path file = dir_ / "bad.mtx";
  std::ofstream(file) << text;
  const Outcome r = run(3, "eval --ratings " + file.string() + " --k 4 --lambda 0.1 --out " + (dir_ / "out").string());
  EXPECT_EQ(r.status, 1);
  // Line 293 of the file (two header lines, then entry 290), in the last rank's byte range.
  EXPECT_NE(r.err.find("rank 2 of 3: " + file.string() + ":293: value 'four' is not a number"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "out"));
}

// The loss after every step of train_ranks, from its output.
std::vector<double> losses(const std::string& out) {
  std::vector<double> l;
  for (std::size_t at = out.find("loss "); at != std::string::npos; at = out.find("loss ", at + 5))
    l.push_back(std::strtod(out.c_str() + at + 5, nullptr));
  return l;
}

// The trainer at 3 ranks follows the one-process run. Each evaluation agrees within the tolerance rule,
// whose loss bound is about (k+1)·u relative here (5e-7 in float32 at k = 8, 1e-15 in float64); ten
// Adam steps, whose step per element is at most the rate whatever the gradient, do not grow that
// much: the losses must agree within 1e-6 (float32) and 1e-12 (float64) relative at every step.
TEST_F(Tool, TrainerAcrossRanksFollowsTheOneProcessRun) {
  for (const std::string dtype : {"float32", "float64"}) {
    const std::string args = " --data ml-small --k 8 --steps 10 --dtype " + dtype;
    const Outcome one = run(1, std::string(MFGRAD_TRAIN_RANKS) + args, false);
    ASSERT_EQ(one.status, 0) << one.err;
    const std::vector<double> want = losses(one.out);
    ASSERT_EQ(want.size(), 10u) << one.out;
    EXPECT_LT(want.back(), 0.95 * want.front()) << "training did not train";
    for (const std::string side : {"rows", "columns"}) {
      const Outcome three = run(3, std::string(MFGRAD_TRAIN_RANKS) + args + " --partition " + side, false);
      ASSERT_EQ(three.status, 0) << three.err;
      const std::vector<double> got = losses(three.out);
      ASSERT_EQ(got.size(), want.size()) << three.out;
      const double tolerance = dtype == std::string("float32") ? 1e-6 : 1e-12;
      for (std::size_t t = 0; t < want.size(); ++t)
        EXPECT_LE(std::fabs(got[t] - want[t]), tolerance * want[t]) << dtype << " " << side << " step " << t + 1;
    }
  }
}

TEST_F(Tool, BenchReportsComputeCommunicationAndImbalance) {
  const Outcome r =
      run(2, "bench --data tiny --k 8 --reps 2 --partition rows,columns --json " + (dir_ / "b.json").string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("2 ranks"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("imbalance"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("partition rows"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("partition columns"), std::string::npos) << r.out;
  const std::string json = slurp(dir_ / "b.json");
  EXPECT_NE(json.find("\"bytes_sent_per_rank\": "), std::string::npos) << json;
  EXPECT_NE(json.find("\"communication_max_seconds\": "), std::string::npos) << json;
}

}  // namespace
}  // namespace mfgrad
