// The command-line tool, run as a user would: exit codes, the JSON line, files written or not.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "../bench/json.hpp"
#include "mfgrad/io.hpp"
#include "mfgrad/mfgrad.h"
#include "support.hpp"

namespace mfgrad::test {
namespace {

namespace fs = std::filesystem;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("mfgrad_cli_" + std::to_string(::getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  // Runs `mfgrad ARGS` with optional environment assignments prefixed, e.g. "MFGRAD_KERNEL=tbb".
  Outcome mfgrad(const std::string& args, const std::string& env = "") {
    return run_command((env.empty() ? "" : "env " + env + " ") + std::string(MFGRAD_CLI) + " " + args, dir);
  }

  std::string path(const std::string& name) const { return (dir / name).string(); }

  fs::path dir;
};

// One line on stderr, naming the problem.
void expect_one_error_line(const Outcome& o, const std::string& needle) {
  EXPECT_NE(o.status, 0);
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
  EXPECT_NE(o.err.find(needle), std::string::npos) << o.err;
}

TEST_F(Cli, KernelsListsTheRegistry) {
  const Outcome o = mfgrad("kernels");
  ASSERT_EQ(o.status, 0) << o.err;
  for (const Kernel& k : registry()) EXPECT_NE(o.out.find(k.name), std::string::npos) << k.name;
  EXPECT_NE(o.out.find("SIMD dispatch: " + std::string(simd_arch_name())), std::string::npos) << o.out;
  // The levels --isa can name, from the library's own list.
  for (Isa isa : built_isas()) EXPECT_NE(o.out.find(to_string(isa)), std::string::npos) << to_string(isa);
  EXPECT_NE(o.out.find(std::string("SIMD levels built (") + to_string(build_isa_family()) + "): "), std::string::npos)
      << o.out;
}

TEST_F(Cli, GenThenEvalMatchesTheLibrary) {
  ASSERT_EQ(mfgrad("gen tiny --out " + path("tiny.mtx")).status, 0);
  const Observed obs = Observed::build(read_ratings(path("tiny.mtx")).entries);
  const Observed generated = generate(preset("tiny"));
  ASSERT_EQ(obs.nnz(), generated.nnz());
  ASSERT_EQ(obs.rows(), generated.rows());

  const std::size_t k = 7;
  const Factors<float> f = random_factors<float>(obs.rows(), obs.cols(), k, 3);
  write_npy(path("u.npy"), f.u.data(), f.m, k);
  write_npy(path("v.npy"), f.v.data(), f.n, k);
  const Outcome o = mfgrad("eval --ratings " + path("tiny.mtx") + " --u " + path("u.npy") + " --v " + path("v.npy") +
                           " --lambda 0.25 --kernel csc_cols_omp --threads 2 --out " + path("out"));
  ASSERT_EQ(o.status, 0) << o.err;
  const json::Value line = json::parse(o.out);
  EXPECT_EQ(line.find("kernel")->as_string(), "csc_cols_omp");
  EXPECT_EQ(line.find("nnz")->as_number(), static_cast<double>(obs.nnz()));
  EXPECT_EQ(line.find("m")->as_number(), obs.rows());
  EXPECT_EQ(line.find("n")->as_number(), obs.cols());
  EXPECT_EQ(line.find("k")->as_number(), 7);
  EXPECT_EQ(line.find("threads")->as_number(), 2);
  EXPECT_EQ(line.find("dtype")->as_string(), "float32");
  EXPECT_GT(line.find("seconds")->as_number(), 0);

  const NpyArray gu = read_npy(path("out/grad_u.npy")), gv = read_npy(path("out/grad_v.npy"));
  ASSERT_EQ(gu.dtype, Precision::f32);
  ASSERT_EQ(gu.f32.size(), f.m * k);
  ASSERT_EQ(gv.f32.size(), f.n * k);
  expect_matches_oracle(oracle_answer(obs, f, 0.25), line.find("loss")->as_number(), gu.f32.data(), gv.f32.data());
}

TEST_F(Cli, Float64FactorsGiveFloat64Gradients) {
  const Outcome o = mfgrad("eval --data tiny --k 5 --dtype float64 --lambda 0 --out " + path("out"));
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(json::parse(o.out).find("dtype")->as_string(), "float64");
  EXPECT_EQ(read_npy(path("out/grad_v.npy")).dtype, Precision::f64);
}

// 16-bit storage: the factors the library would make for this seed, evaluated with float32 gradients.
TEST_F(Cli, SixteenBitRandomFactorsGiveFloat32GradientsMatchingTheLibrary) {
  const Observed obs = generate(preset("tiny"));
  const std::size_t k = 9;
  const auto check = [&]<class S>(S, const char* dtype) {
    const Outcome o =
        mfgrad(std::string("eval --data tiny --k 9 --seed 4 --dtype ") + dtype + " --lambda 0.5 --out " + path(dtype));
    ASSERT_EQ(o.status, 0) << o.err;
    const json::Value line = json::parse(o.out);
    EXPECT_EQ(line.find("dtype")->as_string(), dtype);
    const Factors<S> f{static_cast<std::size_t>(obs.rows()), static_cast<std::size_t>(obs.cols()), k,
                       random_factor<S>(obs.rows(), k, 4), random_factor<S>(obs.cols(), k, 5)};
    const NpyArray gu = read_npy(path(std::string(dtype) + "/grad_u.npy"));
    const NpyArray gv = read_npy(path(std::string(dtype) + "/grad_v.npy"));
    ASSERT_EQ(gu.dtype, Precision::f32);
    ASSERT_EQ(gv.dtype, Precision::f32);
    ASSERT_EQ(gu.f32.size(), f.m * k);
    ASSERT_EQ(gv.f32.size(), f.n * k);
    expect_matches_oracle(oracle_answer(obs, f, 0.5), line.find("loss")->as_number(), gu.f32.data(), gv.f32.data(),
                          dtype);
  };
  check(bfloat16{}, "bfloat16");
  check(float16{}, "float16");
  const Outcome planned = mfgrad("plan --data tiny --k 16 --dtype bfloat16 --plan estimate");
  ASSERT_EQ(planned.status, 0) << planned.err;
  EXPECT_NE(planned.out.find("k = 16, bfloat16"), std::string::npos) << planned.out;
}

// Factor files rounded to 16 bits: read back exactly through rows with no entry, whose gradient is
// λ·u_i with λ = 1. A float64 value just above a tie between two neighbours of the format must round
// up, as it does when rounded once; rounding it to float32 first would land on the tie and go to even.
TEST_F(Cli, FactorFilesAreRoundedOnceToSixteenBits) {
  std::ofstream(path("one.mtx")) << "%%MatrixMarket matrix coordinate real general\n3 2 1\n1 1 4.0\n";
  const auto run_eval = [&](const std::string& dtype, const std::string& u, const std::string& v) {
    return mfgrad("eval --ratings " + path("one.mtx") + " --u " + u + " --v " + v + " --dtype " + dtype +
                  " --lambda 1 --out " + path("out_" + dtype));
  };
  // bits: the format's fraction bits; above and at: 1 + half an ulp (+ 2^-40), whose nearest are 1 + ulp and 1.
  for (const auto& [dtype, bits] : {std::pair<std::string, int>{"bfloat16", 7}, {"float16", 10}}) {
    const double ulp = std::ldexp(1.0, -bits), tie = 1 + ulp / 2, above = tie + std::ldexp(1.0, -40);
    const std::vector<double> u = {0.5, 0.25, above, tie, -above, 3.0}, v = {0.5, -0.5, 0.125, 2.0};
    write_npy(path("u64.npy"), u.data(), 3, 2);
    write_npy(path("v64.npy"), v.data(), 2, 2);
    std::vector<float> u32(u.begin(), u.end()), v32(v.begin(), v.end());
    u32[2] = static_cast<float>(tie + std::ldexp(1.0, -20));  // float32 keeps these above the tie
    u32[4] = -u32[2];
    write_npy(path("u32.npy"), u32.data(), 3, 2);
    write_npy(path("v32.npy"), v32.data(), 2, 2);
    for (const std::string suffix : {"64", "32"}) {
      const Outcome o = run_eval(dtype, path("u" + suffix + ".npy"), path("v" + suffix + ".npy"));
      ASSERT_EQ(o.status, 0) << o.err;
      EXPECT_EQ(json::parse(o.out).find("dtype")->as_string(), dtype);
      const NpyArray gu = read_npy(path("out_" + dtype + "/grad_u.npy"));
      ASSERT_EQ(gu.dtype, Precision::f32);
      ASSERT_EQ(gu.f32.size(), 6u);
      EXPECT_EQ(gu.f32[2], 1 + ulp) << dtype << " from float" << suffix;
      EXPECT_EQ(gu.f32[3], 1.0f) << dtype << " from float" << suffix;
      EXPECT_EQ(gu.f32[4], -1 - ulp) << dtype << " from float" << suffix;
      EXPECT_EQ(gu.f32[5], 3.0f) << dtype << " from float" << suffix;
    }
  }

  // Beyond float16's range (65504): refused, naming the file and the element, and nothing is written.
  fs::remove_all(dir / "out_float16");
  const std::vector<float> big = {0.5f, 0.25f, 1.0f, 70000.0f, 0.0f, 0.0f}, v = {0.5f, -0.5f, 0.125f, 2.0f};
  write_npy(path("big.npy"), big.data(), 3, 2);
  write_npy(path("v.npy"), v.data(), 2, 2);
  expect_one_error_line(run_eval("float16", path("big.npy"), path("v.npy")),
                        "big.npy: row 1, column 1: 70000 is beyond the range of float16");
  EXPECT_FALSE(fs::exists(dir / "out_float16"));
  ASSERT_EQ(run_eval("bfloat16", path("big.npy"), path("v.npy")).status, 0);  // bfloat16 has float32's range

  EXPECT_EQ(run_eval("float64", path("big.npy"), path("v.npy")).status, 2);  // files keep their own dtype
  EXPECT_EQ(run_eval("half", path("big.npy"), path("v.npy")).status, 2);
}

TEST_F(Cli, EnvironmentForcesTheKernel) {
  for (const Kernel& k : registry()) {
    const Outcome o =
        mfgrad("eval --data tiny --k 4 --lambda 0.1 --out " + path("out"), std::string("MFGRAD_KERNEL=") + k.name);
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(json::parse(o.out).find("kernel")->as_string(), k.name);
  }
  expect_one_error_line(mfgrad("eval --data tiny --k 4 --lambda 0.1 --out " + path("x"), "MFGRAD_KERNEL=bogus"),
                        "unknown implementation 'bogus'");
}

TEST_F(Cli, DeterministicKernelIsIdenticalAcrossThreadCounts) {
  for (int threads : {1, 3})
    ASSERT_EQ(mfgrad("eval --data tiny --k 9 --lambda 0.1 --kernel tbb --threads " + std::to_string(threads) +
                     " --out " + path("t" + std::to_string(threads)))
                  .status,
              0);
  EXPECT_EQ(slurp(dir / "t1/grad_u.npy"), slurp(dir / "t3/grad_u.npy"));
  EXPECT_EQ(slurp(dir / "t1/grad_v.npy"), slurp(dir / "t3/grad_v.npy"));
}

TEST_F(Cli, ErrorsAreOneLineAndWriteNothing) {
  const std::string out = " --out " + path("out");
  expect_one_error_line(mfgrad("eval --ratings " + path("absent.csv") + " --k 3 --lambda 0.1" + out), "absent.csv");
  expect_one_error_line(mfgrad("eval --data tiny --k 3 --lambda -1" + out), "lambda must be finite and at least 0");
  expect_one_error_line(mfgrad("eval --data nope --k 3 --lambda 1" + out), "neither a data preset");
  expect_one_error_line(mfgrad("eval --data tiny --k 3 --lambda 1 --kernel nope" + out), "unknown implementation");

  const Factors<double> f = random_factors<double>(10, 1500, 4, 1);  // tiny has 3000 rows, not 10
  write_npy(path("u.npy"), f.u.data(), f.m, 4);
  write_npy(path("v.npy"), f.v.data(), f.n, 4);
  expect_one_error_line(mfgrad("eval --data tiny --u " + path("u.npy") + " --v " + path("v.npy") + " --lambda 1" + out),
                        "u.npy: has 10 rows but the data has 3000 rows");

  std::ofstream(path("dups.txt")) << "1 1 4.0\n2 1 3.0\n1 1 5.0\n";
  expect_one_error_line(mfgrad("eval --ratings " + path("dups.txt") + " --k 2 --lambda 0.1" + out),
                        "duplicate entry (row 0, column 0)");
  EXPECT_FALSE(fs::exists(dir / "out")) << "an error left files behind";

  const Outcome summed = mfgrad("eval --ratings " + path("dups.txt") + " --duplicates sum --k 2 --lambda 0.1" + out);
  ASSERT_EQ(summed.status, 0) << summed.err;
  EXPECT_EQ(json::parse(summed.out).find("nnz")->as_number(), 2);
}

// Files a hostile user might hand over: each gets one printable error line naming the file and where
// in it, and nothing is written.
TEST_F(Cli, HostileInputsGetOneLineNamingFileAndPlaceAndWriteNothing) {
  const std::string out = " --out " + path("out");
  const auto file = [&](const std::string& name, const std::string& content) {
    std::ofstream(path(name), std::ios::binary) << content;
    return path(name);
  };
  const std::string mm = "%%MatrixMarket matrix coordinate real general\n";
  const std::string big = file("big.mtx", mm + "100000000 5 1\n1 1 1\n");
  expect_one_error_line(mfgrad("eval --ratings " + big + " --k 4 --lambda 0.1" + out),
                        big + ":2: the size line declares 100000000 x 5 for 1 entry");
  const std::string huge = file("huge.mtx", mm + "2147483647 2147483647 1\n1 1 1\n");
  expect_one_error_line(mfgrad("eval --ratings " + huge + " --k 4 --lambda 0.1" + out),
                        huge + ":2: the size line declares 2147483647 x 2147483647 for 1 entry");
  const std::string e400 = file("e400.txt", "1 2 1e400\n");
  expect_one_error_line(mfgrad("eval --ratings " + e400 + " --k 4 --lambda 0.1" + out),
                        e400 + ":1: value '1e400' is out of range");
  const std::string f32 = file("f32.txt", "1 1 2\n1 2 1e39\n");
  expect_one_error_line(mfgrad("eval --ratings " + f32 + " --k 4 --lambda 0.1" + out),
                        "input entry #1 (line 2 of " + f32 + "): row 0, column 1, value 1e+39 does not fit in float32");

  // float64 takes 1e300, but its square does not fit: no "loss": null, no file.
  const std::string f64 = file("f64.txt", "1 1 2\n1 2 1e300\n");
  const Outcome overflow = mfgrad("eval --ratings " + f64 + " --k 4 --dtype float64 --lambda 0.1" + out);
  expect_one_error_line(overflow, "the loss = inf is not finite, so nothing is written: float64 overflowed");
  EXPECT_NE(overflow.err.find("input entry #1 (line 2 of " + f64 + ")"), std::string::npos) << overflow.err;
  EXPECT_TRUE(overflow.out.empty()) << overflow.out;

  // A NUL and control bytes in a .npy header: quoted, escaped, and the message goes on past them.
  using namespace std::string_literals;
  std::string header = "{'descr': '<f\0\x1b[2J', 'fortran_order': False, 'shape': (3000, 4), }"s;
  header.append(128 - 10 - header.size() - 1, ' ');
  header += '\n';
  const std::string npy = file("u.npy", std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size()) +
                                            std::string(1, '\0') + header + std::string(3000 * 4 * 8, '\0'));
  write_npy(path("v.npy"), std::vector<double>(1500 * 4).data(), 1500, 4);
  const Outcome nul = mfgrad("eval --data tiny --u " + npy + " --v " + path("v.npy") + " --lambda 0.1" + out);
  expect_one_error_line(nul, npy + ": byte 20: dtype '<f\\0\\x1b[2J' is not supported");
  EXPECT_EQ(std::count_if(nul.err.begin(), nul.err.end(), [](char c) { return c != '\n' && c >= 0 && c < 0x20; }), 0);

  // Memory an evaluation would need beyond the limit is refused before it is allocated.
  const Outcome wide = mfgrad("eval --data tiny --k 1048576 --lambda 0.1" + out, "MFGRAD_MEMORY_LIMIT=1G");
  expect_one_error_line(wide, "evaluating generated preset tiny");
  EXPECT_NE(wide.err.find("at k = 1048576 in float32"), std::string::npos) << wide.err;
  EXPECT_NE(wide.err.find("GiB), more than the 1.00 GiB this process may use (MFGRAD_MEMORY_LIMIT)"), std::string::npos)
      << wide.err;
  EXPECT_FALSE(fs::exists(dir / "out")) << "an error left files behind";
}

// An allocation that fails anyway (the estimate let it through, the address space did not) says what it
// was for. AddressSanitizer reserves terabytes of address space, so this runs only without it.
TEST_F(Cli, AllocationFailureSaysWhatItWasFor) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "ulimit -v cannot hold a process built with AddressSanitizer";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  GTEST_SKIP() << "ulimit -v cannot hold a process built with AddressSanitizer";
#endif
#endif
  // 4 GiB of address space; the random factors alone need 3,000 x 2^20 floats (11.7 GiB).
  const Outcome o = mfgrad("eval --data tiny --k 1048576 --lambda 0.1 --out " + path("out"),
                           "MFGRAD_MEMORY_LIMIT=1T sh -c 'ulimit -v 4194304 && exec \"$0\" \"$@\"'");
  expect_one_error_line(o, "error: out of memory for the random factors U (3000 x 1048576, float32, 11.7 GiB)");
  EXPECT_FALSE(fs::exists(dir / "out"));
}

// MFGRAD_ISA is checked before any command runs: an unknown value, or a level of the other processor
// family, is a one-line error naming the variable; a valid cap is reported by `kernels`.
TEST_F(Cli, InvalidIsaCeilingIsOneLineError) {
  std::string other_family;  // a level of the other processor family
  for (const IsaLevel& level : isa_levels)
    if (level.family != IsaFamily::any && level.family != build_isa_family()) other_family = level.name;
  ASSERT_FALSE(other_family.empty());
  expect_one_error_line(mfgrad("kernels", "MFGRAD_ISA=" + other_family), "MFGRAD_ISA=" + other_family + " names an");
  expect_one_error_line(mfgrad("eval --data tiny --k 3 --lambda 1 --out " + path("out"), "MFGRAD_ISA=mmx"),
                        "MFGRAD_ISA: unknown instruction set 'mmx'");
  EXPECT_FALSE(fs::exists(dir / "out"));
  const Outcome capped = mfgrad("kernels", "MFGRAD_ISA=baseline");
  ASSERT_EQ(capped.status, 0) << capped.err;
  EXPECT_NE(capped.out.find("(MFGRAD_ISA=baseline)"), std::string::npos) << capped.out;
}

// --isa puts SIMD levels side by side in one run, each checked against the oracle; a level the CPU
// (or MFGRAD_ISA) refuses is a one-line error naming it.
TEST_F(Cli, BenchIsaRunsEachLevelSideBySide) {
  // Where the baseline is the only level (aarch64 today), "baseline,baseline" must run it once.
  const std::string best = cpu_supports(Isa::avx2) ? "avx2" : "baseline";
  const Outcome o = mfgrad(
      "bench --data tiny --k 16 --threads 1 --impl tiled_simd,csc_cols_omp --peers none "
      "--reps 1 --min-time 0.01 --seed 3 --lambda 0.25 --isa baseline," +
      best + " --json " + path("isa.json"));
  ASSERT_EQ(o.status, 0) << o.err;
  const std::string json = slurp(dir / "isa.json");
  // The settings that make runs differ are part of the context compare and report check.
  const mfgrad::json::Value context = *mfgrad::json::parse(json).find("context");
  EXPECT_EQ(context.find("seed")->as_string(), "3");
  EXPECT_EQ(context.find("lambda")->as_number(), 0.25);
  for (const std::string& row :
       std::vector<std::string>{"eval/tiled_simd@baseline/", "eval/tiled_simd@" + best + "/", "eval/csc_cols_omp/"})
    EXPECT_NE(json.find(row), std::string::npos) << row;
  EXPECT_EQ(json.find("\"eval/tiled_simd/"), std::string::npos) << "a row without its level";
  EXPECT_EQ(json.find("\"check\": \"failed"), std::string::npos) << "a row failed its check";
  EXPECT_NE(json.find("\"check\": \"passed\""), std::string::npos);
  expect_one_error_line(mfgrad("bench --data tiny --k 16 --impl tiled_simd --isa avx2", "MFGRAD_ISA=baseline"),
                        "SIMD level avx2");
}

// `mfgrad --version` names the version of the library the tool carries, as the C call gives it.
TEST_F(Cli, VersionIsTheLibrarysVersion) {
  for (const char* spelling : {"--version", "version"}) {
    const Outcome o = mfgrad(spelling);
    EXPECT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.out, "mfgrad " + std::string(mfgrad_version()) + "\n") << spelling;
  }
}

