// `mfgrad compare`: the Mann–Whitney test, verdicts, both results formats, and the report.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "compare.hpp"
#include "json.hpp"
#include "mfgrad/types.hpp"
#include "util.hpp"

namespace {

namespace fs = std::filesystem;
using mfgrad::bench::BenchmarkResult;
using mfgrad::bench::CompareOptions;
using mfgrad::bench::Comparison;
using mfgrad::bench::mann_whitney;
using mfgrad::bench::MannWhitneyMethod;
using mfgrad::bench::Report;
using mfgrad::bench::ResultSet;
using mfgrad::bench::Verdict;

// ---------------------------------------------------------------------------------------------------
// Mann–Whitney U

TEST(MannWhitney, SeparatedThreeAndThreeIsTwoOfTwentySplits) {
  // Of the C(6, 3) = 20 equally likely splits, only "all x below" and "all x above" are as extreme.
  const std::vector<double> x{1, 2, 3}, y{4, 5, 6};
  const auto r = mann_whitney(x, y);
  EXPECT_TRUE(r.exact);
  EXPECT_EQ(r.u, 0);
  EXPECT_DOUBLE_EQ(r.p, 2.0 / 20);
}

TEST(MannWhitney, SeparatedFiveAndFiveIsTwoOf252Splits) {
  const std::vector<double> x{1.5, 2.5, 3.5, 4.5, 5.5}, y{10, 11, 12, 13, 14};
  EXPECT_DOUBLE_EQ(mann_whitney(x, y).p, 2.0 / 252);
  EXPECT_EQ(mann_whitney(y, x).u, 25);  // every pair has y > x
}

TEST(MannWhitney, OneOverlapAtThreeAndThree) {
  // x = {1, 2, 5}, y = {3, 4, 6}: U_x = 2 (5 beats 3 and 4), rank sum 8. Splits whose rank sum is at
  // least as far from the mean 10.5: {1,2,3}, {1,2,4}, {1,2,5}, {1,3,4} and their 4 mirrors, 8 of 20.
  const std::vector<double> x{1, 2, 5}, y{3, 4, 6};
  const auto r = mann_whitney(x, y);
  EXPECT_EQ(r.u, 2);
  EXPECT_DOUBLE_EQ(r.p, 8.0 / 20);
}

TEST(MannWhitney, IsSymmetricInItsSamples) {
  std::mt19937 rng(7);
  std::normal_distribution<double> a(1.0, 0.1), b(1.1, 0.1);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<double> x(4 + trial % 5), y(3 + trial % 7);
    for (double& v : x) v = a(rng);
    for (double& v : y) v = b(rng);
    const auto xy = mann_whitney(x, y), yx = mann_whitney(y, x);
    EXPECT_DOUBLE_EQ(xy.p, yx.p) << trial;
    EXPECT_DOUBLE_EQ(xy.u + yx.u, static_cast<double>(x.size() * y.size())) << trial;
    const auto xy_normal = mann_whitney(x, y, MannWhitneyMethod::normal),
               yx_normal = mann_whitney(y, x, MannWhitneyMethod::normal);
    EXPECT_DOUBLE_EQ(xy_normal.p, yx_normal.p) << trial;
  }
}

TEST(MannWhitney, TiesUseMidranksInTheExactDistribution) {
  // Pooled {1, 1, 2, 2, 3, 3} has midranks 1.5, 1.5, 3.5, 3.5, 5.5, 5.5; x = {1, 1, 2} sums 6.5, the
  // least possible, reached by 2 of the 20 splits (either 2); its mirror 14.5 by 2 more: p = 4/20.
  // U_x = 0.5: the tie of 2 with 2 counts one half.
  const std::vector<double> x{1, 1, 2}, y{2, 3, 3};
  const auto r = mann_whitney(x, y);
  EXPECT_EQ(r.u, 0.5);
  EXPECT_DOUBLE_EQ(r.p, 4.0 / 20);
  EXPECT_DOUBLE_EQ(mann_whitney(y, x).p, 4.0 / 20);
}

TEST(MannWhitney, AllTiedIsNoEvidence) {
  const std::vector<double> x{2, 2, 2}, y{2, 2, 2, 2};
  EXPECT_EQ(mann_whitney(x, y).p, 1);
  EXPECT_EQ(mann_whitney(x, y, MannWhitneyMethod::normal).p, 1);
}

TEST(MannWhitney, NormalApproximationIsCloseToExactAtTenAndTen) {
  // With the continuity correction the approximation stays within 0.01 of the exact p at n = m = 10
  // (the largest gap over these splits is about 0.009, near p ≈ 0.5; in the far tail both are tiny).
  std::mt19937 rng(11);
  std::vector<double> pooled(20);
  for (std::size_t i = 0; i < pooled.size(); ++i) pooled[i] = static_cast<double>(i);
  double worst = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    std::shuffle(pooled.begin(), pooled.end(), rng);
    const std::vector<double> x(pooled.begin(), pooled.begin() + 10), y(pooled.begin() + 10, pooled.end());
    const auto exact = mann_whitney(x, y, MannWhitneyMethod::exact);
    const auto normal = mann_whitney(x, y, MannWhitneyMethod::normal);
    ASSERT_TRUE(exact.exact);
    ASSERT_FALSE(normal.exact);
    EXPECT_EQ(exact.u, normal.u);
    worst = std::max(worst, std::abs(exact.p - normal.p));
  }
  EXPECT_LT(worst, 0.01);
  EXPECT_GT(worst, 0.0);  // two different computations, not one twice
}

TEST(MannWhitney, AutomaticSwitchesToTheApproximationForLargeSamples) {
  std::vector<double> x(25), y(25);
  for (std::size_t i = 0; i < 25; ++i) {
    x[i] = static_cast<double>(i);
    y[i] = static_cast<double>(i) + 0.5;
  }
  const auto r = mann_whitney(x, y);
  EXPECT_FALSE(r.exact);
  EXPECT_DOUBLE_EQ(r.p, mann_whitney(x, y, MannWhitneyMethod::normal).p);
  EXPECT_THROW(mann_whitney(x, y, MannWhitneyMethod::exact), std::invalid_argument);
  EXPECT_TRUE(mann_whitney(std::vector<double>(x.begin(), x.begin() + 15), y).exact);  // 40 values together
}

