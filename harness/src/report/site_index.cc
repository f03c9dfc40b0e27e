// index.html: every run as `repro ls` lists it, sortable and filterable, and the comparisons.
#include "report/site.h"
#include "util/exact.h"

namespace repro::internal {

std::string index_page(const std::string& title, const std::vector<SiteRun>& runs,
                       const std::vector<SiteComparison>& comparisons) {
  std::vector<Row> rows;
  for (const auto& r : runs) {
    const auto& h = r.data.header;
    const ExactValue loss = r.data.steps.empty() ? ExactValue() : loss_of(r.data.steps.back());
    std::string accuracy = "-";
    for (const auto& e : h.final_evals()) {
      const auto it = e.metrics().find("accuracy");
      if (e.split() == "test" && it != e.metrics().end()) accuracy = narrowest_text(it->second);
    }
    std::string commit = h.code().git_commit().substr(0, 12);
    if (commit.empty()) commit = "-";
    if (h.code().git_dirty()) commit += " (dirty)";
    const std::string steps = std::to_string(r.data.steps.size());
    rows.push_back(
        Row{{cell(pick_box(r.id), "0"), cell(link(r.page, r.id), r.id),
             cell(h.model().name().empty() ? "-" : h.model().name()), cell(h.config().name()),
             cell(status_name(r.data.status)), cell(text(steps), steps),
             cell(text(loss.text()), loss.has_value() ? loss.text() : ""), cell(code(loss.bits_hex())),
             cell(text(accuracy), accuracy == "-" ? "" : accuracy), cell(h.started_at().empty() ? "-" : h.started_at()),
             cell(text(std::to_string(h.seed())), std::to_string(h.seed())), cell(commit)},
            {{"data-run", r.id}},
            ""});
  }
  Html body = index_controls();
  body += table("runs",
                {"pick", "id", "model", "config", "status", "steps", "final loss", "bits", "test accuracy", "started",
                 "seed", "code commit"},
                rows, TableKind::kSortable);
  body += note(std::to_string(runs.size()) + " runs, oldest first; click a heading to sort, type to filter.");
  Html items;
  for (const auto& c : comparisons) {
    items += comparison_item(c.page, c.a->id, c.b->id, verdict_name(c.report.verdict()), c.report.summary());
  }
  Html list = comparisons.empty() ? note("no comparisons were generated") : comparison_list(items);
  list += note(
      "Generated: each rerun with its original, consecutive runs of the same config, pairs repro trace reported "
      "on, and the pairs asked for (repro report RUN_A RUN_B, --all-pairs).");
  body += section("Comparisons", list, "comparisons-section");
  return page(title, body).markup;
}

}  // namespace repro::internal
