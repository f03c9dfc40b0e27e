// Private: environment.lock parsing and Debian package versions.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace repro::internal {

struct LockedPackage {
  std::string name;
  std::string version;
  int line = 0;
};

// Parses the lock format ("<package> <version>" per line, '#' comments). `origin` names the
// source in errors. Throws Error (input) "origin:line: ..." on a malformed line or a
// package listed twice, and when no package is listed at all.
std::vector<LockedPackage> parse_lock(std::string_view content, const std::string& origin);

// Versions of installed packages (Status "install ok installed") from a dpkg status file.
// An unreadable file yields an empty map: callers report every package as not installed.
std::map<std::string, std::string> installed_packages(const std::string& dpkg_status = "/var/lib/dpkg/status");

}  // namespace repro::internal
