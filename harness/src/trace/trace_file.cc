// Trace files (repro/trace.h): a record stream (record_stream.h) of TraceFrame.
#include <filesystem>

#include "repro/error.h"
#include "repro/trace.h"
#include "run/record_stream.h"
#include "util/fileutil.h"

namespace repro {

void write_trace(const std::string& path, const proto::Trace& trace) {
  std::string data(internal::kStreamMagic);
  proto::TraceFrame frame;
  *frame.mutable_start() = trace.start();
  internal::append_frame(frame, &data);
  for (const auto& op : trace.ops()) {
    *frame.mutable_op() = op;
    internal::append_frame(frame, &data);
  }
  *frame.mutable_end() = trace.end();
  internal::append_frame(frame, &data);
  const auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  internal::write_file_atomic(path, data);
}

proto::Trace read_trace(const std::string& path) {
  const auto contents = internal::read_stream<proto::TraceFrame>(path);
  proto::Trace trace;
  bool started = false, ended = false;
  for (const auto& frame : contents.records) {
    if (frame.has_start() && !started) {
      *trace.mutable_start() = frame.start();
      started = true;
    } else if (frame.has_op() && started && !ended) {
      *trace.add_ops() = frame.op();
    } else if (frame.has_end() && started && !ended) {
      *trace.mutable_end() = frame.end();
      ended = true;
    } else {
      throw Error::input(path + ": frame " + std::to_string(&frame - contents.records.data()) +
                         " out of order (expected start, ops, end)");
    }
  }
  if (!started || !ended) {
    throw Error::input(path + ": incomplete trace (" + (started ? "no end frame" : "no start frame") +
                       "; the traced process may have died inside the window)");
  }
  return trace;
}

}  // namespace repro
