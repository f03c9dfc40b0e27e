// Private: facts fixed when reprotorch was built (generated from build_info.cc.in).
#pragma once

namespace repro::internal {

struct BuildInfo {
  const char* version;       // reprotorch's version
  const char* build_type;    // CMAKE_BUILD_TYPE
  const char* lock_sha256;   // SHA-256 of environment.lock at configure time
  const char* lock_content;  // environment.lock itself
};

const BuildInfo& build_info();

}  // namespace repro::internal
