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

// The value of a scalar field (element `index` of a repeated one) as text: integers in decimal,
// floating point as its shortest round-trip text (util/exact.h), bools "true"/"false", enums
// by name, strings as they are, bytes as "<n> bytes"; "" for a message field.
std::string scalar_text(const google::protobuf::Message& message, const google::protobuf::FieldDescriptor* field,
                        int index);

}  // namespace repro::internal
