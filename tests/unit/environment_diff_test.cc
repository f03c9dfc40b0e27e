// environment_differences, numerics_differences and the resume check that uses them: one rule
// for which environment differences can change numerics, for `repro compare` and resume alike.
#include "env/environment_diff.h"

#include <gmock/gmock.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "repro/compare.h"
#include "repro/environment.h"
#include "repro/error.h"
#include "session/session_resume.h"

namespace repro {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using internal::check_resume_differences;
using internal::environment_differences;
using internal::numerics_differences;
using ::testing::HasSubstr;

void add_library(proto::Environment* env, const std::string& role, const std::string& name,
                 const std::string& real_path, const std::string& version) {
  auto* lib = env->add_libraries();
  lib->set_role(role);
  lib->set_name(name);
  lib->set_real_path(real_path);
  lib->set_version(version);
}

// Two torch libraries, as a process with torch's CUDA part loaded maps them.
proto::Environment two_torch_libraries() {
  proto::Environment env;
  add_library(&env, "torch", "/lib/x86_64-linux-gnu/libtorch_cpu.so.1.13",
              "/usr/lib/x86_64-linux-gnu/libtorch_cpu.so.1.13.0", "1.13.0");
  add_library(&env, "torch", "/lib/x86_64-linux-gnu/libtorch.so.1.13", "/usr/lib/x86_64-linux-gnu/libtorch.so.1.13.0",
              "1.13.0");
  return env;
}

TEST(EnvironmentDiffTest, TwoTorchLibrariesOneChangedNamesThatOne) {
  const proto::Environment a = two_torch_libraries();
  proto::Environment b = a;
  // The first of the role changed: keeping only the last library of each role missed it.
  b.mutable_libraries(0)->set_real_path("/opt/torch/lib/libtorch_cpu.so.1.13.1");
  b.mutable_libraries(0)->set_version("1.13.1");
  const auto diffs = environment_differences(a, b);
  ASSERT_EQ(diffs.size(), 2u);
  EXPECT_EQ(diffs[0].field, "libraries[torch:libtorch_cpu].real_path");
  EXPECT_EQ(diffs[0].a, "/usr/lib/x86_64-linux-gnu/libtorch_cpu.so.1.13.0");
  EXPECT_EQ(diffs[0].b, "/opt/torch/lib/libtorch_cpu.so.1.13.1");
  EXPECT_TRUE(diffs[0].affects_numerics);
  EXPECT_EQ(diffs[1].field, "libraries[torch:libtorch_cpu].version");
  EXPECT_EQ(diffs[1].a, "1.13.0");
  EXPECT_EQ(diffs[1].b, "1.13.1");

  proto::RunRecord ra, rb;
  *ra.mutable_environment() = a;
  *rb.mutable_environment() = b;
  const auto compared = header_differences(ra, rb);
  ASSERT_EQ(compared.size(), 2u);
  EXPECT_EQ(compared[0].field(), "environment.libraries[torch:libtorch_cpu].real_path");
  EXPECT_EQ(compared[0].explanation(), "libtorch_cpu library changed");
  EXPECT_EQ(compared[1].field(), "environment.libraries[torch:libtorch_cpu].version");
  EXPECT_EQ(compared[1].explanation(), "libtorch_cpu library version 1.13.0 vs 1.13.1");

  EXPECT_EQ(numerics_differences(a, b),
            (std::vector<std::string>{"libraries[torch:libtorch_cpu].real_path: "
                                      "/usr/lib/x86_64-linux-gnu/libtorch_cpu.so.1.13.0 -> "
                                      "/opt/torch/lib/libtorch_cpu.so.1.13.1",
                                      "libraries[torch:libtorch_cpu].version: 1.13.0 -> 1.13.1"}));
}

TEST(EnvironmentDiffTest, LibrariesInAnotherOrderAreTheSame) {
  const proto::Environment a = two_torch_libraries();
  proto::Environment b = a;
  b.mutable_libraries()->SwapElements(0, 1);
  EXPECT_TRUE(environment_differences(a, b).empty());
}

TEST(EnvironmentDiffTest, LibraryLoadedInOneRunOnlyIsNamed) {
  const proto::Environment a = two_torch_libraries();
  proto::Environment b = a;
  add_library(&b, "torch", "/lib/x86_64-linux-gnu/libtorch_cuda.so.1.13",
              "/usr/lib/x86_64-linux-gnu/libtorch_cuda.so.1.13.0", "1.13.0");
  const auto diffs = environment_differences(a, b);
  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_EQ(diffs[0].field, "libraries[torch:libtorch_cuda]");
  EXPECT_EQ(diffs[0].a, "");
  EXPECT_EQ(diffs[0].b, "/usr/lib/x86_64-linux-gnu/libtorch_cuda.so.1.13.0");
  EXPECT_EQ(diffs[0].why, "loaded in only one run");
  EXPECT_EQ(numerics_differences(a, b),
            (std::vector<std::string>{"libraries[torch:libtorch_cuda]: (none) -> "
                                      "/usr/lib/x86_64-linux-gnu/libtorch_cuda.so.1.13.0"}));
}

TEST(EnvironmentDiffTest, SingleLibraryOfARoleIsNamedByItsRole) {
  proto::Environment a, b;
  add_library(&a, "blas", "/lib/x86_64-linux-gnu/libblas.so.3", "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0",
              "3.11.0");
  add_library(&b, "blas", "/lib/x86_64-linux-gnu/libopenblas.so.0",
              "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0", "OpenBLAS 0.3.21");
  const auto diffs = environment_differences(a, b);
  ASSERT_EQ(diffs.size(), 2u);
  EXPECT_EQ(diffs[0].field, "libraries[blas].real_path");
  EXPECT_EQ(diffs[0].b, "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0");
  EXPECT_EQ(diffs[1].field, "libraries[blas].version");
  EXPECT_EQ(diffs[1].b, "OpenBLAS 0.3.21");
}

TEST(EnvironmentDiffTest, NumericsLinesNameTheFactAndBothValues) {
  proto::Environment a, b;
  a.mutable_threads()->set_intra_op(1);
  b.mutable_threads()->set_intra_op(2);
  b.mutable_torch()->set_mkl_version("2020.0");
  a.mutable_torch()->set_build_config("PyTorch built with:\n  - GCC 12.2\n");
  b.mutable_torch()->set_build_config("PyTorch built with:\n  - GCC 13.1\n");
  (*a.mutable_numerics_env())["OMP_NUM_THREADS"] = "1";
  a.mutable_os()->set_hostname("alpha");
  b.mutable_os()->set_hostname("beta");
  EXPECT_EQ(numerics_differences(a, b),
            (std::vector<std::string>{"torch.mkl_version: (none) -> 2020.0",
                                      "torch.build_config: changed (long value; both environments are recorded)",
                                      "threads.intra_op: 1 -> 2", "numerics_env[OMP_NUM_THREADS]: 1 -> (unset)"}));
}

// The messages logged while it lives, kept off the console.
class CapturedLog {
 public:
  CapturedLog() : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256)) {
    sink_->set_pattern("%l: %v");
    for (const auto& s : spdlog::default_logger()->sinks()) muted_.emplace_back(s, s->level());
    for (const auto& [s, level] : muted_) s->set_level(spdlog::level::off);
    spdlog::default_logger()->sinks().push_back(sink_);
  }
  ~CapturedLog() {
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
    for (const auto& [s, level] : muted_) s->set_level(level);
  }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  std::vector<std::string> lines() const {
    auto lines = sink_->last_formatted();
    for (auto& l : lines) l.erase(l.find_last_not_of("\r\n") + 1);
    return lines;
  }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::vector<std::pair<spdlog::sink_ptr, spdlog::level::level_enum>> muted_;
};