TEST(MannWhitney, EmptySampleGivesPOne) {
  const std::vector<double> x{1, 2}, none;
  EXPECT_EQ(mann_whitney(x, none).p, 1);
}

// ---------------------------------------------------------------------------------------------------
// Verdicts

BenchmarkResult timed(const std::string& name, std::vector<double> samples_s) {
  BenchmarkResult r;
  r.name = name;
  r.samples_s = std::move(samples_s);
  return r;
}

// n repetitions around `seconds`, each a little off (±1%), as on a quiet machine.
std::vector<double> around(double seconds, std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> jitter(-0.01, 0.01);
  std::vector<double> v(n);
  for (double& s : v) s = seconds * (1 + jitter(rng));
  return v;
}

ResultSet set_of(std::vector<BenchmarkResult> results, std::vector<mfgrad::bench::ContextEntry> context = {}) {
  return {"mem.json", "mfgrad", std::move(results), std::move(context)};
}

const Comparison& row_of(const Report& report, const std::string& name) {
  for (const Comparison& c : report.rows)
    if (c.name == name) return c;
  throw std::runtime_error("no row " + name);
}

TEST(Compare, TwiceAsSlowWithSevenRepetitionsIsARegression) {
  const Report report = compare(set_of({timed("eval/x", around(1e-3, 7, 1))}),
                                set_of({timed("eval/x", around(2e-3, 7, 2))}), CompareOptions{});
  const Comparison& c = row_of(report, "eval/x");
  EXPECT_EQ(c.verdict, Verdict::regression);
  EXPECT_NEAR(*c.change, 1.0, 0.05);
  EXPECT_DOUBLE_EQ(*c.p, 2.0 / 3432);  // complete separation, 2/C(14, 7)
  EXPECT_EQ(c.baseline->n, 7u);
  EXPECT_FALSE(report.passed());
}

TEST(Compare, HalfTheTimeIsAnImprovement) {
  const Report report = compare(set_of({timed("eval/x", around(1e-3, 7, 1))}),
                                set_of({timed("eval/x", around(0.5e-3, 7, 2))}), CompareOptions{});
  EXPECT_EQ(row_of(report, "eval/x").verdict, Verdict::improvement);
  EXPECT_TRUE(report.passed());
}

TEST(Compare, SameDistributionIsUnchanged) {
  const std::vector<double> samples = around(1e-3, 7, 3);
  std::vector<double> shuffled = samples;
  std::reverse(shuffled.begin(), shuffled.end());
  const Report report =
      compare(set_of({timed("eval/x", samples)}), set_of({timed("eval/x", shuffled)}), CompareOptions{});
  const Comparison& c = row_of(report, "eval/x");
  EXPECT_EQ(c.verdict, Verdict::unchanged);
  EXPECT_EQ(*c.change, 0);
  EXPECT_EQ(*c.p, 1);
  EXPECT_TRUE(report.passed());
}

TEST(Compare, ChangeWithinTheThresholdIsUnchangedEvenWhenSignificant) {
  // 5% slower, perfectly separated: real, but below the 10% that matters.
  const Report report = compare(set_of({timed("eval/x", around(1e-3, 7, 1))}),
                                set_of({timed("eval/x", around(1.05e-3, 7, 2))}), CompareOptions{});
  const Comparison& c = row_of(report, "eval/x");
  EXPECT_LT(*c.p, 0.05);
  EXPECT_EQ(c.verdict, Verdict::unchanged);
  CompareOptions strict;
  strict.threshold = 0.02;
  EXPECT_EQ(row_of(compare(set_of({timed("eval/x", around(1e-3, 7, 1))}),
                           set_of({timed("eval/x", around(1.05e-3, 7, 2))}), strict),
                   "eval/x")
                .verdict,
            Verdict::regression);
}

TEST(Compare, TwoRepetitionsCannotBeSignificantSoTheyAreInconclusive) {
  const Report report = compare(set_of({timed("eval/x", around(1e-3, 2, 1))}),
                                set_of({timed("eval/x", around(2e-3, 2, 2))}), CompareOptions{});
  const Comparison& c = row_of(report, "eval/x");
  EXPECT_EQ(c.verdict, Verdict::inconclusive);
  EXPECT_DOUBLE_EQ(*c.p, 2.0 / 6);
  EXPECT_NE(c.note.find("too few repetitions"), std::string::npos) << c.note;
  EXPECT_NE(c.note.find("at least 4 per side"), std::string::npos) << c.note;
  EXPECT_TRUE(report.passed());  // no evidence of a regression is not a regression
}

TEST(Compare, NoisyOverlappingSamplesAreInconclusive) {
  // Medians 1.0 and 1.3 ms, but the samples interleave: enough repetitions, not enough evidence.
  const Report report = compare(set_of({timed("eval/x", {0.6e-3, 1.0e-3, 1.0e-3, 1.4e-3, 2.0e-3})}),
                                set_of({timed("eval/x", {0.7e-3, 1.2e-3, 1.3e-3, 1.5e-3, 1.9e-3})}), CompareOptions{});
  const Comparison& c = row_of(report, "eval/x");
  EXPECT_EQ(c.verdict, Verdict::inconclusive);
  EXPECT_GE(*c.p, 0.05);
  EXPECT_NE(c.note.find("not below alpha"), std::string::npos) << c.note;
}

TEST(Compare, FailedCheckOnEitherSideFailsTheGate) {
  BenchmarkResult bad = timed("eval/x", around(1e-3, 7, 2));
  bad.failed = true;
  bad.failure = "check failed: gradient off by 1e-2";
  const Report in_contender = compare(set_of({timed("eval/x", around(1e-3, 7, 1))}), set_of({bad}), CompareOptions{});
  EXPECT_EQ(row_of(in_contender, "eval/x").verdict, Verdict::failed);
  EXPECT_NE(row_of(in_contender, "eval/x").note.find("contender check failed: gradient"), std::string::npos);
  EXPECT_FALSE(in_contender.passed());

  const Report in_baseline = compare(set_of({bad}), set_of({timed("eval/x", around(1e-3, 7, 1))}), CompareOptions{});
  EXPECT_EQ(row_of(in_baseline, "eval/x").verdict, Verdict::failed);
  EXPECT_FALSE(in_baseline.passed());

  // A new benchmark that computes wrong results fails too.
  BenchmarkResult bad_new = bad;
  bad_new.name = "eval/y";
  const Report as_new = compare(set_of({timed("eval/x", around(1e-3, 7, 1))}),
                                set_of({timed("eval/x", around(1e-3, 7, 1)), bad_new}), CompareOptions{});
  EXPECT_EQ(row_of(as_new, "eval/y").verdict, Verdict::failed);
  EXPECT_FALSE(as_new.passed());
}

