// header_differences: config (by reflection), seeds, data, code and model of two run headers.
// The environment is walked in compare_environment.cc.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compare/compare_differences.h"
#include "repro/compare.h"
#include "repro/data.h"
#include "repro/error.h"
#include "run/code_patch.h"
#include "util/exact.h"
#include "util/strings.h"
#include "util/textproto.h"

namespace repro {
namespace internal {

void DifferenceList::add(const std::string& category, const std::string& field, const std::string& a,
                         const std::string& b, bool affects_numerics, const std::string& what, const std::string& why) {
  if (a == b) return;
  proto::Difference d;
  d.set_category(category);
  d.set_field(field);
  d.set_a(a);
  d.set_b(b);
  d.set_affects_numerics(affects_numerics);
  // Long or multi-line values (digests, summaries) stay in a and b; the explanation is one line.
  const auto short_text = [](const std::string& s) { return s.size() <= 40 && s.find('\n') == std::string::npos; };
  const std::string values = short_text(a) && short_text(b) ? " " + or_none(a) + " vs " + or_none(b) : "";
  d.set_explanation(what + values + (why.empty() ? "" : ": " + why));
  items_.push_back(std::move(d));
}

void DifferenceList::add_explained(const std::string& category, const std::string& field, const std::string& a,
                                   const std::string& b, bool affects_numerics, const std::string& explanation) {
  proto::Difference d;
  d.set_category(category);
  d.set_field(field);
  d.set_a(a);
  d.set_b(b);
  d.set_affects_numerics(affects_numerics);
  d.set_explanation(explanation);
  items_.push_back(std::move(d));
}

std::string or_none(const std::string& text) { return text.empty() ? "(none)" : text; }

}  // namespace internal

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using internal::DifferenceList;
using internal::or_none;

std::string value_text(const Message& m, const FieldDescriptor* f, int index) {
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      const Reflection* r = m.GetReflection();
      return "\"" + (f->is_repeated() ? r->GetRepeatedString(m, f, index) : r->GetString(m, f)) + "\"";
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return "{...}";
    default:
      return internal::scalar_text(m, f, index);
  }
}

std::string field_text(const Message& m, const FieldDescriptor* f) {
  if (!f->is_repeated()) return value_text(m, f, 0);
  std::string out = "[";
  const int n = m.GetReflection()->FieldSize(m, f);
  for (int i = 0; i < n; ++i) out += (i ? ", " : "") + value_text(m, f, i);
  return out + "]";
}

// Why a config field can change the numbers; empty for bookkeeping fields.
std::string config_reason(const std::string& path) {
  static const std::map<std::string, std::string> kReasons = {
      {"optimizer.lr", "another learning rate"},
      {"optimizer.name", "another optimizer"},
      {"determinism.intra_op_threads", "parallel reductions may sum in another order"},
      {"determinism.inter_op_threads", "independent operations may run in another order"},
      {"determinism.deterministic_algorithms", "nondeterministic kernels may be used"},
      {"determinism.cpu_capability", "other CPU kernels (ISA) compute the ops"},
      {"determinism.onednn_max_cpu_isa", "oneDNN may use other instructions"},
      {"determinism.blas_coretype", "other OpenBLAS sgemm kernels"},
      {"determinism.glibc_hwcaps", "libm's exp, log, sin... may round differently"},
      {"train.batch_size", "other batches"},
      {"train.steps", "another run length"},
      {"data.shuffle", "another sample order"},
  };
  if (const auto it = kReasons.find(path); it != kReasons.end()) return it->second;
  const std::string section = path.substr(0, path.find('.'));
  if (section == "optimizer") return "another optimizer setting";
  if (section == "model") return "another model";
  if (section == "data") return "other data or preprocessing";
  if (section == "train") return "another training schedule";
  if (section == "determinism") return "other determinism settings";
  return "";
}

bool config_affects_numerics(const std::string& path) {
  // determinism.portable only fills in the four pins, which are compared themselves;
  // train.final_eval decides what is evaluated after training, not how it trains.
  if (path == "determinism.portable" || path == "train.final_eval") return false;
  const std::string section = path.substr(0, path.find('.'));
  return section != "record" && section != "name" && section != "check";
}

void add_config_field(const std::string& path, const std::string& a, const std::string& b, DifferenceList& out) {
  if (path == "seed") {
    out.add("seed", "config.seed", a, b, true, "master seed", "every random draw differs");
    return;
  }
  out.add("config", "config." + path, a, b, config_affects_numerics(path), path, config_reason(path));
}

