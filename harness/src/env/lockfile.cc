#include "env/lockfile.h"

#include <fstream>
#include <set>
#include <sstream>

#include "repro/error.h"
#include "util/strings.h"

namespace repro::internal {

std::vector<LockedPackage> parse_lock(std::string_view content, const std::string& origin) {
  std::vector<LockedPackage> packages;
  std::set<std::string> seen;
  std::istringstream in{std::string(content)};
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    const std::vector<std::string> words = split_words(line);
    if (words.empty()) continue;
    const std::string where = origin + ":" + std::to_string(lineno) + ": ";
    if (words.size() != 2) throw Error::input(where + "expected '<package> <version>', got '" + printable(line) + "'");
    if (!seen.insert(words[0]).second)
      throw Error::input(where + "package '" + printable(words[0]) + "' is listed twice");
    packages.push_back({words[0], words[1], lineno});
  }
  if (packages.empty()) throw Error::input(origin + ": no packages listed");
  return packages;
}

std::map<std::string, std::string> installed_packages(const std::string& dpkg_status) {
  std::map<std::string, std::string> versions;
  std::ifstream in(dpkg_status);
  std::string line, package, status, version;
  auto flush = [&] {
    if (!package.empty() && status.find(" installed") != std::string::npos && !version.empty()) {
      versions[package] = version;
    }
    package.clear();
    status.clear();
    version.clear();
  };
  while (std::getline(in, line)) {
    if (line.empty()) {
      flush();
    } else if (line.rfind("Package: ", 0) == 0) {
      package = line.substr(9);
    } else if (line.rfind("Status: ", 0) == 0) {
      status = line.substr(8);
    } else if (line.rfind("Version: ", 0) == 0) {
      version = line.substr(9);
    }
  }
  flush();
  return versions;
}

}  // namespace repro::internal
