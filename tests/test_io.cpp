// Reading ratings and Matrix Market files, writing Matrix Market, reading and writing .npy.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "mfgrad/dataset.hpp"
#include "mfgrad/io.hpp"
#include "mfgrad/message.hpp"
#include "mfgrad/observed.hpp"
#include "support.hpp"

namespace {

namespace fs = std::filesystem;
using mfgrad::Entries;
using mfgrad::Error;
using mfgrad::RatingsFile;
using mfgrad::RatingsFormat;
using mfgrad::test::error_of;
using mfgrad::test::slurp;

// Each test gets its own empty directory, removed afterwards.
class IoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ =
        fs::temp_directory_path() / ("mfgrad_test_io_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::string write(const std::string& name, std::string_view content) const {
    const std::string p = path(name);
    std::ofstream out(p, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    EXPECT_TRUE(out.good()) << p;
    return p;
  }

  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path dir_;
};

::testing::AssertionResult contains(const std::string& text, std::string_view part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

::testing::AssertionResult starts_with(const std::string& text, const std::string& prefix) {
  if (text.starts_with(prefix)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not start with '" << prefix << "'";
}

template <class T>
auto bits(T v) {
  return std::bit_cast<std::conditional_t<sizeof(T) == 8, std::uint64_t, std::uint32_t>>(v);
}

template <class T>
std::vector<T> vec(std::initializer_list<T> v) {
  return v;
}

// --- format names --------------------------------------------------------------------------------

TEST(RatingsFormatNames, RoundTripAndRejectUnknown) {
  for (const auto f : {RatingsFormat::automatic, RatingsFormat::udata, RatingsFormat::dat, RatingsFormat::csv,
                       RatingsFormat::triplets, RatingsFormat::matrix_market})
    EXPECT_EQ(mfgrad::parse_ratings_format(mfgrad::to_string(f)), f);
  EXPECT_STREQ(mfgrad::to_string(RatingsFormat::matrix_market), "mm");
  const std::string msg = error_of([] { mfgrad::parse_ratings_format("xml"); });
  EXPECT_TRUE(contains(msg, "'xml'"));
  EXPECT_TRUE(contains(msg, "triplets"));
}

// --- the id formats ------------------------------------------------------------------------------

TEST_F(IoTest, ReadsUdataAndRemapsIdsInAscendingOrder) {
  const std::string p = write("u.data",
                              "10\t100\t4.5\t881250949\n"
                              "\n"
                              "3\t200\t3\t891717742\n"
                              "7\t100\t1.5\t878887116\n");
  const RatingsFile f = mfgrad::read_ratings(p, RatingsFormat::udata);
  EXPECT_EQ(f.format, RatingsFormat::udata);
  EXPECT_EQ(f.entries.rows, 3);
  EXPECT_EQ(f.entries.cols, 2);
  EXPECT_EQ(f.entries.row, vec<mfgrad::index_t>({2, 0, 1}));
  EXPECT_EQ(f.entries.col, vec<mfgrad::index_t>({0, 1, 0}));
  EXPECT_EQ(f.entries.value, vec<double>({4.5, 3.0, 1.5}));
  EXPECT_EQ(f.entries.line, vec<std::int64_t>({1, 3, 4}));
  EXPECT_EQ(f.row_ids, vec<std::int64_t>({3, 7, 10}));
  EXPECT_EQ(f.col_ids, vec<std::int64_t>({100, 200}));
  EXPECT_EQ(f.entries.source, p);
}

TEST_F(IoTest, ReadsDat) {
  const std::string p = write("ratings.dat",
                              "1::1193::5::978300760\n"
                              "1::661::3::978302109\n"
                              "6040::1193::4.5::956703932");  // no final newline
  const RatingsFile f = mfgrad::read_ratings(p, RatingsFormat::dat);
  EXPECT_EQ(f.entries.rows, 2);
  EXPECT_EQ(f.entries.cols, 2);
  EXPECT_EQ(f.entries.row, vec<mfgrad::index_t>({0, 0, 1}));
  EXPECT_EQ(f.entries.col, vec<mfgrad::index_t>({1, 0, 1}));
  EXPECT_EQ(f.entries.value, vec<double>({5, 3, 4.5}));
  EXPECT_EQ(f.entries.line, vec<std::int64_t>({1, 2, 3}));
  EXPECT_EQ(f.row_ids, vec<std::int64_t>({1, 6040}));
  EXPECT_EQ(f.col_ids, vec<std::int64_t>({661, 1193}));
}

TEST_F(IoTest, ReadsCsvWithCrlfLineEndings) {
  const std::string p = write("ratings.csv",
                              "userId,movieId,rating,timestamp\r\n"
                              "1,10,4.0,964982703\r\n"
                              "1,20,3.5,964981247\r\n"
                              "\r\n"
                              "2,10,0.5,964982224\r\n");
  const RatingsFile f = mfgrad::read_ratings(p, RatingsFormat::csv);
  EXPECT_EQ(f.entries.rows, 2);
  EXPECT_EQ(f.entries.cols, 2);
  EXPECT_EQ(f.entries.row, vec<mfgrad::index_t>({0, 0, 1}));
  EXPECT_EQ(f.entries.col, vec<mfgrad::index_t>({0, 1, 0}));
  EXPECT_EQ(f.entries.value, vec<double>({4.0, 3.5, 0.5}));
  EXPECT_EQ(f.entries.line, vec<std::int64_t>({2, 3, 5}));
}

TEST_F(IoTest, ReadsCsvWithoutTimestampAndWithByteOrderMark) {
  const std::string p = write("ratings.csv", "\xEF\xBB\xBFuserId,movieId,rating\n5,1,2.5\n4,1,1\n");
  const RatingsFile f = mfgrad::read_ratings(p);
  EXPECT_EQ(f.format, RatingsFormat::csv);
  EXPECT_EQ(f.entries.row, vec<mfgrad::index_t>({1, 0}));
  EXPECT_EQ(f.entries.value, vec<double>({2.5, 1.0}));
  EXPECT_EQ(f.row_ids, vec<std::int64_t>({4, 5}));
  EXPECT_EQ(f.entries.line, vec<std::int64_t>({2, 3}));
}

TEST_F(IoTest, ReadsTripletsWithSpacesTabsOrCommas) {
  const std::vector<std::pair<std::string, std::string>> variants = {
      {"spaces", "  1   20  3.5  \n\n2 10 -1\n"},
      {"tabs", "1\t\t20\t3.5\n\n2\t10\t-1\n"},
      {"commas", "1,20,3.5\n\n2, 10 ,-1\n"},
  };
  for (const auto& [name, text] : variants) {
    SCOPED_TRACE(name);
    const std::string p = write(name + ".txt", text);
    for (const auto format : {RatingsFormat::triplets, RatingsFormat::automatic}) {
      const RatingsFile f = mfgrad::read_ratings(p, format);
      EXPECT_EQ(f.format, RatingsFormat::triplets);
      EXPECT_EQ(f.entries.rows, 2);
      EXPECT_EQ(f.entries.cols, 2);
      EXPECT_EQ(f.entries.row, vec<mfgrad::index_t>({0, 1}));
      EXPECT_EQ(f.entries.col, vec<mfgrad::index_t>({1, 0}));
      EXPECT_EQ(f.entries.value, vec<double>({3.5, -1.0}));
      EXPECT_EQ(f.entries.line, vec<std::int64_t>({1, 3}));
    }
  }
}

TEST_F(IoTest, RemapsZeroNegativeAndHugeIds) {
  const std::string p = write("t.txt",
                              "-5 0 1\n"
                              "0 9000000000000 2\n"
                              "9000000000000 -5 3\n"
                              "-5 -5 4\n");
  const RatingsFile f = mfgrad::read_ratings(p, RatingsFormat::triplets);
  EXPECT_EQ(f.row_ids, vec<std::int64_t>({-5, 0, 9000000000000}));
  EXPECT_EQ(f.col_ids, vec<std::int64_t>({-5, 0, 9000000000000}));
  EXPECT_EQ(f.entries.row, vec<mfgrad::index_t>({0, 1, 2, 0}));
  EXPECT_EQ(f.entries.col, vec<mfgrad::index_t>({1, 2, 0, 0}));
  EXPECT_EQ(f.entries.rows, 3);
}

// Widely spread ids take the sorting path, dense ones the lookup table; both must agree.
TEST_F(IoTest, RemapsSparseAndDenseIdsAlike) {
  std::string dense, sparse;
  const int n = 5000;
  for (int t = 0; t < n; ++t) {
    const int i = (t * 7919) % 1000, j = (t * 104729) % 333;
    dense += std::to_string(i) + " " + std::to_string(j) + " " + std::to_string(t) + "\n";
    sparse +=
        std::to_string(i * 1000003 - 700000000) + " " + std::to_string(j * 2147483) + " " + std::to_string(t) + "\n";
  }
  const RatingsFile a = mfgrad::read_ratings(write("dense.txt", dense), RatingsFormat::triplets);
  const RatingsFile b = mfgrad::read_ratings(write("sparse.txt", sparse), RatingsFormat::triplets);
  EXPECT_EQ(a.entries.rows, 1000);
  EXPECT_EQ(a.entries.cols, 333);
  EXPECT_EQ(a.entries.row, b.entries.row);
  EXPECT_EQ(a.entries.col, b.entries.col);
  ASSERT_EQ(b.row_ids.size(), 1000u);
  EXPECT_TRUE(std::is_sorted(b.row_ids.begin(), b.row_ids.end()));
  for (int t = 0; t < n; ++t) {
    EXPECT_EQ(a.row_ids[a.entries.row[t]], (t * 7919) % 1000);
    EXPECT_EQ(b.col_ids[b.entries.col[t]], static_cast<std::int64_t>((t * 104729) % 333) * 2147483);
  }
}

TEST_F(IoTest, EmptyFileOfAnIdFormatHasNoEntries) {
  const RatingsFile f = mfgrad::read_ratings(write("empty.txt", "\n\n"), RatingsFormat::triplets);
  EXPECT_EQ(f.entries.size(), 0);
  EXPECT_EQ(f.entries.rows, 0);
  EXPECT_TRUE(f.row_ids.empty());
}

// --- Matrix Market -------------------------------------------------------------------------------

TEST_F(IoTest, ReadsMatrixMarketRealGeneral) {
  const std::string p = write("a.mtx",
                              "%%MatrixMarket matrix coordinate real general\n"
                              "% a comment\n"
                              "%\n"
                              "3 4 3\n"
                              "1 1 1.5\n"
                              "3 4 -2e-3\n"
                              "2 2 7\n");
  for (const auto format : {RatingsFormat::matrix_market, RatingsFormat::automatic}) {
    const RatingsFile f = mfgrad::read_ratings(p, format);
    EXPECT_EQ(f.format, RatingsFormat::matrix_market);
    EXPECT_EQ(f.entries.rows, 3);
    EXPECT_EQ(f.entries.cols, 4);
    EXPECT_EQ(f.entries.row, vec<mfgrad::index_t>({0, 2, 1}));
    EXPECT_EQ(f.entries.col, vec<mfgrad::index_t>({0, 3, 1}));
    EXPECT_EQ(f.entries.value, vec<double>({1.5, -2e-3, 7}));
    EXPECT_EQ(f.entries.line, vec<std::int64_t>({5, 6, 7}));
    EXPECT_TRUE(f.row_ids.empty());
    EXPECT_TRUE(f.col_ids.empty());
  }
}

TEST_F(IoTest, ReadsMatrixMarketIntegerAndPattern) {
  const RatingsFile i = mfgrad::read_ratings(write("i.mtx",
                                                   "%%MatrixMarket matrix coordinate integer general\r\n"
                                                   "2 2 2\r\n"
                                                   "1 2 5\r\n"
                                                   "2 1 -3\r\n"));
  EXPECT_EQ(i.entries.value, vec<double>({5, -3}));
  EXPECT_EQ(i.entries.col, vec<mfgrad::index_t>({1, 0}));

  const RatingsFile p = mfgrad::read_ratings(write("p.mtx",
                                                   "%%MatrixMarket MATRIX Coordinate Pattern General\n"
                                                   "5 6 2\n"
                                                   "5 6\n"
                                                   "1 1\n"));
  EXPECT_EQ(p.entries.rows, 5);
  EXPECT_EQ(p.entries.cols, 6);
  EXPECT_EQ(p.entries.row, vec<mfgrad::index_t>({4, 0}));
  EXPECT_EQ(p.entries.col, vec<mfgrad::index_t>({5, 0}));
  EXPECT_EQ(p.entries.value, vec<double>({1, 1}));
}

TEST_F(IoTest, MirrorsSymmetricMatrixMarketButNotTheDiagonal) {
  const RatingsFile f = mfgrad::read_ratings(write("s.mtx",
                                                   "%%MatrixMarket matrix coordinate real symmetric\n"
                                                   "3 3 3\n"
                                                   "1 1 2.0\n"
                                                   "2 1 3.0\n"
                                                   "3 2 4.0\n"));
  EXPECT_EQ(f.entries.row, vec<mfgrad::index_t>({0, 1, 0, 2, 1}));
  EXPECT_EQ(f.entries.col, vec<mfgrad::index_t>({0, 0, 1, 1, 2}));
  EXPECT_EQ(f.entries.value, vec<double>({2, 3, 3, 4, 4}));
  EXPECT_EQ(f.entries.line, vec<std::int64_t>({3, 4, 4, 5, 5}));
  const mfgrad::Observed o = mfgrad::Observed::build(f.entries);
  EXPECT_EQ(o.nnz(), 5);
}

// --- malformed input -----------------------------------------------------------------------------

struct BadFile {
  const char* what;
  RatingsFormat format;
  const char* text;
  int line;            // expected "FILE:LINE: " prefix
  const char* phrase;  // expected somewhere in the message
};

TEST_F(IoTest, MalformedFilesNameFileLineAndProblem) {
  const std::vector<BadFile> cases = {
      {"udata missing field", RatingsFormat::udata, "1\t2\t3\t4\n1\t2\t3\n", 2, "found 3"},
      {"udata extra field", RatingsFormat::udata, "1\t2\t3\t4\t5\n", 1, "found 5"},
      {"udata bad rating", RatingsFormat::udata, "1\t2\t4\t4\n\n1\t2\t4.5x\t4\n", 3, "rating '4.5x' is not a number"},
      {"udata empty field", RatingsFormat::udata, "1\t\t4\t5\n", 1, "item id is empty"},
      {"udata bad timestamp", RatingsFormat::udata, "1\t2\t4\tnoon\n", 1, "timestamp 'noon'"},
      {"dat fractional id", RatingsFormat::dat, "1::2.5::3::4\n", 1, "movie id '2.5' is not an integer"},
      {"dat missing field", RatingsFormat::dat, "1::2::3\n", 1, "found 3"},
      {"id out of range", RatingsFormat::triplets, "99999999999999999999 1 1\n", 1, "is out of range"},
      {"csv wrong header", RatingsFormat::csv, "user,movie,rating\n1,2,3\n", 1,
       "expected the header 'userId,movieId,rating,timestamp'"},
      {"csv empty", RatingsFormat::csv, "", 1, "expected the header"},
      {"csv bad rating", RatingsFormat::csv, "userId,movieId,rating,timestamp\r\n1,2,3,4\r\n1,2,abc,5\r\n", 3,
       "rating 'abc' is not a number"},
      {"csv missing timestamp", RatingsFormat::csv, "userId,movieId,rating,timestamp\n1,2,3\n", 2, "found 3"},
      {"triplets missing value", RatingsFormat::triplets, "1 2 3\n4 5\n", 2, "found 2"},
      {"triplets mixed separators", RatingsFormat::triplets, "1,2,3\n1 2 3\n", 2, "found 1"},
      {"mm row index 0", RatingsFormat::matrix_market, "%%MatrixMarket matrix coordinate real general\n3 4 1\n0 1 1\n",
       3, "row index 0 is outside 1..3"},
      {"mm column too big", RatingsFormat::matrix_market,
       "%%MatrixMarket matrix coordinate real general\n3 4 2\n1 1 1\n\n1 5 1\n", 5, "column index 5 is outside 1..4"},
      {"mm truncated", RatingsFormat::matrix_market,
       "%%MatrixMarket matrix coordinate real general\n3 3 3\n1 1 1\n2 2 2\n", 4,
       "truncated: expected 3 entries (size line at line 2), found 2"},
      {"mm too many", RatingsFormat::matrix_market,
       "%%MatrixMarket matrix coordinate real general\n3 3 1\n1 1 1\n2 2 2\n% c\n3 3 3\n", 4,
       "too many entries: expected 1 (size line at line 2), found 3"},
      {"mm bad value", RatingsFormat::matrix_market, "%%MatrixMarket matrix coordinate real general\n3 3 1\n1 1 x\n", 3,
       "value 'x' is not a number"},
      {"mm fractional integer", RatingsFormat::matrix_market,
       "%%MatrixMarket matrix coordinate integer general\n3 3 1\n1 1 2.5\n", 3, "value '2.5' is not an integer"},
      {"mm pattern with value", RatingsFormat::matrix_market,
       "%%MatrixMarket matrix coordinate pattern general\n3 3 1\n1 1 2.5\n", 3, "found 3"},
      {"mm missing size line", RatingsFormat::matrix_market, "%%MatrixMarket matrix coordinate real general\n% c\n", 2,
       "missing the size line"},
      {"mm array", RatingsFormat::matrix_market, "%%MatrixMarket matrix array real general\n2 2\n", 1,
       "'array' is not supported"},
      {"mm complex", RatingsFormat::automatic, "%%MatrixMarket matrix coordinate complex general\n", 1,
       "'complex' is not supported"},
      {"mm hermitian", RatingsFormat::matrix_market, "%%MatrixMarket matrix coordinate real hermitian\n", 1,
       "'hermitian' is not supported"},
      {"mm skew", RatingsFormat::matrix_market, "%%MatrixMarket matrix coordinate real skew-symmetric\n", 1,
       "'skew-symmetric' is not supported"},
      {"mm vector", RatingsFormat::matrix_market, "%%MatrixMarket vector coordinate real general\n", 1,
       "'vector' is not supported"},
      {"mm no header", RatingsFormat::matrix_market, "3 3 1\n1 1 1\n", 1, "expected a Matrix Market header"},
      {"mm above diagonal", RatingsFormat::matrix_market,
       "%%MatrixMarket matrix coordinate real symmetric\n3 3 2\n1 1 1\n1 3 1\n", 4, "above the diagonal"},
      {"mm symmetric not square", RatingsFormat::matrix_market,
       "%%MatrixMarket matrix coordinate real symmetric\n3 4 0\n", 2, "must be square"},
      {"unrecognised", RatingsFormat::automatic, "\nhello world\n", 2, "could not be recognised"},
      {"unrecognised names --format", RatingsFormat::automatic, "1,2,3,4\n", 1, "--format"},
  };
  for (std::size_t k = 0; k < cases.size(); ++k) {
    const BadFile& c = cases[k];
    SCOPED_TRACE(c.what);
    const std::string p = write(std::to_string(k) + ".txt", c.text);
    const std::string msg = error_of([&] { mfgrad::read_ratings(p, c.format); });
    EXPECT_TRUE(starts_with(msg, p + ":" + std::to_string(c.line) + ": "));
    EXPECT_TRUE(contains(msg, c.phrase));
  }
}

TEST_F(IoTest, MissingFileSaysCannotOpen) {
  const std::string p = path("absent.csv");
  for (const auto& f : std::vector<std::function<void()>>{
           [&] { mfgrad::read_ratings(p); }, [&] { mfgrad::detect_ratings_format(p); }, [&] { mfgrad::read_npy(p); }}) {
    const std::string msg = error_of(f);
    EXPECT_TRUE(contains(msg, "cannot open " + p));
    EXPECT_TRUE(contains(msg, "No such file"));
  }
  EXPECT_TRUE(contains(error_of([&] { mfgrad::read_ratings(dir_.string()); }), "cannot open " + dir_.string()));
}

// A file that cannot be opened or written is a FileError carrying the path and the errno, which the C
// interface and Python turn into their own file errors; a file whose contents are refused is not.
TEST_F(IoTest, FileErrorsCarryThePathAndErrno) {
  const auto file_error = [](auto&& f) -> std::optional<mfgrad::FileError> {
    try {
      f();
    } catch (const mfgrad::FileError& e) {
      return e;
    } catch (const mfgrad::Error&) {
    }
    return std::nullopt;
  };
  const std::string absent = path("absent.csv");
  const auto missing = file_error([&] { mfgrad::read_ratings(absent); });
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->path(), absent);
  EXPECT_EQ(missing->error_code(), ENOENT);
  const auto directory = file_error([&] { mfgrad::read_npy(dir_.string()); });
  ASSERT_TRUE(directory.has_value());
  EXPECT_EQ(directory->error_code(), EISDIR);
  const auto unwritable =
      file_error([&] { mfgrad::write_matrix_market(path("no/such/dir/m.mtx"), mfgrad::Entries{}); });
  ASSERT_TRUE(unwritable.has_value());
  EXPECT_EQ(unwritable->error_code(), ENOENT);
  const auto missing_preset = file_error([&] { mfgrad::load_dataset(absent); });
  ASSERT_TRUE(missing_preset.has_value());
  EXPECT_EQ(missing_preset->error_code(), ENOENT);
  EXPECT_FALSE(file_error([&] { mfgrad::read_ratings(write("bad.csv", "userId,movieId,rating\n1,2,x\n")); }));
}

TEST_F(IoTest, DetectsEachFormatFromItsFirstLines) {
  const std::vector<std::pair<std::string, RatingsFormat>> cases = {
      {"1\t2\t3\t881250949\n", RatingsFormat::udata},
      {"\n1::2::3::978300760\n", RatingsFormat::dat},
      {"userId,movieId,rating,timestamp\n1,2,3,4\n", RatingsFormat::csv},
      {"userId,movieId,rating\r\n1,2,3\r\n", RatingsFormat::csv},
      {"1 2 3.5\n", RatingsFormat::triplets},
      {"1\t2\t3.5\n", RatingsFormat::triplets},
      {"1,2,3.5\n", RatingsFormat::triplets},
      {"%%MatrixMarket matrix coordinate real general\n1 1 1\n1 1 1\n", RatingsFormat::matrix_market},
  };
  for (std::size_t k = 0; k < cases.size(); ++k) {
    SCOPED_TRACE(cases[k].first);
    const std::string p = write(std::to_string(k) + ".in", cases[k].first);
    EXPECT_EQ(mfgrad::detect_ratings_format(p), cases[k].second);
    const RatingsFile f = mfgrad::read_ratings(p);
    EXPECT_EQ(f.format, cases[k].second);
    EXPECT_EQ(f.entries.size(), 1);
  }
  const std::string empty = write("empty", "\n\r\n");
  EXPECT_TRUE(
      starts_with(error_of([&] { mfgrad::detect_ratings_format(empty); }), empty + ":2: the file holds no data"));
  // A csv file whose header is wrong is detected as csv, then its header is refused.
  const std::string header = write("header.csv", "user,item,score\n1,2,3\n");
  EXPECT_EQ(mfgrad::detect_ratings_format(header), RatingsFormat::csv);
  EXPECT_TRUE(contains(error_of([&] { mfgrad::read_ratings(header); }), header + ":1: expected the header"));
}

// --- writing Matrix Market ------------------------------------------------------------------------

TEST_F(IoTest, WriteMatrixMarketRoundTripsValuesBitwise) {
  Entries e;
  e.rows = 5;
  e.cols = 7;
  const std::vector<double> values = {0.1,     1.0 / 3.0,     -0.0, 5e-324, std::numeric_limits<double>::max(),
                                      -1e-300, 123456789.125, 4.5};
  for (std::size_t t = 0; t < values.size(); ++t)
    e.push(static_cast<mfgrad::index_t>(t % 5), static_cast<mfgrad::index_t>((t * 3) % 7), values[t]);
  const std::string p = path("out.mtx");
  write("out.mtx", "old contents");
  mfgrad::write_matrix_market(p, e, "made by test_io\nsecond line");

  EXPECT_TRUE(starts_with(slurp(p),
                          "%%MatrixMarket matrix coordinate real general\n% made by test_io\n% second line\n5 7 8\n"
                          "1 1 0.1\n"));
  EXPECT_EQ(files(), vec<std::string>({"out.mtx"}));  // no temporary file left behind
  const RatingsFile f = mfgrad::read_ratings(p);
  EXPECT_EQ(f.format, RatingsFormat::matrix_market);
  EXPECT_EQ(f.entries.rows, 5);
  EXPECT_EQ(f.entries.cols, 7);
  EXPECT_EQ(f.entries.row, e.row);
  EXPECT_EQ(f.entries.col, e.col);
  ASSERT_EQ(f.entries.value.size(), values.size());
  for (std::size_t t = 0; t < values.size(); ++t) EXPECT_EQ(bits(f.entries.value[t]), bits(values[t])) << t;
}

TEST_F(IoTest, WriteMatrixMarketFailureLeavesNoFile) {
  Entries e;
  e.rows = 2;
  e.cols = 2;
  e.push(0, 1, 1.0);
  const std::string missing_dir = path("no/such/dir/out.mtx");
  EXPECT_TRUE(
      starts_with(error_of([&] { mfgrad::write_matrix_market(missing_dir, e); }), "cannot write " + missing_dir));

  e.push(2, 0, 1.0);  // outside the 2 x 2 shape
  const std::string p = path("bad.mtx");
  const std::string msg = error_of([&] { mfgrad::write_matrix_market(p, e); });
  EXPECT_TRUE(starts_with(msg, p + ": "));
  EXPECT_TRUE(contains(msg, "outside the 2 x 2 shape"));
  EXPECT_TRUE(files().empty());
}

// --- hostile input: what a message shows of it --------------------------------------------------

// A message is one line of printable text: no byte below 0x20 and no DEL.
::testing::AssertionResult printable(const std::string& msg) {
  for (std::size_t k = 0; k < msg.size(); ++k) {
    const auto c = static_cast<unsigned char>(msg[k]);
    if (c < 0x20 || c == 0x7F)
      return ::testing::AssertionFailure() << "byte " << int(c) << " at " << k << " in '" << msg << "'";
  }
  return ::testing::AssertionSuccess();
}

TEST(Quote, EscapesWhatATerminalWouldActOnAndKeepsText) {
  using mfgrad::quote;
  EXPECT_EQ(quote("4.5x"), "'4.5x'");
  EXPECT_EQ(quote(std::string("a\0b", 3)), "'a\\0b'");
  EXPECT_EQ(quote("\t\r\n\\"), "'\\t\\r\\n\\\\'");
  EXPECT_EQ(quote("\a\f\x1b[31m\x7f"), "'\\x07\\x0c\\x1b[31m\\x7f'");
  EXPECT_EQ(quote("caf\xc3\xa9 \xe2\x82\xac"), "'caf\xc3\xa9 \xe2\x82\xac'");  // UTF-8 stays readable
  // Invalid UTF-8, an overlong form, a surrogate and a C1 control (U+009B, a terminal's CSI).
  EXPECT_EQ(quote("\xff\xc0\xaf\xed\xa0\x80\xc2\x9b"), "'\\xff\\xc0\\xaf\\xed\\xa0\\x80\\xc2\\x9b'");
  const std::string long_text(200, 'z');
  EXPECT_EQ(quote(long_text), std::string("'") + std::string(80, 'z') + "...'");
  EXPECT_EQ(quote(long_text, 3), "'zzz...'");
  EXPECT_EQ(quote(std::string(79, 'z') + "\xc3\xa9"),
            std::string("'") + std::string(79, 'z') + "...'");  // no half character
  EXPECT_EQ(quote(""), "''");
}

// The backstop for text that reaches a message without quote(): it still cannot cut or break the line.
TEST(Quote, ErrorMessagesEscapeControlBytesThemselves) {
  using namespace std::string_literals;
  EXPECT_STREQ(Error("a\0b\nc\x1b[2J"s).what(), "a\\0b\\nc\\x1b[2J");
  EXPECT_STREQ(Error("already quoted: " + mfgrad::quote("x\ty\\")).what(), "already quoted: 'x\\ty\\\\'");
  EXPECT_STREQ(Error("caf\xc3\xa9").what(), "caf\xc3\xa9");
  // The same rule, for messages that are not Errors (the tool's usage errors).
  EXPECT_EQ(mfgrad::printable_line("a\0b\nc\x1b[2J"s), "a\\0b\\nc\\x1b[2J");
  EXPECT_EQ(mfgrad::printable_line("plain \\ text"), "plain \\ text");
}

TEST_F(IoTest, OutOfRangeNumberOnTheFirstLineIsNamedNotUnrecognised) {
  const std::string p = write("r.txt", "1 2 1e400\n");
  EXPECT_EQ(mfgrad::detect_ratings_format(p), RatingsFormat::triplets);
  EXPECT_EQ(error_of([&] { mfgrad::read_ratings(p); }),
            p + ":1: value '1e400' is out of range for a double (beyond ±1.8e308)");
  const std::string udata = write("u.data", "1\t2\t-1e999\t5\n");
  EXPECT_TRUE(contains(error_of([&] { mfgrad::read_ratings(udata); }), ":1: rating '-1e999' is out of range"));
  const std::string id = write("id.txt", "123456789012345678901234567890 2 3\n");
  EXPECT_TRUE(contains(error_of([&] { mfgrad::read_ratings(id); }), "is out of range for a 64-bit integer"));
}

TEST_F(IoTest, DetectionNamesTheTokenOfANearMiss) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"1 2 x\n",
       ":1: the ratings format could not be recognised from '1 2 x': it has the 3 fields of triplets "
       "(row, column, value) but field 3 'x' is not a number; name it with --format"},
      {"\n7\t8\tfour\t99\n",
       ":2: the ratings format could not be recognised from '7\\t8\\tfour\\t99': it has the 4 "
       "tab-separated fields of udata (user id, item id, rating, timestamp) but field 3 'four'"},
      {"1,2,3.5.1\n", "it has the 3 fields of comma-separated triplets (row, column, value) but field 3 '3.5.1'"},
      {"1,2,3,4\n", "it has 4 comma-separated fields, where triplets have 3"},
      {"1 2 3 4\n", "it has 4 space-separated numbers, where triplets have 3"},
      {"hello world\n", "could not be recognised from 'hello world'; name it with --format"},
      {std::string("1 2 \0\x07\n", 7), "but field 3 '\\0\\x07' is not a number"},
  };
  for (std::size_t k = 0; k < cases.size(); ++k) {
    SCOPED_TRACE(cases[k].first);
    const std::string p = write(std::to_string(k) + ".txt", cases[k].first);
    const std::string msg = error_of([&] { mfgrad::read_ratings(p); });
    EXPECT_TRUE(starts_with(msg, p + ":"));
    EXPECT_TRUE(contains(msg, cases[k].second));
    EXPECT_TRUE(printable(msg));
    EXPECT_EQ(msg, error_of([&] { mfgrad::detect_ratings_format(p); }));
  }
}

