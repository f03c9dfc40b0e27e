// repro/error.h: the one error type of reprotorch, and the exit codes of the `repro` tool.
//
// The library reports failures by throwing repro::Error; it never calls exit(). A divergence
// between runs is a result (in a report), never an exception. The message is one line that
// names what went wrong and where (file, file:line:column, config field or step).
#pragma once

#include <stdexcept>
#include <string>

namespace repro {

// Exit codes used by every `repro` command (documented in README.md).
inline constexpr int kExitOk = 0;           // success
inline constexpr int kExitCheckFailed = 1;  // a check failed or runs diverged
inline constexpr int kExitBadInput = 2;     // usage error or bad input (flags, config, record, data)
inline constexpr int kExitInternal = 3;     // a bug or an unexpected failure of a dependency
// An I/O or resource failure while working: a write that fails (no space left, permission
// denied), an output path held by something that is not a regular file (a device node, a FIFO,
// a directory squatting on a checkpoint's name), standard output that cannot be written, memory
// that cannot be allocated. A run that stops this way is recorded as failed (when its record
// can still be written) and its directory is not printed on stdout.
inline constexpr int kExitIo = 4;

enum class ErrorKind {
  kUsage,     // the caller asked for something that cannot be done as asked (bad flag, bad value)
  kInput,     // a file or record is missing, unreadable or malformed
  kInternal,  // anything else: an invariant broke, a dependency failed unexpectedly
  kIo,        // an I/O or resource failure (see kExitIo): writing, allocating, standard output
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message);

  static Error usage(const std::string& message) { return Error(ErrorKind::kUsage, message); }
  static Error input(const std::string& message) { return Error(ErrorKind::kInput, message); }
  static Error internal(const std::string& message) { return Error(ErrorKind::kInternal, message); }
  static Error io(const std::string& message) { return Error(ErrorKind::kIo, message); }

  ErrorKind kind() const noexcept { return kind_; }
  // kExitBadInput for usage and input errors, kExitInternal for internal ones, kExitIo for io.
  int exit_code() const noexcept;

 private:
  ErrorKind kind_;
};

// Runs `fn` and rethrows any exception that is not a repro::Error as an internal Error whose
// message is `context` + ": " + the original message. c10::Error is converted without its
// C++ stack trace (what_without_backtrace); the trace goes to the debug log.
template <typename Fn>
auto with_context(const std::string& context, Fn&& fn) -> decltype(fn());

namespace internal {
[[noreturn]] void rethrow_as_error(const std::string& context, ErrorKind kind);
}  // namespace internal

template <typename Fn>
auto with_context(const std::string& context, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Error&) {
    throw;
  } catch (...) {
    internal::rethrow_as_error(context, ErrorKind::kInternal);
  }
}

}  // namespace repro
