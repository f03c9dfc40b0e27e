#include "fleet/rank_launch.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "repro/error.h"
#include "util/env_names.h"
#include "util/exact.h"

namespace repro::internal {
namespace {

struct Rank {
  int rank = 0;
  pid_t pid = -1;
  int fd = -1;          // read end of its output pipe; -1 once closed
  std::string pending;  // output after its last newline
  std::string last;     // its last line of output
  bool done = false;
};

std::string describe_exit(int rank, int code) {
  if (code > 128) {
    const int sig = code - 128;
    const char* name = sigabbrev_np(sig);
    return "rank " + std::to_string(rank) + " was killed by signal " + std::to_string(sig) +
           (name ? std::string(" (SIG") + name + ")" : std::string());
  }
  return "rank " + std::to_string(rank) + " exited with status " + std::to_string(code);
}

void copy_lines(Rank& r, const char* data, std::size_t size, bool flush_all) {
  r.pending.append(data, size);
  std::size_t begin = 0;
  for (std::size_t nl; (nl = r.pending.find('\n', begin)) != std::string::npos; begin = nl + 1) {
    std::cerr << "[rank " << r.rank << "] " << std::string_view(r.pending).substr(begin, nl + 1 - begin);
    if (nl > begin) r.last = r.pending.substr(begin, nl - begin);
  }
  r.pending.erase(0, begin);
  if (flush_all && !r.pending.empty()) {
    std::cerr << "[rank " << r.rank << "] " << r.pending << "\n";
    r.last = r.pending;
    r.pending.clear();
  }
  std::cerr.flush();
}

}  // namespace

int free_local_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw Error::io(std::string("cannot open a socket to find a free port: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    close(fd);
    throw Error::io(std::string("cannot bind a socket on 127.0.0.1 to find a free port: ") + std::strerror(err));
  }
  close(fd);
  return ntohs(addr.sin_port);
}

int run_ranks(const ChildSpec& child, const LaunchOptions& options, std::string* reason) {
  const int world = options.nproc * options.nnodes;
  std::vector<Rank> ranks(static_cast<std::size_t>(options.nproc));
  for (int i = 0; i < options.nproc; ++i) {
    Rank& r = ranks[static_cast<std::size_t>(i)];
    r.rank = options.node_rank * options.nproc + i;
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) throw Error::io(std::string("cannot create a pipe: ") + std::strerror(errno));
    ChildSpec spec = child;
    spec.env["RANK"] = std::to_string(r.rank);
    spec.env["WORLD_SIZE"] = std::to_string(world);
    spec.env["LOCAL_RANK"] = std::to_string(i);
    spec.env["LOCAL_WORLD_SIZE"] = std::to_string(options.nproc);
    spec.env["MASTER_ADDR"] = options.master_addr;
    spec.env["MASTER_PORT"] = std::to_string(options.master_port);
    spec.env[kEnvDistTimeout] = shortest_text(options.timeout_s);
    spec.output_fd = pipe_fds[1];
    r.pid = spawn(spec);
    close(pipe_fds[1]);
    r.fd = pipe_fds[0];
  }
  int first_failure = 0;
  std::size_t failed_index = 0;
  std::chrono::steady_clock::time_point kill_at{};
  bool terminated = false, killed = false;
  std::size_t running = ranks.size();
  while (running > 0) {
    std::vector<pollfd> fds;
    for (const auto& r : ranks) {
      if (r.fd >= 0) fds.push_back({r.fd, POLLIN, 0});
    }
    if (!fds.empty())
      poll(fds.data(), fds.size(), 100);
    else
      usleep(100 * 1000);
    char buffer[4096];
    for (auto& r : ranks) {
      if (r.fd < 0) continue;
      pollfd p{r.fd, POLLIN, 0};
      if (poll(&p, 1, 0) <= 0) continue;
      const ssize_t n = read(r.fd, buffer, sizeof buffer);
      if (n > 0) {
        copy_lines(r, buffer, static_cast<std::size_t>(n), false);
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        copy_lines(r, "", 0, true);
        close(r.fd);
        r.fd = -1;
      }
    }
    // Of the ranks found ended in one round, the cause is one a signal ended (the others then
    // fail in their collectives), else the lowest rank.
    int round_failure = 0;
    std::size_t round_index = 0;
    for (auto& r : ranks) {
      if (r.done) continue;
      int status = 0;
      if (waitpid(r.pid, &status, WNOHANG) != r.pid) continue;
      r.done = true;
      --running;
      const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      if (code != 0 && (round_failure == 0 || (round_failure <= 128 && code > 128))) {
        round_failure = code;
        round_index = static_cast<std::size_t>(&r - ranks.data());
      }
    }
    if (round_failure != 0 && first_failure == 0) {
      first_failure = round_failure;
      failed_index = round_index;
      for (const auto& other : ranks) {
        if (!other.done) kill(other.pid, SIGTERM);
      }
      terminated = true;
      kill_at = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    }
    if (terminated && !killed && running > 0 && std::chrono::steady_clock::now() >= kill_at) {
      for (const auto& r : ranks) {
        if (!r.done) kill(r.pid, SIGKILL);
      }
      killed = true;
    }
  }
  for (auto& r : ranks) {  // what the pipes still hold
    if (r.fd < 0) continue;
    char buffer[4096];
    for (ssize_t n; (n = read(r.fd, buffer, sizeof buffer)) > 0;)
      copy_lines(r, buffer, static_cast<std::size_t>(n), false);
    copy_lines(r, "", 0, true);
    close(r.fd);
  }
  if (first_failure != 0) {
    const Rank& r = ranks[failed_index];
    *reason = describe_exit(r.rank, first_failure) + (r.last.empty() ? "" : ": " + r.last);
  }
  return first_failure;
}

}  // namespace repro::internal
