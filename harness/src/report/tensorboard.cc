#include "repro/tensorboard.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "proto/tensorboard_event.pb.h"
#include "report/tfrecord.h"
#include "repro/error.h"
#include "repro/record.h"
#include "util/fileutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kFileVersion = "brain.Event:2";

// Days from 1970-01-01 to the civil date y-m-d (proleptic Gregorian; H. Hinnant's algorithm):
// no timegm, no time zone database, the same answer everywhere.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// Reads `count` decimal digits of `text` at `*pos`; false when they are not all digits.
bool read_digits(std::string_view text, std::size_t* pos, std::size_t count, int* value) {
  if (*pos + count > text.size()) return false;
  *value = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const char c = text[*pos + i];
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    *value = *value * 10 + (c - '0');
  }
  *pos += count;
  return true;
}

bool expect(std::string_view text, std::size_t* pos, char c) {
  if (*pos >= text.size() || text[*pos] != c) return false;
  ++*pos;
  return true;
}

// Unix seconds of an RFC 3339 time, "2026-11-25T13:45:07Z" as the harness writes it (fractional
// seconds are dropped; an offset "+01:00" is applied). False when it is not one.
bool unix_seconds(std::string_view text, std::int64_t* seconds) {
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(text, &pos, 4, &year) || !expect(text, &pos, '-') || !read_digits(text, &pos, 2, &month) ||
      !expect(text, &pos, '-') || !read_digits(text, &pos, 2, &day)) {
    return false;
  }
  if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ')) return false;
  ++pos;
  if (!read_digits(text, &pos, 2, &hour) || !expect(text, &pos, ':') || !read_digits(text, &pos, 2, &minute) ||
      !expect(text, &pos, ':') || !read_digits(text, &pos, 2, &second)) {
    return false;
  }
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const std::size_t digits = pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos == digits) return false;
  }
  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = 0, om = 0;
    if (!read_digits(text, &pos, 2, &oh) || !expect(text, &pos, ':') || !read_digits(text, &pos, 2, &om) || oh > 23 ||
        om > 59) {
      return false;
    }
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return false;
  }
  if (pos != text.size() || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return false;
  }
  *seconds = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 + hour * 3600 +
             minute * 60 + second - offset_minutes * 60;
  return true;
}

// The run id as a file-name part: anything but [A-Za-z0-9._-] becomes '_'.
std::string file_name_part(const std::string& run_id) {
  std::string out;
  for (const char c : run_id) {
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  }
  return out.empty() ? std::string("run") : out;
}

// Collects the events of a run and counts what it wrote.
class EventFile {
 public:
  explicit EventFile(proto::TensorBoardExport* result) : result_(result) {}

  void add(const proto::tb::Event& event, bool is_step) {
    internal::append_tfrecord(&bytes_, event.SerializeAsString());
    result_->set_events(result_->events() + 1);
    if (!event.has_summary()) return;
    if (is_step) {
      result_->set_step_events(result_->step_events() + 1);
    } else {
      result_->set_eval_events(result_->eval_events() + 1);
    }
    result_->set_values(result_->values() + event.summary().value_size());
    for (const auto& v : event.summary().value()) {
      bool seen = false;
      for (const auto& tag : result_->tags()) seen = seen || tag == v.tag();
      if (!seen) result_->add_tags(v.tag());
    }
  }

  const std::string& bytes() const { return bytes_; }

 private:
  proto::TensorBoardExport* result_;
  std::string bytes_;
};

void add_value(proto::tb::Summary* summary, const std::string& tag, float value) {
  auto* v = summary->add_value();
  v->set_tag(tag);
  v->set_simple_value(value);
}

// f64 values are narrowed to simple_value's float32 (repro/tensorboard.h says so).
void add_value(proto::tb::Summary* summary, const std::string& tag, double value) {
  add_value(summary, tag, static_cast<float>(value));
}