// A size line may declare rows and columns without entries, up to 2^20 + 16 per entry together.
TEST_F(IoTest, MatrixMarketSizeLineMayNotClaimFarMoreThanItsEntries) {
  const auto mm = [](std::int64_t m, std::int64_t n, int entries) {
    std::string text = "%%MatrixMarket matrix coordinate real general\n% lying?\n" + std::to_string(m) + " " +
                       std::to_string(n) + " " + std::to_string(entries) + "\n";
    for (int t = 1; t <= entries; ++t) text += std::to_string(t) + " 1 2.5\n";
    return text;
  };
  const std::int64_t allowed = (std::int64_t{1} << 20) + 16 * 3;
  const RatingsFile ok = mfgrad::read_ratings(write("ok.mtx", mm(allowed - 5, 5, 3)));
  EXPECT_EQ(ok.entries.rows, allowed - 5);
  EXPECT_EQ(ok.entries.size(), 3);
  const std::string over = write("over.mtx", mm(allowed - 4, 5, 3));
  EXPECT_TRUE(starts_with(error_of([&] { mfgrad::read_ratings(over); }),
                          over + ":3: the size line declares " + std::to_string(allowed - 4) + " x 5 for 3 entries"));
  for (const auto& [m, n] :
       std::vector<std::pair<std::int64_t, std::int64_t>>{{100000000, 5}, {2147483647, 2147483647}}) {
    const std::string p = write("huge.mtx", mm(m, n, 1));
    const std::string msg = error_of([&] { mfgrad::read_ratings(p); });
    EXPECT_TRUE(starts_with(
        msg, p + ":3: the size line declares " + std::to_string(m) + " x " + std::to_string(n) + " for 1 entry"));
    EXPECT_TRUE(contains(msg, "1048592 here"));
    // What the row and column pointers alone (8 bytes each) would have taken.
    EXPECT_TRUE(contains(msg, "would take " + mfgrad::format_bytes(8 * static_cast<std::size_t>(m + n)) + ")"));
  }
}

