// Running the `repro` binary with a time bound: a command that hangs fails its own test case
// (it is killed, with its process group), never the whole suite. stdout can go to a given file
// (/dev/full, to check that output errors are detected).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "testutil.h"

namespace repro::testing {

struct BoundedRun {
  std::vector<std::string> argv;           // argv[0] is the executable
  std::map<std::string, std::string> env;  // added to the current environment
  std::string cwd;                         // empty: inherit
  std::string stdout_path;                 // empty: captured into ProcessResult::out
  double timeout_s = 60;
};

struct BoundedResult : ProcessResult {
  bool timed_out = false;
};

inline BoundedResult run_bounded(const BoundedRun& spec) {
  TempDir io;
  const std::string out_path = spec.stdout_path.empty() ? io / "stdout" : spec.stdout_path;
  const std::string err_path = io / "stderr";
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    setpgid(0, 0);  // its own group: a timeout kills the children it started too
    const int out = spec.stdout_path.empty() ? open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644)
                                             : open(out_path.c_str(), O_WRONLY);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int in = open("/dev/null", O_RDONLY);
    if (out < 0 || err < 0 || in < 0) _exit(125);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    for (const auto& [k, v] : spec.env) setenv(k.c_str(), v.c_str(), 1);
    if (!spec.cwd.empty() && chdir(spec.cwd.c_str()) != 0) _exit(126);
    std::vector<char*> args;
    for (const auto& a : spec.argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  BoundedResult r;
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(spec.timeout_s);
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      r.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (spec.stdout_path.empty()) r.out = read_file(out_path);
  r.err = read_file(err_path);
  return r;
}

}  // namespace repro::testing