TEST(Compare, MissingFailsAndNewPasses) {
  const Report report =
      compare(set_of({timed("a", around(1e-3, 5, 1)), timed("b", around(1e-3, 5, 2))}),
              set_of({timed("a", around(1e-3, 5, 3)), timed("c", around(1e-3, 5, 4))}), CompareOptions{});
  ASSERT_EQ(report.rows.size(), 3u);
  EXPECT_EQ(report.rows[0].name, "a");  // baseline order, then the new ones
  EXPECT_EQ(report.rows[1].name, "b");
  EXPECT_EQ(report.rows[1].verdict, Verdict::missing);
  EXPECT_EQ(report.rows[2].name, "c");
  EXPECT_EQ(report.rows[2].verdict, Verdict::added);
  EXPECT_FALSE(report.passed());
  EXPECT_EQ(report.count(Verdict::missing), 1u);
  EXPECT_EQ(report.count(Verdict::added), 1u);

  const Report only_new =
      compare(set_of({timed("a", around(1e-3, 5, 1))}),
              set_of({timed("a", around(1e-3, 5, 3)), timed("c", around(1e-3, 5, 4))}), CompareOptions{});
  EXPECT_TRUE(only_new.passed());
}

TEST(Compare, FilterRestrictsBothSides) {
  CompareOptions opt;
  opt.filter = "eval/fused/*";
  const Report report =
      compare(set_of({timed("eval/fused/k:16", around(1e-3, 5, 1)), timed("eval/naive/k:16", around(1e-3, 5, 2))}),
              set_of({timed("eval/fused/k:16", around(1e-3, 5, 3)), timed("eval/tbb/k:16", around(1e-3, 5, 4))}), opt);
  ASSERT_EQ(report.rows.size(), 1u);
  EXPECT_EQ(report.rows[0].name, "eval/fused/k:16");
  EXPECT_TRUE(report.passed());

  opt.filter = "nothing-matches";
  EXPECT_THROW(compare(set_of({timed("a", {1e-3})}), set_of({timed("a", {1e-3})}), opt), mfgrad::Error);
}

// An independent reference: the textbook recursion, exponential in the worst case but fine on short text.
bool glob_reference(std::string_view p, std::string_view s) {
  if (p.empty()) return s.empty();
  if (p[0] == '*') return glob_reference(p.substr(1), s) || (!s.empty() && glob_reference(p, s.substr(1)));
  return !s.empty() && (p[0] == '?' || p[0] == s[0]) && glob_reference(p.substr(1), s.substr(1));
}

TEST(Glob, AgreesWithTheRecursiveDefinitionOnRandomShortText) {
  std::mt19937 rng(7);
  const std::string pattern_alphabet = "ab*?/", text_alphabet = "ab/*?";
  std::size_t matches = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    std::string p(rng() % 7, ' '), s(rng() % 9, ' ');
    for (char& c : p) c = pattern_alphabet[rng() % pattern_alphabet.size()];
    for (char& c : s) c = text_alphabet[rng() % text_alphabet.size()];
    const bool expected = glob_reference(p, s);
    matches += expected;
    ASSERT_EQ(mfgrad::bench::glob_match(p, s), expected) << "pattern '" << p << "' text '" << s << "'";
  }
  EXPECT_GT(matches, 1000u);  // both outcomes are exercised
}

// A pattern that makes a backtracking regular-expression engine take exponential time finishes at once
// (and fails to match): the greedy matcher revisits only the last star.
TEST(Glob, StarHeavyPatternOnALongNameEnds) {
  const std::string name(4000, 'a');
  EXPECT_FALSE(mfgrad::bench::glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*X", name));
  EXPECT_TRUE(mfgrad::bench::glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*", name));
}

TEST(Compare, DifferentContextsAreListedInContextOrder) {
  using mfgrad::bench::ContextEntry;
  const Report same = compare(set_of({timed("a", {1e-3})}, {{"cpu", "X"}, {"compiler", "g++ 12"}}),
                              set_of({timed("a", {1e-3})}, {{"cpu", "X"}, {"compiler", "g++ 12"}}), CompareOptions{});
  EXPECT_TRUE(same.context_differences.empty());
  // Only keys both sides state are compared; a key one side lacks is no difference.
  const Report other = compare(
      set_of({timed("a", {1e-3})}, {{"cpu", "X"}, {"compiler", "g++ 12"}, {"thread counts", "1,2"}}),
      set_of({timed("a", {1e-3})}, {{"cpu", "Y"}, {"compiler", "g++ 12"}, {"isa", "avx2"}, {"thread counts", "1"}}),
      CompareOptions{});
  ASSERT_EQ(other.context_differences.size(), 2u);
  EXPECT_EQ(other.context_differences[0].key, "cpu");
  EXPECT_EQ(other.context_differences[0].baseline, "X");
  EXPECT_EQ(other.context_differences[0].contender, "Y");
  EXPECT_EQ(other.context_differences[1].key, "thread counts");
  const std::string text = format_report(other);
  EXPECT_NE(text.find("warning: "), std::string::npos) << text;
  EXPECT_NE(text.find("cpu 'X' vs 'Y'"), std::string::npos) << text;
  EXPECT_EQ(format_report(same).find("warning"), std::string::npos);
}

TEST(Report, MarkdownHasOneTableRowPerBenchmarkAndEscapesPipes) {
  const Report report =
      compare(set_of({timed("eval/a|b", around(1e-3, 7, 1)), timed("eval/c", around(1e-3, 7, 2))}),
              set_of({timed("eval/a|b", around(2e-3, 7, 3)), timed("eval/c", around(1e-3, 7, 4))}), CompareOptions{});
  const std::string md = format_report(report, mfgrad::bench::ReportFormat::markdown);
  EXPECT_EQ(md.rfind("### mfgrad compare: FAIL", 0), 0u) << md;
  std::size_t table_lines = 0;
  std::istringstream lines(md);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("|", 0) == 0) {
      ++table_lines;
      // Every row has as many unescaped cell separators as the header.
      std::size_t bars = 0;
      for (std::size_t i = 0; i < line.size(); ++i) bars += line[i] == '|' && (i == 0 || line[i - 1] != '\\');
      EXPECT_EQ(bars, 8u) << line;  // 7 columns: verdict, benchmark, 2 times, change, p, note
    }
  EXPECT_EQ(table_lines, 2 + report.rows.size()) << md;  // header, rule, rows
  EXPECT_NE(md.find(R"(eval/a\|b)"), std::string::npos) << md;
}

TEST(Report, JsonCarriesEveryRowAndTheVerdict) {
  const Report report =
      compare(set_of({timed("x", around(1e-3, 7, 1)), timed("y", around(1e-3, 7, 2))}, {{"cpu", "A"}}),
              set_of({timed("x", around(2e-3, 7, 3))}, {{"cpu", "B"}}), CompareOptions{});
  const mfgrad::json::Value doc = mfgrad::json::parse(format_report(report, mfgrad::bench::ReportFormat::json));
  EXPECT_EQ(doc.find("mfgrad_compare")->as_number(), 1);
  EXPECT_EQ(doc.find("passed")->as_bool(), report.passed());
  const auto& rows = doc.find("rows")->as_array();
  ASSERT_EQ(rows.size(), report.rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].find("name")->as_string(), report.rows[i].name);
    EXPECT_EQ(rows[i].find("verdict")->as_string(), to_string(report.rows[i].verdict));
    EXPECT_EQ(rows[i].find("change")->is_null(), !report.rows[i].change.has_value());
  }
  EXPECT_EQ(doc.find("counts")->find("regression")->as_number(),
            static_cast<double>(report.count(Verdict::regression)));
  const auto& differences = doc.find("context_differences")->as_array();
  ASSERT_EQ(differences.size(), 1u);
  EXPECT_EQ(differences[0].find("baseline")->as_string(), "A");
  EXPECT_EQ(doc.find("contender")->find("context")->find("cpu")->as_string(), "B");
}

