// The one place that opens files the harness reads: configs, suites, envelopes, lock files, run
// records and their streams, checkpoints, snapshots, manifests, data files, TorchScript files.
//
// Every input must be a regular file (or a symlink to one). Anything else -- a FIFO, a character
// or block device, a socket, a directory where a file is expected -- is refused with Error
// (input) naming the file and what it is, before a read could block or run without end:
// "<path>: config file is a FIFO, not a regular file". Text inputs are bounded in size
// (kMaxTextInputBytes); reading never goes past the bound.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

namespace repro::internal {

// The bound for inputs that a person writes or that hold one small message: config and suite
// text, envelope JSON, lock files, a run's record.pb, data manifests (16 MiB).
inline constexpr std::uint64_t kMaxTextInputBytes = 16u << 20;
// No bound: data files, checkpoints, snapshots, record streams (their size is the data's).
inline constexpr std::uint64_t kNoSizeLimit = std::numeric_limits<std::uint64_t>::max();

// "a FIFO", "a character device", "a block device", "a socket", "a directory", "a regular file",
// "a symbolic link" or "a special file" for st_mode `mode`.
std::string file_type_name(mode_t mode);

// An open, readable descriptor of a regular file; closes on destruction.
class InputFile {
 public:
  // Opens `path` for reading. `what` ("config file"; may be empty) names the kind of input in
  // messages. stat()s first and refuses anything that is not a regular file; opens with
  // O_NONBLOCK | O_CLOEXEC (a FIFO swapped in meanwhile cannot block the open), checks again
  // with fstat, then clears O_NONBLOCK. Throws Error (input): "<path>: cannot open[ <what>]:
  // <reason>", "<path>: [<what> ]is a FIFO, not a regular file", or, when the file is larger
  // than `max_bytes`, "<path>: [<what> ]is N bytes, more than the limit of M".
  InputFile(const std::string& path, const std::string& what, std::uint64_t max_bytes = kNoSizeLimit);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  int fd() const { return fd_; }
  // The size fstat reported when the file was opened.
  std::uint64_t size() const { return size_; }
  // Gives up ownership of the descriptor (for gzdopen and the like).
  int release();
  // Reads the rest of the file, at most `max_bytes` as given to the constructor: a file that
  // grew past it since the open is refused as above. Throws Error (input) on a read error.
  std::string read_all();

 private:
  std::string path_;
  std::string what_;
  std::uint64_t max_bytes_;
  std::uint64_t size_ = 0;
  int fd_ = -1;
};

// The whole of `path`, opened as InputFile does (kind check, size bound).
std::string read_input_file(const std::string& path, const std::string& what, std::uint64_t max_bytes = kNoSizeLimit);

// For paths handed to a library that opens them itself (torch::jit::load, a reader taking a
// path): throws as InputFile does unless `path` names a regular file (following symlinks).
void check_input_file(const std::string& path, const std::string& what);

// True when `path` names a regular file (following symlinks), without throwing: what directory
// walks use to skip FIFOs, devices and sockets (the one rule: only regular files are read).
bool is_readable_kind(const std::string& path);

}  // namespace repro::internal