// The step's values, in the order of repro/tensorboard.h.
proto::tb::Summary step_summary(const proto::StepRecord& step, const std::string& loss_tag, bool with_lr,
                                bool with_grad_norm) {
  proto::tb::Summary summary;
  if (step.values_size() > 0) {
    for (const auto& v : step.values()) {
      if (v.value_case() == proto::NamedValue::kF32) add_value(&summary, v.name(), v.f32());
      if (v.value_case() == proto::NamedValue::kF64) add_value(&summary, v.name(), v.f64());
    }
  } else if (step.loss_case() == proto::StepRecord::kLossF32) {
    add_value(&summary, loss_tag, step.loss_f32());
  } else if (step.loss_case() == proto::StepRecord::kLossF64) {
    add_value(&summary, loss_tag, step.loss_f64());
  }
  if (with_lr) add_value(&summary, "lr", step.lr());
  if (with_grad_norm) add_value(&summary, "grad_norm", step.grad_norm());
  return summary;
}

proto::tb::Event eval_event(const proto::EvalRecord& eval, double wall_time) {
  proto::tb::Event event;
  event.set_wall_time(wall_time);
  event.set_step(eval.step());
  // A protobuf map has no defined order: metrics go in name order so that the bytes are fixed.
  std::vector<std::pair<std::string, double>> metrics(eval.metrics().begin(), eval.metrics().end());
  std::sort(metrics.begin(), metrics.end());
  auto* summary = event.mutable_summary();
  for (const auto& [name, value] : metrics) add_value(summary, eval.split() + "/" + name, value);
  return event;
}

void check_out_dir(const std::string& out_dir) {
  std::error_code ec;
  const fs::file_status st = fs::status(out_dir, ec);
  if (fs::exists(st)) {
    if (!fs::is_directory(st)) throw Error::input(out_dir + ": not a directory (TensorBoard output)");
  } else {
    fs::create_directories(out_dir, ec);
    if (ec) throw Error::input(out_dir + ": cannot create directory: " + ec.message());
  }
  if (::access(out_dir.c_str(), W_OK | X_OK) != 0) throw Error::input(out_dir + ": directory not writable");
}

}  // namespace

proto::TensorBoardExport export_tensorboard(const std::string& run_dir, const std::string& out_dir) {
  const RunData run = read_run(run_dir);
  const auto& header = run.header;
  std::int64_t start = 0;
  if (!unix_seconds(header.started_at(), &start)) {
    throw Error::input((fs::path(run_dir) / "record.pb").string() + ": started_at '" + header.started_at() +
                       "' is not an RFC 3339 time");
  }
  if (out_dir.empty()) throw Error::usage("export_tensorboard: empty output directory");
  check_out_dir(out_dir);
  const std::string path = (fs::path(out_dir) / ("events.out.tfevents." + std::to_string(start) + ".reprotorch." +
                                                 file_name_part(header.run_id())))
                               .string();
  std::error_code ec;
  const fs::file_status target = fs::status(path, ec);
  if (fs::exists(target) && !fs::is_regular_file(target)) {
    throw Error::input(path + ": exists and is not a regular file; not overwritten");
  }

  proto::TensorBoardExport result;
  result.set_path(path);
  result.set_run_id(header.run_id());
  EventFile file(&result);
  const double start_time = static_cast<double>(start);

  proto::tb::Event version;
  version.set_wall_time(start_time);
  version.set_file_version(std::string(kFileVersion));
  file.add(version, false);

  bool with_lr = false, with_grad_norm = false;
  for (const auto& s : run.steps) {
    with_lr = with_lr || s.lr() != 0.0;
    with_grad_norm = with_grad_norm || s.grad_norm() != 0.0;
  }
  const std::string loss_tag = header.series_size() > 0 ? header.series(0) : std::string("loss");
  std::size_t next_eval = 0;
  double last_wall_time = start_time;
  for (const auto& s : run.steps) {
    proto::tb::Event event;
    *event.mutable_summary() = step_summary(s, loss_tag, with_lr, with_grad_norm);
    if (event.summary().value_size() > 0) {
      last_wall_time = start_time + s.elapsed_s();
      event.set_wall_time(last_wall_time);
      event.set_step(s.step());
      file.add(event, true);
    }
    for (; next_eval < run.evals.size() && run.evals[next_eval].step() <= s.step(); ++next_eval) {
      file.add(eval_event(run.evals[next_eval], last_wall_time), false);
    }
  }
  for (; next_eval < run.evals.size(); ++next_eval) file.add(eval_event(run.evals[next_eval], last_wall_time), false);
  internal::write_file_atomic(path, file.bytes());
  return result;
}

}  // namespace repro