// --- Every fact of a real captured environment, changed one at a time -----------------------

// A field to step into: singular (index -1) or an element of a repeated field.
using Path = std::vector<std::pair<const FieldDescriptor*, int>>;

Message* resolve(Message* root, const Path& path) {
  Message* m = root;
  for (const auto& [f, i] : path) {
    const Reflection* r = m->GetReflection();
    m = i < 0 ? r->MutableMessage(m, f) : r->MutableRepeatedMessage(m, f, i);
  }
  return m;
}

void change_scalar(Message* m, const FieldDescriptor* f, const std::string& suffix) {
  const Reflection* r = m->GetReflection();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      r->SetString(m, f, r->GetString(*m, f) + suffix);
      break;
    case FieldDescriptor::CPPTYPE_INT32:
      r->SetInt32(m, f, r->GetInt32(*m, f) + 1);
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      r->SetInt64(m, f, r->GetInt64(*m, f) + 1);
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      r->SetUInt32(m, f, r->GetUInt32(*m, f) + 1);
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      r->SetUInt64(m, f, r->GetUInt64(*m, f) + 1);
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      r->SetDouble(m, f, r->GetDouble(*m, f) + 0.5);
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      r->SetFloat(m, f, r->GetFloat(*m, f) + 0.5f);
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      r->SetBool(m, f, !r->GetBool(*m, f));
      break;
    default:
      ADD_FAILURE() << "no change defined for " << f->full_name();
  }
}

