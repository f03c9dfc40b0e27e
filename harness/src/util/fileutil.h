// Private file helpers for crash-safe writes. Errors are repro::Error naming the path.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace repro::internal {

// Replaces `path` with `content` so that a reader sees the old file or the new one, never a
// mix: writes "<dir>/.<name>.tmp-<pid>", fsyncs it, renames it over `path`, fsyncs the
// directory. Throws Error (internal) on any I/O failure; the temporary file is removed.
void write_file_atomic(const std::string& path, const std::string& content);

// The whole file. Throws Error (input) naming the file and the reason when it cannot be opened
// or read: "<path>: cannot open: <reason>", or with `what` ("config file") given,
// "<path>: cannot read config file: <reason>".
std::string read_whole_file(const std::string& path, const std::string& what = "");

// Writes all `size` bytes to `fd`, retrying short writes and EINTR. Returns false with errno
// set on failure (some bytes may have been written).
bool write_all(int fd, const void* data, std::size_t size);

// fsyncs a directory so that renames and creations in it are durable. Throws Error (internal).
void fsync_dir(const std::string& dir);

// Self-checking file framing (checkpoints, snapshots): an 8-byte magic, the payload size as
// u64 little-endian, the payload's XXH3-128 as 32 hex digits, then the payload.
std::string frame_payload(std::string_view magic, const std::string& payload);
// The verified payload of framed `data` read from `path`. Throws Error (input) naming the file
// and the problem ("not a <what> (bad magic...)", truncated, digest mismatch).
std::string unframe_payload(const std::string& data, std::string_view magic, const std::string& path,
                            const std::string& what);

}  // namespace repro::internal
