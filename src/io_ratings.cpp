// Ratings and Matrix Market files: format detection, parsing, id remapping, and writing Matrix Market.
#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>
#include <new>
#include <span>

#include "io_detail.hpp"
#include "mfgrad/io.hpp"
#include "mfgrad/message.hpp"

namespace mfgrad {

namespace {

constexpr std::string_view kCsvHeader = "userId,movieId,rating,timestamp";
constexpr std::string_view kCsvHeaderShort = "userId,movieId,rating";
constexpr std::int64_t kMaxIndex = std::numeric_limits<index_t>::max();

// How many rows and columns together a Matrix Market size line may declare: this many for free, and
// this many more per entry line (see io.hpp).
constexpr std::int64_t kFreeRowsAndCols = std::int64_t{1} << 20;
constexpr std::int64_t kRowsAndColsPerEntry = 16;

bool is_blank_char(char c) { return c == ' ' || c == '\t'; }

bool is_blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return is_blank_char(c) || c == '\r'; });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank_char(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank_char(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

template <class T>
bool parse_whole(std::string_view s, T& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

// A field that reads as a number, or would but for its range ("1e400", a 30-digit id): format detection
// accepts both, so that the reader then names the number that is out of range.
bool looks_numeric(std::string_view s) {
  double v;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && end == s.data() + s.size() && (ec == std::errc() || ec == std::errc::result_out_of_range);
}

// Splits text into lines ("\n" or "\r\n"), counting them from 1.
class Lines {
 public:
  explicit Lines(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {
    if (text.starts_with("\xEF\xBB\xBF")) p_ += 3;  // UTF-8 byte order mark
  }

  bool next(std::string_view& line) {
    if (p_ == end_) return false;
    const char* nl = static_cast<const char*>(std::memchr(p_, '\n', static_cast<std::size_t>(end_ - p_)));
    const char* stop = nl != nullptr ? nl : end_;
    line = std::string_view(p_, static_cast<std::size_t>(stop - p_));
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    p_ = nl != nullptr ? nl + 1 : end_;
    ++number_;
    return true;
  }

  // Skips blank lines; false at the end.
  bool next_nonblank(std::string_view& line) {
    while (next(line))
      if (!is_blank(line)) return true;
    return false;
  }

  std::int64_t number() const noexcept { return number_; }

 private:
  const char* p_;
  const char* end_;
  std::int64_t number_ = 0;
};

enum class Separator { tab, comma, double_colon, blanks, comma_trimmed };

const char* describe(Separator sep) {
  switch (sep) {
    case Separator::tab:
      return "tab-separated";
    case Separator::comma:
    case Separator::comma_trimmed:
      return "comma-separated";
    case Separator::double_colon:
      return "'::'-separated";
    case Separator::blanks:
      return "space-separated";
  }
  return "";
}

// Splits a line into fields, storing at most out.size(); returns how many there are in all.
std::size_t split(std::string_view line, Separator sep, std::span<std::string_view> out) {
  std::size_t count = 0;
  auto emit = [&](std::string_view field) {
    if (count < out.size()) out[count] = sep == Separator::comma_trimmed ? trim(field) : field;
    ++count;
  };
  if (sep == Separator::blanks) {
    std::size_t k = 0;
    while (k < line.size()) {
      while (k < line.size() && is_blank_char(line[k])) ++k;
      if (k == line.size()) break;
      const std::size_t start = k;
      while (k < line.size() && !is_blank_char(line[k])) ++k;
      emit(line.substr(start, k - start));
    }
    return count;
  }
  const std::size_t width = sep == Separator::double_colon ? 2 : 1;
  const char delim = sep == Separator::tab ? '\t' : sep == Separator::double_colon ? ':' : ',';
  for (;;) {
    const std::size_t at = width == 2 ? line.find("::") : line.find(delim);
    if (at == std::string_view::npos) break;
    emit(line.substr(0, at));
    line.remove_prefix(at + width);
  }
  emit(line);
  return count;
}

// Reports problems as "PATH:LINE: what".
class Context {
 public:
  Context(const std::string& path, const Lines& lines) : path_(path), lines_(lines) {}

  [[noreturn]] void fail(const std::string& what) const { fail_at(lines_.number(), what); }
  [[noreturn]] void fail_at(std::int64_t line, const std::string& what) const {
    throw Error(path_ + ":" + std::to_string(line) + ": " + what);
  }

  std::int64_t integer(std::string_view field, const char* name) const {
    std::int64_t v = 0;
    if (!parse_whole(field, v)) bad_field(field, name, "an integer");
    return v;
  }
  double number(std::string_view field, const char* name) const {
    double v = 0;
    if (!parse_whole(field, v)) bad_field(field, name, "a number");
    return v;
  }

  // An allocation failure while storing entries, reported at the line reached.
  [[noreturn]] void out_of_memory(const Entries& e) const {
    constexpr std::size_t kEntryBytes = 2 * sizeof(index_t) + sizeof(double) + sizeof(std::int64_t);
    throw OutOfMemory(path_ + ":" + std::to_string(lines_.number()) +
                      ": out of memory storing the entries read so far (" + std::to_string(e.value.size()) + ", " +
                      format_bytes(e.value.capacity() * kEntryBytes) + " reserved)");
  }

 private:
  [[noreturn]] void bad_field(std::string_view field, const char* name, const char* kind) const {
    if (field.empty()) fail(std::string(name) + " is empty");
    const auto out_of_range = [&](auto value) {
      const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
      return ec == std::errc::result_out_of_range && end == field.data() + field.size();
    };
    const bool integer = std::string_view(kind) == "an integer";
    if (integer ? out_of_range(std::int64_t{}) : out_of_range(double{}))
      fail(std::string(name) + " " + quote(field) + " is out of range for " +
           (integer ? "a 64-bit integer" : "a double (beyond ±1.8e308)"));
    fail(std::string(name) + " " + quote(field) + " is not " + kind);
  }

  const std::string& path_;
  const Lines& lines_;
};

// Collects ids as int32 until one needs more, so the common case costs no extra memory.
class IdColumn {
 public:
  explicit IdColumn(std::vector<index_t>& dense) : narrow_(dense) {}

  void push(std::int64_t id) {
    if (wide_.empty() && id >= std::numeric_limits<index_t>::min() && id <= kMaxIndex) {
      narrow_.push_back(static_cast<index_t>(id));
    } else {
      if (wide_.empty()) {
        wide_.reserve(narrow_.capacity());
        wide_.assign(narrow_.begin(), narrow_.end());
        narrow_.clear();
      }
      wide_.push_back(id);
    }
  }

  // Replaces the ids with dense indices in ascending id order; returns the distinct ids.
  std::vector<std::int64_t> densify(const Context& ctx, const char* what) {
    if (wide_.empty()) return densify(std::span<const index_t>(narrow_), ctx, what);
    narrow_.resize(wide_.size());
    std::vector<std::int64_t> ids = densify(std::span<const std::int64_t>(wide_), ctx, what);
    std::vector<std::int64_t>().swap(wide_);
    return ids;
  }

 private:
  // ids and narrow_ may be the same array: each position is read before it is written.
  template <class T>
  std::vector<std::int64_t> densify(std::span<const T> ids, const Context& ctx, const char* what) {
    if (ids.empty()) return {};
    const auto [lo_it, hi_it] = std::minmax_element(ids.begin(), ids.end());
    const std::int64_t lo = *lo_it;
    const std::uint64_t span = static_cast<std::uint64_t>(*hi_it) - static_cast<std::uint64_t>(lo);
    std::vector<std::int64_t> distinct;
    // Ids usually fill a compact range: a lookup table then beats sorting.
    if (span < 2 * static_cast<std::uint64_t>(ids.size()) + 4096) {
      const std::size_t range = static_cast<std::size_t>(span) + 1;
      std::vector<index_t> slot(range, 0);
      for (const T id : ids) slot[static_cast<std::size_t>(id - lo)] = 1;
      index_t next = 0;
      for (std::size_t k = 0; k < range; ++k) {
        if (slot[k] == 0) continue;
        if (next == kMaxIndex) too_many(ctx, what);
        distinct.push_back(lo + static_cast<std::int64_t>(k));
        slot[k] = next++;
      }
      for (std::size_t t = 0; t < ids.size(); ++t) narrow_[t] = slot[static_cast<std::size_t>(ids[t] - lo)];
    } else {
      distinct.assign(ids.begin(), ids.end());
      std::sort(distinct.begin(), distinct.end());
      distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
      if (distinct.size() > static_cast<std::size_t>(kMaxIndex)) too_many(ctx, what);
      for (std::size_t t = 0; t < ids.size(); ++t)
        narrow_[t] =
            static_cast<index_t>(std::lower_bound(distinct.begin(), distinct.end(), ids[t]) - distinct.begin());
    }
    return distinct;
  }

  // Reported at the end of the file: the ids are counted once all are read.
  [[noreturn]] static void too_many(const Context& ctx, const char* what) {
    ctx.fail("more than " + std::to_string(kMaxIndex) + " distinct " + what + " in the file");
  }

  std::vector<index_t>& narrow_;
  std::vector<std::int64_t> wide_;
};

std::size_t count_lines(std::string_view text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
}

// Layout of one id/id/value[/timestamp] format.
struct KeyedLayout {
  Separator sep;
  std::size_t fields;  // 3, or 4 with a timestamp
  std::array<const char*, 4> names;
};

KeyedLayout layout_of(RatingsFormat format) {
  switch (format) {
    case RatingsFormat::udata:
      return {Separator::tab, 4, {"user id", "item id", "rating", "timestamp"}};
    case RatingsFormat::dat:
      return {Separator::double_colon, 4, {"user id", "movie id", "rating", "timestamp"}};
    case RatingsFormat::csv:
      return {Separator::comma, 4, {"userId", "movieId", "rating", "timestamp"}};
    default:
      return {Separator::blanks, 3, {"row id", "column id", "value", ""}};
  }
}

std::string field_list(const KeyedLayout& layout) {
  std::string s;
  for (std::size_t k = 0; k < layout.fields; ++k) s += (k == 0 ? "" : ", ") + std::string(layout.names[k]);
  return s;
}

// udata, dat, csv and triplets: two integer ids, a value, and for some a timestamp.
RatingsFile read_keyed(const std::string& path, std::string_view text, RatingsFormat format) {
  RatingsFile file;
  file.format = format;
  Entries& e = file.entries;
  e.source = path;
  KeyedLayout layout = layout_of(format);

  Lines lines(text);
  const Context ctx(path, lines);
  std::string_view line;
  bool have_line = lines.next_nonblank(line);
  if (format == RatingsFormat::csv) {
    if (!have_line || (line != kCsvHeader && line != kCsvHeaderShort))
      ctx.fail_at(have_line ? lines.number() : 1, "expected the header '" + std::string(kCsvHeader) + "' or '" +
                                                      std::string(kCsvHeaderShort) + "', found " +
                                                      (have_line ? quote(line) : std::string("an empty file")));
    if (line == kCsvHeaderShort) layout.fields = 3;
    have_line = lines.next_nonblank(line);
  }
  // Triplets use commas when the first entry does, blanks otherwise.
  if (format == RatingsFormat::triplets && have_line && line.find(',') != std::string_view::npos)
    layout.sep = Separator::comma_trimmed;

  try {
    const std::size_t expected = count_lines(text);
    e.reserve(expected);
    e.line.reserve(expected);
    IdColumn rows(e.row), cols(e.col);
    std::array<std::string_view, 4> f;
    for (; have_line; have_line = lines.next_nonblank(line)) {
      const std::size_t found = split(line, layout.sep, f);
      if (found != layout.fields)
        ctx.fail("expected " + std::to_string(layout.fields) + " " + describe(layout.sep) + " fields (" +
                 field_list(layout) + "), found " + std::to_string(found) + " in " + quote(line));
      rows.push(ctx.integer(f[0], layout.names[0]));
      cols.push(ctx.integer(f[1], layout.names[1]));
      e.value.push_back(ctx.number(f[2], layout.names[2]));
      if (layout.fields == 4) ctx.integer(f[3], layout.names[3]);  // checked, not kept
      e.line.push_back(lines.number());
    }
    file.row_ids = rows.densify(ctx, "row ids");
    file.col_ids = cols.densify(ctx, "column ids");
  } catch (const std::bad_alloc&) {
    ctx.out_of_memory(e);
  }
  e.rows = static_cast<index_t>(file.row_ids.size());
  e.cols = static_cast<index_t>(file.col_ids.size());
  return file;
}

// "%%MatrixMarket matrix coordinate real general" and friends.
RatingsFile read_matrix_market(const std::string& path, std::string_view text) {
  RatingsFile file;
  file.format = RatingsFormat::matrix_market;
  Entries& e = file.entries;
  e.source = path;

  Lines lines(text);
  const Context ctx(path, lines);
  std::string_view line;
  std::array<std::string_view, 5> f;
  if (!lines.next_nonblank(line) || split(line, Separator::blanks, f) != 5 || !iequals(f[0], "%%MatrixMarket"))
    ctx.fail_at(std::max<std::int64_t>(lines.number(), 1),
                "expected a Matrix Market header '%%MatrixMarket matrix coordinate real|integer|pattern "
                "general|symmetric', found " +
                    quote(line));
  if (!iequals(f[1], "matrix")) ctx.fail("Matrix Market object " + quote(f[1]) + " is not supported, only 'matrix'");
  if (!iequals(f[2], "coordinate"))
    ctx.fail("Matrix Market format " + quote(f[2]) + " is not supported, only 'coordinate' (sparse)");
  const bool pattern = iequals(f[3], "pattern");
  const bool integer = iequals(f[3], "integer");
  if (!pattern && !integer && !iequals(f[3], "real"))
    ctx.fail("Matrix Market field " + quote(f[3]) + " is not supported, only 'real', 'integer' or 'pattern'");
  const bool symmetric = iequals(f[4], "symmetric");
  if (!symmetric && !iequals(f[4], "general"))
    ctx.fail("Matrix Market symmetry " + quote(f[4]) + " is not supported, only 'general' or 'symmetric'");

  // Comment lines may appear anywhere; the first other line is the size line.
  auto next_data = [&] {
    while (lines.next_nonblank(line))
      if (trim(line).front() != '%') return true;
    return false;
  };
  if (!next_data()) ctx.fail("missing the size line 'rows columns entries'");
  if (split(line, Separator::blanks, f) != 3)
    ctx.fail("expected the size line 'rows columns entries', found " + quote(line));
  const std::int64_t m = ctx.integer(f[0], "row count");
  const std::int64_t n = ctx.integer(f[1], "column count");
  const std::int64_t nnz = ctx.integer(f[2], "entry count");
  if (m < 0 || m > kMaxIndex || n < 0 || n > kMaxIndex)
    ctx.fail("matrix size " + std::to_string(m) + " x " + std::to_string(n) + " is outside 0.." +
             std::to_string(kMaxIndex));
  if (nnz < 0) ctx.fail("entry count " + std::to_string(nnz) + " is negative");
  if (symmetric && m != n)
    ctx.fail("a symmetric matrix must be square, the size line says " + std::to_string(m) + " x " + std::to_string(n));
  if (m + n > kFreeRowsAndCols && (m + n - kFreeRowsAndCols + kRowsAndColsPerEntry - 1) / kRowsAndColsPerEntry > nnz)
    ctx.fail("the size line declares " + std::to_string(m) + " x " + std::to_string(n) + " for " + std::to_string(nnz) +
             (nnz == 1 ? " entry" : " entries") + ": rows and columns cost memory with or " +
             "without entries (the pointers of Ω alone would take " +
             format_bytes(sizeof(offset_t) * static_cast<std::size_t>(m + n)) + "), so mfgrad accepts at most " +
             std::to_string(kFreeRowsAndCols) + " + " + std::to_string(kRowsAndColsPerEntry) +
             " per entry rows and columns together, " + std::to_string(kFreeRowsAndCols + kRowsAndColsPerEntry * nnz) +
             " here");
  const std::int64_t size_line = lines.number();
  e.rows = static_cast<index_t>(m);
  e.cols = static_cast<index_t>(n);

  // The size line's count is only a hint for memory: a damaged file must not make us allocate wildly.
  const std::size_t expected =
      std::min(static_cast<std::size_t>(nnz), count_lines(text)) * (symmetric ? std::size_t{2} : std::size_t{1});
  try {
    e.reserve(expected);
    e.line.reserve(expected);
  } catch (const std::bad_alloc&) {
    ctx.out_of_memory(e);
  }
  const std::size_t fields = pattern ? 2 : 3;
  std::int64_t count = 0;
  while (next_data()) {
    if (count == nnz) {
      const std::int64_t first_extra = lines.number();
      std::int64_t found = count + 1;
      while (next_data()) ++found;
      ctx.fail_at(first_extra, "too many entries: expected " + std::to_string(nnz) + " (size line at line " +
                                   std::to_string(size_line) + "), found " + std::to_string(found));
    }
    const std::size_t found = split(line, Separator::blanks, f);
    if (found != fields)
      ctx.fail("expected " + std::to_string(fields) + " space-separated fields (" +
               (pattern ? "row, column" : "row, column, value") + "), found " + std::to_string(found) + " in " +
               quote(line));
    const std::int64_t i = ctx.integer(f[0], "row index");
    const std::int64_t j = ctx.integer(f[1], "column index");
    if (i < 1 || i > m) ctx.fail("row index " + std::to_string(i) + " is outside 1.." + std::to_string(m));
    if (j < 1 || j > n) ctx.fail("column index " + std::to_string(j) + " is outside 1.." + std::to_string(n));
    if (symmetric && i < j)
      ctx.fail("entry (" + std::to_string(i) + ", " + std::to_string(j) +
               ") is above the diagonal; a symmetric file stores only the lower triangle");
    double v = 1.0;
    if (integer) {
      v = static_cast<double>(ctx.integer(f[2], "value"));
    } else if (!pattern) {
      v = ctx.number(f[2], "value");
    }
    const auto r = static_cast<index_t>(i - 1), c = static_cast<index_t>(j - 1);
    try {
      e.push(r, c, v, lines.number());
      if (symmetric && r != c) e.push(c, r, v, lines.number());
    } catch (const std::bad_alloc&) {
      ctx.out_of_memory(e);
    }
    ++count;
  }
  if (count < nnz)
    ctx.fail("truncated: expected " + std::to_string(nnz) + " entries (size line at line " + std::to_string(size_line) +
             "), found " + std::to_string(count));
  return file;
}

// Why a first line that has the field count of a format is not that format: its first field that is
// not a number. Empty when every field is one.
std::string first_non_number(std::span<const std::string_view> fields) {
  for (std::size_t k = 0; k < fields.size(); ++k)
    if (!looks_numeric(fields[k]))
      return "field " + std::to_string(k + 1) + " " + quote(fields[k]) + " is not a number";
  return {};
}

RatingsFormat detect(const std::string& path, std::string_view text) {
  Lines lines(text);
  std::string_view line;
  if (!lines.next_nonblank(line))
    throw Error(path + ":" + std::to_string(std::max<std::int64_t>(lines.number(), 1)) +
                ": the file holds no data, so its ratings format could not be recognised");
  if (line.size() >= 14 && iequals(line.substr(0, 14), "%%MatrixMarket")) return RatingsFormat::matrix_market;
  if (line.find("::") != std::string_view::npos) return RatingsFormat::dat;
  std::array<std::string_view, 4> f;
  const auto fields = [&](std::size_t count) { return std::span<const std::string_view>(f.data(), count); };
  std::string why;  // set when the line nearly is one format
  if (line.find(',') != std::string_view::npos) {
    const std::size_t found = split(line, Separator::comma_trimmed, f);
    // A first field that is not a number starts a header: csv, whose reader names a wrong one.
    if (!looks_numeric(f[0])) return RatingsFormat::csv;
    why = first_non_number(fields(std::min(found, f.size())));
    if (why.empty() && found == 3) return RatingsFormat::triplets;
    if (found == 3)
      why = "it has the 3 fields of comma-separated triplets (row, column, value) but " + why;
    else
      why = "it has " + std::to_string(found) +
            " comma-separated fields, where triplets have 3 (row, column, value) and a csv file starts with its "
            "header";
  } else {
    const std::size_t tabs = split(line, Separator::tab, f);
    if (tabs == 4 && first_non_number(fields(4)).empty()) return RatingsFormat::udata;
    if (tabs == 4 && looks_numeric(f[0]))
      why = "it has the 4 tab-separated fields of udata (user id, item id, rating, timestamp) but " +
            first_non_number(fields(4));
    const std::size_t blanks = split(line, Separator::blanks, f);
    if (blanks == 3 && first_non_number(fields(3)).empty()) return RatingsFormat::triplets;
    if (why.empty() && blanks == 3 && looks_numeric(f[0]))
      why = "it has the 3 fields of triplets (row, column, value) but " + first_non_number(fields(3));
    if (why.empty() && blanks <= f.size() && blanks > 0 && first_non_number(fields(blanks)).empty())
      why = "it has " + std::to_string(blanks) +
            " space-separated numbers, where triplets have 3 (row, column, value) and udata 4 separated by tabs";
  }
  throw Error(path + ":" + std::to_string(lines.number()) + ": the ratings format could not be recognised from " +
              quote(line) + (why.empty() ? "" : ": " + why) +
              "; name it with --format (udata, dat, csv, triplets or mm)");
}

}  // namespace

RatingsFormat parse_ratings_format(std::string_view name) {
  if (name == "auto") return RatingsFormat::automatic;
  if (name == "udata") return RatingsFormat::udata;
  if (name == "dat") return RatingsFormat::dat;
  if (name == "csv") return RatingsFormat::csv;
  if (name == "triplets") return RatingsFormat::triplets;
  if (name == "mm") return RatingsFormat::matrix_market;
  throw Error("unknown ratings format " + quote(name) + " (expected auto, udata, dat, csv, triplets or mm)");
}

const char* to_string(RatingsFormat format) noexcept {
  switch (format) {
    case RatingsFormat::automatic:
      return "auto";
    case RatingsFormat::udata:
      return "udata";
    case RatingsFormat::dat:
      return "dat";
    case RatingsFormat::csv:
      return "csv";
    case RatingsFormat::triplets:
      return "triplets";
    case RatingsFormat::matrix_market:
      return "mm";
  }
  return "?";
}

RatingsFormat detect_ratings_format(std::string_view text, const std::string& name) { return detect(name, text); }

RatingsFile parse_ratings(std::string_view text, const std::string& name, RatingsFormat format) {
  if (format == RatingsFormat::automatic) format = detect(name, text);
  if (format == RatingsFormat::matrix_market) return read_matrix_market(name, text);
  return read_keyed(name, text, format);
}

namespace {
// Ratings files are text: a stream (not a regular file) with a NUL byte among its first bytes
// (/dev/zero, a binary pipe) is refused before the rest is read.
void check_text(std::string_view head, const std::string& path) {
  if (const std::size_t nul = head.find('\0'); nul != std::string_view::npos)
    throw Error(path + ": byte " + std::to_string(nul) + " is a NUL byte: not a ratings text file");
}
}  // namespace

RatingsFormat detect_ratings_format(const std::string& path) {
  const detail::FileBytes bytes(path, [&](std::string_view head) { check_text(head, path); });
  return detect(path, bytes.view());
}

RatingsFile read_ratings(const std::string& path, RatingsFormat format) {
  const detail::FileBytes bytes(path, [&](std::string_view head) { check_text(head, path); });
  return parse_ratings(bytes.view(), path, format);
}

void write_matrix_market(const std::string& path, const Entries& entries, std::string_view comment) {
  const std::size_t nnz = entries.value.size();
  if (entries.row.size() != nnz || entries.col.size() != nnz)
    throw Error(path + ": cannot write entries with " + std::to_string(entries.row.size()) + " rows, " +
                std::to_string(entries.col.size()) + " columns and " + std::to_string(nnz) + " values");
  for (std::size_t t = 0; t < nnz; ++t)
    if (entries.row[t] < 0 || entries.row[t] >= entries.rows || entries.col[t] < 0 || entries.col[t] >= entries.cols)
      throw Error(path + ": cannot write " + entries.describe(static_cast<offset_t>(t)) + " at (" +
                  std::to_string(entries.row[t]) + ", " + std::to_string(entries.col[t]) + "), outside the " +
                  std::to_string(entries.rows) + " x " + std::to_string(entries.cols) + " shape");

  detail::AtomicFile out(path);
  std::string head = "%%MatrixMarket matrix coordinate real general\n";
  while (!comment.empty()) {
    const std::size_t nl = comment.find('\n');
    const std::string_view text = comment.substr(0, nl);
    head += text.empty() ? "%\n" : "% " + std::string(text) + "\n";
    comment.remove_prefix(nl == std::string_view::npos ? comment.size() : nl + 1);
  }
  head += std::to_string(entries.rows) + " " + std::to_string(entries.cols) + " " + std::to_string(nnz) + "\n";
  out.write(head);

  // Lines are formatted into a fixed buffer and written in large blocks.
  constexpr std::size_t kBlock = 1 << 20;
  constexpr std::size_t kMaxLine = 64;  // two int32 and a shortest double, with separators
  std::string block(kBlock + kMaxLine, '\0');
  char* p = block.data();
  for (std::size_t t = 0; t < nnz; ++t) {
    p = std::to_chars(p, p + kMaxLine, static_cast<std::int64_t>(entries.row[t]) + 1).ptr;
    *p++ = ' ';
    p = std::to_chars(p, p + kMaxLine, static_cast<std::int64_t>(entries.col[t]) + 1).ptr;
    *p++ = ' ';
    p = std::to_chars(p, p + kMaxLine, entries.value[t]).ptr;
    *p++ = '\n';
    if (p >= block.data() + kBlock) {
      out.write(std::string_view(block.data(), static_cast<std::size_t>(p - block.data())));
      p = block.data();
    }
  }
  out.write(std::string_view(block.data(), static_cast<std::size_t>(p - block.data())));
  out.commit();
}

}  // namespace mfgrad
