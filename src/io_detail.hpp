// Internal: whole-file reading and write-then-rename output shared by the ratings and .npy code.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "mfgrad/types.hpp"

namespace mfgrad::detail {

inline std::string errno_text(int error) { return std::strerror(error); }

// A file's whole contents. Regular files are mapped (pages load lazily, so looking at the first lines
// of a huge file is cheap and parsing needs no second copy); anything else is read into memory.
class FileBytes {
 public:
  explicit FileBytes(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error("cannot open " + path + ": " + errno_text(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
      const int error = S_ISDIR(st.st_mode) ? EISDIR : errno;
      ::close(fd);
      throw Error("cannot open " + path + ": " + errno_text(error));
    }
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
      void* map = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (map != MAP_FAILED) {
        ::madvise(map, static_cast<std::size_t>(st.st_size), MADV_SEQUENTIAL);
        map_ = map;
        size_ = static_cast<std::size_t>(st.st_size);
        ::close(fd);
        return;
      }
    }
    read_all(fd, path);
  }
  ~FileBytes() {
    if (map_ != nullptr) ::munmap(map_, size_);
  }
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;

  std::string_view view() const noexcept {
    return map_ != nullptr ? std::string_view(static_cast<const char*>(map_), size_) : std::string_view(copy_);
  }

 private:
  void read_all(int fd, const std::string& path) {
    char chunk[1 << 16];
    for (;;) {
      const ssize_t got = ::read(fd, chunk, sizeof chunk);
      if (got == 0) break;
      if (got < 0) {
        if (errno == EINTR) continue;
        const int error = errno;
        ::close(fd);
        throw Error("cannot read " + path + ": " + errno_text(error));
      }
      copy_.append(chunk, static_cast<std::size_t>(got));
    }
    ::close(fd);
  }

  void* map_ = nullptr;
  std::size_t size_ = 0;
  std::string copy_;
};

// Writes to "PATH.tmp.<pid>" and renames it onto PATH in commit(), so readers never see a partial
// file; destroying it uncommitted (an exception on the way) removes the temporary file.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path) : path_(std::move(path)), temp_(path_ + ".tmp." + std::to_string(::getpid())) {
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd_ < 0) fail(errno);
  }
  ~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(temp_.c_str());
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

  void commit() {
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) fail(errno);
    if (std::rename(temp_.c_str(), path_.c_str()) != 0) fail(errno);
    committed_ = true;
  }

 private:
  [[noreturn]] void fail(int error) const { throw Error("cannot write " + path_ + ": " + errno_text(error)); }

  std::string path_;
  std::string temp_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace mfgrad::detail