// Every empty repeated message gets one element, and every empty string of each first element a
// value, so that every field of the environment can be changed on any machine.
void fill(Message* m) {
  const Reflection* r = m->GetReflection();
  for (int i = 0; i < m->GetDescriptor()->field_count(); ++i) {
    const FieldDescriptor* f = m->GetDescriptor()->field(i);
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (!f->is_repeated()) {
      fill(r->MutableMessage(m, f));
      continue;
    }
    Message* first = r->FieldSize(*m, f) > 0 ? r->MutableRepeatedMessage(m, f, 0) : r->AddMessage(m, f);
    for (int j = 0; j < first->GetDescriptor()->field_count(); ++j) {
      const FieldDescriptor* g = first->GetDescriptor()->field(j);
      const Reflection* fr = first->GetReflection();
      if (g->cpp_type() == FieldDescriptor::CPPTYPE_STRING && !g->is_repeated() && fr->GetString(*first, g).empty()) {
        fr->SetString(first, g, g->name() + "-filled");
      }
    }
  }
}

struct Change {
  std::string label;  // "torch.version", "libraries[0].real_path", "libraries+" (added), "libraries[0]-"
  proto::Environment env;
};

void collect_changes(const proto::Environment& base, const Message& m, const Path& path, const std::string& prefix,
                     std::vector<Change>& out) {
  const Reflection* r = m.GetReflection();
  const auto changed = [&](const std::string& label, const auto& edit) {
    Change c{label, base};
    edit(resolve(&c.env, path));
    out.push_back(std::move(c));
  };
  for (int i = 0; i < m.GetDescriptor()->field_count(); ++i) {
    const FieldDescriptor* f = m.GetDescriptor()->field(i);
    const std::string name = prefix + f->name();
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !f->is_repeated()) {
      Path inner = path;
      inner.emplace_back(f, -1);
      collect_changes(base, r->GetMessage(m, f), inner, name + ".", out);
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {  // repeated, or a map
      Path first = path;
      first.emplace_back(f, 0);
      collect_changes(base, r->GetRepeatedMessage(m, f, 0), first, name + "[0].", out);
      changed(name + "+", [&](Message* at) {
        Message* added = at->GetReflection()->AddMessage(at, f);
        added->CopyFrom(r->GetRepeatedMessage(m, f, 0));
        for (int j = 0; j < added->GetDescriptor()->field_count(); ++j) {
          const FieldDescriptor* g = added->GetDescriptor()->field(j);
          if (g->cpp_type() == FieldDescriptor::CPPTYPE_STRING && !g->is_repeated()) change_scalar(added, g, "-added");
        }
      });
      changed(name + "[0]-", [&](Message* at) {
        const Reflection* ar = at->GetReflection();
        ar->SwapElements(at, f, 0, ar->FieldSize(*at, f) - 1);
        ar->RemoveLast(at, f);
      });
    } else if (f->is_repeated()) {
      changed(name + "+", [&](Message* at) { at->GetReflection()->AddString(at, f, "added"); });
    } else {
      changed(name, [&](Message* at) { change_scalar(at, f, "-changed"); });
    }
  }
}

