// The bad-input catalog (issue 17): one row per bad input or failed output, each run through the
// real `repro` binary in a fresh process, bounded by a timeout (a hang fails its row). Each row
// says what it sets up, the exit code, a fragment of the ONE line on stderr, and whether the runs
// directory may gain a run directory. To add a case, add a row to kCatalog.
//
// Families (issue 17): 2 special files, 3 empty or truncated record.pb, 5 one exit code (4) for
// I/O and resource failures, 6 outputs (no device node replaced, stdout errors detected).
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

namespace repro {
namespace {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;

constexpr const char* kSpecial = "2 special files";
constexpr const char* kEmptyRecord = "3 empty record.pb";
constexpr const char* kIoCode = "5 I/O exit code";
constexpr const char* kOutputs = "6 outputs";
constexpr const char* kText = "1 text not UTF-8";
constexpr const char* kValues = "8 values refused everywhere";
constexpr const char* kOneLine = "10 one stderr line";

// Runs made once for the whole catalog, copied into each case that needs one.
struct Prepared {
  std::string finished;  // a finished mlp_synthetic run (checkpoint every 50 steps)
  std::string failed;    // the same config, failed at step 150 (no space for that checkpoint)
};
Prepared* prepared = nullptr;
testing::TempDir* prepared_dir = nullptr;

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

void PrintTo(const Case& c, std::ostream* os) { *os << c.name << " (family " << c.family << ")"; }

bool is_fifo(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
}
bool is_char_device(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 && S_ISCHR(st.st_mode);
}

std::string header_only(std::uint32_t schema_version, const std::string& run_id) {
  proto::RunRecord h;
  h.set_schema_version(schema_version);
  h.set_run_id(run_id);
  return h.SerializeAsString();
}

const std::vector<Case>& catalog() {
  static const std::vector<Case> kCatalog = {
      // ---- family 2: special files are refused (never opened to block or read without end) ----
      {"ConfigIsFifo", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         return Args{"run", "--config", s.fifo("c.textproto"), "--runs-dir", s.runs};
       },
       2, "TMP/c.textproto: config file is a FIFO, not a regular file"},
      {"ConfigIsDevZero", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         return Args{"run", "--config", "/dev/zero", "--runs-dir", s.runs};
       },
       2, "/dev/zero: config file is a character device, not a regular file"},
      {"ConfigIsDevNull", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         return Args{"run", "--config", "/dev/null", "--runs-dir", s.runs};
       },
       2, "/dev/null: config file is a character device, not a regular file"},
      {"ConfigIsSymlinkToDevZero", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         return Args{"run", "--config", s.link(s.at("c.textproto"), "/dev/zero"), "--runs-dir", s.runs};
       },
       2, "TMP/c.textproto: config file is a character device"},
      {"ConfigIsSocket", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         return Args{"run", "--config", s.socket_file("c.sock"), "--runs-dir", s.runs};
       },
       2, "TMP/c.sock: config file is a socket, not a regular file"},
      {"ConfigIsDirectory", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         return Args{"run", "--config", s.runs, "--runs-dir", s.runs};
       },
       2, "TMP/runs: cannot read config file: Is a directory"},
      {"DoctorConfigIsFifo", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         return Args{"doctor", "--config", s.fifo("c.textproto")};
       },
       2, "config file is a FIFO"},
      {"TorchScriptIsDevZero", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         return Args{
             "run",   "--config",     s.config(), "--runs-dir", s.runs, "--set", "model.torchscript.path=/dev/zero",
             "--set", "train.steps=2"};
       },
       2, "/dev/zero: model file (model.torchscript.path) is a character device, not a regular file"},
      {"TorchScriptIsFifo", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         return Args{
             "run", "--config", s.config(), "--runs-dir", s.runs, "--set", "model.torchscript.path=" + s.fifo("m.pt")};
       },
       2, "TMP/m.pt: model file (model.torchscript.path) is a FIFO"},
      {"CsvDataIsFifo", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         return Args{"run",
                     "--config",
                     s.config(),
                     "--runs-dir",
                     s.runs,
                     "--set",
                     "data.source=csv",
                     "--set",
                     "data.path=" + s.fifo("d.csv"),
                     "--set",
                     "data.csv_features=x"};
       },
       2, "TMP/d.csv: data file"},
      {"CsvDataIsDevZero", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         return Args{"run",
                     "--config",
                     s.config(),
                     "--runs-dir",
                     s.runs,
                     "--set",
                     "data.source=csv",
                     "--set",
                     "data.path=/dev/zero",
                     "--set",
                     "data.csv_features=x"};
       },
       2, "/dev/zero: data file"},
      {"IdxImagesAreDevZero", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         const std::string dir = s.at("fmnist");
         fs::create_directories(dir);
         for (const auto& f : fs::directory_iterator("/usr/share/datasets/fashion-mnist")) {
           fs::create_symlink(f.path(), dir + "/" + f.path().filename().string());
         }
         s.link(dir + "/train-images-idx3-ubyte.gz", "/dev/zero");
         return Args{
             "run",   "--config",        testing::config_path("mlp_fashion_mnist.textproto"), "--runs-dir", s.runs,
             "--set", "data.path=" + dir};
       },
       2, "train-images-idx3-ubyte.gz: data file"},
      {"EnvVerifyFifo", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         return Args{"env", "--verify", s.fifo("env.lock")};
       },
       2, "TMP/env.lock: lock file is a FIFO, not a regular file"},
      {"EnvVerifyDevZero", kSpecial,
       [](Scene&) -> std::optional<Args> {
         return Args{"env", "--verify", "/dev/zero"};
       },
       2, "/dev/zero: lock file is a character device"},
      {"CheckSuiteIsFifo", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         return Args{"check", s.fifo("nightly.suite.textproto")};
       },
       2, "suite or config file is a FIFO"},
      {"CheckEnvelopeIsDevZero", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         return Args{"check", "--envelope", "/dev/zero", s.finished()};
       },
       2, "/dev/zero: envelope is a character device"},
      {"CheckEnvelopeIsFifo", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         return Args{"check", "--envelope", s.fifo("e.json"), s.finished()};
       },
       2, "TMP/e.json: envelope is a FIFO"},
      {"ShowStepsAreDevZero", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         const std::string run = s.finished();
         s.link(run + "/steps.bin", "/dev/zero");
         return Args{"show", run};
       },
       2, "TMP/runs/good/steps.bin: is a character device, not a regular file"},
      {"ShowRecordIsFifo", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         const std::string run = s.finished();
         fs::remove(run + "/record.pb");
         s.fifo("runs/good/record.pb");
         return Args{"show", run};
       },
       2, "TMP/runs/good/record.pb: run record is a FIFO"},
      {"ShowArgumentIsFifo", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         return Args{"show", s.fifo("run")};
       },
       2, "TMP/run: not a run directory"},
      {"CompareEvalsAreDevZero", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         const std::string a = s.finished("a"), b = s.finished("b");
         s.link(b + "/evals.bin", "/dev/zero");
         return Args{"compare", a, b, "--json"};
       },
       2, "TMP/runs/b/evals.bin: is a character device"},
      {"ResumeStepsAreDevZero", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         const std::string run = s.failed();
         s.link(run + "/steps.bin", "/dev/zero");
         return Args{"resume", run};
       },
       2, "TMP/runs/failed/steps.bin: is a character device"},
      {"SweepConfigIsFifo", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         return Args{"sweep", "--config", s.fifo("c.textproto"), "--seeds", "2", "--report", s.at("sweep")};
       },
       2, "TMP/c.textproto: config file is a FIFO"},
      {"RerunRecordIsDevZero", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         const std::string run = s.finished();
         s.link(run + "/record.pb", "/dev/zero");
         return Args{"rerun", run, "--runs-dir", s.runs};
       },
       2, "TMP/runs/good/record.pb: run record is a character device"},
      {"LsSkipsRunWithDevZeroSteps", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         s.failed();
         s.link(s.finished() + "/steps.bin", "/dev/zero");
         return Args{"ls", s.runs};
       },
       0, "skipping TMP/runs/good/steps.bin: is a character device", false,
       [](const Scene&, const testing::BoundedResult& r) {
         EXPECT_NE(r.out.find("failed"), std::string::npos) << r.out;          // the readable run is listed
         EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2) << r.out;  // header + one row
       }},
      {"LsSkipsRunWithFifoRecord", kSpecial,
       [](Scene& s) -> std::optional<Args> {
         s.failed();
         fs::remove(s.finished() + "/record.pb");
         s.fifo("runs/good/record.pb");
         return Args{"ls", s.runs};
       },
       0, "TMP/runs/good/record.pb: run record is a FIFO", false,
       [](const Scene&, const testing::BoundedResult& r) {
         EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2) << r.out;
       }},

      // ---- family 3: an empty or truncated record.pb is not a run ----
      {"ShowEmptyRecord", kEmptyRecord,
       [](Scene& s) -> std::optional<Args> {
         const std::string run = s.finished();
         testing::write_file(run + "/record.pb", "");
         return Args{"show", run};
       },
       2, "TMP/runs/good/record.pb: is empty (not a run record)"},
      {"ShowJsonEmptyRecord", kEmptyRecord,
       [](Scene& s) -> std::optional<Args> {
         const std::string run = s.finished();
         testing::write_file(run + "/record.pb", "");
         return Args{"show", run, "--json"};
       },
       2, "record.pb: is empty"},
      {"CompareEmptyRecord", kEmptyRecord,
       [](Scene& s) -> std::optional<Args> {
         const std::string a = s.finished("a"), b = s.finished("b");
         testing::write_file(b + "/record.pb", "");
         return Args{"compare", a, b};
       },
       2, "TMP/runs/b/record.pb: is empty"},
      {"RerunEmptyRecord", kEmptyRecord,
       [](Scene& s) -> std::optional<Args> {
         const std::string run = s.finished();
         testing::write_file(run + "/record.pb", "");
         return Args{"rerun", run, "--runs-dir", s.runs};
       },
       2, "record.pb: is empty"},
      {"ResumeEmptyRecord", kEmptyRecord,
       [](Scene& s) -> std::optional<Args> {
         const std::string run = s.failed();
         testing::write_file(run + "/record.pb", "");
         return Args{"resume", run};
       },
       2, "TMP/runs/failed/record.pb: is empty"},
      {"ExportEmptyRecord", kEmptyRecord,
       [](Scene& s) -> std::optional<Args> {
         const std::string run = s.finished();
         testing::write_file(run + "/record.pb", "");
         return Args{"export", run, "--to", s.at("model.pt")};
       },
       2, "record.pb: is empty", false,
       [](const Scene& s, const testing::BoundedResult&) { EXPECT_FALSE(fs::exists(s.at("model.pt"))); }},
      {"TraceEmptyRecord", kEmptyRecord,
       [](Scene& s) -> std::optional<Args> {
         const std::string run = s.finished();
         testing::write_file(run + "/record.pb", "");
         return Args{"trace", run};
       },
       2, "TMP/runs/good/record.pb: is empty"},
      {"ShowRecordWithoutRunId", kEmptyRecord,
       [](Scene& s) -> std::optional<Args> {
         const std::string run = s.finished();
         testing::write_file(run + "/record.pb", header_only(1, ""));
         return Args{"show", run};
       },
       2, "TMP/runs/good/record.pb: has no run id"},
      {"ShowRecordWithoutSchemaVersion", kEmptyRecord,
       [](Scene& s) -> std::optional<Args> {
         const std::string run = s.finished();
         testing::write_file(run + "/record.pb", header_only(0, "x"));
         return Args{"show", run};
       },
       2, "TMP/runs/good/record.pb: has no schema_version"},
      {"CompareTruncatedRecord", kEmptyRecord,
       [](Scene& s) -> std::optional<Args> {
         const std::string a = s.finished("a"), b = s.finished("b");
         const std::string bytes = testing::read_file(b + "/record.pb");
         testing::write_file(b + "/record.pb", bytes.substr(0, 2));  // field 1 only: schema_version
         return Args{"compare", a, b, "--json"};
       },
       2, "TMP/runs/b/record.pb: has no run id"},
      {"LsSkipsEmptyRecord", kEmptyRecord,
       [](Scene& s) -> std::optional<Args> {
         s.failed();
         testing::write_file(s.finished() + "/record.pb", "");
         return Args{"ls", s.runs};
       },
       0, "TMP/runs/good/record.pb: is empty", false,
       [](const Scene&, const testing::BoundedResult& r) {
         EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2) << r.out;
       }},

      // ---- family 5: I/O and resource failures exit 4, and no run directory on stdout ----
      {"RunNoSpaceForCheckpoint", kIoCode,
       [](Scene& s) -> std::optional<Args> {
         s.env[internal::kEnvFaultEnospc] = "ckpt-";
         return Args{"run", "--config", s.config(), "--runs-dir", s.runs};
       },
       4, "No space left on device", true,
       [](const Scene& s, const testing::BoundedResult&) {
         const auto runs = list_runs(s.runs);
         ASSERT_EQ(runs.size(), 1u);
         EXPECT_EQ(read_run(runs[0]).status, proto::FAILED);  // recorded, not printed
       }},
      {"RunNoSpaceForRecord", kIoCode,
       [](Scene& s) -> std::
                        optional<Args> {
                          s.env[internal::kEnvFaultEnospc] = "record.pb";
                          return Args{"run", "--config", s.config(), "--runs-dir", s.runs};
                        },
       4, "record.pb: write failed: No space left on device"},
      {"RunNoSpaceForSteps", kIoCode,
       [](Scene& s) -> std::
                        optional<Args> {
                          s.env[internal::kEnvFaultEnospc] = "steps.bin";
                          return Args{"run", "--config", s.config(), "--runs-dir", s.runs, "--json"};
                        },
       4, "steps.bin: write failed: No space left on device"},  // as the run directory is assembled
      {"ResumeDirectorySquatsOnCheckpoint", kIoCode,
       [](Scene& s) -> std::
                        optional<Args> {
                          const std::string run = s.failed();
                          fs::create_directories(run + "/checkpoints/ckpt-00000150.ckpt");
                          return Args{"resume", run};
                        },
       4, "ckpt-00000150.ckpt: is a directory, not a regular file; not replacing it"},
      {"ExportNoSpace", kIoCode,
       [](Scene& s) -> std::optional<Args> {
         s.env[internal::kEnvFaultEnospc] = "model.pt";
         return Args{"export", s.finished(), "--to", s.at("model.pt")};
       },
       4, "write failed: No space left on device", false,
       [](const Scene& s, const testing::BoundedResult&) {
         EXPECT_FALSE(fs::exists(s.at("model.pt")));
         for (const auto& e : fs::directory_iterator(s.tmp))
           EXPECT_EQ(e.path().string().find(".tmp-"), std::string::npos);
       }},

      // ---- family 6: outputs never replace a non-regular file; stdout errors are detected ----
      {"ExportToFifo", kOutputs,
       [](Scene& s) -> std::optional<Args> {
         return Args{"export", s.finished(), "--to", s.fifo("out")};
       },
       4, "TMP/out: is a FIFO, not a regular file; not replacing it", false,
       [](const Scene& s, const testing::BoundedResult&) { EXPECT_TRUE(is_fifo(s.at("out"))); }},
      {"ExportToCharDevice", kOutputs,
       [](Scene& s) -> std::optional<Args> {
         const auto dev = s.char_device("null");
         if (!dev) return std::nullopt;
         return Args{"export", s.finished(), "--to", *dev};
       },
       4, "TMP/null: is a character device, not a regular file; not replacing it", false,
       [](const Scene& s, const testing::BoundedResult&) { EXPECT_TRUE(is_char_device(s.at("null"))); }},
      {"ExportToSymlinkToFifo", kOutputs,
       [](Scene& s) -> std::optional<Args> {
         return Args{"export", s.finished(), "--to", s.link(s.at("out"), s.fifo("pipe"))};
       },
       4, "TMP/out: is a FIFO", false,
       [](const Scene& s, const testing::BoundedResult&) {
         EXPECT_TRUE(fs::is_symlink(s.at("out")));
         EXPECT_TRUE(is_fifo(s.at("pipe")));
       }},
      {"ExportToDirectory", kOutputs,
       [](Scene& s) -> std::
                        optional<Args> {
                          fs::create_directories(s.at("out"));
                          return Args{"export", s.finished(), "--to", s.at("out")};
                        },
       4, "TMP/out: is a directory, not a regular file; not replacing it"},
      {"ExportIntoMissingDirectory", kOutputs,
       [](Scene& s) -> std::
                        optional<Args> {
                          return Args{"export", s.finished(), "--to", s.at("none/model.pt")};
                        },
       4, "TMP/none/model.pt: cannot create: No such file or directory"},
      {"CheckJunitToMissingDirectory", kOutputs,
       [](Scene& s) -> std::
                        optional<Args> {
                          return Args{"check",
                                      s.config(),
                                      "--runs",
                                      "1",
                                      "--baseline",
                                      s.at("baseline"),
                                      "--update-baseline",
                                      "--junit",
                                      s.at("none/junit.xml"),
                                      "--report",
                                      s.at("report")};
                        },
       4, "TMP/none/junit.xml: cannot create: No such file or directory"},
      {"CheckJunitToFifo", kOutputs,
       [](Scene& s) -> std::optional<Args> {
         return Args{"check",
                     s.config(),
                     "--runs",
                     "1",
                     "--baseline",
                     s.at("baseline"),
                     "--update-baseline",
                     "--junit",
                     s.fifo("junit.xml"),
                     "--report",
                     s.at("report")};
       },
       4, "TMP/junit.xml: is a FIFO, not a regular file; not replacing it", false,
       [](const Scene& s, const testing::BoundedResult&) { EXPECT_TRUE(is_fifo(s.at("junit.xml"))); }},
      {"SweepSaveEnvelopeToFifo", kOutputs,
       [](Scene& s) -> std::optional<Args> {
         return Args{"sweep",
                     "--config",
                     s.config(),
                     "--seeds",
                     "2",
                     "--set",
                     "train.steps=20",
                     "--report",
                     s.at("sweep"),
                     "--save-envelope",
                     s.fifo("envelope.json")};
       },
       4, "TMP/envelope.json: is a FIFO, not a regular file; not replacing it", false,
       [](const Scene& s, const testing::BoundedResult&) { EXPECT_TRUE(is_fifo(s.at("envelope.json"))); }},
      {"SweepSaveEnvelopeToCharDevice", kOutputs,
       [](Scene& s) -> std::optional<Args> {
         const auto dev = s.char_device("null");
         if (!dev) return std::nullopt;
         return Args{"sweep",          "--config", s.config(),    "--seeds",         "2", "--set",
                     "train.steps=20", "--report", s.at("sweep"), "--save-envelope", *dev};
       },
       4, "TMP/null: is a character device, not a regular file; not replacing it", false,
       [](const Scene& s, const testing::BoundedResult&) { EXPECT_TRUE(is_char_device(s.at("null"))); }},
      {"LsToDevFull", kOutputs,
       [](Scene& s) -> std::
                        optional<Args> {
                          s.finished();
                          s.stdout_path = "/dev/full";
                          return Args{"ls", s.runs};
                        },
       4, "repro: cannot write to standard output"},
      {"ShowToDevFull", kOutputs,
       [](Scene& s) -> std::
                        optional<Args> {
                          s.stdout_path = "/dev/full";
                          return Args{"show", s.finished()};
                        },
       4, "cannot write to standard output"},
      {"CompareJsonToDevFull", kOutputs,
       [](Scene& s) -> std::
                        optional<Args> {
                          s.stdout_path = "/dev/full";
                          return Args{"compare", s.finished("a"), s.finished("b"), "--json"};
                        },
       4, "cannot write to standard output"},
      {"EnvJsonToDevFull", kOutputs,
       [](Scene& s) -> std::
                        optional<Args> {
                          s.stdout_path = "/dev/full";
                          return Args{"env", "--json"};
                        },
       4, "cannot write to standard output"},
      {"VersionToDevFull", kOutputs,
       [](Scene& s) -> std::
                        optional<Args> {
                          s.stdout_path = "/dev/full";
                          return Args{"--version"};
                        },
       4, "cannot write to standard output"},
      {"RunToDevFull", kOutputs,
       [](Scene& s) -> std::
                        optional<Args> {
                          s.stdout_path = "/dev/full";
                          return Args{"run", "--config", s.config(), "--runs-dir", s.runs, "--set", "train.steps=20"};
                        },
       4, "cannot write to standard output", true},
      // ---- family 1: a record keeps its text as UTF-8; what would not read back is refused ----
      {"RunSetValueNotUtf8", kText,
       [](Scene& s)
           -> std::optional<
               Args> { return Args{"run", "--config", s.config(), "--runs-dir", s.runs, "--set", "name=x\xff"}; },
       2, "run record: argv[7] is not valid UTF-8 (\"name=x\\xff\")"},
      {"RunRunsDirNotUtf8", kText,
       [](Scene& s) -> std::
                        optional<Args> {
                          return Args{"run", "--config", s.config(), "--runs-dir", s.runs + "/sub\xfe"};
                        },
       2, "is not valid UTF-8"},
      {"RunConfigPathNotUtf8", kText,
       [](Scene& s) -> std::
                        optional<Args> {
                          const std::string config = s.at("c\xe9.textproto");
                          fs::copy_file(s.config(), config);
                          return Args{"run", "--config", config, "--runs-dir", s.runs};
                        },
       2, "is not valid UTF-8 (\"TMP/c\\xe9.textproto\")"},
      {"ShowRecordWithBadUtf8", kText,
       [](Scene& s) -> std::
                        optional<Args> {
                          const std::string run = s.finished();
                          proto::RunRecord h;
                          h.ParseFromString(testing::read_file(run + "/record.pb"));
                          h.set_hostname("host\xff");  // a record some other writer made
                          testing::write_file(run + "/record.pb", h.SerializeAsString());
                          return Args{"show", run};
                        },
       2, "record.pb: corrupt run record"},
      // ---- family 8: a value refused in one place is refused in all ----
      {"RunCheckRtolNegative", kValues,
       [](Scene& s)
           -> std::optional<
               Args> { return Args{"run", "--config", s.config(), "--runs-dir", s.runs, "--set", "check.rtol=-1"}; },
       2, "check.rtol: must be a finite number >= 0 (got -1)"},
      {"RunCheckAtolNan", kValues,
       [](Scene& s)
           -> std::optional<
               Args> { return Args{"run", "--config", s.config(), "--runs-dir", s.runs, "--set", "check.atol=nan"}; },
       2, "check.atol: must be a finite number >= 0 (got nan)"},
      {"CompareRtolNegative", kValues,
       [](Scene& s) -> std::
                        optional<Args> {
                          const std::string a = s.finished("a"), b = s.finished("b");
                          return Args{"compare", a, b, "--rtol=-1"};
                        },
       2, "--rtol: must be a finite number >= 0 (got -1)"},
      {"CheckSuiteEntryRtolNegative", kValues,
       [](Scene& s) -> std::
                        optional<Args> {
                          testing::write_file(s.at("suite.textproto"),
                                              "entry { config: \"" + s.config() + "\" rtol: -1 }\n");
                          return Args{"check", s.at("suite.textproto"), "--report", s.at("report")};
                        },
       2, "suite entry 1 (mlp_synthetic): rtol: must be a finite number >= 0 (got -1)"},
      {"CheckSuiteEntryRunsNegative", kValues,
       [](Scene& s) -> std::
                        optional<Args> {
                          testing::write_file(s.at("suite.textproto"),
                                              "entry { config: \"" + s.config() + "\" runs: -1 }\n");
                          return Args{"check", s.at("suite.textproto"), "--report", s.at("report")};
                        },
       2, "suite entry 1 (mlp_synthetic): runs: must be >= 1 (got -1)"},
      {"CheckEnvelopeInvertedBand", kValues,
       [](Scene& s)
           -> std::
               optional<Args> {
                 const std::string run = s.finished();
                 testing::write_file(
                     s.at("e.json"),
                     "{\"schema_version\": 1, \"steps\": [{\"step\": 0, \"loss\": {\"low\": 2, \"high\": 1}}]}");
                 return Args{"check", "--envelope", s.at("e.json"), run};
               },
       2, "TMP/e.json: steps[0] (step 0) loss: band low 2 > high 1"},
      {"CheckEnvelopeStepsOutOfOrder", kValues,
       [](Scene& s) -> std::
                        optional<Args> {
                          const std::string run = s.finished();
                          testing::write_file(
                              s.at("e.json"),
                              "{\"schema_version\": 1, \"steps\": [{\"step\": 3, \"loss\": {\"low\": 0, \"high\": 1}},"
                              " {\"step\": 3, \"loss\": {\"low\": 0, \"high\": 1}}]}");
                          return Args{"check", "--envelope", s.at("e.json"), run};
                        },
       2, "steps must increase (after step 3)"},
      // ---- family 10: one line on stderr, the one that says what failed ----
      {"BareRepro", kOneLine, [](Scene&) -> std::optional<Args> { return Args{}; }, 2,
       "repro: no command given (see 'repro --help' for the commands)"},
      {"CompareRecordWithBadUtf8", kOneLine,
       [](Scene& s) -> std::
                        optional<Args> {
                          const std::string a = s.finished("a"), b = s.finished("b");
                          std::string bytes = testing::read_file(b + "/record.pb");
                          const auto at = bytes.find("mlp");
                          if (at != std::string::npos) bytes[at] = '\xff';  // protobuf logs this before our line
                          testing::write_file(b + "/record.pb", bytes);
                          return Args{"compare", a, b};
                        },
       2, "TMP/runs/b/record.pb: corrupt run record"},
  };
  return kCatalog;
}

