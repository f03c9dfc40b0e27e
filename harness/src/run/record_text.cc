#include "run/record_text.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <memory>
#include <vector>

#include "repro/error.h"
#include "util/strings.h"

namespace repro::internal {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

bool is_text(const FieldDescriptor* f) { return f->type() == FieldDescriptor::TYPE_STRING; }

// A map entry's name in a path: "params[lr]".
std::string entry_key(const Message& entry) {
  const auto* key = entry.GetDescriptor()->FindFieldByNumber(1);
  if (key == nullptr || key->cpp_type() != FieldDescriptor::CPPTYPE_STRING) return "";
  return escape_invalid_utf8(entry.GetReflection()->GetString(entry, key));
}

// Calls visit(path, value, set) for every string field under `m`; stops when it returns false.
template <typename Visit>
bool walk(Message& m, const std::string& prefix, const Visit& visit) {
  const auto* r = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const auto* f : fields) {
    const std::string name = prefix + f->name();
    if (f->is_repeated()) {
      const int n = r->FieldSize(m, f);
      for (int i = 0; i < n; ++i) {
        if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          Message* child = r->MutableRepeatedMessage(&m, f, i);
          const std::string at =
              f->is_map() ? name + "[" + entry_key(*child) + "]" : name + "[" + std::to_string(i) + "]";
          if (f->is_map()) {
            // Key and value, both named by the entry.
            const auto* cr = child->GetReflection();
            for (int number : {1, 2}) {
              const auto* kf = child->GetDescriptor()->FindFieldByNumber(number);
              if (kf != nullptr && is_text(kf)) {
                std::string value = cr->GetString(*child, kf);
                if (!visit(at, value, [&](const std::string& v) { cr->SetString(child, kf, v); })) return false;
              } else if (kf != nullptr && kf->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
                         cr->HasField(*child, kf)) {
                if (!walk(*cr->MutableMessage(child, kf), at + ".", visit)) return false;
              }
            }
          } else if (!walk(*child, at + ".", visit)) {
            return false;
          }
        } else if (is_text(f)) {
          const std::string value = r->GetRepeatedString(m, f, i);
          if (!visit(name + "[" + std::to_string(i) + "]", value,
                     [&](const std::string& v) { r->SetRepeatedString(&m, f, i, v); })) {
            return false;
          }
        }
      }
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (!walk(*r->MutableMessage(&m, f), name + ".", visit)) return false;
    } else if (is_text(f)) {
      const std::string value = r->GetString(m, f);
      if (!visit(name, value, [&](const std::string& v) { r->SetString(&m, f, v); })) return false;
    }
  }
  return true;
}

}  // namespace

std::optional<InvalidText> first_invalid_text(const Message& message) {
  std::unique_ptr<Message> copy(message.New());
  copy->CopyFrom(message);
  std::optional<InvalidText> found;
  walk(*copy, "", [&](const std::string& path, const std::string& value, const auto&) {
    if (is_valid_utf8(value)) return true;
    found = InvalidText{path, escape_invalid_utf8(value)};
    return false;
  });
  return found;
}

void escape_invalid_text(Message* message) {
  walk(*message, "", [](const std::string&, const std::string& value, const auto& set) {
    if (!is_valid_utf8(value)) set(escape_invalid_utf8(value));
    return true;
  });
}

void require_valid_text(const Message& message, const std::string& what) {
  if (const auto bad = first_invalid_text(message)) {
    throw Error::usage(what + ": " + bad->field + " is not valid UTF-8 (\"" + bad->value +
                       "\"); a run record keeps its text as UTF-8: use a name, path or value in UTF-8");
  }
}

}  // namespace repro::internal
