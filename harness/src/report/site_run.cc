// run-<id>.html: one run's header by topic, its curves, evaluations, checkpoints and resumes.
#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <filesystem>

#include "report/site.h"
#include "util/exact.h"
#include "util/strings.h"

namespace repro::internal {
namespace {

namespace fs = std::filesystem;

// At most this many rows in a run's step table: the curve shows the rest.
constexpr std::size_t kStepRows = 200;
// Derived seeds listed (one per epoch's shuffle makes thousands).
constexpr std::size_t kSeedRows = 64;

Html fields_of(const google::protobuf::Message& m, const std::string& id = "") { return key_values(flatten(m), id); }

Html curves(const RunData& run) {
  Html out;
  int n = 0;
  for (const auto& s : run_series(run)) {
    Curve c{s.name, {}, 0};
    for (const auto& [step, v] : s.values) c.points.emplace_back(static_cast<double>(step), v.value());
    out += curve_chart("curve-" + std::to_string(n++), s.name + " by step", {c}, Axis::kLinear, std::nullopt, "");
  }
  // Exact values of a sample of steps, evenly spaced, the first and last included.
  const auto& steps = run.steps;
  std::vector<Row> rows;
  const std::size_t stride = std::max<std::size_t>(1, (steps.size() + kStepRows - 1) / kStepRows);
  for (std::size_t i = 0; i < steps.size(); i += stride) {
    const std::size_t k = (i + stride >= steps.size()) ? steps.size() - 1 : i;
    const auto& s = steps[k];
    Row row{{cell(std::to_string(s.step())), cell(code(loss_of(s).text_with_bits()))}, {}, ""};
    for (const auto& v : s.values()) {
      const ExactValue e = v.value_case() == proto::NamedValue::kF32   ? ExactValue(v.f32())
                           : v.value_case() == proto::NamedValue::kF64 ? ExactValue(v.f64())
                                                                       : ExactValue();
      row.cells.push_back(cell(code(v.name() + " " + e.text_with_bits())));
    }
    row.cells.push_back(cell(shortest_text(s.lr())));
    row.cells.push_back(cell(shortest_text(s.grad_norm())));
    row.cells.push_back(cell(s.param_digest()));
    rows.push_back(std::move(row));
    if (k == steps.size() - 1) break;
  }
  out += details(std::to_string(rows.size()) + " of " + std::to_string(steps.size()) + " steps, exact",
                 table("steps", {"step", "loss", "named values", "lr", "grad norm", "param digest"}, rows));
  return out;
}

Html evaluations(const RunData& run) {
  std::vector<Row> rows;
  for (const auto& e : run.evals) {
    std::vector<std::pair<std::string, double>> metrics(e.metrics().begin(), e.metrics().end());
    std::sort(metrics.begin(), metrics.end());
    for (const auto& [name, value] : metrics) {
      rows.push_back(Row{{cell(std::to_string(e.step())), cell(e.split()), cell(name),
                          cell(code(narrowest_text(value) + " (" + bits_hex(value) + ")"))},
                         {},
                         ""});
    }
  }
  if (rows.empty()) return note("no evaluations recorded");
  return table("evals", {"step", "split", "metric", "value (bits)"}, rows);
}

// The environment by topic: each message field of Environment its own table, the scalars together.
Html environment(const proto::Environment& env) {
  const auto* d = env.GetDescriptor();
  const auto* r = env.GetReflection();
  Html out;
  std::vector<std::pair<std::string, std::string>> general;
  for (const auto& [k, v] : flatten(env)) {
    if (k.find('.') == std::string::npos && k.find('[') == std::string::npos) general.emplace_back(k, v);
  }
  out += key_values(general);
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      if (!f->is_repeated()) continue;
      std::vector<std::pair<std::string, std::string>> items;
      for (const auto& [k, v] : flatten(env))
        if (k.rfind(f->name() + "[", 0) == 0) items.emplace_back(k, v);
      if (!items.empty()) out += details(f->name(), key_values(items));
      continue;
    }
    const bool present = f->is_repeated() ? r->FieldSize(env, f) > 0 : r->HasField(env, f);
    if (!present) continue;
    std::vector<std::pair<std::string, std::string>> items;
    for (const auto& [k, v] : flatten(env))
      if (k.rfind(f->name() + ".", 0) == 0 || k.rfind(f->name() + "[", 0) == 0) items.emplace_back(k, v);
    out += details(f->name(), key_values(items));
  }
  return out;
}