std::set<std::string> entries_of(const std::string& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) names.insert(e.path().filename().string());
  return names;
}

std::string replace_tmp(std::string text, const std::string& tmp) {
  for (auto pos = text.find("TMP"); pos != std::string::npos; pos = text.find("TMP", pos + tmp.size())) {
    text.replace(pos, 3, tmp);
  }
  return text;
}

testing::BoundedResult run_in(const Scene& s, const Args& args, double timeout_s) {
  testing::BoundedRun spec;
  spec.argv = {testing::repro_binary()};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = s.env;
  spec.env.emplace(internal::kEnvLogLevel, "warn");  // progress lines are not error lines
  spec.env.emplace(internal::kEnvDigestCache, "off");
  spec.cwd = s.tmp.string();
  spec.stdout_path = s.stdout_path;
  spec.timeout_s = timeout_s;
  return testing::run_bounded(spec);
}

class BadInputCatalogTest : public ::testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() {
    prepared_dir = new testing::TempDir;
    prepared = new Prepared;
    Scene s{prepared_dir->path(), (*prepared_dir) / "runs"};
    const Args base{"run", "--config", s.config(), "--set", "train.checkpoint_every=50", "--runs-dir"};
    Args finished = base;
    finished.push_back(*prepared_dir / "finished");
    const auto ok = run_in(s, finished, 300);
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    prepared->finished = testing::last_line(ok.out);
    s.env[internal::kEnvFaultEnospc] = "ckpt-00000150";
    Args failed = base;
    failed.push_back(*prepared_dir / "failed");
    const auto bad = run_in(s, failed, 300);
    ASSERT_EQ(bad.exit_code, kExitIo) << bad.err;
    const auto runs = list_runs(*prepared_dir / "failed");
    ASSERT_EQ(runs.size(), 1u);
    prepared->failed = runs[0];
  }
  static void TearDownTestSuite() {
    delete prepared;
    delete prepared_dir;
    prepared = nullptr;
    prepared_dir = nullptr;
  }
};

