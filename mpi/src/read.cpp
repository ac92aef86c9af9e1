// mfgrad::mpi — a ratings file read in parallel: rank 0 reads the header, every rank its byte range.
//
// Each rank's range is parsed by mfgrad::parse_ratings itself, as the text of a small file: the file's
// header (with a Matrix Market size line counting this range's entries) followed by the range. Its
// line numbers are then moved by the lines of the ranges before it, so entries and messages name the
// file's own lines.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "collective.hpp"
#include "mfgrad/mpi.hpp"

namespace mfgrad::mpi {

namespace {

class File {
 public:
  explicit File(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw Error("cannot open " + path + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      const int error = errno;
      ::close(fd_);
      throw Error("cannot read " + path + " in parallel: " +
                  (S_ISDIR(st.st_mode)   ? std::string("it is a directory")
                   : S_ISREG(st.st_mode) ? std::string(std::strerror(error))
                                         : std::string("not a regular file (each rank reads its own byte range)")));
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
  }
  ~File() { ::close(fd_); }
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  std::uint64_t size() const noexcept { return size_; }

  // Bytes [at, at + count) into out.
  void read(std::uint64_t at, std::size_t count, char* out) const {
    while (count > 0) {
      const ssize_t got = ::pread(fd_, out, count, static_cast<off_t>(at));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0)
        throw Error("cannot read " + path_ + " at byte " + std::to_string(at) + ": " +
                    (got == 0 ? std::string("the file ended early") : std::string(std::strerror(errno))));
      out += got;
      at += static_cast<std::uint64_t>(got);
      count -= static_cast<std::size_t>(got);
    }
  }

