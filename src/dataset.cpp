#include "mfgrad/dataset.hpp"

#include <cerrno>
#include <filesystem>
#include <new>
#include <numeric>

#include "mfgrad/generate.hpp"

namespace mfgrad {

namespace {

std::vector<std::int64_t> indices(std::int64_t count, std::int64_t first) {
  std::vector<std::int64_t> ids(static_cast<std::size_t>(count));
  std::iota(ids.begin(), ids.end(), first);
  return ids;
}

}  // namespace

Dataset load_dataset(const std::string& what, RatingsFormat format, DuplicatePolicy duplicates, std::uint64_t seed) {
  for (const DataSpec& spec : presets()) {
    if (spec.name != what) continue;
    DataSpec s = spec;
    if (seed != 0) s.seed = seed;
    Observed o = [&] {
      try {
        return generate(s);
      } catch (const std::bad_alloc&) {
        throw OutOfMemory("out of memory generating the preset " + s.name + " (" + std::to_string(s.rows) + " x " +
                          std::to_string(s.cols) + ", " + std::to_string(s.nnz) + " entries)");
      }
    }();
    Dataset d{s.name,
              "generated preset " + s.name + " (seed " + std::to_string(s.seed) + "): " + s.summary,
              std::move(o),
              {},
              {}};
    d.row_ids = indices(d.observed.rows(), 0);
    d.col_ids = indices(d.observed.cols(), 0);
    return d;
  }
  std::error_code ec;
  if (!std::filesystem::exists(what, ec)) {
    std::string names;
    for (const DataSpec& spec : presets()) names += (names.empty() ? "" : ", ") + spec.name;
    throw FileError("'" + what + "' is neither a data preset (" + names + ") nor an existing file", what,
                    ec ? ec.value() : ENOENT);
  }
  RatingsFile file = read_ratings(what, format);
  Observed o = Observed::build(file.entries, duplicates);
  std::string name = std::filesystem::path(what).filename().string();
  Dataset d{name,
            what + " (" + to_string(file.format) + "): " + std::to_string(o.rows()) + " x " + std::to_string(o.cols()) +
                ", " + std::to_string(o.nnz()) + " entries",
            std::move(o), std::move(file.row_ids), std::move(file.col_ids)};
  // Matrix Market has no ids of its own: its indices are (1-based).
  if (d.row_ids.empty()) d.row_ids = indices(d.observed.rows(), 1);
  if (d.col_ids.empty()) d.col_ids = indices(d.observed.cols(), 1);
  return d;
}

}  // namespace mfgrad