// Two runs side by side (the second with two threads, as a second machine would differ): both in the
// context table and in each block, the plot written; runs that cannot be compared are refused.
TEST_F(Cli, ReportPutsRunsSideBySideAndRefusesWhatCannotBeCompared) {
  const std::string bench = "bench --data tiny --k 4 --impl naive,csr_rows_omp --peers none --reps 3 --min-time 0.001";
  ASSERT_EQ(mfgrad(bench + " --threads 1 --json " + path("one.json")).status, 0);
  ASSERT_EQ(mfgrad(bench + " --threads 1,2 --json " + path("two.json")).status, 0);
  const Outcome o = mfgrad("report " + path("one.json") + " " + path("two.json") + " --out " + path("report"));
  ASSERT_EQ(o.status, 0) << o.err;
  const std::string md = slurp(dir / "report" / "report.md");
  EXPECT_NE(md.find("| CPU |"), std::string::npos) << md;
  EXPECT_NE(md.find("| one | two |"), std::string::npos) << md;
  EXPECT_NE(md.find("**The runs differ in:** threads measured"), std::string::npos) << md;
  EXPECT_NE(md.find("## tiny, float32, k = 4"), std::string::npos) << md;
  EXPECT_NE(md.find("| csr_rows_omp |"), std::string::npos) << md;
  EXPECT_NE(md.find("(2 t)"), std::string::npos) << md;  // the second run's most threads
  EXPECT_GT(fs::file_size(dir / "report" / "tiny_float32_k4.png"), 1000u);
  // Other random factors (the seed) or another λ: the same data, but runs that differ, and said so.
  ASSERT_EQ(mfgrad(bench + " --threads 1 --seed 9 --lambda 0.5 --json " + path("seed.json")).status, 0);
  const Outcome seeds = mfgrad("report " + path("one.json") + " " + path("seed.json") + " --out " + path("rs"));
  ASSERT_EQ(seeds.status, 0) << seeds.err;
  EXPECT_NE(slurp(dir / "rs" / "report.md").find("**The runs differ in:** seed, λ"), std::string::npos)
      << slurp(dir / "rs" / "report.md");

  // Another mfgrad version: refused unless allowed; other data under the same name: refused.
  std::string other = slurp(path("two.json"));
  const std::string version = "\"mfgrad\": \"" + std::string(mfgrad_version()) + "\"";
  ASSERT_NE(other.find(version), std::string::npos);
  other.replace(other.find(version), version.size(), "\"mfgrad\": \"0.0.1\"");
  std::ofstream(path("old.json")) << other;
  expect_one_error_line(mfgrad("report " + path("one.json") + " " + path("old.json") + " --out " + path("r2")),
                        "from mfgrad 0.0.1");
  EXPECT_EQ(
      mfgrad("report " + path("one.json") + " " + path("old.json") + " --allow-mixed-versions --out " + path("r3"))
          .status,
      0);
  std::string data = slurp(path("two.json"));
  const std::string nnz = "\"nnz\": 60000";
  for (std::size_t at = data.find(nnz); at != std::string::npos; at = data.find(nnz))
    data.replace(at, nnz.size(), "\"nnz\": 60001");
  std::ofstream(path("other.json")) << data;
  expect_one_error_line(mfgrad("report " + path("one.json") + " " + path("other.json") + " --out " + path("r4")),
                        "not the same data");
  EXPECT_EQ(mfgrad("report --out " + path("r5")).status, 2);
}

