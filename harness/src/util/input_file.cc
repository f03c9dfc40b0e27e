#include "util/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "repro/error.h"

namespace repro::internal {
namespace {

std::string prefix(const std::string& path, const std::string& what) {
  return path + ": " + (what.empty() ? std::string() : what + " ");
}

Error cannot_open(const std::string& path, const std::string& what, int err);

Error not_regular(const std::string& path, const std::string& what, mode_t mode) {
  // A directory reads as the system says it (EISDIR), the wording every reader used so far.
  if (S_ISDIR(mode)) return cannot_open(path, what, EISDIR);
  return Error::input(prefix(path, what) + "is " + file_type_name(mode) + ", not a regular file");
}

Error cannot_open(const std::string& path, const std::string& what, int err) {
  return Error::input(path + ": " + (what.empty() ? std::string("cannot open") : "cannot read " + what) + ": " +
                      std::strerror(err));
}

Error too_large(const std::string& path, const std::string& what, std::uint64_t size, std::uint64_t limit) {
  return Error::input(prefix(path, what) + "is " + std::to_string(size) + " bytes, more than the limit of " +
                      std::to_string(limit));
}

// stat() following symlinks; throws for a missing file or a non-regular one.
struct stat stat_regular(const std::string& path, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw cannot_open(path, what, errno);
  if (!S_ISREG(st.st_mode)) throw not_regular(path, what, st.st_mode);
  return st;
}

}  // namespace

std::string file_type_name(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "a special file";
}

InputFile::InputFile(const std::string& path, const std::string& what, std::uint64_t max_bytes)
    : path_(path), what_(what), max_bytes_(max_bytes) {
  stat_regular(path, what);
  fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) throw cannot_open(path, what, errno);
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int err = errno;
    ::close(fd_);
    throw cannot_open(path, what, err);
  }
  if (!S_ISREG(st.st_mode)) {  // swapped between the stat and the open
    ::close(fd_);
    throw not_regular(path, what, st.st_mode);
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
  if (size_ > max_bytes_) {
    ::close(fd_);
    throw too_large(path, what, size_, max_bytes_);
  }
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags >= 0) ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK);
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

int InputFile::release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

std::string InputFile::read_all() {
  std::string content;
  if (size_ < (std::uint64_t{1} << 30)) content.reserve(static_cast<std::size_t>(size_));
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error::input(path_ + ": cannot read" + (what_.empty() ? std::string() : " " + what_) + ": " +
                         std::strerror(errno));
    }
    if (n == 0) break;
    if (static_cast<std::uint64_t>(n) > max_bytes_ - content.size()) {
      throw too_large(path_, what_, content.size() + static_cast<std::uint64_t>(n), max_bytes_);
    }
    content.append(buf, static_cast<std::size_t>(n));
  }
  return content;
}

std::string read_input_file(const std::string& path, const std::string& what, std::uint64_t max_bytes) {
  InputFile file(path, what, max_bytes);
  return file.read_all();
}

void check_input_file(const std::string& path, const std::string& what) { stat_regular(path, what); }

bool is_readable_kind(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace repro::internal
