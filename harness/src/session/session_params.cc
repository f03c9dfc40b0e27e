// Session::param: a user program's hyperparameters, each recorded with its default, its value
// and where the value came from.
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <string>

#include "repro/error.h"
#include "repro/session.h"
#include "run/config_params.h"
#include "session/launch_environment.h"
#include "session/session_impl.h"
#include "util/exact.h"

namespace repro {
namespace {

// The text of a value as the record keeps it, or false when `text` is not a value of the type.
bool double_text(const std::string& text, std::string* out) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text.front()))) return false;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return false;
  *out = internal::shortest_text(v);
  return true;
}

bool integer_text(const std::string& text, long long low, long long high, std::string* out) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text.front()))) return false;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (end != text.c_str() + text.size() || errno == ERANGE || v < low || v > high) return false;
  *out = std::to_string(v);
  return true;
}

bool bool_text(const std::string& text, std::string* out) {
  if (text == "true" || text == "1") {
    *out = "true";
  } else if (text == "false" || text == "0") {
    *out = "false";
  } else {
    return false;
  }
  return true;
}

const char* source_name(proto::ParamSource source) {
  return source == proto::PARAM_SOURCE_OVERRIDE ? "--set (the launcher's override)" : "the config's params section";
}

}  // namespace

namespace internal {

// The value text of parameter `name`: the recorded one when asked before, else the override's
// or the config's (through `convert`, which normalises it) or `default_text`, recorded.
template <typename Convert>
std::string param_value(proto::RunRecord& header, const proto::RunConfig& config, bool& header_dirty,
                        const std::string& name, const std::string& type, const std::string& default_text,
                        Convert convert) {
  if (!is_param_name(name)) {
    throw Error::usage("Session::param: '" + name +
                       "' is not a parameter name (a letter or '_', then letters, digits, '_', '.' or '-')");
  }
  for (const auto& p : header.params()) {
    if (p.name() != name) continue;
    if (p.type() != type || p.default_value() != default_text) {
      throw Error::usage("Session::param: params." + name + " was asked for as " + p.type() + " with default " +
                         p.default_value() + ", now as " + type + " with default " + default_text);
    }
    return p.value();
  }
  proto::Param p;
  p.set_name(name);
  p.set_type(type);
  p.set_default_value(default_text);
  const auto given = config.params().find(name);
  if (given == config.params().end()) {
    p.set_value(default_text);
    p.set_source(proto::PARAM_SOURCE_DEFAULT);
  } else {
    p.set_source(param_overridden(header, name) ? proto::PARAM_SOURCE_OVERRIDE : proto::PARAM_SOURCE_CONFIG);
    std::string value;
    if (!convert(given->second, &value)) {
      throw Error::input("params." + name + ": '" + given->second + "' from " + source_name(p.source()) +
                         " is not a valid " + type + " (the default is " + default_text + ")");
    }
    p.set_value(value);
  }
  *header.add_params() = p;
  header_dirty = true;
  return p.value();
}

}  // namespace internal

// Both integer overloads record type "int"; the int one refuses a value outside its range.

double Session::param(const std::string& name, double default_value) {
  return std::strtod(internal::param_value(impl_->header, impl_->config, impl_->header_dirty, name, "double",
                                           internal::shortest_text(default_value), double_text)
                         .c_str(),
                     nullptr);
}

int Session::param(const std::string& name, int default_value) {
  const auto convert = [](const std::string& t, std::string* out) { return integer_text(t, INT_MIN, INT_MAX, out); };
  const std::string text = internal::param_value(impl_->header, impl_->config, impl_->header_dirty, name, "int",
                                                 std::to_string(default_value), convert);
  std::string checked;
  if (!convert(text, &checked)) {
    throw Error::usage("Session::param: params." + name + " is " + text + ", asked for as an int (use int64_t)");
  }
  return static_cast<int>(std::strtoll(text.c_str(), nullptr, 10));
}

std::int64_t Session::param(const std::string& name, std::int64_t default_value) {
  const auto convert = [](const std::string& t, std::string* out) {
    return integer_text(t, LLONG_MIN, LLONG_MAX, out);
  };
  return std::strtoll(internal::param_value(impl_->header, impl_->config, impl_->header_dirty, name, "int",
                                            std::to_string(default_value), convert)
                          .c_str(),
                      nullptr, 10);
}

bool Session::param(const std::string& name, bool default_value) {
  return internal::param_value(impl_->header, impl_->config, impl_->header_dirty, name, "bool",
                               default_value ? "true" : "false", bool_text) == "true";
}

std::string Session::param(const std::string& name, const std::string& default_value) {
  const auto convert = [](const std::string& t, std::string* out) {
    *out = t;
    return true;
  };
  return internal::param_value(impl_->header, impl_->config, impl_->header_dirty, name, "string", default_value,
                               convert);
}

std::string Session::param(const std::string& name, const char* default_value) {
  return param(name, std::string(default_value == nullptr ? "" : default_value));
}

}  // namespace repro
