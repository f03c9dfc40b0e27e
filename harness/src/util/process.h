// Private: starting and waiting for child processes (reruns and checks run in fresh processes).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace repro::internal {

struct ChildSpec {
  std::vector<std::string> argv;           // argv[0] is the executable's path
  std::map<std::string, std::string> env;  // the child's whole environment
  std::string cwd;                         // empty: inherit
  std::string stdout_path;                 // empty: inherit; "-2": our stderr
  std::string stderr_path;                 // empty: inherit
  int output_fd = -1;                      // >= 0: stdout and stderr both go here (over the paths)
};

// Throws Error (input) "<what>: <path> does not exist" or "<what>: <path> is not an executable
// file" unless `path` (a relative one taken from `cwd` when that is not empty, as execve in a
// child started there takes it) names a regular file this process may execute.
void require_executable(const std::string& path, const std::string& what, const std::string& cwd = "");

// Where execvp finds `program`, a name without '/': the first PATH entry (an empty one is the
// working directory) holding an executable regular file of that name. "" when none does, or
// when `program` is empty or has a '/'.
std::string find_on_path(const std::string& program);

// Seconds since the kernel started this process (/proc/self/stat start time against the boot
// clock; an exec keeps it, so a re-execution with pins counts from the first start); -1 when
// /proc cannot tell.
double process_age_s();

// glibc's malloc set to keep freed memory for the next step: blocks under 32 MiB come from the
// heap (M_MMAP_THRESHOLD) and up to 64 MiB free at its top stays mapped (M_TRIM_THRESHOLD).
// Left at its start values (128 KiB, raised only when a mapped block of up to 32 MiB is freed),
// a process whose start-up freed none maps and unmaps a training step's activations at every
// step and pays a page fault for each 4 KiB of them: 2,700 per step of the TorchScript CNN at
// batch 32 against Python's 950, 0.6x its steps/s at 2 threads. Memory placement changes no
// result. Nothing is changed when MALLOC_MMAP_THRESHOLD_ or MALLOC_TRIM_THRESHOLD_ is set (the
// user's choice) or under another C library; called once, by every Session.
void keep_freed_memory_for_reuse();

// This process's environment as a map.
std::map<std::string, std::string> current_environment();

// Starts the child. Throws Error (input) before forking when argv[0] is not an executable file
// (require_executable), Error (internal) when fork fails; an exec that fails all the same makes
// the child exit with 127 (and cwd failure with 126).
pid_t spawn(const ChildSpec& spec);

// Waits for a child: its exit code, or 128 + signal number when a signal ended it.
int wait_child(pid_t pid);

// Waits for any child of `pids` to finish; returns its pid and sets *exit_code.
pid_t wait_any(const std::vector<pid_t>& pids, int* exit_code);

// Runs `children`, at most `jobs` (>= 1) at once, in the order given; calls on_done(index,
// exit code) in this thread as each one finishes (finishing order). Every argv[0] is checked
// (require_executable) before the first child starts. Throws what spawn and wait_any throw.
void run_children(const std::vector<ChildSpec>& children, int jobs,
                  const std::function<void(std::size_t index, int exit_code)>& on_done);

}  // namespace repro::internal