BenchmarkResult counted(const std::string& name, double instructions, std::vector<double> samples_s = {}) {
  BenchmarkResult r = timed(name, std::move(samples_s));
  r.instructions = instructions;
  return r;
}

TEST(Compare, ThreePercentMoreInstructionsIsARegressionAtTwoPercent) {
  const Report report =
      compare(set_of({counted("eval/x", 1e9)}), set_of({counted("eval/x", 1.03e9)}), CompareOptions{});
  const Comparison& c = row_of(report, "eval/x");
  EXPECT_EQ(c.verdict, Verdict::regression);
  EXPECT_NEAR(*c.instructions_change, 0.03, 1e-12);
  EXPECT_FALSE(c.p.has_value());  // counts are deterministic: no test
  EXPECT_FALSE(report.passed());

  CompareOptions loose;
  loose.instructions_threshold = 0.05;
  EXPECT_EQ(
      row_of(compare(set_of({counted("eval/x", 1e9)}), set_of({counted("eval/x", 1.03e9)}), loose), "eval/x").verdict,
      Verdict::unchanged);
  EXPECT_EQ(
      row_of(compare(set_of({counted("eval/x", 1e9)}), set_of({counted("eval/x", 0.9e9)}), CompareOptions{}), "eval/x")
          .verdict,
      Verdict::improvement);
}

TEST(Compare, BothModesTheWorseWins) {
  // Time unchanged, instructions up 3%: a regression, and the note says which mode found it.
  const Report report = compare(set_of({counted("eval/x", 1e9, around(1e-3, 7, 1))}),
                                set_of({counted("eval/x", 1.03e9, around(1e-3, 7, 2))}), CompareOptions{});
  const Comparison& c = row_of(report, "eval/x");
  EXPECT_EQ(c.verdict, Verdict::regression);
  ASSERT_TRUE(c.change.has_value());
  ASSERT_TRUE(c.instructions_change.has_value());
  EXPECT_NE(c.note.find("time unchanged, instructions regression"), std::string::npos) << c.note;
}

TEST(Compare, MeasurementsTheContenderLacksCountAsMissing) {
  // Counted in the baseline, only timed in the contender: the gate can no longer vouch for the count.
  const Report report =
      compare(set_of({counted("eval/x", 1e9)}), set_of({timed("eval/x", around(1e-3, 5, 1))}), CompareOptions{});
  EXPECT_EQ(row_of(report, "eval/x").verdict, Verdict::missing);
  EXPECT_NE(row_of(report, "eval/x").note.find("instruction count"), std::string::npos);
  EXPECT_FALSE(report.passed());
}

TEST(Compare, UntimedBaselineIsInconclusive) {
  // 'mfgrad bench' writes a case it did not time with empty samples_s and no count.
  const Report report =
      compare(set_of({timed("eval/x", {})}), set_of({timed("eval/x", around(1e-3, 5, 1))}), CompareOptions{});
  EXPECT_EQ(row_of(report, "eval/x").verdict, Verdict::inconclusive);
  EXPECT_TRUE(report.passed());
}

// ---------------------------------------------------------------------------------------------------
// Report

TEST(Report, AlignedLinesSummaryAndVerdict) {
  const Report report =
      compare(set_of({timed("eval/fused_simd/tiny/k:16/threads:1", {0.99e-3, 1.0e-3, 1.01e-3, 1.0e-3, 1.02e-3}),
                      timed("eval/naive", {2e-6, 2e-6, 2e-6}), timed("gone", {1.0, 1.1, 1.2})}),
              set_of({timed("eval/fused_simd/tiny/k:16/threads:1", {2.0e-3, 2.1e-3, 1.9e-3, 2.0e-3, 2.0e-3}),
                      timed("eval/naive", {2e-6, 2e-6, 2e-6})}),
              CompareOptions{});
  const std::string text = format_report(report);
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);

  // The header row, then one row per benchmark: the name column starts at one place in each.
  const auto header =
      std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("verdict", 0) == 0; });
  ASSERT_NE(header, lines.end()) << text;
  ASSERT_GE(lines.end() - header, 4) << text;
  const std::size_t name_column = header->find("benchmark");
  EXPECT_EQ(header[1].find("eval/fused_simd"), name_column) << text;
  EXPECT_EQ(header[2].find("eval/naive"), name_column) << text;
  EXPECT_EQ(header[3].find("gone"), name_column) << text;
  EXPECT_EQ(header[1].rfind("regression", 0), 0u) << text;
  EXPECT_EQ(header[3].rfind("missing", 0), 0u) << text;

  EXPECT_NE(header[1].find("1.000 ± 0.010 ms (n=5)"), std::string::npos) << text;
  EXPECT_NE(header[1].find("2.000 ± 0.000 ms (n=5)"), std::string::npos) << text;
  EXPECT_NE(header[1].find("+100.0%"), std::string::npos) << text;
  EXPECT_NE(header[2].find("2.000 ± 0.000 us (n=3)"), std::string::npos) << text;
  EXPECT_NE(header[3].find("1.100 ± 0.100 s (n=3)"), std::string::npos) << text;

  EXPECT_NE(text.find("summary: 3 benchmarks: 1 regression, 1 missing, 1 unchanged"), std::string::npos) << text;
  EXPECT_NE(text.find("FAIL: 1 regression, 1 missing"), std::string::npos) << text;
}

