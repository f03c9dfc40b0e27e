// The bad-input catalog's rows for families 1, 4, 7, 8, 10, 11 and 12: text, content found late,
// suites, values, one line, limits, archives whose digest was forged.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "bad_input_catalog.h"
#include "proto/run_record.pb.h"
#include "repro/checkpoint.h"
#include "repro/error.h"
#include "repro/snapshot.h"
#include "testutil.h"
#include "util/env_names.h"
#include "util/fileutil.h"

// After the generated headers: zlib.h defines zlib_version, a field name of proto::Build.
#include <zlib.h>

namespace repro::catalog {

namespace fs = std::filesystem;

namespace {

// `bytes` gzip-compressed, as the Fashion-MNIST files are.
std::string gzip(const std::string& bytes) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, bytes.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// The decompressed bytes of a gzip file.
std::string gunzip_file(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  EXPECT_NE(f, nullptr) << path;
  std::string out;
  char buf[1 << 16];
  for (int n; (n = gzread(f, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  return out;
}

std::string fmnist_file(const std::string& name) { return std::string(kFashionMnist) + "/" + name; }

constexpr const char* kTrainImages = "train-images-idx3-ubyte.gz";
constexpr const char* kTrainLabels = "train-labels-idx1-ubyte.gz";

Args fmnist_run(const Scene& s, const std::string& dir) {
  return Args{"run",
              "--config",
              testing::config_path("mlp_fashion_mnist.textproto"),
              "--runs-dir",
              s.runs,
              "--set",
              "data.path=" + dir,
              "--set",
              "train.steps=1"};
}

Args csv_run(const Scene& s, const std::string& name, const std::string& text) {
  testing::write_file(s.at(name), text);
  return Args{"run",
              "--config",
              s.config(),
              "--runs-dir",
              s.runs,
              "--set",
              "data.source=csv",
              "--set",
              "data.path=" + s.at(name),
              "--set",
              "data.csv_features=a,b"};
}

// A CSV of `rows` good rows (features a, b; labels 0..3) and then `last`.
std::string csv_rows(int rows, const std::string& last = "") {
  std::string text = "a,b,label\n";
  for (int i = 0; i < rows; ++i) text += std::to_string(i) + ",1.5," + std::to_string(i % 4) + "\n";
  return text + last;
}

// A suite file in TMP with `entries` and the arguments that check it.
Args check_suite(const Scene& s, const std::string& entries) {
  testing::write_file(s.at("suite.textproto"), entries);
  return Args{"check", s.at("suite.textproto"), "--report", s.at("report")};
}

// The report directory of a refused suite is not created: nothing ran.
void no_report(const Scene& s, const testing::BoundedResult&) {
  EXPECT_FALSE(fs::exists(s.at("report"))) << "a refused suite wrote a report";
}

// Rewrites the framed file `path` (magic `magic`) with `from` replaced by `to` once in its
// payload, and the frame's digest made to match, as a crafted file would be.
void forge(const std::string& path, std::string_view magic, const std::string& from, const std::string& to) {
  std::string payload = internal::unframe_payload(testing::read_file(path), magic, path, "file");
  const auto at = payload.find(from);
  ASSERT_NE(at, std::string::npos) << "no '" << from << "' in " << path;
  testing::write_file(path, internal::frame_payload(magic, payload.replace(at, from.size(), to)));
}

}  // namespace

std::vector<Case> content_cases() {
  return {
      // ---- family 1: a record keeps its text as UTF-8; what would not read back is refused ----
      {"RunSetValueNotUtf8", kText,
       [](Scene& s) -> std::optional<Args> {
         return Args{"run", "--config", s.config(), "--runs-dir", s.runs, "--set", "name=x\xff"};
       },
       2, "run record: argv[7] is not valid UTF-8 (\"name=x\\xff\")"},
      {"RunRunsDirNotUtf8", kText,
       [](Scene& s) -> std::optional<Args> {
         return Args{"run", "--config", s.config(), "--runs-dir", s.runs + "/sub\xfe"};
       },
       2, "is not valid UTF-8"},
      {"RunConfigPathNotUtf8", kText,
       [](Scene& s) -> std::optional<Args> {
         const std::string config = s.at("c\xe9.textproto");
         fs::copy_file(s.config(), config);
         return Args{"run", "--config", config, "--runs-dir", s.runs};
       },
       2, "is not valid UTF-8 (\"TMP/c\\xe9.textproto\")"},
      {"ShowRecordWithBadUtf8", kText,
       [](Scene& s) -> std::optional<Args> {
         const std::string run = s.finished();
         proto::RunRecord h;
         h.ParseFromString(testing::read_file(run + "/record.pb"));
         h.set_hostname("host\xff");  // a record some other writer made
         testing::write_file(run + "/record.pb", h.SerializeAsString());
         return Args{"show", run};
       },
       2, "record.pb: corrupt run record"},
      // ---- family 8: a value refused in one place is refused in all ----
      {"RunBlasCoretypeNotAName", kValues,
       [](Scene& s) -> std::optional<Args> {
         return Args{
             "run", "--config", s.config(), "--runs-dir", s.runs, "--set", "determinism.blas_coretype=sky-lake"};
       },
       2, "determinism.blas_coretype: must be an OpenBLAS core name such as nehalem or haswell (got 'sky-lake')"},
      {"RunPortableAgainstAPin", kValues,
       [](Scene& s) -> std::optional<Args> {
         return Args{"run",
                     "--config",
                     s.config(),
                     "--runs-dir",
                     s.runs,
                     "--set",
                     "determinism.portable=true",
                     "--set",
                     "determinism.onednn_max_cpu_isa=avx2"};
       },
       2, "determinism.onednn_max_cpu_isa: determinism.portable pins it to 'sse41'; drop one of the two (got 'avx2')"},
      {"EnvConfigWithoutPortableCheck", kValues,
       [](Scene& s) -> std::optional<Args> {
         return Args{"env", "--config", s.config()};
       },
       2, "--config and --set go with --portable-check"},
      {"RunCheckRtolNegative", kValues,
       [](Scene& s) -> std::optional<Args> {
         return Args{"run", "--config", s.config(), "--runs-dir", s.runs, "--set", "check.rtol=-1"};
       },
       2, "check.rtol: must be a finite number >= 0 (got -1)"},
      {"RunCheckAtolNan", kValues,
       [](Scene& s) -> std::optional<Args> {
         return Args{"run", "--config", s.config(), "--runs-dir", s.runs, "--set", "check.atol=nan"};
       },
       2, "check.atol: must be a finite number >= 0 (got nan)"},
      {"CompareRtolNegative", kValues,
       [](Scene& s) -> std::optional<Args> {
         const std::string a = s.finished("a"), b = s.finished("b");
         return Args{"compare", a, b, "--rtol=-1"};
       },
       2, "--rtol: must be a finite number >= 0 (got -1)"},
      {"CheckSuiteEntryRtolNegative", kValues,
       [](Scene& s) -> std::optional<Args> {
         testing::write_file(s.at("suite.textproto"), "entry { config: \"" + s.config() + "\" rtol: -1 }\n");
         return Args{"check", s.at("suite.textproto"), "--report", s.at("report")};
       },
       2, "suite entry 1 (mlp_synthetic): rtol: must be a finite number >= 0 (got -1)"},
      {"CheckSuiteEntryRunsNegative", kValues,
       [](Scene& s) -> std::optional<Args> {
         testing::write_file(s.at("suite.textproto"), "entry { config: \"" + s.config() + "\" runs: -1 }\n");
         return Args{"check", s.at("suite.textproto"), "--report", s.at("report")};
       },
       2, "suite entry 1 (mlp_synthetic): runs: must be >= 1 (got -1)"},
      {"CheckEnvelopeInvertedBand", kValues,
       [](Scene& s) -> std::optional<Args> {
         const std::string run = s.finished();
         testing::write_file(
             s.at("e.json"),
             "{\"schema_version\": 1, \"steps\": [{\"step\": 0, \"loss\": {\"low\": 2, \"high\": 1}}]}");
         return Args{"check", "--envelope", s.at("e.json"), run};
       },
       2, "TMP/e.json: steps[0] (step 0) loss: band low 2 > high 1"},
      {"CheckEnvelopeStepsOutOfOrder", kValues,
       [](Scene& s) -> std::optional<Args> {
         const std::string run = s.finished();
         testing::write_file(s.at("e.json"),
                             "{\"schema_version\": 1, \"steps\": [{\"step\": 3, \"loss\": {\"low\": 0, \"high\": 1}},"
                             " {\"step\": 3, \"loss\": {\"low\": 0, \"high\": 1}}]}");
         return Args{"check", "--envelope", s.at("e.json"), run};
       },
       2, "steps must increase (after step 3)"},
      // ---- family 4: bad content found after the run began leaves no run directory ----
      {"RunBatchLargerThanSplit", kLate,
       [](Scene& s) -> std::optional<Args> {
         return Args{"run", "--config", s.config(), "--runs-dir", s.runs, "--set", "train.batch_size=100000"};
       },
       2, "train.batch_size: 100000 is larger than the training split (1843 samples)"},
      {"RunUnknownActivation", kLate,
       [](Scene& s) -> std::optional<Args> {
         return Args{"run", "--config", s.config(), "--runs-dir", s.runs, "--set", "model.mlp.activation=swish"};
       },
       2, "model.mlp.activation: unknown activation 'swish' (expected relu, tanh or gelu)"},
      {"RunSyntheticTooLarge", kLate,
       [](Scene& s) -> std::optional<Args> {
         return Args{
             "run", "--config", s.config(), "--runs-dir", s.runs, "--set", "data.synthetic_samples=100000000000"};
       },
       2, "data.synthetic_samples: 100000000000 samples of 16 features in 4 classes is too large to generate"},
      {"RunModelNotTorchScript", kLate,
       [](Scene& s) -> std::optional<Args> {
         testing::write_file(s.at("m.pt"), "not a model\n");
         return Args{
             "run", "--config", s.config(), "--runs-dir", s.runs, "--set", "model.torchscript.path=" + s.at("m.pt")};
       },
       2, "TMP/m.pt: not a TorchScript file"},
      {"CsvRaggedRow", kLate,
       [](Scene& s) -> std::optional<Args> { return csv_run(s, "d.csv", csv_rows(40, "1,2\n")); }, 2,
       "TMP/d.csv:42: expected 3 columns, got 2"},
      {"CsvQuotedField", kLate,
       [](Scene& s) -> std::optional<Args> { return csv_run(s, "d.csv", csv_rows(40, "1,\"2\",0\n")); }, 2,
       "TMP/d.csv:42: column 'b': not a finite number: '\"2\"'"},
      {"CsvLabelOutOfRange", kLate,
       [](Scene& s) -> std::optional<Args> { return csv_run(s, "d.csv", csv_rows(40, "1,2,-3\n")); }, 2,
       "TMP/d.csv:42: label column 'label': not an integer in 0.."},
      {"CsvMissingColumn", kLate,
       [](Scene& s) -> std::optional<Args> { return csv_run(s, "d.csv", "a,c,label\n1,2,0\n"); }, 2,
       "data.csv_features: column 'b' not in header of TMP/d.csv"},
      {"CsvHeaderOnly", kLate, [](Scene& s) -> std::optional<Args> { return csv_run(s, "d.csv", "a,b,label\n"); }, 2,
       "TMP/d.csv: no data rows after the header"},
      {"CsvEmptyFile", kLate, [](Scene& s) -> std::optional<Args> { return csv_run(s, "d.csv", ""); }, 2,
       "TMP/d.csv: data file (csv) is empty"},
      {"CsvDuplicateColumn", kLate,
       [](Scene& s) -> std::optional<Args> { return csv_run(s, "d.csv", "a,b,a,label\n1,2,3,0\n"); }, 2,
       "duplicate column 'a' in header"},
      {"CsvNotANumber", kLate,
       [](Scene& s) -> std::optional<Args> { return csv_run(s, "d.csv", csv_rows(40, "1,inf,0\n")); }, 2,
       "TMP/d.csv:42: column 'b': not a finite number: 'inf'"},
      {"IdxTruncatedGzip", kLate,
       [](Scene& s) -> std::optional<Args> {
         const std::string head = testing::read_file(fmnist_file(kTrainImages)).substr(0, 4096);
         return fmnist_run(s, s.fashion_mnist("fm", kTrainImages, head));
       },
       2, "TMP/fm/train-images-idx3-ubyte.gz: truncated"},
      {"IdxGarbageGzip", kLate,
       [](Scene& s) -> std::optional<Args> {
         return fmnist_run(
             s, s.fashion_mnist("fm", kTrainImages, std::string("\x1f\x8b\x08\x00", 4) + std::string(200, 'x')));
       },
       2, "TMP/fm/train-images-idx3-ubyte.gz: corrupt gzip data"},
      {"IdxNotGzip", kLate,
       [](Scene& s) -> std::optional<Args> {
         return fmnist_run(s, s.fashion_mnist("fm", kTrainImages, "plain text\n"));
       },
       2, "TMP/fm/train-images-idx3-ubyte.gz: not a gzip file (bad gzip magic)"},
      {"IdxBadMagic", kLate,
       [](Scene& s) -> std::optional<Args> {
         std::string bytes = gunzip_file(fmnist_file(kTrainLabels));
         bytes[3] = '\x03';  // 0x00000803 is the images' magic
         return fmnist_run(s, s.fashion_mnist("fm", kTrainLabels, gzip(bytes)));
       },
       2, "TMP/fm/train-labels-idx1-ubyte.gz: bad IDX magic 0x00000803"},
      {"IdxLabelOutOfRange", kLate,
       [](Scene& s) -> std::optional<Args> {
         std::string bytes = gunzip_file(fmnist_file(kTrainLabels));
         bytes[8 + 1234] = '\x0c';  // label 12 of 10 classes
         return fmnist_run(s, s.fashion_mnist("fm", kTrainLabels, gzip(bytes)));
       },
       2, "TMP/fm/train-labels-idx1-ubyte.gz: label 12 at index 1234"},
      {"IdxLabelsMissingData", kLate,
       [](Scene& s) -> std::optional<Args> {
         const std::string bytes = gunzip_file(fmnist_file(kTrainLabels));
         return fmnist_run(s, s.fashion_mnist("fm", kTrainLabels, gzip(bytes.substr(0, bytes.size() - 10))));
       },
       2, "TMP/fm/train-labels-idx1-ubyte.gz: truncated: expected 60000 bytes"},
      {"IdxTrailingData", kLate,
       [](Scene& s) -> std::optional<Args> {
         return fmnist_run(s,
                           s.fashion_mnist("fm", kTrainLabels, gzip(gunzip_file(fmnist_file(kTrainLabels)) + "xyz")));
       },
       2, "TMP/fm/train-labels-idx1-ubyte.gz: unexpected data after the 60000 bytes"},
      {"IdxImplausibleSize", kLate,
       [](Scene& s) -> std::optional<Args> {
         std::string bytes = gunzip_file(fmnist_file(kTrainImages)).substr(0, 16);
         bytes.replace(4, 4, std::string("\x7f\xff\xff\xff", 4));  // 2^31 images of 28x28
         return fmnist_run(s, s.fashion_mnist("fm", kTrainImages, gzip(bytes)));
       },
       2, "TMP/fm/train-images-idx3-ubyte.gz: IDX header declares an implausible size"},
      // ---- family 7: a suite is checked whole before anything runs ----
      {"SuiteMissingConfig", kSuite,
       [](Scene& s) -> std::optional<Args> {
         return check_suite(s, "entry { name: \"gone\" config: \"missing.textproto\" }\n");
       },
       2, "suite entry 1 (gone): TMP/missing.textproto: cannot read config file: No such file or directory", false,
       no_report},
      {"SuiteBadSet", kSuite,
       [](Scene& s) -> std::optional<Args> {
         return check_suite(s, "entry { config: \"" + s.config() + "\" set: \"train.stepz=3\" }\n");
       },
       2, "suite entry 1 (mlp_synthetic): --set train.stepz: train has no field 'stepz'", false, no_report},
      {"SuiteBadSetOnCommand", kSuite,
       [](Scene& s) -> std::optional<Args> {
         return check_suite(s, "entry { command: \"/bin/true\" set: \"optimizer.lr\" }\n");
       },
       2, "suite entry 1 (true): --set optimizer.lr: expected path.to.field=value", false, no_report},
      {"SuiteMissingEnvelope", kSuite,
       [](Scene& s) -> std::optional<Args> {
         return check_suite(s, "entry { config: \"" + s.config() + "\" envelope: \"e.json\" }\n");
       },
       2, "suite entry 1 (mlp_synthetic): TMP/e.json: cannot read envelope: No such file or directory", false,
       no_report},
      {"SuiteEmpty", kSuite, [](Scene& s) -> std::optional<Args> { return check_suite(s, "# nothing yet\n"); }, 2,
       "TMP/suite.textproto: empty: a suite lists entry { ... } blocks", false, no_report},
      {"SuiteEntryWithoutConfig", kSuite,
       [](Scene& s) -> std::optional<Args> { return check_suite(s, "entry { name: \"x\" runs: 2 }\n"); }, 2,
       "suite entry 1 (x): give exactly one of config and command (neither is set)", false, no_report},
      {"SuiteParseErrorAtItsLine", kSuite,
       [](Scene& s) -> std::optional<Args> {
         return check_suite(s, "entry { config: \"a.textproto\" }\n\nentry { config: \"b.textproto\" runz: 2 }\n");
       },
       2, "TMP/suite.textproto:3:35: Message type \"repro.proto.CheckEntry\" has no field named \"runz\"", false,
       no_report},
      {"SuiteNameEscapesTheReport", kSuite,
       [](Scene& s) -> std::optional<Args> {
         return check_suite(s, "entry { name: \"../../etc/x\" config: \"" + s.config() + "\" }\n");
       },
       2, "suite entry 1 (../../etc/x): name \"../../etc/x\" is not a file name", false, no_report},
      {"SuiteDuplicateNames", kSuite,
       [](Scene& s) -> std::optional<Args> {
         return check_suite(s, "entry { config: \"" + s.config() + "\" }\nentry { config: \"" + s.config() +
                                   "\" set: \"train.steps=3\" }\n");
       },
       2, "suite entry 2 (mlp_synthetic): the name is already entry 1's", false, no_report},
      {"SuiteCommandNotFound", kSuite,
       [](Scene& s) -> std::optional<Args> { return check_suite(s, "entry { command: \"no-such-program-x\" }\n"); }, 2,
       "suite entry 1 (no-such-program-x): command: no-such-program-x is neither on PATH nor in TMP", false, no_report},
      // ---- family 10: one line on stderr, the one that says what failed ----
      {"BareRepro", kOneLine, [](Scene&) -> std::optional<Args> { return Args{}; }, 2,
       "repro: no command given (see 'repro --help' for the commands)"},
      {"CompareRecordWithBadUtf8", kOneLine,
       [](Scene& s) -> std::optional<Args> {
         const std::string a = s.finished("a"), b = s.finished("b");
         std::string bytes = testing::read_file(b + "/record.pb");
         const auto at = bytes.find("mlp");
         if (at != std::string::npos) bytes[at] = '\xff';  // protobuf logs this before our line
         testing::write_file(b + "/record.pb", bytes);
         return Args{"compare", a, b};
       },
       2, "TMP/runs/b/record.pb: corrupt run record"},
      {"ResumeStrictNamesEveryDifferenceOnce", kOneLine,
       [](Scene& s) -> std::optional<Args> {
         return Args{"resume", s.failed(), "--strict", "--intra-op-threads", "2"};
       },
       2, "not resumed (--strict): the environment differs from the recorded run: threads.intra_op: 1 -> 2"},
      {"EnvVerifyBinaryFile", kOneLine,
       [](Scene& s) -> std::optional<Args> {
         testing::write_file(s.at("env.lock"), std::string("\x1b[2J\x00 \x01 \x7f\xff\r", 11));
         return Args{"env", "--verify", s.at("env.lock")};
       },
       2, "TMP/env.lock:1: expected '<package> <version>', got '\\x1b[2J\\x00 \\x01 \\x7f\\xff\\x0d'"},
      // ---- family 12: archives whose frame digest was forged to match changed contents ----
      {"ExportCheckpointWithForgedClassSource", kArchives,
       [](Scene& s) -> std::optional<Args> {
         const std::string run = s.finished();
         forge(list_checkpoints(run).back().path, "RPRCKPT1", "  __buffers__ = []\n", "  __buffjrs__ = []\n");
         return Args{"export", run, "--to", s.at("model.pt")};
       },
       2, ".py line 3: '  __buffjrs__ = []' is not an attribute line torch writes", false,
       [](const Scene& s, const testing::BoundedResult&) { EXPECT_FALSE(fs::exists(s.at("model.pt"))); }},
      {"ShowSnapshotWithForgedStorageSize", kArchives,
       [](Scene& s) -> std::optional<Args> {
         const std::string path = s.at("model.pt");
         export_snapshot(s.finished(), path);
         // the first storage's element count, one more: after its device string ('cpu', put in
         // the memo) comes K <count> or M <count, 2 bytes>, low byte first
         std::string payload = internal::unframe_payload(testing::read_file(path), "RPRSNAP1", path, "snapshot");
         const std::size_t at =
             payload.find(std::string("X\x03\x00\x00\x00"
                                      "cpuq",
                                      9));
         EXPECT_TRUE(at != std::string::npos && (payload[at + 10] == 'K' || payload[at + 10] == 'M'));
         if (at != std::string::npos) payload[at + 11] = static_cast<char>(payload[at + 11] + 1);
         testing::write_file(path, internal::frame_payload("RPRSNAP1", payload));
         return Args{"show", path};
       },
       2, "TMP/model.pt: snapshot archive: data.pkl: byte 141: storage '0' of "},
      // ---- family 11: limits and odd arguments ----
      {"EnvVerifyDirectory", kLimits,
       [](Scene& s) -> std::optional<Args> {
         return Args{"env", "--verify", s.runs};
       },
       2, "TMP/runs: cannot read lock file: Is a directory"},
      {"ShowMissingRun", kLimits,
       [](Scene& s) -> std::optional<Args> {
         return Args{"show", s.at("nothing")};
       },
       2, "TMP/nothing"},
      {"RunsDirIsAFile", kLimits,
       [](Scene& s) -> std::optional<Args> {
         testing::write_file(s.at("file"), "x\n");
         return Args{"run", "--config", s.config(), "--runs-dir", s.at("file")};
       },
       4, "TMP/file: cannot create directory"},
      {"RunDirAlreadyExists", kLimits,
       [](Scene& s) -> std::optional<Args> {
         s.env[internal::kEnvRunDir] = s.finished("taken");
         return Args{"run", "--config", s.config()};
       },
       2, "TMP/runs/taken: run directory already exists"},
  };
}

}  // namespace repro::catalog