void walk_config(const Message& a, const Message& b, const std::string& prefix, DifferenceList& out) {
  const auto* desc = a.GetDescriptor();
  const Reflection* ra = a.GetReflection();
  const Reflection* rb = b.GetReflection();
  for (int i = 0; i < desc->oneof_decl_count(); ++i) {
    const auto* oneof = desc->oneof_decl(i);
    const auto* fa = ra->GetOneofFieldDescriptor(a, oneof);
    const auto* fb = rb->GetOneofFieldDescriptor(b, oneof);
    if (fa != fb) {
      add_config_field(prefix + oneof->name(), fa ? fa->name() : "", fb ? fb->name() : "", out);
    }
  }
  for (int i = 0; i < desc->field_count(); ++i) {
    const FieldDescriptor* f = desc->field(i);
    const std::string path = prefix + f->name();
    if (f->is_map()) continue;  // params: compared by name in compare_params.cc
    if (f->containing_oneof() != nullptr) {
      // Only the member both have set is walked; a different choice was reported above.
      if (ra->GetOneofFieldDescriptor(a, f->containing_oneof()) != f ||
          rb->GetOneofFieldDescriptor(b, f->containing_oneof()) != f) {
        continue;
      }
    }
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !f->is_repeated()) {
      walk_config(ra->GetMessage(a, f), rb->GetMessage(b, f), path + ".", out);
    } else {
      add_config_field(path, field_text(a, f), field_text(b, f), out);
    }
  }
}

void add_seed_differences(const proto::RunRecord& a, const proto::RunRecord& b, DifferenceList& out) {
  if (a.config().seed() != b.config().seed()) return;  // named once, as config.seed
  if (a.seed() != b.seed()) {
    out.add("seed", "seed", std::to_string(a.seed()), std::to_string(b.seed()), true, "master seed",
            "every random draw differs");
    return;
  }
  std::map<std::string, std::pair<std::string, std::string>> by_purpose;
  for (const auto& s : a.seeds()) by_purpose[s.purpose()].first = std::to_string(s.seed());
  for (const auto& s : b.seeds()) by_purpose[s.purpose()].second = std::to_string(s.seed());
  // A seed is drawn when first asked for: one that only one run drew (an epoch's shuffle seed)
  // is a difference only when both runs finished; an unfinished run may not have got there.
  const bool both_finished = a.status() == proto::FINISHED && b.status() == proto::FINISHED;
  for (const auto& [purpose, v] : by_purpose) {
    if (!both_finished && (v.first.empty() || v.second.empty())) continue;
    out.add("seed", "seeds[" + purpose + "]", v.first, v.second, true, "seed for " + purpose,
            "its random draws differ");
  }
}

std::string file_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// A directory's files, named against the two runs' manifests when both can be read.
std::string directory_change(const proto::InputFile& fa, const proto::InputFile& fb, const std::string& dir_a,
                             const std::string& dir_b) {
  if (!dir_a.empty() && !dir_b.empty() && !fa.manifest().empty() && !fb.manifest().empty()) {
    try {
      return describe_diff(fb.path(), diff_manifests(read_manifest(dir_a + "/" + fa.manifest()),
                                                     read_manifest(dir_b + "/" + fb.manifest())));
    } catch (const Error&) {
      // a run directory without its manifest: named by its counts below
    }
  }
  const auto files = [](int64_t n) { return std::to_string(n) + (n == 1 ? " file" : " files"); };
  return fb.path() + ": content changed (" + files(fa.file_count()) + " vs " + files(fb.file_count()) + ")";
}

