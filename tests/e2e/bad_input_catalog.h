// The bad-input catalog (issue 17): what a row is and what the rows share. Each row runs through
// the real `repro` binary in a fresh process, bounded by a timeout (a hang fails its row), and
// says what it sets up, the exit code, a fragment of the ONE line on stderr, and whether the
// runs directory may gain a run directory. To add a case, add a row to a family's file.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "bounded_process.h"
#include "proto/run_record.pb.h"
#include "repro/error.h"
#include "repro/record.h"
#include "testutil.h"
#include "util/env_names.h"

namespace repro::catalog {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;

inline constexpr const char* kSpecial = "2 special files";
inline constexpr const char* kEmptyRecord = "3 empty record.pb";
inline constexpr const char* kIoCode = "5 I/O exit code";
inline constexpr const char* kOutputs = "6 outputs";
inline constexpr const char* kText = "1 text not UTF-8";
inline constexpr const char* kValues = "8 values refused everywhere";
inline constexpr const char* kOneLine = "10 one stderr line";
inline constexpr const char* kLate = "4 bad content found late";
inline constexpr const char* kSuite = "7 check suites";
inline constexpr const char* kLimits = "11 limits and odd arguments";
inline constexpr const char* kArchives = "12 crafted archives";

inline constexpr const char* kFashionMnist = "/usr/share/datasets/fashion-mnist";

// Runs made once for the whole catalog, copied into each case that needs one.
struct Prepared {
  std::string finished;  // a finished mlp_synthetic run (checkpoint every 50 steps)
  std::string failed;    // the same config, failed at step 150 (no space for that checkpoint)
};
extern Prepared* prepared;  // made by the test suite's set-up (bad_input_catalog_test.cc)

// What one case works in: its own directory and a runs directory whose listing is checked.
struct Scene {
  Scene(fs::path dir, std::string runs_dir) : tmp(std::move(dir)), runs(std::move(runs_dir)) {}
  fs::path tmp;
  std::string runs;                        // tmp/runs (exists, empty unless the setup adds runs)
  std::map<std::string, std::string> env;  // added to the command's environment
  std::string stdout_path;                 // empty: captured; "/dev/full" for output errors
  std::string at(const std::string& name) const { return (tmp / name).string(); }
  std::string config() const { return testing::config_path("mlp_synthetic.textproto"); }
  // A copy of a prepared run in runs/NAME.
  std::string copy_run(const std::string& from, const std::string& name) const {
    const std::string to = runs + "/" + name;
    fs::copy(from, to, fs::copy_options::recursive);
    return to;
  }
  std::string finished(const std::string& name = "good") const { return copy_run(prepared->finished, name); }
  std::string failed(const std::string& name = "failed") const { return copy_run(prepared->failed, name); }
  std::string fifo(const std::string& name) const {
    const std::string p = at(name);
    EXPECT_EQ(mkfifo(p.c_str(), 0644), 0) << std::strerror(errno);
    return p;
  }
  std::string link(const std::string& path, const std::string& target) const {
    fs::remove(path);
    fs::create_symlink(target, path);
    return path;
  }
  std::string socket_file(const std::string& name) const {
    const std::string p = at(name);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, p.c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
    ::close(fd);
    return p;
  }
  // A Fashion-MNIST directory (the four files linked from the system's copy) in TMP/NAME, with
  // the file `replace` (when given) holding `bytes` instead: data.path for the IDX rows.
  std::string fashion_mnist(const std::string& name, const std::string& replace = "",
                            const std::string& bytes = "") const {
    const std::string dir = at(name);
    fs::create_directories(dir);
    for (const auto& f : fs::directory_iterator(kFashionMnist)) {
      const std::string to = dir + "/" + f.path().filename().string();
      if (f.path().filename() == replace) {
        testing::write_file(to, bytes);
      } else {
        fs::create_symlink(f.path(), to);
      }
    }
    return dir;
  }
  // A character device node like /dev/null's, made here (needs CAP_MKNOD; nullopt without).
  std::optional<std::string> char_device(const std::string& name) const {
    const std::string p = at(name);
    if (::mknod(p.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) return std::nullopt;
    return p;
  }
};

struct Case {
  using Setup = std::function<std::optional<Args>(Scene&)>;
  using Verify = std::function<void(const Scene&, const testing::BoundedResult&)>;
  Case(const char* case_name, const char* case_family, Setup make, int code, const char* fragment,
       bool may_add_run = false, Verify check = nullptr)
      : name(case_name),
        family(case_family),
        setup(std::move(make)),
        exit_code(code),
        stderr_fragment(fragment),
        new_run_dir(may_add_run),
        verify(std::move(check)) {}
  const char* name;
  const char* family;
  // Makes the bad thing and returns the arguments after `repro`; nullopt skips the case (a
  // facility this machine lacks, e.g. mknod without root).
  Setup setup;
  int exit_code;
  const char* stderr_fragment;  // "TMP" stands for the case's directory
  bool new_run_dir;             // the runs directory may gain one run directory
  Verify verify;                // more checks after the common ones (null: none)
};

inline void PrintTo(const Case& c, std::ostream* os) { *os << c.name << " (family " << c.family << ")"; }

inline bool is_fifo(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
}
inline bool is_char_device(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 && S_ISCHR(st.st_mode);
}

inline std::string header_only(std::uint32_t schema_version, const std::string& run_id) {
  proto::RunRecord h;
  h.set_schema_version(schema_version);
  h.set_run_id(run_id);
  return h.SerializeAsString();
}

// The rows, by family: special files, empty records, I/O codes and outputs (2, 3, 5, 6) in
// bad_input_catalog_files.cc; text, content, suites, values, messages and crafted archives (1, 4,
// 7, 8, 10, 11, 12) in bad_input_catalog_content.cc.
std::vector<Case> file_cases();
std::vector<Case> content_cases();

}  // namespace repro::catalog