// --- .npy ----------------------------------------------------------------------------------------

// A .npy file with the given header dict, version and data, padded the way numpy pads.
std::string npy_bytes(std::string dict, int major, std::string_view data) {
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  const std::size_t unpadded = 8 + length_bytes + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  for (std::size_t k = 0; k < length_bytes; ++k) out += static_cast<char>((dict.size() >> (8 * k)) & 0xff);
  return out + dict + std::string(data);
}

TEST_F(IoTest, NpyFloat32RoundTripsBitwise) {
  const std::vector<float> data = {1.5f,
                                   -0.0f,
                                   std::numeric_limits<float>::denorm_min(),
                                   std::bit_cast<float>(0x7fc01234u),
                                   std::numeric_limits<float>::infinity(),
                                   3e38f,
                                   0.1f,
                                   -7.25f,
                                   1e-20f,
                                   2.0f,
                                   3.0f,
                                   4.0f};
  const std::string p = path("f32.npy");
  mfgrad::write_npy(p, data.data(), 3, 4);
  EXPECT_EQ(files(), vec<std::string>({"f32.npy"}));

  const std::string raw = slurp(p);
  const std::size_t data_start = raw.size() - data.size() * sizeof(float);
  EXPECT_EQ(data_start % 64, 0u);
  EXPECT_EQ(raw.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_TRUE(starts_with(raw.substr(10), "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"));
  EXPECT_EQ(raw[data_start - 1], '\n');

  const mfgrad::NpyArray a = mfgrad::read_npy(p);
  EXPECT_EQ(a.dtype, mfgrad::Precision::f32);
  EXPECT_EQ(a.rows, 3u);
  EXPECT_EQ(a.cols, 4u);
  EXPECT_TRUE(a.f64.empty());
  ASSERT_EQ(a.f32.size(), data.size());
  for (std::size_t t = 0; t < data.size(); ++t) EXPECT_EQ(bits(a.f32[t]), bits(data[t])) << t;
}

TEST_F(IoTest, NpyFloat64RoundTripsBitwise) {
  const std::vector<double> data = {0.1, -0.0, 5e-324, std::nan("7"), 1.0 / 3.0, -1e300};
  const std::string p = path("f64.npy");
  write("f64.npy", "old contents");
  mfgrad::write_npy(p, data.data(), 2, 3);
  const mfgrad::NpyArray a = mfgrad::read_npy(p);
  EXPECT_EQ(a.dtype, mfgrad::Precision::f64);
  EXPECT_EQ(a.rows, 2u);
  EXPECT_EQ(a.cols, 3u);
  EXPECT_TRUE(a.f32.empty());
  ASSERT_EQ(a.f64.size(), data.size());
  for (std::size_t t = 0; t < data.size(); ++t) EXPECT_EQ(bits(a.f64[t]), bits(data[t])) << t;

  mfgrad::write_npy(p, data.data(), 0, 3);
  const mfgrad::NpyArray empty = mfgrad::read_npy(p);
  EXPECT_EQ(empty.rows, 0u);
  EXPECT_EQ(empty.cols, 3u);
  EXPECT_TRUE(empty.f64.empty());
}

TEST_F(IoTest, NpyReadsVersions2And3WithAnyKeyOrderAndSpacing) {
  const std::vector<double> data = {1, 2, 3, 4, 5, 6};
  const std::string_view raw(reinterpret_cast<const char*>(data.data()), data.size() * sizeof(double));
  for (const int major : {1, 2, 3}) {
    SCOPED_TRACE(major);
    const std::string p =
        write("v.npy", npy_bytes("{ \"shape\" : (3L,2L) ,'fortran_order':False,'descr':'<f8'}", major, raw));
    const mfgrad::NpyArray a = mfgrad::read_npy(p);
    EXPECT_EQ(a.rows, 3u);
    EXPECT_EQ(a.cols, 2u);
    EXPECT_EQ(a.f64, data);
  }
}

TEST_F(IoTest, NpyErrorsNameFileByteOffsetAndProblem) {
  const std::string eight(8, '\0');
  const std::string f8_2x3(48, '\0');
  const std::string good = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
  // Offsets of a version 1.0 file: the header text starts at byte 10.
  const auto in_header = [](const std::string& dict, std::string_view part) { return 10 + dict.find(part); };
  struct Case {
    std::string bytes;
    std::size_t offset;
    std::string phrase;
  };
  std::vector<Case> cases = {
      {"hello, this is not numpy", 0, "not a .npy file: it starts with 'hello,'"},
      {npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", 4, f8_2x3), 6, "version 4.0"},
      {npy_bytes(good, 1, "").substr(0, 30), 8, "truncated .npy header"},
      {std::string("\x93NUMPY\x01\x00\x05", 9), 9, "the file ends inside the header length"},
  };
  const std::string i8 = "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }";
  cases.push_back({npy_bytes(i8, 1, f8_2x3), in_header(i8, "'<i8'"), "dtype '<i8' is not supported"});
  const std::string big = "{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }";
  cases.push_back({npy_bytes(big, 1, f8_2x3), in_header(big, "'>f8'"), "big-endian dtype '>f8'"});
  const std::string fortran = "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }";
  cases.push_back({npy_bytes(fortran, 1, f8_2x3), in_header(fortran, "True"),
                   "Fortran order is not supported, save with np.ascontiguousarray"});
  for (const std::string shape : {"(6,)", "(1, 2, 3)"}) {
    const std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + ", }";
    cases.push_back({npy_bytes(dict, 1, f8_2x3), in_header(dict, shape), "shape " + shape + " is not supported"});
  }
  const std::string short_data = npy_bytes(good, 1, f8_2x3.substr(8));
  cases.push_back({short_data, short_data.size() - 40, "truncated: shape (2, 3) needs 48 bytes of data, found 40"});
  const std::string long_data = npy_bytes(good, 1, f8_2x3 + eight);
  cases.push_back({long_data, long_data.size() - 8, "needs 48 bytes of data, found 56 (extra bytes"});
  const std::string no_order = "{'descr': '<f8', 'shape': (2, 3), }";
  const std::string no_order_file = npy_bytes(no_order, 1, f8_2x3);
  cases.push_back({no_order_file, no_order_file.size() - 48, "are all required"});
  const std::string no_comma = "{'descr': '<f8' 'fortran_order': False, 'shape': (2, 3)}";
  cases.push_back({npy_bytes(no_comma, 1, f8_2x3), in_header(no_comma, "'fortran_order'"),
                   "cannot parse the .npy header: expected '}', found ''fortran_order': False, "});
  for (std::size_t k = 0; k < cases.size(); ++k) {
    SCOPED_TRACE(cases[k].phrase);
    const std::string p = write(std::to_string(k) + ".npy", cases[k].bytes);
    const std::string msg = error_of([&] { mfgrad::read_npy(p); });
    EXPECT_TRUE(starts_with(msg, p + ": byte " + std::to_string(cases[k].offset) + ": "));
    EXPECT_TRUE(contains(msg, cases[k].phrase));
    EXPECT_EQ(msg, error_of([&] { mfgrad::parse_npy(cases[k].bytes, p); })) << "reading from memory differs";
  }
}

TEST_F(IoTest, NpyHeaderTextIsQuotedEscapedAndNeverCutAtANul) {
  using namespace std::string_literals;
  const std::string data(48, '\0');
  // A NUL inside the dtype, and BEL and form feed: the message carries on past them.
  const std::string dtype =
      "{'descr': '<f\0\x07\x0c"
      "8', 'fortran_order': False, 'shape': (2, 3), }"s;
  const std::string msg = error_of([&] { mfgrad::parse_npy(npy_bytes(dtype, 1, data), "nul.npy"); });
  EXPECT_EQ(msg, "nul.npy: byte " + std::to_string(10 + dtype.find("'<f")) +
                     ": dtype '<f\\0\\x07\\x0c8' is not supported, only '<f4' (float32) or '<f8' (float64)");
  EXPECT_TRUE(printable(msg));

  const std::string order = "{'descr': '<f8', 'fortran_order': Fa\0se, 'shape': (2, 3), }"s;
  const std::string parse = error_of([&] { mfgrad::parse_npy(npy_bytes(order, 1, data), "b.npy"); });
  EXPECT_TRUE(starts_with(parse, "b.npy: byte " + std::to_string(10 + order.find("Fa")) +
                                     ": cannot parse the .npy header: expected True or False after 'fortran_order', "
                                     "found 'Fa\\0se, 'shape': (2, 3), }  "));
  EXPECT_TRUE(printable(parse));

  // A shape of 5,000 dimensions is summarised, not spelled out.
  std::string dims;
  for (int d = 0; d < 5000; ++d) dims += "1, ";
  const std::string many = npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (" + dims + "), }", 2, data);
  const std::string shape = error_of([&] { mfgrad::parse_npy(many, "many.npy"); });
  EXPECT_TRUE(starts_with(shape, "many.npy: byte 62: shape (1, 1, 1, 1, ...: 5000 dimensions) is not supported"));
  EXPECT_LT(shape.size(), 200u);

  // A header that runs on for thousands of bytes shows 80 of them.
  const std::string junk = npy_bytes("{'descr': '<f8', " + std::string(6000, '~') + "}", 2, data);
  const std::string long_msg = error_of([&] { mfgrad::parse_npy(junk, "junk.npy"); });
  EXPECT_TRUE(contains(long_msg, "found '" + std::string(80, '~') + "...'"));
  EXPECT_LT(long_msg.size(), 250u);
}

TEST_F(IoTest, WriteNpyFailureNamesPath) {
  const double v = 1;
  const std::string p = path("missing/x.npy");
  EXPECT_TRUE(starts_with(error_of([&] { mfgrad::write_npy(p, &v, 1, 1); }), "cannot write " + p));
  EXPECT_TRUE(files().empty());
}

// --- real data -----------------------------------------------------------------------------------

TEST(MovieLens, ReadsLatestSmallRatings) {
  const std::string p = MFGRAD_DATA_DIR "/ml-latest-small/ratings.csv";
  if (!fs::exists(p)) GTEST_SKIP() << p << " is absent";
  const RatingsFile f = mfgrad::read_ratings(p);
  EXPECT_EQ(f.format, RatingsFormat::csv);
  EXPECT_EQ(f.entries.rows, 610);
  EXPECT_EQ(f.entries.cols, 9724);
  EXPECT_EQ(f.entries.size(), 100836);
  EXPECT_EQ(f.entries.line.size(), 100836u);
  EXPECT_EQ(f.entries.line.front(), 2);
  EXPECT_EQ(f.entries.line.back(), 100837);
  EXPECT_TRUE(
      std::all_of(f.entries.value.begin(), f.entries.value.end(), [](double v) { return v >= 0.5 && v <= 5.0; }));
  EXPECT_TRUE(std::is_sorted(f.row_ids.begin(), f.row_ids.end()));
  EXPECT_TRUE(std::is_sorted(f.col_ids.begin(), f.col_ids.end()));
  EXPECT_EQ(f.row_ids.front(), 1);
  EXPECT_EQ(f.row_ids.back(), 610);
  const mfgrad::Observed o = mfgrad::Observed::build(f.entries);
  EXPECT_EQ(o.nnz(), 100836);
  EXPECT_EQ(o.rows(), 610);
  EXPECT_EQ(o.cols(), 9724);
}

}  // namespace
