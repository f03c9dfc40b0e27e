// Private file helpers for crash-safe writes. Errors are repro::Error naming the path.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace repro::internal {

// The one place that writes output files. Replaces `path` with `content` so that a reader sees
// the old file or the new one, never a mix: writes "<dir>/.<name>.tmp-<pid>", fsyncs it, renames
// it over `path`, fsyncs the directory. Refuses to replace anything at `path` that is not a
// regular file (a device node, a FIFO, a socket, a directory; symlinks are followed for the
// check): "<path>: is a character device, not a regular file; not replacing it". Throws Error
// (io, exit 4) on that and on any I/O failure (ENOSPC, EACCES...); the temporary file is removed.
void write_file_atomic(const std::string& path, const std::string& content);

// The whole file, read through util/input_file.h (a regular file only; no size bound: callers
// reading text pass theirs to read_input_file). Throws Error (input) naming the file and the
// reason when it cannot be opened or read: "<path>: cannot open: <reason>", or with `what`
// ("config file") given, "<path>: cannot read config file: <reason>"; "<path>: is a FIFO, not a
// regular file" for anything that is not a regular file.
std::string read_whole_file(const std::string& path, const std::string& what = "");

// Writes all `size` bytes to `fd`, retrying short writes and EINTR. Returns false with errno
// set on failure (some bytes may have been written).
bool write_all(int fd, const void* data, std::size_t size);

// The test seam for full disks: true (with errno set to ENOSPC) when $REPRO_FAULT_ENOSPC is set,
// not empty, and `path` contains it (util/env_names.h). Writers call it before writing.
bool injected_write_failure(const std::string& path);

// fsyncs a directory so that renames and creations in it are durable. Throws Error (io).
void fsync_dir(const std::string& dir);

// The one place that creates output directories: `dir` and its missing parents. Throws Error
// (io, exit 4) "<dir>: cannot create directory: <reason>" when something is in the way (a file)
// or the system refuses (permission, no space).
void make_directories(const std::string& dir);

// Self-checking file framing (checkpoints, snapshots): an 8-byte magic, the payload size as
// u64 little-endian, the payload's XXH3-128 as 32 hex digits, then the payload.
std::string frame_payload(std::string_view magic, const std::string& payload);
// The verified payload of framed `data` read from `path`. Throws Error (input) naming the file
// and the problem ("not a <what> (bad magic...)", truncated, digest mismatch).
std::string unframe_payload(const std::string& data, std::string_view magic, const std::string& path,
                            const std::string& what);

}  // namespace repro::internal