// compare's exit status tells a broken gate (2: input it cannot read) from a regression (1).
TEST_F(Cli, CompareExitsTwoForInputItCannotRead) {
  std::ofstream(path("broken.json")) << "{\"mfgrad_results\": 1, \"results\": [";
  const Outcome missing = mfgrad("compare " + path("absent.json") + " " + path("broken.json"));
  EXPECT_EQ(missing.status, 2) << missing.err;
  EXPECT_NE(missing.err.find("absent.json"), std::string::npos) << missing.err;
  const Outcome broken = mfgrad("compare " + path("broken.json") + " " + path("broken.json"));
  EXPECT_EQ(broken.status, 2) << broken.err;
  EXPECT_NE(broken.err.find("broken.json"), std::string::npos) << broken.err;
}

// The gate CI reads: 1 for a planted regression, 0 without one; a context difference is a warning,
// and an error (2) under --strict-context; --format json parses; /dev/zero is refused at once.
// The callgrind child gets its arguments as a vector, no shell: a data path with a quote and a space
// reaches it intact.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define MFGRAD_TEST_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MFGRAD_TEST_SANITIZED 1
#endif

TEST_F(Cli, InstructionCountsTakeAnyDataPath) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "instruction counts are x86-64 only (valgrind)";
#elif defined(MFGRAD_TEST_SANITIZED)
  GTEST_SKIP() << "valgrind cannot run a sanitized build (the perf gate's counts come from the normal build)";
