#include "util/fileutil.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "repro/digest.h"
#include "repro/error.h"
#include "util/env_names.h"
#include "util/input_file.h"

namespace repro::internal {
namespace {

namespace fs = std::filesystem;

std::string errno_text() { return std::strerror(errno); }

// Closes the descriptor on every path out of a function.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now and reports close's result (it can carry a delayed write error).
  bool close() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0;
  }

 private:
  int fd_;
};

std::string parent_of(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

// An output may replace a regular file, never a device node, FIFO, socket or directory.
void refuse_non_regular(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    throw Error::io(path + ": is " + file_type_name(st.st_mode) + ", not a regular file; not replacing it");
  }
}

}  // namespace

bool write_all(int fd, const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool injected_write_failure(const std::string& path) {
  const char* fault = std::getenv(kEnvFaultEnospc);
  if (fault == nullptr || *fault == '\0' || path.find(fault) == std::string::npos) return false;
  errno = ENOSPC;
  return true;
}

void fsync_dir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) throw Error::io(dir + ": cannot open directory: " + errno_text());
  if (::fsync(fd.get()) != 0) throw Error::io(dir + ": fsync failed: " + errno_text());
}

void make_directories(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error::io(dir + ": cannot create directory: " + ec.message());
  if (!fs::is_directory(dir, ec)) throw Error::io(dir + ": cannot create directory: a file is in the way");
}

void write_file_atomic(const std::string& path, const std::string& content) {
  const fs::path target(path);
  const std::string dir = parent_of(path);
  const std::string tmp =
      (fs::path(dir) / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()))).string();
  // Messages name the file asked for, not the hidden temporary beside it.
  auto fail = [&](const std::string& what) -> Error {
    const std::string message = path + ": " + what + ": " + errno_text();
    ::unlink(tmp.c_str());
    return Error::io(message);
  };
  refuse_non_regular(path);
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) throw Error::io(path + ": cannot create: " + errno_text());
    if (injected_write_failure(path) || !write_all(fd.get(), content.data(), content.size())) {
      throw fail("write failed");
    }
    if (::fsync(fd.get()) != 0) throw fail("fsync failed");
    if (!fd.close()) throw fail("close failed");
  }
  try {
    refuse_non_regular(path);  // again: something may have appeared while we wrote
  } catch (const Error&) {
    ::unlink(tmp.c_str());
    throw;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) throw fail("cannot rename " + tmp + " into place");
  fsync_dir(dir);
}

std::string read_whole_file(const std::string& path, const std::string& what) {
  return read_input_file(path, what, kNoSizeLimit);
}

std::string frame_payload(std::string_view magic, const std::string& payload) {
  std::string framed(magic);
  const std::uint64_t size = payload.size();
  for (int i = 0; i < 8; ++i) framed.push_back(static_cast<char>((size >> (8 * i)) & 0xff));
  framed += digest_bytes(payload);
  framed += payload;
  return framed;
}

std::string unframe_payload(const std::string& data, std::string_view magic, const std::string& path,
                            const std::string& what) {
  constexpr std::size_t kDigestSize = 32;
  const std::size_t header = magic.size() + 8 + kDigestSize;
  if (data.size() < header || std::string_view(data).substr(0, magic.size()) != magic) {
    throw Error::input(path + ": not a " + what + " (bad magic or shorter than its header)");
  }
  std::uint64_t size = 0;
  for (int i = 0; i < 8; ++i) {
    size |= static_cast<std::uint64_t>(static_cast<unsigned char>(data[magic.size() + i])) << (8 * i);
  }
  if (size != data.size() - header) {
    throw Error::input(path + ": corrupt " + what + ": " + std::to_string(data.size() - header) +
                       " payload bytes, header says " + std::to_string(size) + " (truncated?)");
  }
  const std::string recorded = data.substr(magic.size() + 8, kDigestSize);
  std::string payload = data.substr(header);
  if (digest_bytes(payload) != recorded) throw Error::input(path + ": corrupt " + what + ": digest mismatch");
  return payload;
}

}  // namespace repro::internal
