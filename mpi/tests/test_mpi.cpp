// mfgrad::mpi against the oracle, run by ctest under mpirun at 1, 2, 3 and 4 ranks. Every rank runs
// every test; a collective step is never skipped on one rank alone (EXPECT, not ASSERT, between
// collectives), so a failure cannot leave the others waiting.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "mfgrad/check.hpp"
#include "mfgrad/generate.hpp"
#include "mfgrad/io.hpp"
#include "mfgrad/mpi.h"
#include "mfgrad/mpi.hpp"
#include "support.hpp"  // random_entries

namespace mfgrad {
namespace {

using test::random_entries;

MPI_Comm world() { return MPI_COMM_WORLD; }
int rank() {
  int r = 0;
  MPI_Comm_rank(world(), &r);
  return r;
}
int ranks() {
  int p = 0;
  MPI_Comm_size(world(), &p);
  return p;
}

// Entry t goes to rank t mod P: every rank holds a scattered part of Ω.
Entries piece_of(const Entries& all) {
  Entries p;
  p.rows = all.rows;
  p.cols = all.cols;
  for (std::size_t t = static_cast<std::size_t>(rank()); t < all.value.size(); t += static_cast<std::size_t>(ranks()))
    p.push(all.row[t], all.col[t], all.value[t]);
  return p;
}

template <class T>
std::vector<T> uniform(std::size_t count, std::uint64_t seed, double scale) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> d(-scale, scale);
  std::vector<T> x(count);
  for (T& y : x) y = static_cast<T>(d(rng));
  return x;
}

// Rows [begin, end) of a row-major matrix with k columns.
template <class T>
std::vector<T> rows_of(const std::vector<T>& x, std::size_t begin, std::size_t end, std::size_t k) {
  return std::vector<T>(x.begin() + static_cast<std::ptrdiff_t>(begin * k),
                        x.begin() + static_cast<std::ptrdiff_t>(end * k));
}

// Every rank's owned rows of a gradient, in order, on every rank.
template <class G>
std::vector<G> gathered(const mpi::Share& share, const std::vector<G>& mine, std::size_t k) {
  std::vector<int> counts(static_cast<std::size_t>(ranks())), displs(counts.size());
  for (int r = 0; r < ranks(); ++r) {
    counts[r] = static_cast<int>(static_cast<std::size_t>(share.bounds()[r + 1] - share.bounds()[r]) * k);
    displs[r] = static_cast<int>(static_cast<std::size_t>(share.bounds()[r]) * k);
  }
  std::vector<G> all(static_cast<std::size_t>(share.bounds().back()) * k);
  const MPI_Datatype type = std::is_same_v<G, double> ? MPI_DOUBLE : MPI_FLOAT;
  MPI_Allgatherv(mine.data(), static_cast<int>(mine.size()), type, all.data(), counts.data(), displs.data(), type,
                 world());
  return all;
}

template <class T>
struct Outcome {
  double loss = 0;
  std::vector<compute_t<T>> gu, gv;  // whole ∂U and ∂V (float32 for 16-bit factors)
};

// The distributed evaluation of (U, V) on `share`, each rank passing its part; whole gradients back.
template <class T>
Outcome<T> distributed(const mpi::Share& share, const std::vector<T>& u, const std::vector<T>& v, std::size_t k,
                       double lambda, const PlanOptions& options = {}) {
  const bool by_rows = share.partition() == mpi::Partition::rows;
  const auto begin = static_cast<std::size_t>(share.begin()), end = static_cast<std::size_t>(share.end());
  const std::size_t m = by_rows ? end - begin : static_cast<std::size_t>(share.rows());
  const std::size_t n = by_rows ? static_cast<std::size_t>(share.cols()) : end - begin;
  const std::vector<T> um = by_rows ? rows_of(u, begin, end, k) : u, vm = by_rows ? v : rows_of(v, begin, end, k);
  using G = compute_t<T>;
  std::vector<G> gu(m * k, std::numeric_limits<G>::quiet_NaN()), gv(n * k, std::numeric_limits<G>::quiet_NaN());
  mpi::Plan plan(share, k, precision_of<T>(), options);
  Outcome<T> o;
  o.loss = plan.evaluate<T>({um.data(), m, k}, {vm.data(), n, k}, lambda, {gu.data(), m, k}, {gv.data(), n, k});
  o.gu = by_rows ? gathered(share, gu, k) : gu;
  o.gv = by_rows ? gv : gathered(share, gv, k);
  return o;
}

// The distributed result against the oracle (naive) on the whole Ω, within the tolerance rule of
// mfgrad/check.hpp; and the same loss and bits on every rank.
template <class T>
void expect_distributed_matches_oracle(const Observed& whole, const mpi::Share& share, std::size_t k, double lambda,
                                       std::uint64_t seed) {
  const auto m = static_cast<std::size_t>(whole.rows()), n = static_cast<std::size_t>(whole.cols());
  const test::Factors<T> f{m, n, k, uniform<T>(m * k, seed, 1.0 / std::sqrt(k)), uniform<T>(n * k, seed + 1, 1.0)};
  const Outcome<T> got = distributed(share, f.u, f.v, k, lambda);
  const test::OracleAnswer<T> answer = test::oracle_answer(whole, f, lambda);
  test::expect_not_trivial(answer.want);
  test::expect_matches_oracle(answer, got.loss, got.gu.data(), got.gv.data(),
                              "rank " + std::to_string(rank()) + " of " + std::to_string(ranks()) + ", " +
                                  std::string(mpi::to_string(share.partition())));
  // Every rank returns the same loss and the same ∂ of the replicated side, bit for bit.
  double loss_min = got.loss, loss_max = got.loss;
  MPI_Allreduce(MPI_IN_PLACE, &loss_min, 1, MPI_DOUBLE, MPI_MIN, world());
  MPI_Allreduce(MPI_IN_PLACE, &loss_max, 1, MPI_DOUBLE, MPI_MAX, world());
  EXPECT_EQ(loss_min, loss_max);
}

template <class T>
class Distributed : public ::testing::Test {};
using Precisions = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Distributed, Precisions);

