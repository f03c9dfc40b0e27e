// The report's view of records: a message's fields as rows, a run's series.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <algorithm>

#include "report/site.h"
#include "repro/digest.h"
#include "util/exact.h"
#include "util/textproto.h"

namespace repro::internal {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Items of a repeated field listed one by one; the rest of a longer list is summarised.
constexpr int kListedItems = 16;

void flatten_into(const Message& m, const std::string& prefix, std::vector<std::pair<std::string, std::string>>* rows) {
  const auto* d = m.GetDescriptor();
  const Reflection* r = m.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    const std::string path = prefix.empty() ? f->name() : prefix + "." + f->name();
    if (f->is_map()) {
      const FieldDescriptor* key = f->message_type()->map_key();
      const FieldDescriptor* value = f->message_type()->map_value();
      // Map order is unspecified: sort the entries by key so that two records line up.
      std::vector<std::pair<std::string, const Message*>> entries;
      for (int j = 0; j < r->FieldSize(m, f); ++j) {
        const Message& e = r->GetRepeatedMessage(m, f, j);
        entries.emplace_back(internal::scalar_text(e, key, 0), &e);
      }
      std::sort(entries.begin(), entries.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
      for (const auto& [k, e] : entries) {
        const std::string entry = path + "[" + k + "]";
        if (value->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          flatten_into(e->GetReflection()->GetMessage(*e, value), entry, rows);
        } else {
          rows->emplace_back(entry, internal::scalar_text(*e, value, 0));
        }
      }
    } else if (f->is_repeated()) {
      const int n = r->FieldSize(m, f);
      // A long list (a derived seed per epoch, an order digest per epoch) would bury the page:
      // its first items, then one row for the rest with their digest, so that two records
      // whose rests differ still differ in that row.
      const int listed = n > kListedItems + 4 ? kListedItems : n;
      std::vector<std::pair<std::string, std::string>> rest;
      for (int j = 0; j < n; ++j) {
        const std::string item = path + "[" + std::to_string(j) + "]";
        auto* into = j < listed ? rows : &rest;
        if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          flatten_into(r->GetRepeatedMessage(m, f, j), item, into);
        } else {
          into->emplace_back(item, internal::scalar_text(m, f, j));
        }
      }
      if (listed < n) {
        std::string text;
        for (const auto& [k, v] : rest) text += k.substr(k.find('[')) + "=" + v + "\n";
        rows->emplace_back(path + "[" + std::to_string(listed) + ".." + std::to_string(n - 1) + "]",
                           std::to_string(n - listed) + " more, XXH3 " + digest_bytes(text));
      }
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (r->HasField(m, f)) flatten_into(r->GetMessage(m, f), path, rows);
    } else if (!f->containing_oneof() || r->HasField(m, f)) {
      rows->emplace_back(path, internal::scalar_text(m, f, 0));
    }
  }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> flatten(const Message& message, const std::string& prefix) {
  std::vector<std::pair<std::string, std::string>> rows;
  flatten_into(message, prefix, &rows);
  return rows;
}

std::vector<Series> run_series(const RunData& run) {
  // As compare.h reads them: the header's names, else those of the first step, else the loss.
  std::vector<std::string> names(run.header.series().begin(), run.header.series().end());
  if (names.empty() && !run.steps.empty()) {
    for (const auto& v : run.steps.front().values()) names.push_back(v.name());
  }
  std::vector<Series> out;
  if (names.empty()) {
    out.push_back({"loss", {}});
    for (const auto& s : run.steps) out[0].values.emplace_back(s.step(), loss_of(s));
    return out;
  }
  for (const auto& name : names) out.push_back({name, {}});
  for (const auto& s : run.steps) {
    for (const auto& v : s.values()) {
      for (auto& series : out) {
        if (series.name != v.name()) continue;
        series.values.emplace_back(s.step(), internal::value_of(v));
      }
    }
  }
  return out;
}

std::string verdict_name(proto::Verdict verdict) {
  switch (verdict) {
    case proto::IDENTICAL:
      return "identical";
    case proto::WITHIN_TOLERANCE:
      return "within_tolerance";
    case proto::DIVERGED:
      return "diverged";
    case proto::INCOMPARABLE:
      return "incomparable";
    default:
      return "unspecified";
  }
}

}  // namespace repro::internal
