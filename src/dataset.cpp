#include "mfgrad/dataset.hpp"

#include <cmath>
#include <filesystem>

#include "mfgrad/generate.hpp"

namespace mfgrad {

Dataset load_dataset(const std::string& what, RatingsFormat format, DuplicatePolicy duplicates, std::uint64_t seed) {
  for (const DataSpec& spec : presets()) {
    if (spec.name != what) continue;
    DataSpec s = spec;
    if (seed != 0) s.seed = seed;
    Observed o = generate(s);
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

template <class T>
std::vector<T> random_factor(std::size_t rows, std::size_t k, std::uint64_t seed) {
  std::vector<T> f(rows * k);
  const double half_width = std::sqrt(3.0) * std::pow(static_cast<double>(k), -0.25);
#pragma omp parallel for schedule(static)
  for (std::size_t x = 0; x < rows * k; ++x) {
    // splitmix64 of (seed, x): position-keyed, so thread count does not matter.
    std::uint64_t z = seed * 0x9e3779b97f4a7c15ull + x + 0x632be59bd9b4e019ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    const double unit = static_cast<double>(z >> 11) * 0x1.0p-53;
    f[x] = static_cast<T>((2 * unit - 1) * half_width);
  }
  return f;
}

template std::vector<float> random_factor<float>(std::size_t, std::size_t, std::uint64_t);
template std::vector<double> random_factor<double>(std::size_t, std::size_t, std::uint64_t);

}  // namespace mfgrad
