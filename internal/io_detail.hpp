// Internal: whole-file reading shared by the ratings and .npy code (their output: util.hpp, AtomicFile).
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <new>
#include <string>
#include <string_view>
#include <utility>

#include "mfgrad/types.hpp"
#include "util.hpp"  // AtomicFile

namespace mfgrad::detail {

inline std::string errno_text(int error) { return std::strerror(error); }

// A file's whole contents. Regular files are mapped (pages load lazily, so looking at the first lines
// of a huge file is cheap and parsing needs no second copy); anything else is read into memory.
// A file that is read (a device, a pipe) is first shown to `check_head`, when given: it sees the first
// `head_bytes` bytes (fewer when the file is shorter) before any more is read, and throws to refuse
// the file, so that a stream of the wrong kind (/dev/zero) is refused at once, not after gigabytes. A
// mapped file costs nothing until parsed, and its parser makes the same checks. Running out of memory while reading is
// an OutOfMemory naming the file.
class FileBytes {
 public:
  using HeadCheck = std::function<void(std::string_view head)>;

  explicit FileBytes(const std::string& path, const HeadCheck& check_head = {}, std::size_t head_bytes = 4096) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw FileError("cannot open " + path + ": " + errno_text(errno), path, errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
      const int error = S_ISDIR(st.st_mode) ? EISDIR : errno;
      ::close(fd);
      throw FileError("cannot open " + path + ": " + errno_text(error), path, error);
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
    read_all(fd, path, check_head, head_bytes);
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
  void read_all(int fd, const std::string& path, const HeadCheck& check_head, std::size_t head_bytes) {
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{fd};
    char chunk[1 << 16];
    bool checked = !check_head;
    try {
      for (;;) {
        const ssize_t got = ::read(fd, chunk, sizeof chunk);
        if (got == 0) break;
        if (got < 0) {
          if (errno == EINTR) continue;
          throw FileError("cannot read " + path + ": " + errno_text(errno), path, errno);
        }
        copy_.append(chunk, static_cast<std::size_t>(got));
        if (!checked && copy_.size() >= head_bytes) {
          check_head(std::string_view(copy_).substr(0, head_bytes));
          checked = true;
        }
      }
    } catch (const std::bad_alloc&) {
      throw OutOfMemory("out of memory reading " + path + " (" + std::to_string(copy_.size()) + " bytes read)");
    }
    if (!checked) check_head(copy_);
  }

  void* map_ = nullptr;
  std::size_t size_ = 0;
  std::string copy_;
};

}  // namespace mfgrad::detail