enum class Expect { kRefused, kReportedOnly, kIgnored };

// What each single change must do: refused by strict resume (and named by compare as affecting
// numerics), named by compare only, or neither. Labels not listed are refused.
const std::map<std::string, Expect>& not_refused() {
  static const std::map<std::string, Expect> kNotRefused = {
      {"os.name", Expect::kReportedOnly},
      {"os.kernel", Expect::kReportedOnly},
      {"os.hostname", Expect::kReportedOnly},
      {"cpu.cgroup_cpu_limit", Expect::kReportedOnly},
      {"schema_version", Expect::kIgnored},
      {"captured_at", Expect::kIgnored},
      {"torch.cxx_flags", Expect::kIgnored},
      {"torch.cuda_available", Expect::kIgnored},
      {"torch.deterministic_algorithms", Expect::kIgnored},
      {"libraries[0].name", Expect::kIgnored},  // the real path decides
      {"threads.intra_op_source", Expect::kIgnored},
      {"threads.hardware_concurrency", Expect::kIgnored},
      {"onednn.max_cpu_isa", Expect::kIgnored},  // the variable itself is in numerics_env
      {"blas.version", Expect::kIgnored},        // libraries[blas] compares the same version
      {"blas.dynamic_arch", Expect::kIgnored},   // part of that version; the core in use decides
      {"libm.hwcaps", Expect::kIgnored},         // GLIBC_TUNABLES is in numerics_env; the variant decides
      {"build.cxx_standard", Expect::kIgnored},
      {"build.cxx11_abi", Expect::kIgnored},
      {"build.reprotorch_version", Expect::kIgnored},
      {"build.protobuf_version", Expect::kIgnored},
      {"build.spdlog_version", Expect::kIgnored},
      {"build.boost_version", Expect::kIgnored},
      {"build.xxhash_version", Expect::kIgnored},
      {"build.zlib_version", Expect::kIgnored},
      {"os.machine", Expect::kIgnored},
      {"cpu.vendor", Expect::kIgnored},
      {"cpu.logical_cores", Expect::kIgnored},
      {"cpu.physical_cores", Expect::kIgnored},
      {"cpu.affinity_cores", Expect::kIgnored},
      {"cpu.cgroup_cpus", Expect::kIgnored},
      {"cuda.devices[0].index", Expect::kIgnored},
      {"packages[0].locked", Expect::kIgnored},
      {"identity.executable_path", Expect::kIgnored},
      {"identity.executable_xxh3", Expect::kIgnored},
      {"identity.executable_size", Expect::kIgnored},
      {"unavailable[0].fact", Expect::kIgnored},
      {"unavailable[0].reason", Expect::kIgnored},
      {"unavailable+", Expect::kIgnored},
      {"unavailable[0]-", Expect::kIgnored},
  };
  return kNotRefused;
}

// The environment facts compare names for a change, without "environment.", by whether they
// affect numerics.
std::set<std::string> compared_fields(const proto::Environment& a, const proto::Environment& b, bool numerics) {
  proto::RunRecord ra, rb;
  *ra.mutable_environment() = a;
  *rb.mutable_environment() = b;
  std::set<std::string> fields;
  for (const auto& d : header_differences(ra, rb)) {
    EXPECT_EQ(d.category(), "environment") << d.field();
    if (d.affects_numerics() == numerics) fields.insert(d.field().substr(std::string("environment.").size()));
  }
  return fields;
}