TYPED_TEST(Distributed, RowsAndColumnsMatchTheOracle) {
  const Entries all = random_entries(41, 29, 0.3, 7);
  const Observed whole = Observed::build(all);
  for (const mpi::Partition side : {mpi::Partition::rows, mpi::Partition::columns}) {
    const mpi::Share share = mpi::Share::from_entries(world(), piece_of(all), side);
    EXPECT_EQ(share.partition(), side);
    EXPECT_EQ(share.nnz(), whole.nnz());
    for (const std::size_t k : {1, 7, 16}) expect_distributed_matches_oracle<TypeParam>(whole, share, k, 0.1, 10 + k);
  }
}

// More ranks than rows with entries: rows 0..7 of 10 are empty, so some ranks own only empty rows or none.
TYPED_TEST(Distributed, EmptyRanks) {
  Entries all;
  all.rows = 10;
  all.cols = 12;
  for (index_t j = 0; j < 12; ++j) all.push(8 + j % 2, j, 1.0 + 0.25 * j);
  const Observed whole = Observed::build(all);
  const mpi::Share share = mpi::Share::from_entries(world(), piece_of(all), mpi::Partition::rows);
  const auto empty = std::count(share.counts().begin(), share.counts().end(), offset_t{0});
  if (ranks() > 2) {
    EXPECT_GE(empty, ranks() - 2);
  }
  expect_distributed_matches_oracle<TypeParam>(whole, share, 5, 0.2, 3);
}

// One row holds most entries: it stays whole on one rank, whose block is then the heaviest.
TYPED_TEST(Distributed, OneHeavyRow) {
  Entries all;
  all.rows = 6;
  all.cols = 300;
  for (index_t j = 0; j < 300; ++j) all.push(2, j, std::sin(j) + 3);
  for (index_t i = 0; i < 6; ++i)
    if (i != 2) all.push(i, (i * 37) % 300, 2.5);
  const Observed whole = Observed::build(all);
  const mpi::Share share = mpi::Share::from_entries(world(), piece_of(all), mpi::Partition::rows);
  const auto heavy = std::max_element(share.counts().begin(), share.counts().end());
  EXPECT_GE(*heavy, 300);
  expect_distributed_matches_oracle<TypeParam>(whole, share, 8, 0.05, 5);
}

