#include "env/environment_diff.h"

#include <map>
#include <set>

namespace repro::internal {
namespace {

std::map<std::string, std::string> libraries_by_role(const proto::Environment& env) {
  std::map<std::string, std::string> roles;
  for (const auto& lib : env.libraries()) {
    auto& paths = roles[lib.role()];
    paths += (paths.empty() ? "" : ", ") + (lib.real_path().empty() ? lib.name() : lib.real_path());
  }
  return roles;
}

// Differences between two maps, each key named with `prefix`; a missing key reads "(unset)".
void diff_maps(const std::string& prefix, const std::map<std::string, std::string>& a,
               const std::map<std::string, std::string>& b, std::vector<std::string>* out) {
  std::set<std::string> keys;
  for (const auto& [k, v] : a) keys.insert(k);
  for (const auto& [k, v] : b) keys.insert(k);
  for (const auto& k : keys) {
    const auto ia = a.find(k), ib = b.find(k);
    const std::string va = ia == a.end() ? "(unset)" : ia->second, vb = ib == b.end() ? "(unset)" : ib->second;
    if (va != vb) out->push_back(prefix + k + ": " + va + " -> " + vb);
  }
}

}  // namespace

std::vector<std::string> numerics_differences(const proto::Environment& before, const proto::Environment& after) {
  std::vector<std::string> out;
  auto diff = [&](const std::string& fact, const std::string& a, const std::string& b) {
    if (a != b) out.push_back(fact + ": " + a + " -> " + b);
  };
  diff("threads.intra_op", std::to_string(before.threads().intra_op()), std::to_string(after.threads().intra_op()));
  diff("threads.inter_op", std::to_string(before.threads().inter_op()), std::to_string(after.threads().inter_op()));
  diff("torch.version", before.torch().version(), after.torch().version());
  diff("torch.package_version", before.torch().package_version(), after.torch().package_version());
  diff("torch.cpu_capability", before.torch().cpu_capability(), after.torch().cpu_capability());
  diff("onednn.version", before.onednn().version(), after.onednn().version());
  diff("onednn.effective_isa", before.onednn().effective_isa(), after.onednn().effective_isa());
  diff_maps("library ", libraries_by_role(before), libraries_by_role(after), &out);
  const std::map<std::string, std::string> env_a(before.numerics_env().begin(), before.numerics_env().end()),
      env_b(after.numerics_env().begin(), after.numerics_env().end());
  diff_maps("env ", env_a, env_b, &out);
  return out;
}

}  // namespace repro::internal
