#include "mfgrad/dataset.hpp"

#include <filesystem>
#include <new>

#include "mfgrad/generate.hpp"

namespace mfgrad {

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
    return {s.name, "generated preset " + s.name + " (seed " + std::to_string(s.seed) + "): " + s.summary,
            std::move(o)};
  }
  std::error_code ec;
  if (!std::filesystem::exists(what, ec)) {
    std::string names;
    for (const DataSpec& spec : presets()) names += (names.empty() ? "" : ", ") + spec.name;
    throw Error("'" + what + "' is neither a data preset (" + names + ") nor an existing file");
  }
  RatingsFile file = read_ratings(what, format);
  Observed o = Observed::build(file.entries, duplicates);
  std::string name = std::filesystem::path(what).filename().string();
  return {name,
          what + " (" + to_string(file.format) + "): " + std::to_string(o.rows()) + " x " + std::to_string(o.cols()) +
              ", " + std::to_string(o.nnz()) + " entries",
          std::move(o)};
}

}  // namespace mfgrad