TEST(EnvironmentDiffTest, StrictResumeRefusesEveryNumericsFactCompareNames) {
  proto::Environment base = capture_environment();
  fill(&base);
  ASSERT_TRUE(environment_differences(base, base).empty());
  std::vector<Change> changes;
  collect_changes(base, base, {}, "", changes);
  ASSERT_GE(changes.size(), 74u);

  std::set<std::string> labels;
  int refused = 0;
  for (const auto& c : changes) {
    SCOPED_TRACE(c.label);
    labels.insert(c.label);
    const auto lines = numerics_differences(base, c.env);
    std::set<std::string> facts;
    for (const auto& line : lines) facts.insert(line.substr(0, line.find(": ")));
    const auto numerics = compared_fields(base, c.env, true);
    const auto others = compared_fields(base, c.env, false);
    EXPECT_EQ(facts, numerics) << "resume and compare disagree";

    const auto it = not_refused().find(c.label);
    const Expect expect = it == not_refused().end() ? Expect::kRefused : it->second;
    if (expect == Expect::kRefused) {
      ++refused;
      EXPECT_FALSE(lines.empty());
      std::vector<std::string> warnings;
      for (const auto& line : lines)
        warnings.push_back("warning: resume: environment differs from the recorded run: " + line);
      try {
        const CapturedLog log;
        check_resume_differences("runs/r", lines, /*strict=*/true);
        ADD_FAILURE() << "strict resume went ahead";
      } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kUsage);
        EXPECT_THAT(e.what(), HasSubstr("runs/r: not resumed (--strict): the environment differs"));
        for (const auto& line : lines) EXPECT_THAT(e.what(), HasSubstr(line));
      }
      const CapturedLog log;
      EXPECT_NO_THROW(check_resume_differences("runs/r", lines, /*strict=*/false));
      EXPECT_EQ(log.lines(), warnings);
    } else {
      EXPECT_TRUE(lines.empty());
      const CapturedLog log;
      EXPECT_NO_THROW(check_resume_differences("runs/r", lines, /*strict=*/true));
      EXPECT_TRUE(log.lines().empty());
      EXPECT_EQ(others.empty(), expect == Expect::kIgnored) << "named by compare, not affecting numerics";
    }
  }
  for (const auto& [label, expect] : not_refused()) EXPECT_EQ(labels.count(label), 1u) << label << " not a field";
  EXPECT_GE(refused, 38);
}

TEST(EnvironmentDiffTest, HostnameAndKernelAreReportedButNotRefused) {
  const proto::Environment a = capture_environment();
  proto::Environment b = a;
  b.mutable_os()->set_hostname(a.os().hostname() + "-other");
  b.mutable_os()->set_kernel("Linux 6.1.0-99-amd64 #1 SMP");
  const auto diffs = environment_differences(a, b);
  ASSERT_EQ(diffs.size(), 2u);
  EXPECT_EQ(diffs[0].field, "os.kernel");
  EXPECT_EQ(diffs[0].b, "Linux 6.1.0-99-amd64 #1 SMP");
  EXPECT_FALSE(diffs[0].affects_numerics);
  EXPECT_EQ(diffs[1].field, "os.hostname");
  EXPECT_EQ(diffs[1].b, a.os().hostname() + "-other");
  EXPECT_FALSE(diffs[1].affects_numerics);
  EXPECT_TRUE(numerics_differences(a, b).empty());
  EXPECT_NO_THROW(check_resume_differences("runs/r", numerics_differences(a, b), /*strict=*/true));
}

}  // namespace
}  // namespace repro

namespace repro::internal {
namespace {

// OpenBLAS spells the core it picked inside its version; a core change is blas.core's
// difference alone, not also a "library version" one per mapped name.
TEST(EnvironmentDiffTest, AnOpenBlasCoreChangeIsNamedOnceAsTheCore) {
  proto::Environment a = capture_environment();
  if (a.blas().implementation() != "openblas" || a.blas().core().empty()) GTEST_SKIP() << "no OpenBLAS here";
  proto::Environment b = a;
  b.mutable_blas()->set_core("Prescott");
  for (auto& lib : *b.mutable_libraries()) {
    const std::string word = " " + a.blas().core() + " ";
    const auto at = lib.version().find(word);
    if (at != std::string::npos)
      lib.set_version(lib.version().substr(0, at) + " Prescott " + lib.version().substr(at + word.size()));
  }
  const auto diffs = environment_differences(a, b);
  std::string fields;
  for (const auto& d : diffs) fields += d.field + " ";
  ASSERT_EQ(diffs.size(), 1u) << fields;
  EXPECT_EQ(diffs[0].field, "blas.core");
  EXPECT_EQ(diffs[0].b, "Prescott");
}

}  // namespace
}  // namespace repro::internal
