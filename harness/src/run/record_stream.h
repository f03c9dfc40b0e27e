// Private: the framed record streams of a run directory (steps.bin, evals.bin).
//
// Format (documented in proto/README.md, "Streams"):
//   file   := magic frame*
//   magic  := "RPRSTRM1"                               (8 bytes)
//   frame  := length:u32le checksum:u32le payload      (payload: one serialized message)
//   checksum = low 32 bits of XXH3-64(payload)
// A reader stops at the first incomplete frame, bad checksum, length over kMaxFramePayload or
// payload that does not parse; everything before it is good.
#pragma once

#include <google/protobuf/message_lite.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "util/fileutil.h"

namespace repro::internal {

inline constexpr std::string_view kStreamMagic = "RPRSTRM1";
inline constexpr std::size_t kFrameHeaderSize = 8;
inline constexpr std::uint32_t kMaxFramePayload = 64u << 20;

// Low 32 bits of XXH3-64 of the payload.
std::uint32_t frame_checksum(std::string_view payload);

// Appends one frame holding `message` to `out`. Throws Error (internal) when the message does
// not serialize or exceeds kMaxFramePayload.
void append_frame(const google::protobuf::MessageLite& message, std::string* out);

struct StreamScan {
  std::size_t frames = 0;       // complete, valid frames
  std::size_t valid_bytes = 0;  // magic + those frames; a file cut here loses nothing valid
  bool torn = false;            // bytes followed the valid prefix (partial or corrupt frame)
};

// Walks the frames of a stream held in `data` (the file's bytes; `path` names it in errors).
// `on_payload` parses one payload and returns false when it cannot, which ends the scan as
// torn. A file shorter than the magic that is a prefix of it is an empty, torn stream.
// Throws Error (input) "<path>: not a record stream (bad magic)" otherwise.
StreamScan scan_frames(const std::string& path, std::string_view data,
                       const std::function<bool(std::string_view payload)>& on_payload);

template <typename Message>
struct StreamContents {
  std::vector<Message> records;
  StreamScan scan;
};

// Reads every valid record of the stream file `path`. Throws Error (input) naming the file
// when it cannot be read or has a bad magic.
template <typename Message>
StreamContents<Message> read_stream(const std::string& path);

// Cuts the stream file `path` back to its valid prefix (rewriting the magic if even that was
// torn) and fsyncs it. With `keep_frames`, also cuts every valid frame after the first
// `keep_frames` (resuming from a checkpoint); the scan then counts at most that many frames and
// says torn when anything followed them. Returns the scan made before cutting. Throws Error
// (input) for an unreadable file or bad magic, Error (internal) when truncating fails.
StreamScan truncate_stream(const std::string& path, std::size_t keep_frames = SIZE_MAX);

// Appends frames to an existing stream file. Frames are buffered in memory and reach the disk
// at flush(); a failed flush cuts the file back to its last flushed size and keeps the buffer.
class StreamWriter {
 public:
  // Opens `path` (which must already hold a valid stream; see truncate_stream) for appending.
  // Throws Error (io) when it cannot be opened.
  explicit StreamWriter(std::string path);
  ~StreamWriter();
  StreamWriter(const StreamWriter&) = delete;
  StreamWriter& operator=(const StreamWriter&) = delete;

  void append(const google::protobuf::MessageLite& message) { append_frame(message, &buffer_); }
  // Writes the buffer with write(2) and fsyncs. Throws Error (io) naming the file.
  void flush();
  std::size_t buffered_bytes() const { return buffer_.size(); }
  // True once a flush failed (and threw): a later flush would only report it again.
  bool failed() const { return failed_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::string buffer_;
  std::uint64_t flushed_size_ = 0;
  bool failed_ = false;
};

template <typename Message>
StreamContents<Message> read_stream(const std::string& path) {
  const std::string data = read_whole_file(path);
  StreamContents<Message> contents;
  contents.scan = scan_frames(path, data, [&](std::string_view payload) {
    Message message;
    if (!message.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) return false;
    contents.records.push_back(std::move(message));
    return true;
  });
  return contents;
}

}  // namespace repro::internal