#else
  if (std::system("valgrind --version >/dev/null 2>&1") != 0) {
    if (std::getenv("MFGRAD_CI") != nullptr) FAIL() << "valgrind is missing under MFGRAD_CI";
    GTEST_SKIP() << "valgrind is not installed (apt-get install valgrind)";
  }
  fs::create_directories(dir / "with space");
  const std::string data = path("with space/it's.mtx");
  ASSERT_EQ(mfgrad("gen tiny --out \"" + data + "\"").status, 0);
  const Outcome counted =
      mfgrad("bench --instructions --data \"" + data + "\" --k 4 --impl naive --json " + path("counts.json"));
  ASSERT_EQ(counted.status, 0) << counted.err;
  const mfgrad::json::Value doc = mfgrad::json::parse(slurp(path("counts.json")));
  const auto& results = doc.find("results")->as_array();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_GT(results[0].find("instructions")->as_number(), 0);
  EXPECT_EQ(results[0].find("check")->as_string(), "passed");
#endif
}

TEST_F(Cli, CompareGateFormatsAndContext) {
  const auto results = [&](const std::string& name, const std::string& cpu, double seconds) {
    std::ofstream out(path(name));
    out << "{\"mfgrad_results\": 1, \"context\": {\"cpu\": \"" << cpu << "\"}, \"results\": [{\"name\": "
        << "\"eval/a/k:16/threads:1\", \"samples_s\": [";
    for (int i = 0; i < 7; ++i) out << (i ? ", " : "") << seconds * (1 + 0.001 * i);
    out << "], \"check\": \"passed\"}]}";
    return path(name);
  };
  const std::string base = results("base.json", "A", 1e-3), slow = results("slow.json", "A", 2e-3),
                    moved = results("moved.json", "B", 1e-3);
  EXPECT_EQ(mfgrad("compare " + base + " " + base).status, 0);
  const Outcome regression = mfgrad("compare " + base + " " + slow);
  EXPECT_EQ(regression.status, 1) << regression.out;
  EXPECT_NE(regression.out.find("regression"), std::string::npos) << regression.out;

  const Outcome other = mfgrad("compare " + base + " " + moved);
  EXPECT_EQ(other.status, 0) << other.out << other.err;
  EXPECT_NE(other.out.find("warning: "), std::string::npos) << other.out;
  const Outcome strict = mfgrad("compare --strict-context " + base + " " + moved);
  EXPECT_EQ(strict.status, 2) << strict.out << strict.err;
  EXPECT_NE(strict.err.find("context"), std::string::npos) << strict.err;

  const Outcome json = mfgrad("compare --format json " + base + " " + slow);
  EXPECT_EQ(json.status, 1);
  const mfgrad::json::Value doc = mfgrad::json::parse(json.out);
  EXPECT_FALSE(doc.find("passed")->as_bool());
  EXPECT_EQ(doc.find("rows")->as_array().size(), 1u);
  const Outcome md = mfgrad("compare --format markdown " + base + " " + slow);
  EXPECT_EQ(md.out.rfind("### mfgrad compare: FAIL", 0), 0u) << md.out;
  EXPECT_EQ(mfgrad("compare --format html " + base + " " + slow).status, 2);

  const Outcome zero = mfgrad("compare /dev/zero " + base);
  EXPECT_EQ(zero.status, 2);
  EXPECT_NE(zero.err.find("/dev/zero"), std::string::npos) << zero.err;
}

