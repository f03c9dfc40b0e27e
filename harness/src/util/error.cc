#include "repro/error.h"

#include <c10/util/Exception.h>
#include <spdlog/spdlog.h>

namespace repro {

Error::Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}

int Error::exit_code() const noexcept {
  switch (kind_) {
    case ErrorKind::kUsage:
    case ErrorKind::kInput:
      return kExitBadInput;
    case ErrorKind::kIo:
      return kExitIo;
    case ErrorKind::kInternal:
      break;
  }
  return kExitInternal;
}

namespace internal {

void rethrow_as_error(const std::string& context, ErrorKind kind) {
  try {
    throw;
  } catch (const c10::Error& e) {
    // Users get torch's message; the C++ stack trace is for whoever runs with --log-level debug.
    spdlog::debug("{}: {}", context, e.what());
    throw Error(kind, context + ": " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Error(kind, context + ": " + e.what());
  } catch (...) {
    throw Error(kind, context + ": unknown exception");
  }
}

}  // namespace internal
}  // namespace repro