TEST_P(BadInputCatalogTest, ExitsWithOneLineAndLeavesNoRun) {
  ASSERT_NE(prepared, nullptr);
  ASSERT_FALSE(prepared->finished.empty());
  ASSERT_FALSE(prepared->failed.empty());
  const Case& c = GetParam();
  testing::TempDir tmp;
  Scene s{tmp.path(), tmp / "runs"};
  fs::create_directories(s.runs);
  const auto args = c.setup(s);
  if (!args) GTEST_SKIP() << "this machine cannot set up " << c.name;
  const auto before = entries_of(s.runs);
  const auto r = run_in(s, *args, 120);
  SCOPED_TRACE(std::string("family ") + c.family + ": repro " + ::testing::PrintToString(*args));
  ASSERT_FALSE(r.timed_out) << "hung";
  EXPECT_EQ(r.exit_code, c.exit_code) << r.err;
  const auto lines = r.err_lines();
  ASSERT_EQ(lines.size(), 1u) << r.err;
  EXPECT_NE(lines[0].find(replace_tmp(c.stderr_fragment, tmp.path().string())), std::string::npos) << lines[0];
  if (c.exit_code != 0) {
    EXPECT_EQ(r.out, "") << "a failed command prints no result";
  }
  const auto after = entries_of(s.runs);
  if (c.new_run_dir) {
    EXPECT_EQ(after.size(), before.size() + 1) << "expected one run directory";
  } else {
    EXPECT_EQ(after, before) << "the runs directory changed";
  }
  if (c.verify) c.verify(s, r);
}

INSTANTIATE_TEST_SUITE_P(Catalog, BadInputCatalogTest, ::testing::ValuesIn(catalog()),
                         [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(BadInputCatalogSizeTest, HasAtLeastFortyCasesOverSevenFamilies) {
  std::set<std::string> families;
  std::set<std::string> names;
  for (const auto& c : catalog()) {
    families.insert(c.family);
    EXPECT_TRUE(names.insert(c.name).second) << "duplicate case " << c.name;
  }
  EXPECT_GE(catalog().size(), 40u);
  EXPECT_EQ(families.size(), 7u);
}

}  // namespace
}  // namespace repro
