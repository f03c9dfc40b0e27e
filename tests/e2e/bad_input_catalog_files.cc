// The bad-input catalog's rows for families 2, 3, 5 and 6: special files, empty records, one exit code for I/O
// failures, outputs.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "bad_input_catalog.h"
#include "proto/run_record.pb.h"
#include "repro/error.h"
#include "testutil.h"
#include "util/env_names.h"

namespace repro::catalog {

namespace fs = std::filesystem;

std::vector<Case> file_cases() {
  return {
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
       [](Scene& s) -> std::optional<Args> {
         s.env[internal::kEnvFaultEnospc] = "record.pb";
         return Args{"run", "--config", s.config(), "--runs-dir", s.runs};
       },
       4, "record.pb: write failed: No space left on device"},
      {"RunNoSpaceForSteps", kIoCode,
       [](Scene& s) -> std::optional<Args> {
         s.env[internal::kEnvFaultEnospc] = "steps.bin";
         return Args{"run", "--config", s.config(), "--runs-dir", s.runs, "--json"};
       },
       4, "steps.bin: write failed: No space left on device"},  // as the run directory is assembled
      {"ResumeDirectorySquatsOnCheckpoint", kIoCode,
       [](Scene& s) -> std::optional<Args> {
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
      {"CheckReportDirIsAFile", kIoCode,
       [](Scene& s) -> std::optional<Args> {
         testing::write_file(s.at("report"), "a file where the report directory goes\n");
         return Args{"check", s.config(), "--runs", "1", "--report", s.at("report")};
       },
       4, "TMP/report: cannot create directory"},
      {"SweepReportDirUnderAFile", kIoCode,
       [](Scene& s) -> std::optional<Args> {
         testing::write_file(s.at("file"), "x\n");
         return Args{"sweep", "--config", s.config(), "--seeds", "2", "--report", s.at("file") + "/sweep"};
       },
       4, "TMP/file/sweep: cannot create directory: Not a directory"},
      {"RunRunsDirUnderAFile", kIoCode,
       [](Scene& s) -> std::optional<Args> {
         testing::write_file(s.at("file"), "x\n");
         return Args{"run", "--config", s.config(), "--runs-dir", s.at("file") + "/runs"};
       },
       4, "TMP/file/runs: cannot create directory"},

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
       [](Scene& s) -> std::optional<Args> {
         fs::create_directories(s.at("out"));
         return Args{"export", s.finished(), "--to", s.at("out")};
       },
       4, "TMP/out: is a directory, not a regular file; not replacing it"},
      {"ExportIntoMissingDirectory", kOutputs,
       [](Scene& s) -> std::optional<Args> {
         return Args{"export", s.finished(), "--to", s.at("none/model.pt")};
       },
       4, "TMP/none/model.pt: cannot create: No such file or directory"},
      {"CheckJunitToMissingDirectory", kOutputs,
       [](Scene& s) -> std::optional<Args> {
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
       [](Scene& s) -> std::optional<Args> {
         s.finished();
         s.stdout_path = "/dev/full";
         return Args{"ls", s.runs};
       },
       4, "repro: cannot write to standard output"},
      {"ShowToDevFull", kOutputs,
       [](Scene& s) -> std::optional<Args> {
         s.stdout_path = "/dev/full";
         return Args{"show", s.finished()};
       },
       4, "cannot write to standard output"},
      {"CompareJsonToDevFull", kOutputs,
       [](Scene& s) -> std::optional<Args> {
         s.stdout_path = "/dev/full";
         return Args{"compare", s.finished("a"), s.finished("b"), "--json"};
       },
       4, "cannot write to standard output"},
      {"EnvJsonToDevFull", kOutputs,
       [](Scene& s) -> std::optional<Args> {
         s.stdout_path = "/dev/full";
         return Args{"env", "--json"};
       },
       4, "cannot write to standard output"},
      {"VersionToDevFull", kOutputs,
       [](Scene& s) -> std::optional<Args> {
         s.stdout_path = "/dev/full";
         return Args{"--version"};
       },
       4, "cannot write to standard output"},
      {"RunToDevFull", kOutputs,
       [](Scene& s) -> std::optional<Args> {
         s.stdout_path = "/dev/full";
         return Args{"run", "--config", s.config(), "--runs-dir", s.runs, "--set", "train.steps=20"};
       },
       4, "cannot write to standard output", true},
  };
}

}  // namespace repro::catalog
