// Fuzz target of one ratings reader, chosen at compile time (MFGRAD_FUZZ_FORMAT: udata, dat, csv,
// triplets, matrix_market, or automatic for format detection). Whatever it reads must make a
// consistent RatingsFile, a valid Ω or a located refusal, and a small Ω must evaluate.
#include <optional>
#include <vector>

#include "fuzz.hpp"
#include "mfgrad/io.hpp"
#include "mfgrad/kernel.hpp"

namespace {

using namespace mfgrad;
using fuzz::require;

constexpr RatingsFormat kFormat = RatingsFormat::MFGRAD_FUZZ_FORMAT;
const std::string kName = "fuzz.input";

bool strictly_increasing(const std::vector<std::int64_t>& ids) {
  for (std::size_t t = 1; t < ids.size(); ++t)
    if (ids[t - 1] >= ids[t]) return false;
  return true;
}

void check_file(const RatingsFile& f, std::int64_t lines) {
  const Entries& e = f.entries;
  const std::size_t n = e.value.size();
  require(e.row.size() == n && e.col.size() == n && e.line.size() == n, "entry arrays differ in length");
  require(e.source == kName, "entries do not name their source");
  require(kFormat == RatingsFormat::automatic || f.format == kFormat, "read in another format than asked");
  for (std::size_t t = 0; t < n; ++t) {
    require(e.line[t] >= 1 && e.line[t] <= lines, "entry line outside the text");
    require(t == 0 || e.line[t] >= e.line[t - 1], "entry lines out of order");
    require(e.row[t] >= 0 && e.row[t] < e.rows && e.col[t] >= 0 && e.col[t] < e.cols, "entry outside the shape");
  }
  if (f.format == RatingsFormat::matrix_market) {
    // The size line's rule (io.hpp): rows + columns at most 2^20 + 16 per entry line.
    require(f.row_ids.empty() && f.col_ids.empty(), "Matrix Market returned original ids");
    require(std::int64_t{e.rows} + e.cols <= (std::int64_t{1} << 20) + 16 * lines, "declared shape beyond the rule");
  } else {
    require(
        f.row_ids.size() == static_cast<std::size_t>(e.rows) && f.col_ids.size() == static_cast<std::size_t>(e.cols),
        "one original id per row and column");
    require(strictly_increasing(f.row_ids) && strictly_increasing(f.col_ids), "ids not in ascending order");
  }
}

// The oracle on a small Ω: float64 always evaluates; float32 exactly when every value fits.
void evaluate_small(const Observed& obs) {
  if (std::int64_t{obs.rows()} + obs.cols() > 4096 || obs.nnz() > 20000) return;
  const std::size_t k = 3, m = static_cast<std::size_t>(obs.rows()), n = static_cast<std::size_t>(obs.cols());
  Workspace ws(1);
  {
    std::vector<double> u(m * k, 0.5), v(n * k, -0.25), gu(m * k), gv(n * k);
    double loss = -1;
    fuzz::attempt(
        [&] {
          loss = evaluate<double>(oracle(), obs, {u.data(), m, k}, {v.data(), n, k}, 0.1, {gu.data(), m, k},
                                  {gv.data(), n, k}, ws);
        },
        [](const std::string& message) { fuzz::violated("a valid float64 evaluation was refused", message); });
    require(!(loss < 0), "negative loss");
  }
  std::vector<float> u(m * k, 0.5f), v(n * k, -0.25f), gu(m * k), gv(n * k);
  const bool evaluated = fuzz::attempt(
      [&] {
        evaluate<float>(oracle(), obs, {u.data(), m, k}, {v.data(), n, k}, 0.1f, {gu.data(), m, k}, {gv.data(), n, k},
                        ws);
      },
      [](const std::string& message) {
        fuzz::check_printable(message);
        require(message.starts_with("float32 evaluation refused: ") && message.find(kName) != std::string::npos,
                "float32 refusal does not name the entry's file", message);
      });
  require(evaluated == obs.float32_overflow().empty(), "float32 refused exactly when a value does not fit");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::int64_t lines = fuzz::line_count(text);
  const auto located = [&](const std::string& message) { fuzz::check_located(message, kName, ":", 1, lines); };

  std::optional<RatingsFormat> detected;
  if (kFormat == RatingsFormat::automatic)
    fuzz::attempt([&] { detected = detect_ratings_format(text, kName); }, located);
  RatingsFile file;
  const bool read = fuzz::attempt([&] { file = parse_ratings(text, kName, kFormat); }, located);
  if (kFormat == RatingsFormat::automatic && detected)
    require(!read || file.format == *detected, "read in another format than detected");
  if (!read) return 0;
  check_file(file, lines);

  for (const DuplicatePolicy policy : {DuplicatePolicy::error, DuplicatePolicy::sum}) {
    std::optional<Observed> obs;
    fuzz::attempt([&] { obs.emplace(Observed::build(file.entries, policy)); },
                  [](const std::string& message) {
                    fuzz::check_printable(message);
                    require(message.find(kName) != std::string::npos, "Ω refused without naming the input", message);
                  });
    if (!obs) continue;
    require(obs->nnz() <= file.entries.size() && obs->rows() == file.entries.rows, "Ω differs from its entries");
    evaluate_small(*obs);
  }
  return 0;
}
