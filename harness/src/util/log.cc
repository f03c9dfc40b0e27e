#include "repro/log.h"

#include <cstdlib>

#include <google/protobuf/stubs/logging.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "repro/error.h"
#include "util/env_names.h"

namespace repro {
namespace {

// Protobuf's own messages ("String field ... contains invalid UTF-8") come before the one line
// that says what failed and why: they are details, logged at debug level.
void protobuf_message(google::protobuf::LogLevel level, const char* file, int line, const std::string& message) {
  if (level >= google::protobuf::LOGLEVEL_FATAL) {
    spdlog::error("protobuf {}:{}: {}", file, line, message);
  } else {
    spdlog::debug("protobuf {}:{}: {}", file, line, message);
  }
}

// The console logger writes to stderr, so stdout carries only results (tables, JSON).
std::shared_ptr<spdlog::logger> console_logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::stderr_color_mt("repro");
    l->set_pattern("%^%l%$: %v");
    spdlog::set_default_logger(l);
    google::protobuf::SetLogHandler(&protobuf_message);
    return l;
  }();
  return logger;
}

}  // namespace

void set_log_level(const std::string& level) {
  std::string name = level;
  std::string origin = "--log-level";
  if (name.empty()) {
    const char* env = std::getenv(internal::kEnvLogLevel);
    name = env != nullptr && *env != '\0' ? env : "info";
    origin = internal::kEnvLogLevel;
  }
  const auto parsed = spdlog::level::from_str(name);
  // from_str maps anything unknown to "off"; only "off" itself may mean off.
  if (parsed == spdlog::level::off && name != "off") {
    throw Error::usage(origin + ": unknown log level '" + name +
                       "' (expected trace, debug, info, warn, error, critical or off)");
  }
  auto logger = console_logger();
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::warn);
}

void add_log_file(const std::string& path) {
  auto logger = console_logger();
  try {
    auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path);
    sink->set_level(spdlog::level::debug);
    sink->set_pattern("[%Y-%m-%dT%H:%M:%S.%e] [%l] %v");
    logger->sinks().push_back(sink);
    if (logger->level() > spdlog::level::debug) {
      // The console sink keeps the user's level; the logger must pass debug to the file.
      logger->sinks().front()->set_level(logger->level());
      logger->set_level(spdlog::level::debug);
    }
  } catch (const spdlog::spdlog_ex& e) {
    throw Error::input(path + ": cannot open log file: " + e.what());
  }
}

void remove_log_file(const std::string& path) {
  auto& sinks = console_logger()->sinks();
  for (auto it = sinks.begin(); it != sinks.end(); ++it) {
    const auto* file = dynamic_cast<const spdlog::sinks::basic_file_sink_mt*>(it->get());
    if (file != nullptr && file->filename() == path) {
      sinks.erase(it);
      return;
    }
  }
}

}  // namespace repro