TEST(Report, PassSentenceMentionsInconclusive) {
  const Report report =
      compare(set_of({timed("eval/x", around(1e-3, 2, 1)), timed("eval/y", around(5e-9, 3, 1))}),
              set_of({timed("eval/x", around(2e-3, 2, 2)), timed("eval/y", around(5e-9, 3, 2))}), CompareOptions{});
  const std::string text = format_report(report);
  EXPECT_NE(text.find("PASS"), std::string::npos) << text;
  EXPECT_NE(text.find("1 inconclusive"), std::string::npos) << text;
  EXPECT_NE(text.find(" ns (n=3)"), std::string::npos) << text;
  EXPECT_EQ(text.find("instructions"), std::string::npos) << text;  // no column without counts
}

// ---------------------------------------------------------------------------------------------------
// Files

class Files : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("mfgrad_test_compare_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  std::string write(const std::string& name, const std::string& content) const {
    const std::string path = (dir_ / name).string();
    std::ofstream out(path, std::ios::binary);
    out << content;
    EXPECT_TRUE(out.good()) << path;
    return path;
  }

  // The message of the mfgrad::Error that loading `path` throws.
  static std::string load_error(const std::string& path) {
    try {
      mfgrad::bench::load_results(path);
    } catch (const mfgrad::Error& e) {
      return e.what();
    }
    ADD_FAILURE() << "expected an mfgrad::Error for " << path;
    return {};
  }

  fs::path dir_;
};

const BenchmarkResult& result_of(const ResultSet& set, const std::string& name) {
  for (const BenchmarkResult& r : set.results)
    if (r.name == name) return r;
  throw std::runtime_error("no result " + name);
}

TEST_F(Files, ReadsMfgradResults) {
  const std::string path = write("mfgrad.json", R"({
    "mfgrad_results": 1,
    "context": {"cpu": "test", "isa": "avx2", "hardware_threads": 2, "seed": "7", "lambda": 0.05},
    "ceilings": {"fp32_gflops": {"1": 100.0}},
    "results": [
      {"name": "eval/fused_simd/tiny/k:16/threads:1", "impl": "fused_simd", "kind": "mfgrad",
       "samples_s": [0.0015, 0.0014, 0.0016], "median_s": 0.0015, "mad_s": 0.0001,
       "speedup_vs_naive": null, "check": "passed", "instructions": 123456789},
      {"name": "eval/naive/tiny/k:16/threads:1", "samples_s": [0.01], "check": "failed: max error 1e-2"}
    ]})");
  const ResultSet set = mfgrad::bench::load_results(path);
  EXPECT_EQ(set.format, "mfgrad");
  ASSERT_EQ(set.results.size(), 2u);
  // The facts the file states, in ContextEntry order, and the thread counts its names state.
  std::vector<std::pair<std::string, std::string>> context;
  for (const auto& e : set.context) context.emplace_back(e.key, e.value);
  EXPECT_EQ(context, (std::vector<std::pair<std::string, std::string>>{{"cpu", "test"},
                                                                       {"hardware threads", "2"},
                                                                       {"isa", "avx2"},
                                                                       {"seed", "7"},
                                                                       {"lambda", "0.05"},
                                                                       {"thread counts", "1"}}));
  const BenchmarkResult& fused = result_of(set, "eval/fused_simd/tiny/k:16/threads:1");
  EXPECT_EQ(fused.samples_s, (std::vector<double>{0.0015, 0.0014, 0.0016}));
  EXPECT_EQ(fused.instructions, 123456789.0);
  EXPECT_FALSE(fused.failed);
  const BenchmarkResult& naive = result_of(set, "eval/naive/tiny/k:16/threads:1");
  EXPECT_TRUE(naive.failed);
  EXPECT_NE(naive.failure.find("max error 1e-2"), std::string::npos);
  EXPECT_FALSE(naive.instructions.has_value());
}

