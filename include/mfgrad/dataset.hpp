// mfgrad — naming data: a generator preset or a ratings file, loaded into an Observed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mfgrad/generate.hpp"  // random_factor
#include "mfgrad/io.hpp"
#include "mfgrad/observed.hpp"

namespace mfgrad {

struct Dataset {
  std::string name;         // the preset's name, or the file name without its folder
  std::string description;  // where it came from, its shape
  Observed observed;
  // The id the source gives each row and column: row_ids[i] is the original user id of row i of the
  // Observed, col_ids[j] the item id of column j (ascending, as rows and columns are numbered). A
  // Matrix Market file's ids are its 1-based indices; a preset's are the 0-based indices themselves.
  std::vector<std::int64_t> row_ids, col_ids;
};

// `what` is a preset name (see presets()) or a path to a ratings file in any format read_ratings()
// accepts. A name that is neither is a FileError (ENOENT) listing the presets.
Dataset load_dataset(const std::string& what, RatingsFormat format = RatingsFormat::automatic,
                     DuplicatePolicy duplicates = DuplicatePolicy::error, std::uint64_t seed = 0);

}  // namespace mfgrad
