#include "reexec.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include "repro/error.h"

namespace repro::cli {

void reexecute_with(const std::map<std::string, std::string>& pins) {
  if (std::getenv("REPRO_REEXECUTED") != nullptr) {
    throw Error::internal("re-executed with " + pins.begin()->first + " but the pin is still not in effect");
  }
  for (const auto& [name, value] : pins) setenv(name.c_str(), value.c_str(), 1);
  setenv("REPRO_REEXECUTED", "1", 1);
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> argv;
  for (std::string arg; std::getline(in, arg, '\0');) argv.push_back(arg);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  execv("/proc/self/exe", args.data());
  throw Error::internal(std::string("cannot re-execute /proc/self/exe: ") + std::strerror(errno));
}

}  // namespace repro::cli