// Fewer rows than ranks (m = 2), for both sides (columns: n = 2).
TYPED_TEST(Distributed, FewerIdsThanRanks) {
  const Entries rows2 = random_entries(2, 9, 0.9, 11);
  expect_distributed_matches_oracle<TypeParam>(
      Observed::build(rows2), mpi::Share::from_entries(world(), piece_of(rows2), mpi::Partition::rows), 4, 0.3, 8);
  const Entries cols2 = random_entries(9, 2, 0.9, 12);
  expect_distributed_matches_oracle<TypeParam>(
      Observed::build(cols2), mpi::Share::from_entries(world(), piece_of(cols2), mpi::Partition::columns), 4, 0.3, 9);
}

// The same bits on every evaluation, from fresh plans (the reduction's order never follows timing).
TYPED_TEST(Distributed, SameBitsEveryRun) {
  const Entries all = random_entries(53, 47, 0.2, 21);
  for (const mpi::Partition side : {mpi::Partition::rows, mpi::Partition::columns}) {
    const mpi::Share share = mpi::Share::from_entries(world(), piece_of(all), side);
    const std::size_t k = 9;
    const std::vector<TypeParam> u = uniform<TypeParam>(53 * k, 1, 0.5), v = uniform<TypeParam>(47 * k, 2, 0.5);
    const Outcome<TypeParam> a = distributed(share, u, v, k, 0.1), b = distributed(share, u, v, k, 0.1);
    EXPECT_EQ(std::memcmp(&a.loss, &b.loss, sizeof(double)), 0);
    EXPECT_EQ(a.gu, b.gu);
    EXPECT_EQ(a.gv, b.gv);
  }
}

// A generated preset's shares, for both sides, are the whole generated Ω.
TYPED_TEST(Distributed, GeneratedShares) {
  DataSpec spec = preset("tiny");
  spec.rows = 300;
  spec.cols = 140;
  spec.nnz = 4000;
  const Observed whole = generate(spec);
  for (const mpi::Partition side : {mpi::Partition::rows, mpi::Partition::columns}) {
    const mpi::Share share = mpi::Share::generate(world(), spec, side);
    EXPECT_EQ(share.nnz(), whole.nnz());
    expect_distributed_matches_oracle<TypeParam>(whole, share, 6, 0.05, 4);
  }
}

// 16-bit storage (float32 products, sums and gradients) through the same reduction, against the oracle
// on the same stored values.
TEST(Distributed16, BFloat16AndFloat16MatchTheOracle) {
  const Entries all = random_entries(29, 23, 0.4, 31);
  const Observed whole = Observed::build(all);
  const std::size_t k = 6;
  const auto run = [&]<class S>(S) {
    const test::Factors<S> f = test::random_factors<S>(29, 23, k, 2);
    const test::OracleAnswer<S> answer = test::oracle_answer(whole, f, 0.1);
    for (const mpi::Partition side : {mpi::Partition::rows, mpi::Partition::columns}) {
      const mpi::Share share = mpi::Share::from_entries(world(), piece_of(all), side);
      const Outcome<S> got = distributed(share, f.u, f.v, k, 0.1);
      test::expect_matches_oracle(answer, got.loss, got.gu.data(), got.gv.data(),
                                  std::string(to_string(precision_of<S>())) + " " + mpi::to_string(side));
    }
  };
  run(bfloat16{});
  run(float16{});
}

// A folder every rank sees (rank 0's process id), removed at the end.
class Files : public ::testing::Test {
 protected:
  void SetUp() override {
    long id = static_cast<long>(::getpid());
    MPI_Bcast(&id, 1, MPI_LONG, 0, world());
    dir_ = std::filesystem::temp_directory_path() / ("mfgrad_test_mpi_" + std::to_string(id));
    if (rank() == 0) std::filesystem::create_directories(dir_);
    MPI_Barrier(world());
  }
  void TearDown() override {
    MPI_Barrier(world());
    if (rank() == 0) std::filesystem::remove_all(dir_);
  }
  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    if (rank() == 0) std::ofstream(path, std::ios::binary) << text;
    MPI_Barrier(world());
    return path;
  }
  std::filesystem::path dir_;
};