TEST_F(Cli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(mfgrad("eval --data tiny --k 3 --lambda 1 --out x --bogus 1").status, 2);
  EXPECT_EQ(mfgrad("eval --data tiny --lambda 1 --out x").status, 2);  // neither --k nor --u/--v
  EXPECT_EQ(mfgrad("frobnicate").status, 2);
  EXPECT_EQ(mfgrad("eval --data tiny --k x --lambda 1 --out " + path("o")).status, 2);
  EXPECT_FALSE(fs::exists(dir / "o"));
}

// A second eval whose grad_v.npy cannot be written (a directory stands in its place) leaves the first
// run's pair exactly as it was: outputs are renamed only once all are whole.
TEST_F(Cli, EvalOutputsAreAllOrNothing) {
  const std::string out = " --out " + path("out");
  ASSERT_EQ(mfgrad("eval --data tiny --k 3 --lambda 0.1" + out).status, 0);
  const std::string gu = slurp(dir / "out" / "grad_u.npy"), gv = slurp(dir / "out" / "grad_v.npy");
  ASSERT_FALSE(gu.empty());
  fs::rename(dir / "out" / "grad_v.npy", dir / "grad_v.keep");
  fs::create_directory(dir / "out" / "grad_v.npy");
  expect_one_error_line(mfgrad("eval --data tiny --k 5 --lambda 0.1" + out), "grad_v.npy: Is a directory");
  EXPECT_EQ(slurp(dir / "out" / "grad_u.npy"), gu) << "the first run's grad_u.npy was replaced";
  fs::remove(dir / "out" / "grad_v.npy");
  fs::rename(dir / "grad_v.keep", dir / "out" / "grad_v.npy");
  for (const auto& entry : fs::directory_iterator(dir / "out"))
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << "left behind: " << entry.path();

  // A symbolic link is followed: the file it names is replaced and the link stays.
  fs::create_directories(dir / "real");
  fs::create_directories(dir / "linked");
  std::ofstream(dir / "real" / "grad_u.npy") << "old";
  fs::create_symlink(dir / "real" / "grad_u.npy", dir / "linked" / "grad_u.npy");
  ASSERT_EQ(mfgrad("eval --data tiny --k 3 --lambda 0.1 --out " + path("linked")).status, 0);
  EXPECT_TRUE(fs::is_symlink(dir / "linked" / "grad_u.npy"));
  EXPECT_EQ(slurp(dir / "real" / "grad_u.npy"), gu);
}

