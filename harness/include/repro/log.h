// repro/log.h: reprotorch's logging (spdlog). Messages go to stderr; results go to stdout.
#pragma once

#include <string>

namespace repro {

// Sets the level of reprotorch's log: trace, debug, info, warn, error, critical or off.
// reprotorch's log also takes protobuf's own messages (at debug level: the error that follows
// says what failed), so that a damaged record is one line on stderr.
// An empty `level` means: $REPRO_LOG_LEVEL when set, else "info".
// Throws Error (usage) naming the bad value when `level` (or the variable) is not a level.
void set_log_level(const std::string& level);

// Adds a file sink that receives every message at debug level and above, in addition to the
// console. Used for run directories (run.log). Throws Error (input) when the file cannot be opened.
void add_log_file(const std::string& path);
// Removes the file sink that add_log_file(path) added; nothing when there is none.
void remove_log_file(const std::string& path);

}  // namespace repro