std::string matrix_market(const Entries& e, std::size_t bad_line_at = SIZE_MAX) {
  std::string s = "%%MatrixMarket matrix coordinate real general\n% a comment\n" + std::to_string(e.rows) + " " +
                  std::to_string(e.cols) + " " + std::to_string(e.value.size()) + "\n";
  for (std::size_t t = 0; t < e.value.size(); ++t) {
    if (t == bad_line_at) {
      s += "3 x7 1.5\n";
      continue;
    }
    s += std::to_string(e.row[t] + 1) + " " + std::to_string(e.col[t] + 1) + " " + std::to_string(e.value[t]) + "\n";
    if (t % 50 == 25) s += "% a comment among the entries\n\n";
  }
  return s;
}

// Read in byte ranges, each rank its own: the same Ω as read_ratings reads whole.
TEST_F(Files, ReadsMatrixMarketAndCsvInRanges) {
  const Entries all = random_entries(37, 31, 0.4, 5);
  std::string csv = "userId,movieId,rating,timestamp\r\n";
  for (std::size_t t = 0; t < all.value.size(); ++t)
    csv += std::to_string(all.row[t] * 10 + 3) + "," + std::to_string(all.col[t] * 7 + 100) + "," +
           std::to_string(std::round(all.value[t] * 2) / 2) + ",964982703\r\n";
  for (const std::string& path : {write("a.mtx", matrix_market(all)), write("b.csv", csv)}) {
    const Observed whole = Observed::build(read_ratings(path).entries);
    for (const mpi::Partition side : {mpi::Partition::rows, mpi::Partition::columns}) {
      const mpi::Share share = mpi::Share::read(world(), path, RatingsFormat::automatic, side);
      EXPECT_EQ(share.rows(), whole.rows()) << path;
      EXPECT_EQ(share.cols(), whole.cols()) << path;
      EXPECT_EQ(share.nnz(), whole.nnz()) << path;
      expect_distributed_matches_oracle<double>(whole, share, 5, 0.1, 6);
    }
  }
}

// A bad line in the last rank's byte range: every rank throws the error read_ratings gives, with the
// file's own line number, and no rank is left waiting.
TEST_F(Files, BadLineInOneRanksShareFailsEveryRank) {
  const Entries all = random_entries(30, 30, 0.3, 9);
  const std::string path = write("bad.mtx", matrix_market(all, all.value.size() - 3));
  std::string single;
  try {
    read_ratings(path);
  } catch (const Error& e) {
    single = e.what();
  }
  ASSERT_NE(single, "");
  std::string got;
  try {
    mpi::Share::read(world(), path);
  } catch (const Error& e) {
    got = e.what();
  }
  const std::string culprit = "rank " + std::to_string(ranks() - 1) + " of " + std::to_string(ranks()) + ": ";
  EXPECT_EQ(got, culprit + single);

  // Too few entries for the size line, seen only by adding every rank's count.
  Entries fewer = all;
  fewer.row.pop_back();
  fewer.col.pop_back();
  fewer.value.pop_back();
  std::string text = matrix_market(fewer);
  const std::string count = " " + std::to_string(fewer.value.size()) + "\n";
  text.replace(text.find(count), count.size(), " " + std::to_string(all.value.size()) + "\n");
  const std::string short_path = write("short.mtx", text);
  got.clear();
  try {
    mpi::Share::read(world(), short_path);
  } catch (const Error& e) {
    got = e.what();
  }
  EXPECT_NE(got.find("truncated: expected " + std::to_string(all.value.size()) + " entries"), std::string::npos) << got;
}

// An entry outside the shape, or a duplicate, on one rank's piece: every rank throws, naming it.
TEST(Errors, BadPieceOnOneRankFailsEveryRank) {
  Entries piece = piece_of(random_entries(12, 9, 0.5, 3));
  if (rank() == ranks() - 1) piece.push(12, 0, 1.0);
  std::string got;
  try {
    mpi::Share::from_entries(world(), piece);
  } catch (const Error& e) {
    got = e.what();
  }
  EXPECT_NE(got.find("rank " + std::to_string(ranks() - 1) + " of " + std::to_string(ranks()) +
                     ": row id 12 is outside the matrix's 12 rows"),
            std::string::npos)
      << got;

  Entries twice = piece_of(random_entries(12, 9, 0.5, 3));
  if (rank() == 0) twice.push(twice.row[0], twice.col[0], 2.0);
  got.clear();
  try {
    mpi::Share::from_entries(world(), twice);
  } catch (const Error& e) {
    got = e.what();
  }
  EXPECT_NE(got.find("duplicate"), std::string::npos) << got;
}