void add_data_differences(const proto::DataFingerprint& a, const proto::DataFingerprint& b, const std::string& dir_a,
                          const std::string& dir_b, DifferenceList& out) {
  out.add("data", "data.source", a.source(), b.source(), true, "data source", "other data");
  std::map<std::string, std::pair<const proto::InputFile*, const proto::InputFile*>> by_role;
  for (const auto& f : a.files()) by_role[f.role()].first = &f;
  for (const auto& f : b.files()) by_role[f.role()].second = &f;
  for (const auto& [role, files] : by_role) {
    const std::string field = "data.files[" + role + "]";
    const auto* fa = files.first;
    const auto* fb = files.second;
    if (fa == nullptr || fb == nullptr) {
      out.add("data", field, fa ? fa->path() : "", fb ? fb->path() : "", true, role + " file",
              "an input only one run read");
      continue;
    }
    out.add("data", field + ".path", fa->path(), fb->path(), false, role + " path", "");
    if (fa->directory() && fb->directory()) {
      if (fa->xxh3() != fb->xxh3()) {
        out.add_explained("data", field + ".files", fa->xxh3(), fb->xxh3(), true,
                          directory_change(*fa, *fb, dir_a, dir_b));
      }
      continue;
    }
    if (fa->size() != fb->size() || fa->xxh3() != fb->xxh3()) {
      out.add("data", field + ".xxh3", fa->xxh3(), fb->xxh3(), true, file_name(fb->path()) + " content changed", "");
    }
  }
  out.add("data", "data.train_samples", std::to_string(a.train_samples()), std::to_string(b.train_samples()), true,
          "training samples", "another training set");
  out.add("data", "data.validation_samples", std::to_string(a.validation_samples()),
          std::to_string(b.validation_samples()), true, "validation samples", "another validation set");
  out.add("data", "data.test_samples", std::to_string(a.test_samples()), std::to_string(b.test_samples()), true,
          "test samples", "another test set");
  out.add("data", "data.split_digest", a.split_digest(), b.split_digest(), true, "train/validation split",
          "other samples in each split");
  const int epochs = std::min(a.epoch_order_digests_size(), b.epoch_order_digests_size());
  for (int e = 0; e < epochs; ++e) {
    if (a.epoch_order_digests(e) == b.epoch_order_digests(e)) continue;
    out.add("data", "data.epoch_order_digests[" + std::to_string(e) + "]", a.epoch_order_digests(e),
            b.epoch_order_digests(e), true, "epoch " + std::to_string(e) + " order", "samples come in another order");
    break;  // later epochs follow from the first that differs
  }
}

constexpr const char* kPatchWhat = "uncommitted changes (code.patch)";

// Why two commits differ: the files changed between them, when the recorded work tree can still
// tell (git diff --name-only A B); else just that the code is other.
std::string commit_reason(const proto::CodeIdentity& a, const proto::CodeIdentity& b) {
  std::optional<std::vector<std::string>> files =
      internal::files_changed_between(a.git_root(), a.git_commit(), b.git_commit());
  if (!files && b.git_root() != a.git_root()) {
    files = internal::files_changed_between(b.git_root(), a.git_commit(), b.git_commit());
  }
  if (!files) return "other code";
  return "other code; " + std::to_string(files->size()) + (files->size() == 1 ? " file" : " files") +
         " changed between them" + (files->empty() ? "" : ": " + internal::some_names(*files));
}

void add_code_differences(const proto::CodeIdentity& a, const proto::CodeIdentity& b, DifferenceList& out) {
  if (a.git_commit() != b.git_commit()) {
    out.add("code", "code.git_commit", a.git_commit(), b.git_commit(), true, "git commit",
            a.git_commit().empty() || b.git_commit().empty()
                ? std::string("run ") + (a.git_commit().empty() ? "A" : "B") +
                      " was not made in a git checkout: the code may differ"
                : commit_reason(a, b));
  }
  // Uncommitted changes are relative to a commit: with one run made outside git there is nothing
  // to hold them against, and the commit's difference already says the code may differ.
  const bool both_in_git = !a.git_commit().empty() && !b.git_commit().empty();
  if (a.git_dirty() != b.git_dirty() && (both_in_git || a.git_commit() == b.git_commit())) {
    const auto& dirty = a.git_dirty() ? a : b;
    const std::vector<std::string> files(dirty.changed_files().begin(), dirty.changed_files().end());
    out.add("code", "code.git_dirty", a.git_dirty() ? "true" : "false", b.git_dirty() ? "true" : "false", true,
            "uncommitted changes",
            "the code may differ from its commit" + (files.empty() ? std::string()
                                                                   : std::string("; ") + (a.git_dirty() ? "A" : "B") +
                                                                         " changed " + internal::some_names(files)));
  } else if (a.git_dirty() && a.git_commit() == b.git_commit() && a.patch_xxh3() != b.patch_xxh3()) {
    out.add("code", "code.patch_xxh3", or_none(a.patch_xxh3()), or_none(b.patch_xxh3()), true, kPatchWhat,
            internal::changed_files_text(a, b));
  }
  if (a.executable_xxh3() != b.executable_xxh3()) {
    out.add("code", "code.executable_xxh3", a.executable_xxh3(), b.executable_xxh3(), true, "executable changed", "");
  }
  out.add("code", "code.executable_path", a.executable_path(), b.executable_path(), false, "executable path", "");
}

std::string tensors_text(const proto::ModelIdentity& m) {
  std::string out;
  for (const auto& t : m.tensors()) {
    out += (out.empty() ? "" : " ") + t.name() + "[";
    for (int i = 0; i < t.shape_size(); ++i) out += (i ? "," : "") + std::to_string(t.shape(i));
    out += "]" + (t.dtype().empty() ? "" : ":" + t.dtype());
  }
  return out;
}

