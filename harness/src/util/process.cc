#include "util/process.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "repro/error.h"
#include "util/strings.h"

extern char** environ;

namespace repro::internal {
namespace {

namespace fs = std::filesystem;

int exit_code_of_status(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

}  // namespace

void require_executable(const std::string& path, const std::string& what, const std::string& cwd) {
  if (path.empty()) throw Error::input(what + ": no executable given (empty path)");
  fs::path p = path;
  if (p.is_relative() && !cwd.empty()) p = fs::path(cwd) / p;
  std::error_code ec;
  const fs::file_status status = fs::status(p, ec);
  if (!fs::exists(status)) throw Error::input(what + ": " + path + " does not exist");
  if (!fs::is_regular_file(status) || access(p.c_str(), X_OK) != 0) {
    throw Error::input(what + ": " + path + " is not an executable file");
  }
}

std::string find_on_path(const std::string& program) {
  if (program.empty() || program.find('/') != std::string::npos) return "";
  const char* path = std::getenv("PATH");
  for (const auto& dir : split(path != nullptr ? path : "", ':')) {
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / program;
    std::error_code ec;
    if (fs::is_regular_file(fs::status(candidate, ec)) && access(candidate.c_str(), X_OK) == 0) {
      return candidate.string();
    }
  }
  return "";
}

void keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") != nullptr || std::getenv("MALLOC_TRIM_THRESHOLD_") != nullptr) return;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

double process_age_s() {
  std::ifstream in("/proc/self/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Field 22 (starttime, clock ticks since boot); the name in field 2 may hold spaces and ')'.
  std::size_t pos = stat.rfind(')');
  if (pos == std::string::npos) return -1;
  pos += 2;
  for (int field = 3; field < 22 && pos != std::string::npos; ++field) {
    pos = stat.find(' ', pos);
    if (pos != std::string::npos) ++pos;
  }
  if (pos == std::string::npos) return -1;
  const long ticks_per_s = sysconf(_SC_CLK_TCK);
  timespec now{};
  if (ticks_per_s <= 0 || clock_gettime(CLOCK_BOOTTIME, &now) != 0) return -1;
  const double start = std::strtod(stat.c_str() + pos, nullptr) / static_cast<double>(ticks_per_s);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec) - start;
}

std::map<std::string, std::string> current_environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string kv = *e;
    const auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

pid_t spawn(const ChildSpec& spec) {
  require_executable(spec.argv.empty() ? "" : spec.argv[0], "cannot start a child process", spec.cwd);
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : spec.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, argv;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = spec.argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw Error::internal(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    if (spec.stdout_path == "-2") {
      dup2(STDERR_FILENO, STDOUT_FILENO);
    } else if (!spec.stdout_path.empty()) {
      const int fd = open(spec.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) dup2(fd, STDOUT_FILENO);
    }
    if (!spec.stderr_path.empty() && spec.stderr_path == spec.stdout_path) {
      dup2(STDOUT_FILENO, STDERR_FILENO);  // one file, one offset: lines interleave, never overwrite
    } else if (!spec.stderr_path.empty()) {
      const int fd = open(spec.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) dup2(fd, STDERR_FILENO);
    }
    if (spec.output_fd >= 0) {
      dup2(spec.output_fd, STDOUT_FILENO);
      dup2(spec.output_fd, STDERR_FILENO);
    }
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    if (!spec.cwd.empty() && chdir(spec.cwd.c_str()) != 0) _exit(126);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  return pid;
}

int wait_child(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw Error::internal(std::string("waitpid failed: ") + std::strerror(errno));
  }
  return exit_code_of_status(status);
}

pid_t wait_any(const std::vector<pid_t>& pids, int* exit_code) {
  for (;;) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw Error::internal(std::string("waitpid failed: ") + std::strerror(errno));
    }
    if (std::find(pids.begin(), pids.end(), pid) != pids.end()) {
      *exit_code = exit_code_of_status(status);
      return pid;
    }
  }
}

void run_children(const std::vector<ChildSpec>& children, int jobs,
                  const std::function<void(std::size_t index, int exit_code)>& on_done) {
  for (const auto& child : children) {
    require_executable(child.argv.empty() ? "" : child.argv[0], "cannot start a child process", child.cwd);
  }
  std::map<pid_t, std::size_t> running;
  std::size_t next = 0;
  while (next < children.size() || !running.empty()) {
    while (next < children.size() && static_cast<int>(running.size()) < std::max(jobs, 1)) {
      running[spawn(children[next])] = next;
      ++next;
    }
    std::vector<pid_t> pids;
    for (const auto& entry : running) pids.push_back(entry.first);
    int code = 0;
    const pid_t done = wait_any(pids, &code);
    const std::size_t index = running.at(done);
    running.erase(done);
    on_done(index, code);
  }
}

}  // namespace repro::internal