// Factors of the wrong shape on one rank: an error on every rank, not a hang in the reduction.
TEST(Errors, WrongShapeOnOneRankFailsEveryRank) {
  const mpi::Share share = mpi::Share::from_entries(world(), piece_of(random_entries(20, 10, 0.5, 4)));
  const std::size_t k = 3, m = static_cast<std::size_t>(share.end() - share.begin()), n = 10;
  const std::size_t rows_u = rank() == ranks() - 1 ? m + 1 : m;
  std::vector<float> u(rows_u * k, 0.5f), v(n * k, 0.5f), gu(rows_u * k), gv(n * k);
  mpi::Plan plan(share, k, Precision::f32);
  std::string got;
  try {
    plan.evaluate<float>({u.data(), rows_u, k}, {v.data(), n, k}, 0.1, {gu.data(), rows_u, k}, {gv.data(), n, k});
  } catch (const Error& e) {
    got = e.what();
  }
  EXPECT_NE(got.find("rank " + std::to_string(ranks() - 1) + " of " + std::to_string(ranks()) + ": U is "),
            std::string::npos)
      << got;
}

extern "C" mfgrad_status c_rows_evaluate(MPI_Comm comm, int32_t rows, int32_t cols, int64_t count, const int32_t* row,
                                         const int32_t* col, const double* value, int64_t k, const double* u,
                                         const double* v, double lambda, double* grad_u, double* grad_v, double* loss);

