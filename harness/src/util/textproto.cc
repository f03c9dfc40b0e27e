#include "util/textproto.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

namespace repro::internal {
namespace {

namespace pb = google::protobuf;

// Keeps the first error, as "<origin>:<line>:<column>: <message>" (1-based).
class FirstError : public pb::io::ErrorCollector {
 public:
  explicit FirstError(std::string origin) : origin_(std::move(origin)) {}
  void AddError(int line, pb::io::ColumnNumber column, const std::string& message) override {
    if (error_.empty()) {
      error_ = origin_ + ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " + message;
    }
  }
  const std::string& error() const { return error_; }

 private:
  std::string origin_;
  std::string error_;
};

}  // namespace

bool parse_text(const std::string& text, const std::string& origin, pb::Message* message, std::string* error) {
  FirstError errors(origin);
  pb::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (parser.ParseFromString(text, message)) return true;
  *error = errors.error().empty() ? origin + ": cannot parse " + message->GetTypeName() : errors.error();
  return false;
}

bool parse_field_value(const std::string& text, const pb::FieldDescriptor* field, pb::Message* message) {
  FirstError errors("");
  pb::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);  // instead of protobuf's own ERROR log line
  return parser.ParseFieldValueFromString(text, field, message);
}

}  // namespace repro::internal