Html checkpoints(const RunData& run) {
  Html out;
  std::vector<Row> files;
  std::error_code ec;
  const fs::path dir = fs::path(run.dir) / "checkpoints";
  if (fs::is_directory(dir, ec)) {
    std::vector<std::pair<std::string, std::uintmax_t>> found;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.is_regular_file(ec)) found.emplace_back(e.path().filename().string(), e.file_size(ec));
    }
    std::sort(found.begin(), found.end());
    for (const auto& [name, size] : found) files.push_back(Row{{cell(name), cell(std::to_string(size))}, {}, ""});
  }
  out += files.empty() ? note("no checkpoints in " + dir.string()) : table("checkpoints", {"file", "bytes"}, files);
  std::vector<Row> resumes;
  for (const auto& r : run.header.resumes()) {
    resumes.push_back(Row{
        {cell(r.resumed_at()), cell(std::to_string(r.from_step())), cell(r.checkpoint()),
         cell(join(r.skipped_checkpoints(), "\n")), cell(r.hostname()), cell(join(r.environment_differences(), "\n"))},
        {},
        ""});
  }
  out += resumes.empty()
             ? note("never resumed")
             : table("resumes", {"resumed at", "from step", "checkpoint", "skipped", "host", "environment differences"},
                     resumes);
  return out;
}

}  // namespace

std::string run_page(const SiteRun& run, const std::vector<SiteComparison>& comparisons) {
  const auto& h = run.data.header;
  const ExactValue loss = run.data.steps.empty() ? ExactValue() : loss_of(run.data.steps.back());
  std::vector<std::pair<std::string, std::string>> summary = {
      {"run id", run.id},
      {"directory", run.data.dir},
      {"status", status_name(run.data.status) + (run.data.status_reason.empty() ? "" : ": " + run.data.status_reason)},
      {"origin", h.origin()},
      {"launcher", h.launcher()},
      {"started", h.started_at()},
      {"finished", h.finished_at()},
      {"steps recorded", std::to_string(run.data.steps.size()) + (run.data.steps_torn ? " (torn tail dropped)" : "")},
      {"final loss", loss.text_with_bits()},
      {"final param digest", h.final_param_digest()},
      {"rerun of", h.rerun_of()},
      {"host, pid", h.hostname() + ", " + std::to_string(h.pid())},
      {"cwd", h.cwd()},
      {"argv", join(h.argv(), " ")},
      {"overrides", join(h.overrides(), "\n")},
      {"config digest", h.config_digest()},
  };
  Html body = key_values(summary, "summary");
  Html links;
  for (const auto& c : comparisons) {
    if (c.a != &run && c.b != &run) continue;
    links += paragraph(link(c.page, c.a->id + " vs " + c.b->id));
  }
  if (!links.markup.empty()) body += section("Comparisons", links);
  body += section("Curves", curves(run.data), "curves");
  body += section("Evaluations", evaluations(run.data), "evaluations");
  body += section("Resolved config", fields_of(h.config(), "config"));
  std::vector<Row> params;
  for (const auto& p : h.params()) {
    params.push_back(Row{{cell(p.name()), cell(p.type()), cell(p.default_value()), cell(p.value())}, {}, ""});
  }
  if (!params.empty()) body += section("Params", table("params", {"name", "type", "default", "value"}, params));
  std::vector<Row> seeds{Row{{cell("master"), cell(std::to_string(h.seed()))}, {}, ""}};
  for (const auto& s : h.seeds()) {
    if (seeds.size() > kSeedRows) break;
    seeds.push_back(Row{{cell(s.purpose()), cell(std::to_string(s.seed()))}, {}, ""});
  }
  Html seed_table = table("seeds", {"purpose", "seed"}, seeds);
  if (static_cast<std::size_t>(h.seeds_size()) > kSeedRows) {
    seed_table +=
        note(std::to_string(h.seeds_size() - kSeedRows) + " more derived seeds (repro show --json lists all)");
  }
  body += section("Seeds", seed_table);
  body += section("Determinism applied", fields_of(h.determinism(), "determinism"));
  body += section("Environment", environment(h.environment()), "environment");
  body += section("Data fingerprint", fields_of(h.data(), "data"));
  body += section("Code identity", fields_of(h.code(), "code"));
  Html models;
  for (const auto& m : h.models()) models += details("model " + m.name(), fields_of(m));
  if (h.models_size() == 0) models += details("model " + h.model().name(), fields_of(h.model()));
  body += section("Model", models);
  body += section("Checkpoints and resumes", checkpoints(run.data), "checkpoints");
  return page("run " + run.id, body).markup;
}

}  // namespace repro::internal