// As Google Benchmark 1.7.1 writes with --benchmark_repetitions=3 (aggregates not only): the
// repetitions, then mean/median/stddev/cv per benchmark; an errored benchmark has no aggregates; a
// Complexity() family adds BigO and RMS under the family's name. eval/y (registered with settings and
// a counter) shows only its repetitions, for brevity.
const char* const kGoogleBenchmark = R"({
  "context": {
    "date": "2024-05-01T10:00:00+00:00", "host_name": "ci", "executable": "./mfgrad_gbench",
    "num_cpus": 2, "mhz_per_cpu": 2600, "cpu_scaling_enabled": false,
    "caches": [{"type": "Data", "level": 1, "size": 49152, "num_sharing": 1}],
    "load_avg": [0.5, 0.4, 0.3], "library_build_type": "release"
  },
  "benchmarks": [
    {"name": "eval/x/k:16/threads:1", "family_index": 0, "per_family_instance_index": 0,
     "run_name": "eval/x/k:16/threads:1", "run_type": "iteration", "repetitions": 3, "repetition_index": 0,
     "threads": 1, "iterations": 10, "real_time": 1.5e6, "cpu_time": 1.4e6, "time_unit": "ns"},
    {"name": "eval/x/k:16/threads:1", "family_index": 0, "per_family_instance_index": 0,
     "run_name": "eval/x/k:16/threads:1", "run_type": "iteration", "repetitions": 3, "repetition_index": 1,
     "threads": 1, "iterations": 10, "real_time": 1.6e6, "cpu_time": 1.5e6, "time_unit": "ns"},
    {"name": "eval/x/k:16/threads:1", "family_index": 0, "per_family_instance_index": 0,
     "run_name": "eval/x/k:16/threads:1", "run_type": "iteration", "repetitions": 3, "repetition_index": 2,
     "threads": 1, "iterations": 10, "real_time": 1.4e6, "cpu_time": 1.3e6, "time_unit": "ns"},
    {"name": "eval/x/k:16/threads:1_mean", "family_index": 0, "per_family_instance_index": 0,
     "run_name": "eval/x/k:16/threads:1", "run_type": "aggregate", "repetitions": 3, "threads": 1,
     "aggregate_name": "mean", "aggregate_unit": "time", "iterations": 3,
     "real_time": 1.5e6, "cpu_time": 1.4e6, "time_unit": "ns"},
    {"name": "eval/x/k:16/threads:1_median", "family_index": 0, "per_family_instance_index": 0,
     "run_name": "eval/x/k:16/threads:1", "run_type": "aggregate", "repetitions": 3, "threads": 1,
     "aggregate_name": "median", "aggregate_unit": "time", "iterations": 3,
     "real_time": 1.5e6, "cpu_time": 1.4e6, "time_unit": "ns"},
    {"name": "eval/x/k:16/threads:1_stddev", "family_index": 0, "per_family_instance_index": 0,
     "run_name": "eval/x/k:16/threads:1", "run_type": "aggregate", "repetitions": 3, "threads": 1,
     "aggregate_name": "stddev", "aggregate_unit": "time", "iterations": 3,
     "real_time": 1.0e5, "cpu_time": 1.0e5, "time_unit": "ns"},
    {"name": "eval/x/k:16/threads:1_cv", "family_index": 0, "per_family_instance_index": 0,
     "run_name": "eval/x/k:16/threads:1", "run_type": "aggregate", "repetitions": 3, "threads": 1,
     "aggregate_name": "cv", "aggregate_unit": "percentage", "iterations": 3,
     "real_time": 6.6e-2, "cpu_time": 7.1e-2, "time_unit": "ns"},
    {"name": "eval/y/k:64/threads:2/min_time:0.200/repeats:3/real_time", "family_index": 1,
     "per_family_instance_index": 0, "run_name": "eval/y/k:64/threads:2/min_time:0.200/repeats:3/real_time",
     "run_type": "iteration", "repetitions": 3, "repetition_index": 0,
     "threads": 2, "iterations": 5, "real_time": 2.5e3, "cpu_time": 4.9e3, "time_unit": "us",
     "instructions": 2.0e9},
    {"name": "eval/y/k:64/threads:2/min_time:0.200/repeats:3/real_time", "family_index": 1,
     "per_family_instance_index": 0, "run_name": "eval/y/k:64/threads:2/min_time:0.200/repeats:3/real_time",
     "run_type": "iteration", "repetitions": 3, "repetition_index": 1,
     "threads": 2, "iterations": 5, "real_time": 2.6e3, "cpu_time": 5.0e3, "time_unit": "us",
     "instructions": 2.2e9},
    {"name": "eval/y/k:64/threads:2/min_time:0.200/repeats:3/real_time", "family_index": 1,
     "per_family_instance_index": 0, "run_name": "eval/y/k:64/threads:2/min_time:0.200/repeats:3/real_time",
     "run_type": "iteration", "repetitions": 3, "repetition_index": 2,
     "threads": 2, "iterations": 5, "real_time": 2.4e3, "cpu_time": 4.8e3, "time_unit": "us",
     "instructions": 2.1e9},
    {"name": "eval/broken", "family_index": 2, "per_family_instance_index": 0,
     "run_name": "eval/broken", "run_type": "iteration", "repetitions": 3, "repetition_index": 0,
     "threads": 1, "error_occurred": true, "error_message": "gradient mismatch",
     "iterations": 1, "real_time": 0.0, "cpu_time": 0.0, "time_unit": "ns"},
    {"name": "scale/n_BigO", "family_index": 3, "per_family_instance_index": 0,
     "run_name": "scale/n", "run_type": "aggregate", "repetitions": 3, "threads": 1,
     "aggregate_name": "BigO", "aggregate_unit": "time", "cpu_coefficient": 2.4, "real_coefficient": 2.4,
     "big_o": "N", "time_unit": "ns"},
    {"name": "scale/n_RMS", "family_index": 3, "per_family_instance_index": 0,
     "run_name": "scale/n", "run_type": "aggregate", "repetitions": 3, "threads": 1,
     "aggregate_name": "RMS", "aggregate_unit": "percentage", "rms": 0.01}
  ]
})";

