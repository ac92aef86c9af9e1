// mfgrad — reading ratings and Matrix Market files, reading and writing .npy factors.
//
// Ratings formats (detected from the file's first lines when not given):
//   udata     MovieLens 100K u.data: "user item rating timestamp", tab separated
//   dat       MovieLens ratings.dat: "user::movie::rating::timestamp"
//   csv       MovieLens ratings.csv: header "userId,movieId,rating[,timestamp]", CRLF or LF
//   triplets  "row col value", separated by spaces, tabs or commas (one separator kind per file)
//   mm        Matrix Market "coordinate" (real, integer or pattern; general or symmetric)
// Ids in udata/dat/csv/triplets files are arbitrary integers; they are remapped to dense 0-based
// indices in ascending order of the original id (the smallest user id becomes row 0), and the
// original ids are returned. Matrix Market keeps its 1-based indices (row i becomes i−1) and the
// shape from its size line; pattern entries get the value 1, and a symmetric file's off-diagonal
// entries are mirrored.
// Every reading error is an mfgrad::Error naming the file and where in it: "FILE:LINE: what is wrong"
// for text formats, "FILE: byte OFFSET: what is wrong" for .npy, "cannot open FILE: reason" when it
// cannot be read at all. Text quoted from the file shows at most 80 bytes, with control bytes escaped
// (mfgrad::quote). Running out of memory is such an Error too, saying what was being stored.
//
// Memory follows the size of the file. A Matrix Market size line may declare rows and columns that
// hold no entry (they still cost memory: pointers in Ω, factor and gradient rows), but not without
// bound: rows + columns may be at most 2^20 plus 16 per entry line, or the size line is refused.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mfgrad/observed.hpp"
#include "mfgrad/types.hpp"

namespace mfgrad {

enum class RatingsFormat { automatic, udata, dat, csv, triplets, matrix_market };

RatingsFormat parse_ratings_format(std::string_view name);  // auto|udata|dat|csv|triplets|mm
const char* to_string(RatingsFormat format) noexcept;

struct RatingsFile {
  Entries entries;                                  // dense ids; entries.line holds each entry's line number
  RatingsFormat format = RatingsFormat::automatic;  // the format actually read
  std::vector<std::int64_t> row_ids;                // original id of each row (empty for Matrix Market)
  std::vector<std::int64_t> col_ids;                // original id of each column (empty for Matrix Market)
};

// Looks at the first lines only.
RatingsFormat detect_ratings_format(const std::string& path);

RatingsFile read_ratings(const std::string& path, RatingsFormat format = RatingsFormat::automatic);

// The same on text already in memory; `name` stands for the file in messages and in Entries::source.
RatingsFormat detect_ratings_format(std::string_view text, const std::string& name);
RatingsFile parse_ratings(std::string_view text, const std::string& name,
                          RatingsFormat format = RatingsFormat::automatic);

// Matrix Market "coordinate real general", 1-based, values printed so they read back exactly.
// Written to a temporary name and renamed into place, so a failed write leaves no partial file.
void write_matrix_market(const std::string& path, const Entries& entries, std::string_view comment = {});

// A 2-D, C-order float32 or float64 array.
struct NpyArray {
  Precision dtype = Precision::f64;
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<float> f32;   // filled when dtype is f32
  std::vector<double> f64;  // filled when dtype is f64
};

// Accepts .npy versions 1.0, 2.0 and 3.0 holding '<f4' or '<f8' in C
// order with a 2-D shape; anything else (other dtypes, Fortran order, 1-D or 3-D, big-endian,
// truncated data) is an Error naming the file and what it found.
NpyArray read_npy(const std::string& path);
NpyArray parse_npy(std::string_view bytes, const std::string& name);  // the same on bytes in memory

// Writes a version 1.0 .npy file; via a temporary name and a rename, like write_matrix_market.
void write_npy(const std::string& path, const float* data, std::size_t rows, std::size_t cols);
void write_npy(const std::string& path, const double* data, std::size_t rows, std::size_t cols);

// Several arrays, all or nothing: every file is written in full to its temporary before any is
// renamed into place, so a failure (a full disk, a directory where a file should go) leaves every
// path as it was. A path that is a device, a FIFO or /dev/stdout is written through in place (there
// is nothing to rename onto it); a symbolic link is followed and the file it names replaced.
struct NpyOutput {
  std::string path;
  const float* f32 = nullptr;  // the data: one of the two
  const double* f64 = nullptr;
  std::size_t rows = 0, cols = 0;
};
void write_npy(const std::vector<NpyOutput>& outputs);

}  // namespace mfgrad