// The C interface (called from C) gives the C++ interface's bits, and its errors reach every rank.
TEST(CInterface, SameBitsAsCppAndErrorsOnEveryRank) {
  const Entries all = random_entries(33, 27, 0.3, 17);
  const Entries piece = piece_of(all);
  const std::size_t k = 5;
  const std::vector<double> u = uniform<double>(33 * k, 3, 0.5), v = uniform<double>(27 * k, 4, 0.5);
  std::vector<double> gu(u.size(), 0.0), gv(v.size());
  double loss = 0;
  const mfgrad_status status =
      c_rows_evaluate(world(), 33, 27, static_cast<std::int64_t>(piece.size()), piece.row.data(), piece.col.data(),
                      piece.value.data(), k, u.data(), v.data(), 0.1, gu.data(), gv.data(), &loss);
  EXPECT_EQ(status, MFGRAD_OK) << mfgrad_mpi_last_error();
  const mpi::Share share = mpi::Share::from_entries(world(), piece, mpi::Partition::rows);
  const Outcome<double> want = distributed(share, u, v, k, 0.1);
  const auto b = static_cast<std::size_t>(share.begin()) * k, e = static_cast<std::size_t>(share.end()) * k;
  EXPECT_EQ(std::memcmp(&loss, &want.loss, sizeof loss), 0);
  EXPECT_TRUE(std::equal(gu.begin() + b, gu.begin() + e, want.gu.begin() + b));
  EXPECT_EQ(gv, want.gv);

  mfgrad_mpi_share* none = nullptr;
  const char* what = rank() == ranks() - 1 ? nullptr : "tiny";
  EXPECT_EQ(mfgrad_mpi_share_load(world(), what, MFGRAD_MPI_AUTO, &none), MFGRAD_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(none, nullptr);
  EXPECT_EQ(std::string(mfgrad_mpi_last_error()), "rank " + std::to_string(ranks() - 1) + " of " +
                                                      std::to_string(ranks()) + ": share_load: what or out is NULL");
}

// 16-bit factors through the C interface (their uint16_t bits, float32 gradients): the C++ interface's
// bits, by columns this time; a precision outside the enum is refused on every rank.
TEST(CInterface, SixteenBitFactorsGiveTheCppBits) {
  const Entries all = random_entries(21, 34, 0.3, 19);
  const Entries piece = piece_of(all);
  const std::size_t k = 7;
  mfgrad_mpi_share* share = nullptr;
  ASSERT_EQ(mfgrad_mpi_share_from_coo(world(), 21, 34, static_cast<std::int64_t>(piece.size()), piece.row.data(),
                                      piece.col.data(), piece.value.data(), MFGRAD_MPI_COLUMNS, MFGRAD_DUPLICATES_ERROR,
                                      &share),
            MFGRAD_OK)
      << mfgrad_mpi_last_error();
  std::int32_t begin = 0, end = 0;
  ASSERT_EQ(mfgrad_mpi_share_info(share, nullptr, nullptr, nullptr, nullptr, &begin, &end), MFGRAD_OK);
  const auto run = [&]<class S>(S, mfgrad_precision precision, auto c_evaluate) {
    const test::Factors<S> f = test::random_factors<S>(21, 34, k, 8);
    mfgrad_mpi_plan* plan = nullptr;
    ASSERT_EQ(mfgrad_mpi_plan_create(share, static_cast<std::int64_t>(k), precision, nullptr, &plan), MFGRAD_OK)
        << mfgrad_mpi_last_error();
    const auto n = static_cast<std::int64_t>(end - begin);
    const std::vector<S> mine(f.v.begin() + begin * static_cast<std::ptrdiff_t>(k),
                              f.v.begin() + end * static_cast<std::ptrdiff_t>(k));
    std::vector<float> gu(21 * k), gv(static_cast<std::size_t>(n) * k);
    double loss = 0;
    EXPECT_EQ(c_evaluate(plan, 21, n, static_cast<std::int64_t>(k), reinterpret_cast<const std::uint16_t*>(f.u.data()),
                         reinterpret_cast<const std::uint16_t*>(mine.data()), 0.1, gu.data(), gv.data(), &loss),
              MFGRAD_OK)
        << mfgrad_mpi_last_error();
    mfgrad_mpi_plan_destroy(plan);
    const Outcome<S> want =
        distributed(mpi::Share::from_entries(world(), piece, mpi::Partition::columns), f.u, f.v, k, 0.1);
    EXPECT_EQ(std::memcmp(&loss, &want.loss, sizeof loss), 0) << to_string(precision_of<S>());
    EXPECT_EQ(gu, want.gu) << to_string(precision_of<S>());
    EXPECT_TRUE(std::equal(gv.begin(), gv.end(), want.gv.begin() + begin * static_cast<std::ptrdiff_t>(k)))
        << to_string(precision_of<S>());
  };
  run(bfloat16{}, MFGRAD_BFLOAT16, mfgrad_mpi_plan_evaluate_bf16);
  run(float16{}, MFGRAD_FLOAT16, mfgrad_mpi_plan_evaluate_f16);
  mfgrad_mpi_plan* none = nullptr;
  EXPECT_EQ(mfgrad_mpi_plan_create(share, 4, static_cast<mfgrad_precision>(9), nullptr, &none),
            MFGRAD_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(mfgrad_mpi_last_error()).find("MFGRAD_BFLOAT16"), std::string::npos) << mfgrad_mpi_last_error();
  mfgrad_mpi_share_destroy(share);
}

TEST(Partition, BalancedOnEntries) {
  const std::vector<offset_t> degree = {5, 0, 0, 5, 5, 5, 100, 5};
  EXPECT_EQ(mpi::balanced_bounds(degree, 1), (std::vector<index_t>{0, 8}));
  const std::vector<index_t> two = mpi::balanced_bounds(degree, 2);
  EXPECT_EQ(two, (std::vector<index_t>{0, 6, 8}));  // the heavy id 6 starts the second block
  const std::vector<index_t> four = mpi::balanced_bounds(degree, 4);
  EXPECT_TRUE(std::is_sorted(four.begin(), four.end()));
  EXPECT_EQ(four.front(), 0);
  EXPECT_EQ(four.back(), 8);
  EXPECT_EQ(mpi::choose_partition(100, 10, 4), mpi::Partition::rows);
  EXPECT_EQ(mpi::choose_partition(10, 100, 4), mpi::Partition::columns);
  EXPECT_EQ(mpi::choose_partition(10, 100, 1), mpi::Partition::rows);
}

}  // namespace
}  // namespace mfgrad

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  const int failed = RUN_ALL_TESTS();
  int any = failed;
  MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return any;
}