// mfgrad_bench's Google Benchmark output carries mfgrad's context as "mfgrad_*" strings (versions as
// JSON text); a plain Google Benchmark file states its CPU count only.
TEST_F(Files, GoogleBenchmarkContextComesFromTheMfgradKeys) {
  std::string text = kGoogleBenchmark;
  const std::string plain_key = "\"num_cpus\": 2,";
  const ResultSet plain = mfgrad::bench::load_results(write("plain.json", text));
  ASSERT_FALSE(plain.context.empty());
  EXPECT_EQ(plain.context[0].key, "hardware threads");
  EXPECT_EQ(plain.context[0].value, "2");
  text.replace(text.find(plain_key), plain_key.size(),
               plain_key + R"( "mfgrad_cpu": "Some CPU", "mfgrad_hardware_threads": "16", "mfgrad_compiler": "g++ 12",)"
                           R"( "mfgrad_versions": "{\"mfgrad\": \"1.2.3\", \"xsimd\": \"8.1.0\"}",)");
  const ResultSet set = mfgrad::bench::load_results(write("mfgrad_gbench.json", text));
  std::vector<std::pair<std::string, std::string>> context;
  for (const auto& e : set.context) context.emplace_back(e.key, e.value);
  EXPECT_EQ(context, (std::vector<std::pair<std::string, std::string>>{{"cpu", "Some CPU"},
                                                                       {"hardware threads", "16"},
                                                                       {"compiler", "g++ 12"},
                                                                       {"mfgrad version", "1.2.3"},
                                                                       {"thread counts", "1,2"}}));
}

TEST_F(Files, ReadsGoogleBenchmarkRepetitions) {
  const ResultSet set = mfgrad::bench::load_results(write("gbench.json", kGoogleBenchmark));
  EXPECT_EQ(set.format, "Google Benchmark");
  ASSERT_EQ(set.results.size(), 3u);  // the BigO/RMS fit is no benchmark run
  const BenchmarkResult& x = result_of(set, "eval/x/k:16/threads:1");
  ASSERT_EQ(x.samples_s.size(), 3u);  // the aggregates add no samples
  EXPECT_DOUBLE_EQ(x.samples_s[0], 1.5e-3);
  EXPECT_DOUBLE_EQ(x.samples_s[1], 1.6e-3);
  EXPECT_DOUBLE_EQ(x.samples_s[2], 1.4e-3);
  EXPECT_FALSE(x.aggregates_only);
  EXPECT_FALSE(x.instructions.has_value());

  // Registered with ->MinTime(0.2)->Repetitions(3)->UseRealTime(): named by what ran, not how.
  const BenchmarkResult& y = result_of(set, "eval/y/k:64/threads:2");
  ASSERT_EQ(y.samples_s.size(), 3u);
  EXPECT_DOUBLE_EQ(y.samples_s[0], 2.5e-3);  // microseconds
  EXPECT_EQ(y.instructions, 2.1e9);          // the median of the counter

  const BenchmarkResult& broken = result_of(set, "eval/broken");
  EXPECT_TRUE(broken.failed);
  EXPECT_NE(broken.failure.find("gradient mismatch"), std::string::npos);
}

TEST_F(Files, GoogleBenchmarkAggregatesOnlyGiveOneSample) {
  // --benchmark_report_aggregates_only=true: the median stands in, marked as such.
  const std::string path = write("aggregates.json", R"({"context": {"num_cpus": 2}, "benchmarks": [
    {"name": "eval/x_mean", "run_name": "eval/x", "run_type": "aggregate", "repetitions": 5, "threads": 1,
     "aggregate_name": "mean", "aggregate_unit": "time", "iterations": 5, "real_time": 3.0,
     "cpu_time": 3.0, "time_unit": "ms"},
    {"name": "eval/x_median", "run_name": "eval/x", "run_type": "aggregate", "repetitions": 5, "threads": 1,
     "aggregate_name": "median", "aggregate_unit": "time", "iterations": 5, "real_time": 2.0,
     "cpu_time": 2.0, "time_unit": "ms"},
    {"name": "eval/x_stddev", "run_name": "eval/x", "run_type": "aggregate", "repetitions": 5, "threads": 1,
     "aggregate_name": "stddev", "aggregate_unit": "time", "iterations": 5, "real_time": 0.5,
     "cpu_time": 0.5, "time_unit": "ms"}]})");
  const ResultSet set = mfgrad::bench::load_results(path);
  ASSERT_EQ(set.results.size(), 1u);
  EXPECT_TRUE(set.results[0].aggregates_only);
  EXPECT_EQ(set.results[0].samples_s, std::vector<double>{2.0e-3});

  // Against repetitions twice as fast: beyond the threshold, but nothing to test.
  const ResultSet gbench = mfgrad::bench::load_results(write("gbench.json", R"({"context": {}, "benchmarks": [
    {"name": "eval/x", "run_name": "eval/x", "run_type": "iteration", "repetitions": 2, "repetition_index": 0,
     "threads": 1, "iterations": 1, "real_time": 1.0, "cpu_time": 1.0, "time_unit": "ms"},
    {"name": "eval/x", "run_name": "eval/x", "run_type": "iteration", "repetitions": 2, "repetition_index": 1,
     "threads": 1, "iterations": 1, "real_time": 1.0, "cpu_time": 1.0, "time_unit": "ms"}]})"));
  const Report report = compare(gbench, set, CompareOptions{});
  EXPECT_EQ(report.rows[0].verdict, Verdict::inconclusive);
  EXPECT_NE(report.rows[0].note.find("aggregates"), std::string::npos) << report.rows[0].note;
}

TEST_F(Files, ComparesAcrossFormatsByName) {
  // mfgrad names its results like its Google Benchmark runs, so either file can be either side.
  const ResultSet gbench = mfgrad::bench::load_results(write("gbench.json", kGoogleBenchmark));
  const ResultSet mine = mfgrad::bench::load_results(write("mfgrad.json", R"({"mfgrad_results": 1, "results": [
    {"name": "eval/x/k:16/threads:1", "samples_s": [0.0015, 0.00151, 0.00149], "check": "passed"},
    {"name": "eval/y/k:64/threads:2", "samples_s": [0.0025, 0.0026, 0.0024], "check": "passed"},
    {"name": "eval/broken", "samples_s": [0.001], "check": "passed"}]})"));
  const Report report = compare(mine, gbench, CompareOptions{});
  EXPECT_EQ(row_of(report, "eval/x/k:16/threads:1").verdict, Verdict::unchanged);
  EXPECT_EQ(row_of(report, "eval/y/k:64/threads:2").verdict, Verdict::unchanged);
  EXPECT_EQ(row_of(report, "eval/broken").verdict, Verdict::failed);
  EXPECT_FALSE(report.passed());
}

// A stream that is not JSON is refused from its first bytes, not after reading it whole; a directory
// is named as one.
TEST_F(Files, NonJsonStreamAndDirectoryAreRefusedAtOnce) {
  const std::string zero = load_error("/dev/zero");
  EXPECT_NE(zero.find("/dev/zero"), std::string::npos) << zero;
  EXPECT_NE(zero.find("byte 0"), std::string::npos) << zero;
  const std::string dir = load_error(dir_.string());
  EXPECT_NE(dir.find(dir_.string()), std::string::npos) << dir;
  EXPECT_NE(dir.find("directory"), std::string::npos) << dir;
}

TEST_F(Files, MalformedJsonNamesTheFile) {
  const std::string path = write("truncated.json", R"({"mfgrad_results": 1, "results": [{"name": )");
  const std::string message = load_error(path);
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("line 1"), std::string::npos) << message;
}

TEST_F(Files, UnknownJsonSaysWhatIsExpected) {
  const std::string path = write("other.json", R"({"tool": "something else", "data": []})");
  const std::string message = load_error(path);
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("not a results file"), std::string::npos) << message;
}

