// What a torch archive may hold before torch reads it (the rules are in archive_check.h): the
// zip and what ties its records together; archive_parts.h has the parts.
#include "run/archive_check.h"

#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/read_adapter_interface.h>
#include <torch/serialize/input-archive.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "run/archive_parts.h"
#include "util/strings.h"

namespace repro::internal {
namespace archive {
namespace {

class StringAdapter final : public caffe2::serialize::ReadAdapterInterface {
 public:
  explicit StringAdapter(const std::string& bytes) : bytes_(bytes) {}
  std::size_t size() const override { return bytes_.size(); }
  std::size_t read(uint64_t pos, void* buf, std::size_t n, const char* /*what*/) const override {
    if (pos >= bytes_.size()) return 0;
    n = std::min<std::size_t>(n, bytes_.size() - pos);
    std::memcpy(buf, bytes_.data() + pos, n);
    return n;
  }

 private:
  const std::string& bytes_;
};

// The class a code record defines ("code/__torch__/___torch_mangle_3.py" →
// "__torch__.___torch_mangle_3.Module"); "" for a name that is none.
std::string class_of_code_record(const std::string& name) {
  if (name == "code/__torch__.py") return "__torch__.Module";
  constexpr std::string_view prefix = "code/__torch__/___torch_mangle_", suffix = ".py";
  if (!starts_with(name, prefix) || !ends_with(name, suffix)) return "";
  const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  return is_digits(digits) ? "__torch__.___torch_mangle_" + digits + ".Module" : "";
}

void check_archive(const std::string& payload, const Place& at) {
  // torch::jit::load reads a payload with "PTMF" at offset 4 as a flatbuffer, whatever its end.
  if (payload.size() < 8 || payload.compare(0, 4, "PK\x03\x04") != 0 || payload.compare(4, 4, "PTMF") == 0) {
    at.refuse("the payload", "is not a zip archive");
  }
  std::map<std::string, std::string> records;   // all but the tensor data, which is only measured
  std::map<std::string, std::size_t> storages;  // data/<key> → bytes
  archive_context(at.path + ": " + at.what + " archive: not a zip archive torch reads", [&] {
    caffe2::serialize::PyTorchStreamReader reader(std::make_shared<StringAdapter>(payload));
    std::set<std::string> seen;
    for (const std::string& name : reader.getAllRecords()) {
      if (!seen.insert(name).second) at.refuse(printable(name), "is in the archive twice");
      const auto [data, size] = reader.getRecord(name);
      if (size > payload.size()) at.refuse(printable(name), "is compressed, which torch's writer never does");
      if (starts_with(name, "data/") && is_digits(std::string_view(name).substr(5))) {
        storages.emplace(name, size);
      } else {
        records.emplace(name, std::string(static_cast<const char*>(data.get()), size));
      }
    }
  });

  std::map<std::string, std::set<std::string>> class_types;  // class → classes its attributes name
  std::vector<std::string> pickles;
  for (const auto& [name, bytes] : records) {
    const std::string shown = printable(name);
    if (name == "version" || name == ".data/version" || name == ".format_version" || name == ".storage_alignment") {
      std::string_view v = bytes;
      if (!v.empty() && v.back() == '\n') v.remove_suffix(1);
      if (!is_digits(v)) at.refuse(name, "is not a number");
    } else if (name == "byteorder") {
      if (bytes != "little" && bytes != "big") at.refuse(name, "is neither little nor big");
    } else if (name == ".data/serialization_id") {
      if (bytes.size() > 64 || !std::all_of(bytes.begin(), bytes.end(), is_name_char)) {
        at.refuse(name, "is not a serialization id");
      }
    } else if (name == "data.pkl" || name == "constants.pkl") {
      pickles.push_back(name);
    } else if (const std::string cls = class_of_code_record(name); !cls.empty()) {
      class_types.emplace(cls, check_class_source(bytes, name, at));
    } else if (ends_with(name, ".debug_pkl") &&
               !class_of_code_record(name.substr(0, name.size() - std::strlen(".debug_pkl"))).empty()) {
      pickles.push_back(name);
    } else {
      at.refuse(shown, "is not a record torch writes for an archive of values");
    }
  }
  if (records.count("data.pkl") == 0) at.refuse("data.pkl", "is missing");
  if (records.count("constants.pkl") == 0) at.refuse("constants.pkl", "is missing");

  std::set<std::string> named;  // classes the pickles name
  for (const std::string& name : pickles) {
    Pickle which = Pickle::kDebug;
    if (name == "data.pkl") {
      which = Pickle::kData;
    } else if (name == "constants.pkl") {
      which = Pickle::kConstants;
    } else {
      const std::string code = name.substr(0, name.size() - std::strlen(".debug_pkl"));
      if (records.count(code) == 0) at.refuse(name, "has no " + code);
    }
    check_pickle(records.at(name), name, at, which, storages, &named);
  }

  // Every class named is in the archive, and none contains itself (torch would recurse).
  for (const auto& [cls, types] : class_types) named.insert(types.begin(), types.end());
  for (const std::string& cls : named) {
    if (class_types.count(cls) == 0) at.refuse("code/", "class " + cls + " is named but not in the archive");
  }
  std::map<std::string, int> state;  // 1: being visited, 2: done
  std::function<void(const std::string&, std::size_t)> visit = [&](const std::string& cls, std::size_t depth) {
    int& s = state[cls];
    if (s == 2) return;
    if (s == 1 || depth > kMaxDepth) at.refuse("code/", "class " + cls + " contains itself");
    s = 1;
    for (const std::string& inner : class_types.at(cls)) visit(inner, depth + 1);
    state[cls] = 2;
  };
  for (const auto& entry : class_types) visit(entry.first, 0);
}

}  // namespace
}  // namespace archive

void check_torch_archive(const std::string& payload, const std::string& path, const std::string& what) {
  archive::check_archive(payload, archive::Place{path, what});
}

void load_torch_archive(torch::serialize::InputArchive& archive, const std::string& payload, const std::string& path,
                        const std::string& what) {
  check_torch_archive(payload, path, what);
  archive_context(path + ": unreadable " + what, [&] { archive.load_from(payload.data(), payload.size()); });
}

}  // namespace repro::internal