// A resume in another numerics environment (`repro resume --intra-op-threads 2`): the steps
// after it ran with other settings than the header's. Named unless the other run was resumed
// at the same step with the same differences.
void add_resume_differences(const proto::RunRecord& a, const proto::RunRecord& b, DifferenceList& out) {
  const auto changes = [](const proto::ResumeEvent& r) { return internal::join(r.environment_differences(), "; "); };
  const auto named = [&](const proto::RunRecord& run, const proto::RunRecord& other, const char* side) {
    for (int i = 0; i < run.resumes_size(); ++i) {
      const auto& r = run.resumes(i);
      if (r.environment_differences().empty()) continue;
      if (i < other.resumes_size() && other.resumes(i).from_step() == r.from_step() &&
          changes(other.resumes(i)) == changes(r)) {
        continue;
      }
      const std::string what = changes(r);
      out.add_explained("environment", "resumes[" + std::to_string(i) + "].environment", side[0] == 'A' ? what : "",
                        side[0] == 'B' ? what : "", true,
                        std::string("run ") + side + " was resumed at step " + std::to_string(r.from_step()) +
                            " in another environment: " + what);
    }
  };
  named(a, b, "A");
  named(b, a, "B");
}

void add_model_differences(const proto::ModelIdentity& a, const proto::ModelIdentity& b, DifferenceList& out) {
  out.add("model", "model.name", a.name(), b.name(), true, "model", "another model");
  if (a.file().size() != b.file().size() || a.file().xxh3() != b.file().xxh3()) {
    out.add("model", "model.file.xxh3", or_none(a.file().xxh3()), or_none(b.file().xxh3()), true,
            "model file " + file_name(b.file().path().empty() ? a.file().path() : b.file().path()) + " content changed",
            "other initial weights or code");
  }
  if (a.summary() != b.summary()) {
    out.add("model", "model.summary", a.summary(), b.summary(), true, "architecture", "another architecture");
  }
  if (const auto ta = tensors_text(a), tb = tensors_text(b); ta != tb) {
    out.add("model", "model.tensors", ta, tb, true, "tensor names/shapes", "another architecture");
  }
  out.add("model", "model.num_parameters", std::to_string(a.num_parameters()), std::to_string(b.num_parameters()), true,
          "parameter count", "another architecture");
  out.add("model", "model.initial_digest", a.initial_digest(), b.initial_digest(), true, "initial parameters differ",
          "");
}

}  // namespace

namespace internal {

void name_patched_files(const RunData& a, const RunData& b,
                        google::protobuf::RepeatedPtrField<proto::Difference>* out) {
  for (auto& d : *out) {
    if (d.field() != "code.patch_xxh3") continue;
    const auto& ca = a.header.code();
    const auto& cb = b.header.code();
    const std::string pa = read_code_patch(a.dir, ca);
    const std::string pb = read_code_patch(b.dir, cb);
    if (pa.empty() || pb.empty()) return;  // not kept or gone: the names from changed_files stay
    std::vector<std::string> left_out = left_out_paths(ca);
    for (auto& p : left_out_paths(cb)) left_out.push_back(std::move(p));
    const auto files = files_patched_differently(pa, pb, left_out);
    if (files.empty()) return;
    d.set_explanation(std::string(kPatchWhat) + " " + d.a() + " vs " + d.b() + ": other changes in " +
                      some_names(files));
    return;
  }
}

}  // namespace internal

std::vector<proto::Difference> header_differences(const proto::RunRecord& a, const proto::RunRecord& b,
                                                  const std::string& dir_a, const std::string& dir_b) {
  DifferenceList out;
  // First: another world size explains a batch size that changed with it.
  internal::add_distributed_differences(a, b, out);
  walk_config(a.config(), b.config(), "", out);
  internal::add_params_differences(a, b, out);
  internal::add_argv_differences(a, b, out);
  add_seed_differences(a, b, out);
  add_data_differences(a.data(), b.data(), dir_a, dir_b, out);
  add_code_differences(a.code(), b.code(), out);
  out.add("run", "origin", a.origin(), b.origin(), false, "origin", "");
  // What the runs record: the step series (record_step with named values) are compared one by
  // one where both have them; a list that differs says the program records other losses.
  out.add("run", "series", internal::join(a.series(), ","), internal::join(b.series(), ","), false, "recorded series",
          "the programs record other step values");
  internal::add_environment_differences(a.environment(), b.environment(), out);
  if (a.environment().os().hostname() == b.environment().os().hostname()) {
    out.add("environment", "hostname", a.hostname(), b.hostname(), false, "hostname", "");
  }
  add_model_differences(a.model(), b.model(), out);
  add_resume_differences(a, b, out);
  return out.take();
}

}  // namespace repro