TEST_F(Files, BadFieldsNameTheFileAndTheBenchmark) {
  const std::string bad_sample =
      write("bad_sample.json", R"({"mfgrad_results": 1, "results": [{"name": "eval/x", "samples_s": [0.1, "slow"]}]})");
  std::string message = load_error(bad_sample);
  EXPECT_NE(message.find(bad_sample), std::string::npos) << message;
  EXPECT_NE(message.find("eval/x"), std::string::npos) << message;

  const std::string version = write("version.json", R"({"mfgrad_results": 2, "results": []})");
  EXPECT_NE(load_error(version).find("version 1"), std::string::npos);

  const std::string duplicate = write("duplicate.json", R"({"mfgrad_results": 1, "results": [
    {"name": "eval/x", "samples_s": [0.1]}, {"name": "eval/x", "samples_s": [0.2]}]})");
  EXPECT_NE(load_error(duplicate).find("appears twice"), std::string::npos);

  const std::string unit = write("unit.json", R"({"context": {}, "benchmarks": [
    {"name": "a", "run_name": "a", "run_type": "iteration", "real_time": 1.0, "time_unit": "fortnights"}]})");
  message = load_error(unit);
  EXPECT_NE(message.find(unit), std::string::npos) << message;
  EXPECT_NE(message.find("time_unit"), std::string::npos) << message;

  EXPECT_NE(load_error((dir_ / "absent.json").string()).find("absent.json"), std::string::npos);
}

// Errors point at the line of the value at fault and show text from the file quoted, cut and escaped.
TEST_F(Files, ErrorsNameTheLineAndQuoteWhatTheFileHolds) {
  const std::string sample = write("sample.json",
                                   "{\"mfgrad_results\": 1, \"results\": [\n"
                                   "  {\"name\": \"eval/a\", \"samples_s\": [0.1]},\n"
                                   "  {\"name\": \"eval/b\", \"samples_s\": [\n"
                                   "    0.1,\n"
                                   "    -2]}]}");
  EXPECT_EQ(load_error(sample), sample + ":5: results[1] ('eval/b'): a sample is '-2'; expected a positive number");

  const std::string twice =
      write("twice.json",
            "{\"context\": {}, \"benchmarks\": [\n"
            "{\"run_name\": \"x\", \"run_type\": \"iteration\", \"real_time\": 1, \"time_unit\": \"ns\"},\n"
            "{\"run_name\": \"x/repeats:2\", \"run_type\": \"iteration\", \"real_time\": 1, "
            "\"time_unit\": \"ns\"}]}");
  EXPECT_EQ(load_error(twice), twice + ":3: benchmark 'x' appears twice");

  // Found by fuzzing: a run name of run settings or slashes alone left an empty benchmark name.
  for (const std::string run_name : {"///", "repeats:3/real_time"}) {
    const std::string empty = write("empty.json", "{\"context\": {}, \"benchmarks\": [{\"run_name\": \"" + run_name +
                                                      "\", \"run_type\": \"iteration\", \"real_time\": 1, "
                                                      "\"time_unit\": \"ns\"}]}");
    EXPECT_EQ(load_error(empty), empty + ":1: benchmarks[0] ('" + run_name +
                                     "'): \"run_name\" names no benchmark once its run settings are dropped");
  }

  // A name that would drive a terminal is refused; a long value is shown in part.
  const std::string escape = write("escape.json",
                                   "{\"mfgrad_results\": 1, \"results\": [{\"name\": \"a\\u001b[2J\", "
                                   "\"samples_s\": [1]}]}");
  EXPECT_EQ(load_error(escape), escape + ":1: results[0]: \"name\" 'a\\x1b[2J' holds control characters");
  std::string long_array = "[1";
  for (int k = 0; k < 300; ++k) long_array += ", 1";
  long_array += "]";
  const std::string version = write("version.json", "{\"mfgrad_results\": " + long_array + ", \"results\": []}");
  const std::string message = load_error(version);
  EXPECT_NE(message.find(":1: \"mfgrad_results\" is '" + long_array.substr(0, 80) + "...'"), std::string::npos)
      << message;
  EXPECT_LT(message.size(), version.size() + 150);
}

TEST_F(Files, DeepNestingIsRefusedNotRecursedInto) {
  const std::string deep(100000, '[');
  const std::string message = load_error(write("deep.json", "{\"mfgrad_results\": " + deep));
  EXPECT_NE(message.find("nest deeper than " + std::to_string(mfgrad::json::kMaxDepth) + " levels"), std::string::npos)
      << message;
  const std::string fine = std::string(mfgrad::json::kMaxDepth, '[') + std::string(mfgrad::json::kMaxDepth, ']');
  EXPECT_TRUE(mfgrad::json::parse(fine).is_array());
}

}  // namespace

// The one duration formatter (internal/util.hpp) that the table, the plan's reasons and compare share: the
// value shown lies in [1, 1000) of its unit and, read back, is within half a unit in the fourth
// significant digit of the duration (relative error ≤ 5e-4).
TEST(Durations, FourSignificantDigitsInTheLargestUnitBelow) {
  const std::vector<std::pair<std::string, double>> units = {{"s", 1}, {"ms", 1e-3}, {"us", 1e-6}, {"ns", 1e-9}};
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> exponent(-8.5, 2.5);
  for (int trial = 0; trial < 2000; ++trial) {
    const double edges[] = {0.99996, 999.96e-6, 999.96e-9, 1.0, 1e-3};  // rounding up to the next unit
    const double seconds = trial < 5 ? edges[trial] : std::pow(10.0, exponent(rng));
    const std::string text = mfgrad::detail::format_duration(seconds);
    const std::size_t space = text.find(' ');
    ASSERT_NE(space, std::string::npos) << text;
    const double value = std::stod(text.substr(0, space));
    const std::string unit = text.substr(space + 1);
    const auto it = std::find_if(units.begin(), units.end(), [&](const auto& u) { return u.first == unit; });
    ASSERT_NE(it, units.end()) << text;
    if (unit != "s") {
      EXPECT_LT(value, 1000) << text;
    }
    if (unit != "ns") {
      EXPECT_GE(value, 1) << text;
    }
    EXPECT_LE(std::abs(value * it->second - seconds), 5e-4 * seconds) << text << " for " << seconds << " s";
  }
}