  // The first line start at or after `at` (a position just past a '\n', or `at` itself when it is
  // `floor` or the end), reading forward in blocks.
  std::uint64_t line_start(std::uint64_t at, std::uint64_t floor) const {
    if (at <= floor || at >= size_) return std::min(std::max(at, floor), size_);
    char block[1 << 16];
    for (std::uint64_t p = at - 1; p < size_;) {
      const std::size_t count = static_cast<std::size_t>(std::min<std::uint64_t>(sizeof block, size_ - p));
      read(p, count, block);
      if (const void* nl = std::memchr(block, '\n', count))
        return p + static_cast<std::uint64_t>(static_cast<const char*>(nl) - block) + 1;
      p += count;
    }
    return size_;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

bool blank_char(char c) { return c == ' ' || c == '\t'; }

// A line without its '\n' and '\r', as the readers see it.
std::string_view next_line(std::string_view text, std::size_t& at) {
  const std::size_t nl = text.find('\n', at);
  std::string_view line = text.substr(at, (nl == std::string_view::npos ? text.size() : nl) - at);
  at = nl == std::string_view::npos ? text.size() : nl + 1;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return blank_char(c) || c == '\r'; });
}

bool comment(std::string_view line) {
  while (!line.empty() && blank_char(line.front())) line.remove_prefix(1);
  return !line.empty() && line.front() == '%';
}

// Entry lines of a Matrix Market body: neither blank nor comments.
std::int64_t data_lines(std::string_view body) {
  std::int64_t count = 0;
  for (std::size_t at = 0; at < body.size();) {
    const std::string_view line = next_line(body, at);
    if (!blank(line) && !comment(line)) ++count;
  }
  return count;
}

// What rank 0 learns from the file's head and every rank needs.
struct Header {
  RatingsFormat format = RatingsFormat::automatic;
  std::uint64_t body = 0;               // first byte after the header
  std::int64_t lines = 0;               // lines of the header
  std::string prefix;                   // the header's text, up to (Matrix Market: before) its size line
  std::int64_t m = 0, n = 0, nnz = -1;  // Matrix Market's size line
  std::int64_t size_line = 0;
};

// Rank 0: the head of the file, grown until the header is in it.
Header read_header(const File& file, const std::string& path, RatingsFormat format) {
  Header h;
  std::size_t want = 1 << 16;
  for (;;) {
    const std::size_t count = static_cast<std::size_t>(std::min<std::uint64_t>(want, file.size()));
    std::string head(count, '\0');
    file.read(0, count, head.data());
    if (const std::size_t nul = head.find('\0'); nul != std::string::npos)
      throw Error(path + ": byte " + std::to_string(nul) + " is a NUL byte: not a ratings text file");
    const bool whole = count == file.size();
    h.format = format == RatingsFormat::automatic ? detect_ratings_format(head, path) : format;
    if (h.format != RatingsFormat::csv && h.format != RatingsFormat::matrix_market) return h;
    // The header: blank lines, then csv's header line, or Matrix Market's banner, comments and size line.
    std::size_t at = head.starts_with("\xEF\xBB\xBF") ? 3 : 0, size_line_at = 0;
    std::int64_t lines = 0;
    bool done = false, banner = false;
    while (at < head.size()) {
      const std::size_t start = at;
      const bool complete = head.find('\n', at) != std::string::npos;
      if (!complete && !whole) break;  // a line cut by the head: read more
      const std::string_view line = next_line(head, at);
      ++lines;
      if (blank(line)) continue;
      if (h.format == RatingsFormat::matrix_market && (!banner || comment(line))) {
        banner = true;
        continue;
      }
      size_line_at = start;  // Matrix Market's size line, or csv's header line
      done = true;
      break;
    }
    if (!done && !whole) {
      want *= 4;
      continue;
    }
    h.body = done ? at : head.size();
    h.lines = lines;
    const std::string header(head, 0, static_cast<std::size_t>(h.body));
    if (h.format == RatingsFormat::csv) {
      parse_ratings(header, path, h.format);  // refuses a wrong header line, naming it
      h.prefix = header;
      return h;
    }
    // Matrix Market: the banner and size line are checked by the reader on the header alone, which
    // then reports the entries as missing (unless the size line says there are none).
    try {
      parse_ratings(header, path, h.format);
    } catch (const Error& e) {
      if (std::string_view(e.what()).find(": truncated: expected ") == std::string_view::npos) throw;
    }
    std::size_t at_size = size_line_at;
    std::string_view size_line = next_line(header, at_size);
    std::int64_t v[3] = {0, 0, 0};
    for (std::int64_t& x : v) {
      while (!size_line.empty() && blank_char(size_line.front())) size_line.remove_prefix(1);
      const auto [end, ec] = std::from_chars(size_line.data(), size_line.data() + size_line.size(), x);
      size_line.remove_prefix(static_cast<std::size_t>(end - size_line.data()));
    }
    h.m = v[0];
    h.n = v[1];
    h.nnz = v[2];
    h.size_line = h.lines;
    h.prefix = header.substr(0, size_line_at);
    return h;
  }
}

void broadcast(MPI_Comm comm, Header& h) {
  std::int64_t fixed[7] = {
      static_cast<std::int64_t>(h.format),       static_cast<std::int64_t>(h.body), h.lines, h.m, h.n, h.nnz,
      static_cast<std::int64_t>(h.prefix.size())};
  MPI_Bcast(fixed, 7, MPI_INT64_T, 0, comm);
  h.format = static_cast<RatingsFormat>(fixed[0]);
  h.body = static_cast<std::uint64_t>(fixed[1]);
  h.lines = fixed[2];
  h.m = fixed[3];
  h.n = fixed[4];
  h.nnz = fixed[5];
  h.size_line = h.lines;
  h.prefix.resize(static_cast<std::size_t>(fixed[6]));
  MPI_Bcast(h.prefix.data(), detail::count_of(h.prefix.size(), "the header"), MPI_CHAR, 0, comm);
}

// "PATH:LINE: what" with LINE moved by `shift`; other messages unchanged.
std::string shift_line(const std::string& message, const std::string& path, std::int64_t shift) {
  if (!message.starts_with(path + ":")) return message;
  const char* first = message.data() + path.size() + 1;
  const char* last = message.data() + message.size();
  std::int64_t line = 0;
  const auto [end, ec] = std::from_chars(first, last, line);
  if (ec != std::errc() || end == last || *end != ':') return message;
  return path + ":" + std::to_string(line + shift) + std::string(end, last);
}

// Dense ids over the whole file: the union of every rank's distinct ids, ascending.
std::vector<std::int64_t> union_of(MPI_Comm comm, const std::vector<std::int64_t>& mine) {
  std::vector<std::int64_t> all = detail::allgatherv(comm, mine);
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

void to_global(std::vector<index_t>& ids, const std::vector<std::int64_t>& local,
               const std::vector<std::int64_t>& all) {
  std::vector<index_t> map(local.size());
  for (std::size_t d = 0; d < local.size(); ++d)
    map[d] = static_cast<index_t>(std::lower_bound(all.begin(), all.end(), local[d]) - all.begin());
  for (index_t& id : ids) id = map[static_cast<std::size_t>(id)];
}

}  // namespace

Share Share::read(MPI_Comm comm, const std::string& path, RatingsFormat format, Partition partition,
                  DuplicatePolicy duplicates) {
  int ranks = 0, rank = 0;
  MPI_Comm_size(comm, &ranks);
  MPI_Comm_rank(comm, &rank);
  std::unique_ptr<File> file;
  on_every_rank(comm, [&] { file = std::make_unique<File>(path); });
  Header h;
  on_every_rank(comm, [&] {
    if (rank == 0) h = read_header(*file, path, format);
  });
  broadcast(comm, h);

  // This rank's byte range of the body, cut at line starts, after the header's text.
  const std::uint64_t body = h.body, size = file->size(), span = size - body;
  const auto nominal = [&](int r) {
    return body + static_cast<std::uint64_t>(static_cast<unsigned __int128>(span) * static_cast<unsigned>(r) /
                                             static_cast<unsigned>(ranks));
  };
  const bool mm = h.format == RatingsFormat::matrix_market;
  std::string text;
  std::size_t start_of_range = 0;
  std::int64_t newlines = 0, entries_here = 0;
  on_every_rank(comm, [&] {
    const std::uint64_t begin = file->line_start(nominal(rank), body);
    const std::uint64_t end = rank + 1 == ranks ? size : std::max(begin, file->line_start(nominal(rank + 1), body));
    const std::size_t length = static_cast<std::size_t>(end - begin);
    text.reserve(h.prefix.size() + 64 + length);
    text = h.prefix;
    start_of_range = text.size();
    text.resize(start_of_range + length);
    file->read(begin, length, text.data() + start_of_range);
    const std::string_view range(text.data() + start_of_range, length);
    if (const std::size_t nul = range.find('\0'); nul != std::string_view::npos)
      throw Error(path + ": byte " + std::to_string(begin + nul) + " is a NUL byte: not a ratings text file");
    newlines = static_cast<std::int64_t>(std::count(range.begin(), range.end(), '\n'));
    if (mm) {
      // The size line, counting this range's entries.
      entries_here = data_lines(range);
      const std::string size_line =
          std::to_string(h.m) + " " + std::to_string(h.n) + " " + std::to_string(entries_here) + "\n";
      text.insert(start_of_range, size_line);
      start_of_range += size_line.size();
    }
  });
  file.reset();

  // Lines before this range: the header's and the earlier ranges'.
  std::int64_t before = 0;
  MPI_Exscan(&newlines, &before, 1, MPI_INT64_T, MPI_SUM, comm);
  if (rank == 0) before = 0;
  if (mm) {
    const std::vector<std::int64_t> counts = detail::allgather<std::int64_t>(comm, entries_here);
    std::int64_t found = 0;
    for (const std::int64_t c : counts) found += c;
    if (found != h.nnz)
      throw Error(path + ": " + (found < h.nnz ? "truncated: expected " : "too many entries: expected ") +
                  std::to_string(h.nnz) + (found < h.nnz ? " entries" : "") + " (size line at line " +
                  std::to_string(h.size_line) + "), found " + std::to_string(found));
  }

  RatingsFile share;
  on_every_rank(comm, [&] {
    try {
      share = parse_ratings(text, path, h.format);
    } catch (const OutOfMemory& e) {
      throw OutOfMemory(shift_line(e.what(), path, before));
    } catch (const Error& e) {
      throw Error(shift_line(e.what(), path, before));
    }
    for (std::int64_t& line : share.entries.line) line += before;
  });
  text = {};
  Entries& e = share.entries;
  if (!mm) {
    std::vector<std::int64_t> rows = union_of(comm, share.row_ids), cols = union_of(comm, share.col_ids);
    on_every_rank(comm, [&] {
      for (const auto* ids : {&rows, &cols})
        if (ids->size() > static_cast<std::size_t>(std::numeric_limits<index_t>::max()))
          throw Error(path + ": more than " + std::to_string(std::numeric_limits<index_t>::max()) + " distinct " +
                      (ids == &rows ? "row" : "column") + " ids in the file");
    });
    to_global(e.row, share.row_ids, rows);
    to_global(e.col, share.col_ids, cols);
    e.rows = static_cast<index_t>(rows.size());
    e.cols = static_cast<index_t>(cols.size());
  }
  const std::string description = path + " (" + to_string(h.format) + ", read by " + std::to_string(ranks) + " rank" +
                                  (ranks > 1 ? "s" : "") + "): " + std::to_string(e.rows) + " x " +
                                  std::to_string(e.cols);
  return ShareBuilder::from_entries(comm, e, partition, duplicates, description);
}

}  // namespace mfgrad::mpi
