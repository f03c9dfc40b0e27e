// Shared test helpers: temporary directories, running the real `repro` binary in a fresh
// process, reading and writing small files.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "repro/error.h"

namespace repro::testing {

namespace fs = std::filesystem;

// A fresh directory under $TMPDIR, removed with everything in it when the object dies.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "repro-test-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string out;
  std::string err;
  // Lines of stderr, without the trailing empty one.
  std::vector<std::string> err_lines() const {
    std::vector<std::string> lines;
    std::istringstream in(err);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
  }
};

// A process started in the background; its stdout and stderr go to files in `io`.
struct Started {
  pid_t pid = -1;
  std::string out_path, err_path;
};

// Starts `argv` in a fresh process with the current environment plus `env` (a value
// "\x01unset" removes a variable); stdout and stderr go to files under `io_dir`.
inline Started start_process(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                             const std::string& cwd, const std::string& io_dir) {
  const std::string out_path = io_dir + "/stdout", err_path = io_dir + "/stderr";
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int in = open("/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    for (const auto& [k, v] : env) {
      if (v == "\x01unset") {
        unsetenv(k.c_str());
      } else {
        setenv(k.c_str(), v.c_str(), 1);
      }
    }
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return {pid, out_path, err_path};
}

// Waits for a started process and collects its result.
inline ProcessResult wait_process(const Started& started) {
  int status = 0;
  waitpid(started.pid, &status, 0);
  ProcessResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(started.out_path);
  r.err = read_file(started.err_path);
  return r;
}

// Runs `argv` in a fresh process (see start_process) and waits for it to finish.
inline ProcessResult run_process(const std::vector<std::string>& argv,
                                 const std::map<std::string, std::string>& env = {}, const std::string& cwd = "") {
  TempDir io;
  return wait_process(start_process(argv, env, cwd, io.path().string()));
}

// The `repro` binary under test (set by CMake).
inline std::string repro_binary() { return REPRO_BINARY; }

inline ProcessResult run_repro(const std::vector<std::string>& args,
                               const std::map<std::string, std::string>& env = {}) {
  std::vector<std::string> argv{repro_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, env);
}

inline std::string source_path(const std::string& relative) { return std::string(REPRO_SOURCE_DIR) + "/" + relative; }

// An example config: models/configs/<name>.
inline std::string config_path(const std::string& name) { return source_path("models/configs/" + name); }

// The last line of a command's output (`repro run` prints the run directory last).
inline std::string last_line(const std::string& out) {
  std::string s = out;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  const auto nl = s.rfind('\n');
  return nl == std::string::npos ? s : s.substr(nl + 1);
}

// The message of the repro::Error that `fn` throws, or "(no error)".
template <typename Fn>
std::string error_message(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// The repro::Error that `fn` throws; a test failure when it throws none.
template <typename Fn>
Error thrown_error(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no repro::Error thrown";
  return Error::internal("");
}

}  // namespace repro::testing
