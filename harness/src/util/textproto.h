// Private: parsing protobuf text format with errors that name the place.
#pragma once

#include <google/protobuf/message.h>

#include <string>

namespace repro::internal {

// Parses `text` into `message`. Returns false and sets *error to "<origin>:<line>:<column>:
// <message>" (1-based) for the first problem; unknown fields and wrong types are problems.
bool parse_text(const std::string& text, const std::string& origin, google::protobuf::Message* message,
                std::string* error);

// Parses one field value in text format into `message` (appending to a repeated field),
// silently: false on a bad value, with nothing logged (the caller names the problem once).
bool parse_field_value(const std::string& text, const google::protobuf::FieldDescriptor* field,
                       google::protobuf::Message* message);

}  // namespace repro::internal