// An output that is a device is written through, not replaced by a regular file.
TEST_F(Cli, OutputsToDevicesAreWrittenThrough) {
  fs::create_directories(dir / "dev");
  fs::create_symlink("/dev/null", dir / "dev" / "grad_u.npy");
  fs::create_symlink("/dev/null", dir / "dev" / "grad_v.npy");
  const Outcome o = mfgrad("eval --data tiny --k 3 --lambda 0.1 --out " + path("dev"));
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
  EXPECT_TRUE(fs::is_symlink(dir / "dev" / "grad_u.npy"));
}

// A stream that is not what it should be is refused on its first bytes, naming it, not read whole.
TEST_F(Cli, StreamsAreRefusedOnTheirFirstBytes) {
  ASSERT_TRUE(fs::exists("/dev/zero"));
  expect_one_error_line(mfgrad("eval --data tiny --u /dev/zero --v /dev/zero --lambda 0.1 --out " + path("out"),
                               "MFGRAD_MEMORY_LIMIT=1G"),
                        "/dev/zero: byte 0: not a .npy file");
  expect_one_error_line(mfgrad("eval --ratings /dev/zero --k 2 --lambda 0.1 --out " + path("out")),
                        "/dev/zero: byte 0 is a NUL byte");
  expect_one_error_line(mfgrad("plan --data tiny --k 4 --wisdom /dev/zero"), "/dev/zero:1: not an mfgrad wisdom file");
  fs::create_directories(dir / "wisdom_dir");
  expect_one_error_line(mfgrad("plan --data tiny --k 4 --wisdom " + path("wisdom_dir")), "Is a directory");
  EXPECT_FALSE(fs::exists(dir / "out"));
}

