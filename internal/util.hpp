// Internal: small helpers the library, the benchmark harness and the tool share, each written once.
// Not installed; bench/, tools/ and tests/ see it by linking the CMake target mfgrad_internal.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mfgrad/message.hpp"
#include "mfgrad/types.hpp"

namespace mfgrad::detail {

// Writes PATH's new contents. A regular file (or a path that does not exist yet) is written to a
// temporary file beside it ("PATH.tmp.<pid>.<n>", created exclusively, so two writers in one process or
// two processes never share it) and renamed onto it in commit(): readers never see a partial file, and
// a writer destroyed uncommitted (an exception on the way) removes the temporary and leaves PATH as it
// was. A symbolic link is followed: the file it names is replaced, the link stays. What is not a regular
// file — a device such as /dev/null, a FIFO, a terminal, /dev/stdout and the other /proc/self/fd links —
// is written through, in place, as the bytes come. A directory is refused at once.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path) : path_(std::move(path)) {
    struct stat st {};
    if (::stat(path_.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) fail(EISDIR);
      std::string target = path_;
      if (S_ISREG(st.st_mode) && is_link(path_)) {
        char* real = ::realpath(path_.c_str(), nullptr);
        target = real != nullptr ? real : "";
        std::free(real);
      }
      if (!S_ISREG(st.st_mode) || target.empty() || target.starts_with("/proc/")) {
        // Through: a device or pipe cannot be replaced, and a /proc/self/fd link names an open file
        // (the shell's redirection) that a rename would take away from its reader.
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC | (S_ISREG(st.st_mode) ? O_TRUNC : 0));
        if (fd_ < 0) fail(errno);
        through_ = true;
        return;
      }
      target_ = target;
    } else {
      target_ = path_;
    }
    static std::atomic<unsigned> serial{0};
    temp_ = target_ + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(serial++);
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0) fail(errno);
  }
  ~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_ && !through_) ::unlink(temp_.c_str());
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t put = ::write(fd_, bytes.data(), bytes.size());
      if (put < 0) {
        if (errno == EINTR) continue;
        fail(errno);
      }
      bytes.remove_prefix(static_cast<std::size_t>(put));
    }
  }

  // Everything written reaches the disk's cache and the temporary file is closed: what is left to
  // commit() is the rename alone.
  void finish() {
    if (fd_ < 0) return;
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) fail(errno);
  }

  void commit() {
    finish();
    if (!through_ && std::rename(temp_.c_str(), target_.c_str()) != 0) fail(errno);
    committed_ = true;
  }

 private:
  static bool is_link(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
  }
  [[noreturn]] void fail(int error) const {
    throw FileError("cannot write " + path_ + ": " + std::strerror(error), path_, error);
  }

  std::string path_;
  std::string target_;  // where the temporary is renamed to: PATH, or the file a link at PATH names
  std::string temp_;
  int fd_ = -1;
  bool committed_ = false;
  bool through_ = false;  // written in place
};

// The whole of `text` as PATH's new contents, atomically (AtomicFile).
inline void write_file_atomically(const std::string& path, std::string_view text) {
  AtomicFile f(path);
  f.write(text);
  f.commit();
}

// The median of the samples: the middle one for an odd count, the mean of the two middle ones for an
// even count; 0 for none.
inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}

// The unit a duration is shown in: the largest of s, ms, us and ns not above it (ASCII names, so
// printf widths line up), and how many decimals give four significant digits of a value in it.
struct DurationUnit {
  const char* name;
  double seconds;
};
inline DurationUnit duration_unit(double seconds) {
  if (seconds >= 1) return {"s", 1};
  if (seconds >= 1e-3) return {"ms", 1e-3};
  if (seconds >= 1e-6) return {"us", 1e-6};
  return {"ns", 1e-9};
}
inline int duration_decimals(double value) { return value >= 100 ? 1 : value >= 10 ? 2 : value >= 1 ? 3 : 4; }

// A duration for people: "1.234 s", "12.35 ms", "56.70 us".
inline std::string format_duration(double seconds) {
  DurationUnit unit = duration_unit(seconds);
  if (unit.seconds < 1 && seconds / unit.seconds >= 999.95)
    unit = duration_unit(unit.seconds * 1000);  // not "1000.0 ms"
  const double value = seconds / unit.seconds;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f %s", duration_decimals(value), value, unit.name);
  return buf;
}

// "float32", "float64", "bfloat16", "float16" (to_string's names); nullopt for anything else.
inline std::optional<Precision> parse_precision(std::string_view name) {
  for (Precision p : {Precision::f32, Precision::f64, Precision::bf16, Precision::f16})
    if (name == to_string(p)) return p;
  return std::nullopt;
}

// Floating-point operations per observed entry and evaluation (DESIGN: dot 2k, each gradient 2k):
// what every GFLOP/s figure divides by.
constexpr double flops_per_entry(std::size_t k) { return 6.0 * static_cast<double>(k); }

}  // namespace mfgrad::detail
