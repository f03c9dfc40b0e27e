// Private: the text of a run record is UTF-8. Protobuf refuses to read back a string field that
// is not, so a record holding one would be lost after its run: text a user chose (a command
// line, a path, a config value) is refused before the run starts, and facts captured from the
// system (the environment, the code identity) are kept with their bad bytes escaped.
#pragma once

#include <optional>
#include <string>

namespace google::protobuf {
class Message;
}

namespace repro::internal {

struct InvalidText {
  std::string field;  // "argv[2]", "config.data.train_images", "config.params[lr]"
  std::string value;  // escape_invalid_utf8 of the value
};

// The first string field of `message` (depth first, in field order) that is not well-formed
// UTF-8; nullopt when every one is.
std::optional<InvalidText> first_invalid_text(const google::protobuf::Message& message);

// Every string field of `message` made well-formed with escape_invalid_utf8 (util/strings.h).
void escape_invalid_text(google::protobuf::Message* message);

// Throws Error (usage) "<what>: <field> is not valid UTF-8 ("<escaped>"); ..." when
// first_invalid_text finds one.
void require_valid_text(const google::protobuf::Message& message, const std::string& what);

}  // namespace repro::internal