// A benchmark case that cannot fit in the memory this process may use is skipped with its line in the
// table (and its JSON check), and the cases that fit still run.
TEST_F(Cli, BenchSkipsCasesThatCannotFit) {
  const Outcome o = mfgrad(
      "bench --data tiny --k 4,4096 --threads 1 --impl csc_cols_omp --peers none --reps 1 "
      "--min-time 0.01 --json " +
          path("skip.json"),
      "MFGRAD_MEMORY_LIMIT=200M");
  EXPECT_EQ(o.status, 1) << "a skipped case is not a passed one";
  EXPECT_NE(o.out.find("skipped: eval/csc_cols_omp/tiny/k:4096/threads:1 needs about"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("this process may use (MFGRAD_MEMORY_LIMIT)"), std::string::npos) << o.out;
  const std::string json = slurp(dir / "skip.json");
  EXPECT_NE(json.find("\"check\": \"passed\""), std::string::npos) << "the case that fits did not run";
  EXPECT_NE(json.find("\"check\": \"skipped: "), std::string::npos);
}

// Options with a range are checked before anything runs: a usage error (2) naming the option.
TEST_F(Cli, OutOfRangeOptionsAreUsageErrors) {
  for (const char* bad : {"0", "-5", "nan", "inf"}) {
    const Outcome min_time = mfgrad(std::string("bench --data tiny --k 4 --min-time ") + bad);
    EXPECT_EQ(min_time.status, 2) << bad << ": " << min_time.err;
    EXPECT_NE(min_time.err.find("--min-time expects a number above 0"), std::string::npos) << min_time.err;
    const Outcome seconds = mfgrad(std::string("plan --data tiny --k 4 --seconds ") + bad);
    EXPECT_EQ(seconds.status, 2) << bad << ": " << seconds.err;
    EXPECT_NE(seconds.err.find("--seconds expects a number above 0"), std::string::npos) << seconds.err;
  }
  EXPECT_EQ(mfgrad("bench --data tiny --k 4 --lambda -1").status, 2);
  EXPECT_EQ(mfgrad("bench --data tiny --k 4 --lambda nan").status, 2);
}

}  // namespace
}  // namespace mfgrad::test
