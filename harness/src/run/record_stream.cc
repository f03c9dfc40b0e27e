#include "run/record_stream.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#define XXH_INLINE_ALL  // header-only, as in digest.cc
#include <xxhash.h>

#include "repro/error.h"

namespace repro::internal {
namespace {

std::uint32_t load_u32le(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return static_cast<std::uint32_t>(b[0]) | static_cast<std::uint32_t>(b[1]) << 8 |
         static_cast<std::uint32_t>(b[2]) << 16 | static_cast<std::uint32_t>(b[3]) << 24;
}

void store_u32le(std::uint32_t v, char* p) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

std::uint32_t frame_checksum(std::string_view payload) {
  return static_cast<std::uint32_t>(XXH3_64bits(payload.data(), payload.size()));
}

void append_frame(const google::protobuf::MessageLite& message, std::string* out) {
  std::string payload;
  if (!message.SerializeToString(&payload)) {
    throw Error::internal("cannot serialize " + message.GetTypeName() + " for a record stream");
  }
  if (payload.size() > kMaxFramePayload) {
    throw Error::internal(message.GetTypeName() + " of " + std::to_string(payload.size()) +
                          " bytes exceeds the record stream's frame limit");
  }
  char header[kFrameHeaderSize];
  store_u32le(static_cast<std::uint32_t>(payload.size()), header);
  store_u32le(frame_checksum(payload), header + 4);
  out->append(header, sizeof header);
  out->append(payload);
}

StreamScan scan_frames(const std::string& path, std::string_view data,
                       const std::function<bool(std::string_view payload)>& on_payload) {
  StreamScan scan;
  if (data.size() < kStreamMagic.size()) {
    // A crash while the magic was being written; anything else this short is not ours.
    if (kStreamMagic.substr(0, data.size()) != data) {
      throw Error::input(path + ": not a record stream (bad magic)");
    }
    scan.torn = true;
    return scan;
  }
  if (data.substr(0, kStreamMagic.size()) != kStreamMagic) {
    throw Error::input(path + ": not a record stream (bad magic)");
  }
  std::size_t pos = kStreamMagic.size();
  while (pos < data.size()) {
    if (data.size() - pos < kFrameHeaderSize) break;
    const std::uint32_t length = load_u32le(data.data() + pos);
    const std::uint32_t checksum = load_u32le(data.data() + pos + 4);
    if (length > kMaxFramePayload || data.size() - pos - kFrameHeaderSize < length) break;
    const std::string_view payload = data.substr(pos + kFrameHeaderSize, length);
    if (frame_checksum(payload) != checksum || !on_payload(payload)) break;
    pos += kFrameHeaderSize + length;
    ++scan.frames;
  }
  scan.valid_bytes = pos;
  scan.torn = pos < data.size();
  return scan;
}

StreamScan truncate_stream(const std::string& path, std::size_t keep_frames) {
  const std::string data = read_whole_file(path);
  std::size_t seen = 0;
  const StreamScan scan = scan_frames(path, data, [&](std::string_view) { return seen++ < keep_frames; });
  if (!scan.torn) return scan;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw Error::io(path + ": cannot open for truncation: " + errno_text());
  bool ok = ::ftruncate(fd, static_cast<off_t>(scan.valid_bytes)) == 0;
  if (ok && scan.valid_bytes < kStreamMagic.size()) {
    ok = ::ftruncate(fd, 0) == 0 && write_all(fd, kStreamMagic.data(), kStreamMagic.size());
  }
  ok = ok && ::fsync(fd) == 0;
  const std::string why = ok ? "" : errno_text();
  ::close(fd);
  if (!ok) throw Error::io(path + ": cannot truncate to its valid prefix: " + why);
  return scan;
}

StreamWriter::StreamWriter(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) throw Error::io(path_ + ": cannot open for appending: " + errno_text());
  const off_t end = ::lseek(fd_, 0, SEEK_END);
  if (end < 0) {
    const std::string why = errno_text();
    ::close(fd_);
    throw Error::io(path_ + ": cannot seek: " + why);
  }
  flushed_size_ = static_cast<std::uint64_t>(end);
}

StreamWriter::~StreamWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void StreamWriter::flush() {
  if (buffer_.empty()) return;
  if (injected_write_failure(path_) || !write_all(fd_, buffer_.data(), buffer_.size())) {
    const std::string why = errno_text();
    failed_ = true;
    // Cut a partial frame off so later flushes append after valid data; the buffer is kept.
    if (::ftruncate(fd_, static_cast<off_t>(flushed_size_)) != 0) {
      throw Error::io(path_ + ": write failed (" + why + ") and the partial frame could not be cut off");
    }
    throw Error::io(path_ + ": write failed: " + why);
  }
  if (::fsync(fd_) != 0) {
    failed_ = true;
    throw Error::io(path_ + ": fsync failed: " + errno_text());
  }
  flushed_size_ += buffer_.size();
  buffer_.clear();
}

}  // namespace repro::internal
