// header_differences for what a user's program says about its settings: its hyperparameters
// (Session::param) and its command line.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "compare/compare_differences.h"

namespace repro::internal {
namespace {

const char* source_word(proto::ParamSource source) {
  switch (source) {
    case proto::PARAM_SOURCE_DEFAULT:
      return "default";
    case proto::PARAM_SOURCE_CONFIG:
      return "config";
    case proto::PARAM_SOURCE_OVERRIDE:
      return "override";
    default:
      return "unknown";
  }
}

// " (B: override)", " (A: config, B: override)": where a value that is not the default came from.
std::string sources_note(const proto::Param& a, const proto::Param& b) {
  std::string note;
  if (a.source() != proto::PARAM_SOURCE_DEFAULT) note += std::string("A: ") + source_word(a.source());
  if (b.source() != proto::PARAM_SOURCE_DEFAULT) {
    note += (note.empty() ? "" : ", ") + std::string("B: ") + source_word(b.source());
  }
  return note.empty() ? "" : " (" + note + ")";
}

proto::Difference make(const std::string& field, const std::string& a, const std::string& b, bool numerics,
                       const std::string& explanation) {
  proto::Difference d;
  d.set_category("params");
  d.set_field(field);
  d.set_a(a);
  d.set_b(b);
  d.set_affects_numerics(numerics);
  d.set_explanation(explanation);
  return d;
}

void add_param(const std::string& name, const proto::Param* a, const proto::Param* b, DifferenceList& out) {
  const std::string field = "params." + name;
  if (a == nullptr || b == nullptr) {
    const proto::Param& only = a != nullptr ? *a : *b;
    out.add(make(field, a ? a->value() : "", b ? b->value() : "", true,
                 field + " " + or_none(a ? a->value() : "") + " vs " + or_none(b ? b->value() : "") +
                     ": asked for by run " + (a ? "A" : "B") + " only (" + source_word(only.source()) + ")"));
    return;
  }
  if (a->type() != b->type()) {
    out.add(make(field + ".type", a->type(), b->type(), true,
                 field + " type " + a->type() + " vs " + b->type() + ": another parameter"));
  }
  const bool value_differs = a->value() != b->value();
  if (value_differs) {
    out.add(make(field, a->value(), b->value(), true,
                 field + " " + or_none(a->value()) + " vs " + or_none(b->value()) + sources_note(*a, *b)));
  }
  if (a->default_value() != b->default_value()) {
    // A changed default matters when it is the value in use in either run.
    const bool in_use = a->source() == proto::PARAM_SOURCE_DEFAULT || b->source() == proto::PARAM_SOURCE_DEFAULT;
    out.add(make(field + ".default", a->default_value(), b->default_value(), value_differs && in_use,
                 field + ".default " + or_none(a->default_value()) + " vs " + or_none(b->default_value()) +
                     ": the default in the program's code changed"));
  }
  if (a->source() != b->source()) {
    out.add(make(field + ".source", source_word(a->source()), source_word(b->source()), false,
                 field + " from " + source_word(a->source()) + " vs " + source_word(b->source())));
  }
}

}  // namespace

void add_params_differences(const proto::RunRecord& a, const proto::RunRecord& b, DifferenceList& out) {
  // Run A's order first (the order its program asked), then what only B asked for.
  std::vector<std::string> names;
  std::map<std::string, std::pair<const proto::Param*, const proto::Param*>> by_name;
  for (const auto& p : a.params()) {
    if (by_name.emplace(p.name(), std::make_pair(&p, nullptr)).second) names.push_back(p.name());
  }
  for (const auto& p : b.params()) {
    auto [it, added] = by_name.emplace(p.name(), std::make_pair(nullptr, &p));
    if (added) {
      names.push_back(p.name());
    } else if (it->second.second == nullptr) {
      it->second.second = &p;
    }
  }
  for (const auto& name : names) add_param(name, by_name[name].first, by_name[name].second, out);

  // The config's params entries that no program asked for: bookkeeping, unless asked.
  std::set<std::string> keys;
  for (const auto& [k, v] : a.config().params()) keys.insert(k);
  for (const auto& [k, v] : b.config().params()) keys.insert(k);
  for (const auto& k : keys) {
    if (by_name.count(k)) continue;
    const auto va = a.config().params().find(k), vb = b.config().params().find(k);
    const std::string ta = va == a.config().params().end() ? "" : va->second;
    const std::string tb = vb == b.config().params().end() ? "" : vb->second;
    out.add("params", "config.params." + k, ta, tb, false, "config.params." + k,
            "not asked for by the program (Session::param)");
  }
}

void add_argv_differences(const proto::RunRecord& a, const proto::RunRecord& b, DifferenceList& out) {
  // A built-in run's argv names a temporary config file (the config is compared); argv[0] is
  // the executable's path, which a rerun replaces (code.executable_xxh3 covers the program).
  if (a.origin() != "session" || b.origin() != "session") return;
  const int n = std::max(a.argv_size(), b.argv_size());
  for (int i = 1; i < n; ++i) {
    const std::string va = i < a.argv_size() ? a.argv(i) : "";
    const std::string vb = i < b.argv_size() ? b.argv(i) : "";
    const std::string field = "argv[" + std::to_string(i) + "]";
    const std::string why = i >= a.argv_size() || i >= b.argv_size() ? "an argument only one run was given"
                                                                     : "another command-line setting";
    out.add("argv", field, va, vb, true, field, why);
  }
}

}  // namespace repro::internal
