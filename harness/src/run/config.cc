#include "repro/config.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/text_format.h>

#include "repro/determinism.h"
#include "repro/digest.h"
#include "repro/error.h"
#include "run/config_params.h"
#include "util/fileutil.h"
#include "util/input_file.h"
#include "util/strings.h"
#include "util/textproto.h"

namespace repro {
namespace {

namespace pb = google::protobuf;

std::string field_names(const pb::Descriptor* d) {
  std::string names;
  for (int i = 0; i < d->field_count(); ++i) names += (i ? ", " : "") + d->field(i)->name();
  return names;
}

// Text-format literal for `value` as a value of `field`: strings get quoted unless already.
std::string literal(const pb::FieldDescriptor* field, const std::string& value) {
  if (field->cpp_type() != pb::FieldDescriptor::CPPTYPE_STRING) return value;
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
    return value;
  return "\"" + pb::CEscape(value) + "\"";
}

void resolve_message(pb::Message* message) {
  const pb::Reflection* r = message->GetReflection();
  const pb::Descriptor* d = message->GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    if (f->is_repeated()) continue;
    if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
      // A oneof member (model.mlp vs model.cnn) is resolved only when it is the one chosen.
      if (f->containing_oneof() != nullptr && !r->HasField(*message, f)) continue;
      resolve_message(r->MutableMessage(message, f));
      continue;
    }
    if (r->HasField(*message, f)) continue;
    switch (f->cpp_type()) {
      case pb::FieldDescriptor::CPPTYPE_INT32:
        r->SetInt32(message, f, f->default_value_int32());
        break;
      case pb::FieldDescriptor::CPPTYPE_INT64:
        r->SetInt64(message, f, f->default_value_int64());
        break;
      case pb::FieldDescriptor::CPPTYPE_UINT32:
        r->SetUInt32(message, f, f->default_value_uint32());
        break;
      case pb::FieldDescriptor::CPPTYPE_UINT64:
        r->SetUInt64(message, f, f->default_value_uint64());
        break;
      case pb::FieldDescriptor::CPPTYPE_DOUBLE:
        r->SetDouble(message, f, f->default_value_double());
        break;
      case pb::FieldDescriptor::CPPTYPE_FLOAT:
        r->SetFloat(message, f, f->default_value_float());
        break;
      case pb::FieldDescriptor::CPPTYPE_BOOL:
        r->SetBool(message, f, f->default_value_bool());
        break;
      case pb::FieldDescriptor::CPPTYPE_STRING:
        r->SetString(message, f, f->default_value_string());
        break;
      case pb::FieldDescriptor::CPPTYPE_ENUM:
        r->SetEnum(message, f, f->default_value_enum());
        break;
      case pb::FieldDescriptor::CPPTYPE_MESSAGE:
        break;
    }
  }
}

}  // namespace

namespace internal {

bool is_param_name(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!letter(name.front())) return false;
  for (const char c : name) {
    if (!letter(c) && !(c >= '0' && c <= '9') && c != '.' && c != '-') return false;
  }
  return true;
}

}  // namespace internal

proto::RunConfig parse_config(const std::string& text, const std::string& origin) {
  proto::RunConfig config;
  std::string error;
  if (!internal::parse_text(text, origin, &config, &error)) throw Error::input(error);
  return config;
}

void apply_override(proto::RunConfig* config, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw Error::usage("--set " + assignment + ": expected path.to.field=value");
  }
  const std::string path = assignment.substr(0, eq);
  const std::string value = assignment.substr(eq + 1);
  // params is a map: everything after "params." is the parameter's name, dots included.
  if (path == "params" || path.rfind("params.", 0) == 0) {
    const std::string name = path.size() > 7 ? path.substr(7) : "";
    if (!internal::is_param_name(name)) {
      throw Error::usage("--set " + assignment + ": '" + name +
                         "' is not a parameter name (a letter or '_', then letters, digits, '_', '.' or '-')");
    }
    (*config->mutable_params())[name] = value;
    return;
  }
  const auto parts = internal::split(path, '.');
  pb::Message* message = config;
  std::string walked;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const pb::Descriptor* d = message->GetDescriptor();
    const pb::FieldDescriptor* f = d->FindFieldByName(parts[i]);
    const std::string where = walked.empty() ? "the config" : walked;
    if (f == nullptr) {
      throw Error::usage("--set " + path + ": " + where + " has no field '" + parts[i] +
                         "' (fields: " + field_names(d) + ")");
    }
    walked += (walked.empty() ? "" : ".") + parts[i];
    const pb::Reflection* r = message->GetReflection();
    const bool last = i + 1 == parts.size();
    if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
      if (last || f->is_repeated()) throw Error::usage("--set " + path + ": " + walked + " is a section, not a value");
      message = r->MutableMessage(message, f);
      continue;
    }
    if (!last) throw Error::usage("--set " + path + ": " + walked + " is a value, not a section");
    if (f->is_repeated()) {
      r->ClearField(message, f);
      if (value.empty()) return;
      for (const auto& item : internal::split(value, ',')) {
        if (!internal::parse_field_value(literal(f, item), f, message)) {
          throw Error::usage("--set " + path + ": '" + item + "' is not a valid " + f->type_name());
        }
      }
      return;
    }
    if (!internal::parse_field_value(literal(f, value), f, message)) {
      throw Error::usage("--set " + path + ": '" + value + "' is not a valid " + f->type_name());
    }
    return;
  }
}

void resolve_config(proto::RunConfig* config) {
  // Create every section so that resolve_message fills it with its defaults.
  config->mutable_determinism();
  config->mutable_data();
  config->mutable_optimizer();
  config->mutable_train();
  config->mutable_record();
  resolve_message(config);
  resolve_portable(config->mutable_determinism());
  if (config->model().has_mlp() && config->model().mlp().hidden().empty()) {
    config->mutable_model()->mutable_mlp()->add_hidden(256);
    config->mutable_model()->mutable_mlp()->add_hidden(128);
  }
}

proto::RunConfig load_config(const std::string& path, const std::vector<std::string>& overrides) {
  proto::RunConfig config =
      parse_config(internal::read_input_file(path, "config file", internal::kMaxTextInputBytes), path);
  for (const auto& o : overrides) apply_override(&config, o);
  resolve_config(&config);
  validate_config(config, path);
  return config;
}

std::string config_to_text(const proto::RunConfig& config) {
  std::string text;
  pb::TextFormat::Printer printer;
  printer.PrintToString(config, &text);
  return text;
}

std::string config_digest(const proto::RunConfig& config) {
  std::string bytes;
  {
    pb::io::StringOutputStream stream(&bytes);
    pb::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    config.SerializeToCodedStream(&coded);
  }
  return digest_bytes(bytes);
}

}  // namespace repro

namespace repro {

std::string config_run_name(const proto::RunConfig& config) {
  return !config.name().empty()             ? config.name()
         : config.model().has_cnn()         ? "cnn"
         : config.model().has_mlp()         ? "mlp"
         : config.model().has_torchscript() ? "torchscript"
                                            : "run";
}

}  // namespace repro
