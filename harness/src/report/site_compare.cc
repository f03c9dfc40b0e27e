// compare-<a>-<b>.html: verdict, first divergent step, named causes, curves and |difference|,
// the trace report, and every header field side by side.
#include <algorithm>
#include <cmath>
#include <map>

#include "report/site.h"
#include "util/exact.h"
#include "util/strings.h"

namespace repro::internal {
namespace {

Html causes(const proto::ComparisonReport& r) {
  std::vector<proto::Difference> ds(r.differences().begin(), r.differences().end());
  std::stable_sort(ds.begin(), ds.end(),
                   [](const auto& x, const auto& y) { return x.affects_numerics() && !y.affects_numerics(); });
  std::vector<Row> rows;
  for (const auto& d : ds) {
    rows.push_back(Row{{cell(d.affects_numerics() ? "numerics" : "other"), cell(d.category()), cell(code(d.field())),
                        cell(d.a()), cell(d.b()), cell(d.explanation())},
                       {{"data-field", d.field()}, {"data-numerics", d.affects_numerics() ? "1" : "0"}},
                       d.affects_numerics() ? "numerics" : ""});
  }
  if (rows.empty()) return note("the two headers differ in nothing that is compared");
  return table("causes-table", {"affects", "category", "field", "A", "B", "explanation"}, rows);
}

Html trace_section(const proto::TraceReport& t) {
  Html out = labelled_value("trace verdict", proto::TraceVerdict_Name(t.verdict()), "trace-verdict");
  out += paragraph(text(t.summary()), "trace-summary-line");
  std::vector<std::pair<std::string, std::string>> kv = {
      {"step traced", std::to_string(t.step())},
      {"step the records named", std::to_string(t.requested_step())},
      {"walk", join(t.walk(), "\n")},
      {"state differences", join(t.state_differences(), "\n")},
      {"op index", std::to_string(t.op_index())},
      {"op", t.op_a().name()},
      {"op phase, scope", proto::Phase_Name(t.op_a().phase()) + ", " + t.op_a().scope()},
      {"ops (A, B)", std::to_string(t.ops_a()) + ", " + std::to_string(t.ops_b())},
      {"trace files", t.trace_a() + "\n" + t.trace_b()},
  };
  out += key_values(kv, "trace-summary");
  out += labelled_value("first diverging op", t.op_a().name(), "trace-op");
  // The op's inputs and outputs side by side, the differing ones marked.
  std::vector<Row> rows;
  auto add = [&](const char* what, const auto& a, const auto& b, const auto& differing) {
    const int n = std::max(a.size(), b.size());
    for (int i = 0; i < n; ++i) {
      const bool differs = std::find(differing.begin(), differing.end(), i) != differing.end();
      auto text_of = [](const auto& list, int k) -> std::string {
        if (k >= list.size()) return "-";
        const auto& v = list.Get(k);
        std::vector<std::string> shape;
        for (auto d : v.shape()) shape.push_back(std::to_string(d));
        return v.kind() + (v.dtype().empty() ? "" : " " + v.dtype()) +
               (shape.empty() ? "" : " [" + join(shape, ", ") + "]") + (v.value().empty() ? "" : " " + v.value()) +
               "\n" + v.digest();
      };
      rows.push_back(Row{{cell(std::string(what) + " " + std::to_string(i)), cell(text_of(a, i)), cell(text_of(b, i)),
                          cell(differs ? "differs" : "same")},
                         {},
                         differs ? "numerics" : ""});
    }
  };
  add("input", t.op_a().inputs(), t.op_b().inputs(), t.differing_inputs());
  add("output", t.op_a().outputs(), t.op_b().outputs(), t.differing_outputs());
  if (!rows.empty()) out += table("trace-values", {"", "run A", "run B", ""}, rows);
  if (t.knobs_size() > 0) {
    std::vector<Row> knobs;
    for (const auto& k : t.knobs()) {
      knobs.push_back(Row{{cell(code(k.setting())), cell(k.from()), cell(k.to()), cell(k.matches_b() ? "yes" : "no"),
                           cell(k.parts_from_a() ? "yes" : "no"), cell(k.first_difference())},
                          {{"data-setting", k.setting()}, {"data-matches-b", k.matches_b() ? "1" : "0"}},
                          k.matches_b() ? "numerics" : ""});
    }
    out += paragraph(text(t.knobs_summary()), "knobs-summary");
    out += table("knobs", {"setting", "run A", "tried", "gives B's bits", "parts from A", "first difference"}, knobs);
  } else {
    out += note("no knob matrix: run repro trace --knobs RUN_A RUN_B to find the setting that flips the bits");
  }
  return out;
}

// Values of a series by step.
std::map<std::int64_t, ExactValue> by_step(const RunData& run, const std::string& name) {
  std::map<std::int64_t, ExactValue> out;
  for (const auto& s : run_series(run)) {
    if (s.name != name) continue;
    for (const auto& [step, v] : s.values) out.emplace(step, v);
  }
  return out;
}

Html series_curves(const SiteComparison& c) {
  const auto& r = c.report;
  Html out;
  int n = 0;
  std::vector<std::string> names;
  for (const auto& s : r.series()) names.push_back(s.name());
  if (names.empty()) names.push_back("loss");
  for (const auto& name : names) {
    const auto a = by_step(c.a->data, name), b = by_step(c.b->data, name);
    Curve ca{"A " + name, {}, 0}, cb{"B " + name, {}, 1}, diff{"|A - B|", {}, 2};
    for (const auto& [step, v] : a) ca.points.emplace_back(static_cast<double>(step), v.value());
    for (const auto& [step, v] : b) {
      cb.points.emplace_back(static_cast<double>(step), v.value());
      const auto it = a.find(step);
      if (it != a.end()) diff.points.emplace_back(static_cast<double>(step), std::fabs(it->second.value() - v.value()));
    }
    std::optional<std::int64_t> first;
    for (const auto& s : r.series())
      if (s.name() == name && s.has_first_divergent_step()) first = s.first_divergent_step();
    const std::string label = first ? "first divergence: step " + std::to_string(*first) : "";
    out += curve_chart("curve-" + std::to_string(n), name + ": run A and run B", {ca, cb}, Axis::kLinear, first, label);
    out += curve_chart("diff-" + std::to_string(n), name + ": |A - B| (log axis; 0 on the bottom edge)", {diff},
                       Axis::kLog, first, label);
    ++n;
  }
  return out;
}

Html step_window(const proto::ComparisonReport& r) {
  std::vector<Row> rows;
  for (const auto& s : r.steps()) {
    const bool same = s.loss_a_bits() == s.loss_b_bits();
    const auto a = ExactValue::from_bits_hex(s.loss_a_bits()), b = ExactValue::from_bits_hex(s.loss_b_bits());
    rows.push_back(
        Row{{cell(std::to_string(s.step())), cell(s.series()), cell(code(a.text() + " (" + s.loss_a_bits() + ")")),
             cell(code(b.text() + " (" + s.loss_b_bits() + ")")), cell(shortest_text(s.abs_diff())),
             cell(s.param_digest_compared() ? (s.param_digest_equal() ? "equal" : "differ") : "-")},
            {{"data-step", std::to_string(s.step())}},
            same ? "" : "differs"});
  }
  if (rows.empty()) return note("no steps compared");
  return table("step-window", {"step", "series", "A (bits)", "B (bits)", "|A - B|", "param digests"}, rows);
}

Html metrics(const proto::ComparisonReport& r) {
  std::vector<Row> rows;
  for (const auto& m : r.metrics()) {
    rows.push_back(Row{{cell(m.split()), cell(m.metric()), cell(std::to_string(m.step())),
                        cell(code(narrowest_text(m.a()))), cell(code(narrowest_text(m.b()))),
                        cell(shortest_text(m.abs_diff())), cell(m.within_tolerance() ? "yes" : "no")},
                       {},
                       m.a() == m.b() ? "" : "differs"});
  }
  if (rows.empty()) return note("no final metrics in common");
  return table("metrics", {"split", "metric", "step", "A", "B", "|A - B|", "within tolerance"}, rows);
}

Html header_table(const RunData& a, const RunData& b) {
  const auto fa = flatten(a.header), fb = flatten(b.header);
  std::map<std::string, std::string> mb(fb.begin(), fb.end());
  std::map<std::string, std::string> ma(fa.begin(), fa.end());
  std::vector<std::pair<std::string, std::string>> order = fa;
  for (const auto& kv : fb)
    if (!ma.count(kv.first)) order.push_back(kv);
  std::vector<Row> rows;
  for (const auto& entry : order) {
    const std::string& field = entry.first;
    const auto ia = ma.find(field), ib = mb.find(field);
    const std::string va = ia == ma.end() ? "(absent)" : ia->second, vb = ib == mb.end() ? "(absent)" : ib->second;
    const bool equal = ia != ma.end() && ib != mb.end() && va == vb;
    rows.push_back(Row{{cell(code(field)), cell(va), cell(vb)},
                       {{"data-field", field}, {"data-equal", equal ? "1" : "0"}},
                       equal ? "" : "differs"});
  }
  return table("header-diff", {"field", "run A", "run B"}, rows);
}

}  // namespace

std::string compare_page(const SiteComparison& c) {
  const auto& r = c.report;
  Html body = verdict(verdict_name(r.verdict()), r.summary());
  body += labelled_value("first divergent step",
                         r.has_first_divergent_step() ? std::to_string(r.first_divergent_step()) : "none",
                         "first-divergent-step");
  if (!r.first_divergent_series().empty() && r.series_size() > 1) {
    body += labelled_value("first divergent series", r.first_divergent_series(), "first-divergent-series");
  }
  std::vector<std::pair<std::string, std::string>> numbers = {
      {"run A", c.a->id + "  " + r.run_a()},
      {"run B", c.b->id + "  " + r.run_b()},
      {"steps (A, B, compared)",
       std::to_string(r.steps_a()) + ", " + std::to_string(r.steps_b()) + ", " + std::to_string(r.steps_compared())},
      {"stopped early", r.stopped_early()},
      {"first param digest divergent step",
       r.has_first_param_digest_divergent_step() ? std::to_string(r.first_param_digest_divergent_step()) : "none"},
      {"first out-of-tolerance step",
       r.has_first_out_of_tolerance_step() ? std::to_string(r.first_out_of_tolerance_step()) : "none"},
      {"max |dloss|, max relative", shortest_text(r.max_abs_loss_diff()) + ", " + shortest_text(r.max_rel_loss_diff())},
      {"tolerance (rtol, atol, from step)", shortest_text(r.tolerance().rtol()) + ", " +
                                                shortest_text(r.tolerance().atol()) + ", " +
                                                std::to_string(r.tolerance().from_step())},
  };
  body += paragraph(link(c.a->page, "run A: " + c.a->id));
  body += paragraph(link(c.b->page, "run B: " + c.b->id));
  body += section("Named causes", causes(r), "causes");
  if (c.trace) body += section("Trace: the first diverging op", trace_section(*c.trace), "trace");
  body += section("Numbers", key_values(numbers, "numbers"));
  body += section("Curves", series_curves(c), "curves");
  body += section("Steps around the first divergence", step_window(r), "steps");
  body += section("Final metrics", metrics(r), "metrics-section");
  body +=
      section("Every header field", differences_toggle("header-diff") + header_table(c.a->data, c.b->data), "header");
  return page(c.a->id + " vs " + c.b->id, body).markup;
}

}  // namespace repro::internal
