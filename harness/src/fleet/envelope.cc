// Envelope baselines: the band of a sweep setting, saved as JSON, and the test of a run
// against it (definitions in repro/envelope.h).
#include "repro/envelope.h"

#include <google/protobuf/util/json_util.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "repro/compare.h"
#include "repro/config.h"
#include "repro/environment.h"
#include "repro/error.h"
#include "repro/sweep.h"
#include "repro/version.h"
#include "util/exact.h"
#include "util/fileutil.h"
#include "util/input_file.h"

namespace repro {
namespace {

using internal::narrowest_text;
using internal::shortest_text;

// Bands to 6 significant digits: their exact values are in the JSON.
std::string band_text(double low, double high) {
  char buf[80];
  std::snprintf(buf, sizeof buf, "[%.6g, %.6g]", low, high);
  return buf;
}

bool inside(double value, const proto::Band& band) {
  return std::isfinite(value) && value >= band.low() && value <= band.high();
}

// A band judges nothing when it is NaN or inverted; steps come once each, in order.
void validate_band(const proto::Band& band, const std::string& where) {
  if (std::isnan(band.low()) || std::isnan(band.high())) throw Error::input(where + ": band bound is NaN");
  if (band.low() > band.high()) {
    throw Error::input(where + ": band low " + shortest_text(band.low()) + " > high " + shortest_text(band.high()));
  }
}

void validate_bands(const proto::Envelope& envelope, const std::string& path) {
  int64_t previous = -1;
  for (int i = 0; i < envelope.steps_size(); ++i) {
    const auto& step = envelope.steps(i);
    const std::string where = path + ": steps[" + std::to_string(i) + "] (step " + std::to_string(step.step()) + ")";
    if (step.step() < 0) throw Error::input(where + ": a step is >= 0");
    if (step.step() <= previous)
      throw Error::input(where + ": steps must increase (after step " + std::to_string(previous) + ")");
    previous = step.step();
    validate_band(step.loss(), where + " loss");
    for (const auto& series : step.series()) {
      if (series.name().empty()) throw Error::input(where + ": a series band without a name");
      validate_band(series.band(), where + " " + series.name());
    }
  }
  std::map<std::string, int> seen;
  for (int i = 0; i < envelope.metrics_size(); ++i) {
    const auto& metric = envelope.metrics(i);
    const std::string where = path + ": metrics[" + std::to_string(i) + "] (" + metric.name() + ")";
    if (metric.name().empty()) throw Error::input(where + ": a metric band without a name");
    if (seen[metric.name()]++ > 0) throw Error::input(where + ": metric named twice");
    validate_band(metric.band(), where);
  }
}

}  // namespace

proto::Band make_band(const proto::Stats& stats, double k, double floor, double initial_loss) {
  const double margin = k * stats.std() + floor * std::max(std::fabs(stats.mean()), std::fabs(initial_loss));
  proto::Band band;
  band.set_low(stats.min() - margin);
  band.set_high(stats.max() + margin);
  *band.mutable_stats() = stats;
  return band;
}

proto::Envelope make_envelope(const proto::SweepSetting& setting, proto::RunConfig config, double k, double floor) {
  if (!(k >= 0 && std::isfinite(k)))
    throw Error::usage("envelope: k must be a finite number >= 0, got " + shortest_text(k));
  if (!(floor >= 0 && std::isfinite(floor))) {
    throw Error::usage("envelope: floor must be a finite number >= 0, got " + shortest_text(floor));
  }
  if (setting.steps().empty()) throw Error::usage("envelope: setting '" + setting.label() + "' recorded no steps");
  proto::Envelope envelope;
  envelope.set_schema_version(kEnvelopeSchemaVersion);
  config.set_seed(0);
  envelope.set_config_digest(config_digest(config));
  *envelope.mutable_config() = std::move(config);
  for (const auto& run : setting.runs()) envelope.add_seeds(run.seed());
  envelope.set_k(k);
  envelope.set_floor(floor);
  envelope.set_made_by(std::string("repro ") + REPRO_VERSION_STRING);
  const double initial_loss = setting.steps(0).loss().mean();
  std::map<std::string, double> series_initial;  // each other series' L0: its mean at its first step
  const auto enough = [](const proto::Stats& stats, int64_t step, const std::string& what) {
    if (stats.n() < 2) {
      throw Error::usage("envelope: step " + std::to_string(step) + " has " + std::to_string(stats.n()) + " finite " +
                         what + "; an envelope needs at least 2 seeds at every step");
    }
  };
  for (const auto& step : setting.steps()) {
    enough(step.loss(), step.step(), "losses");
    auto* band = envelope.add_steps();
    band->set_step(step.step());
    *band->mutable_loss() = make_band(step.loss(), k, floor, initial_loss);
    for (const auto& series : step.series()) {
      enough(series.stats(), step.step(), "values of " + series.name());
      const double l0 = series_initial.emplace(series.name(), series.stats().mean()).first->second;
      auto* named = band->add_series();
      named->set_name(series.name());
      *named->mutable_band() = make_band(series.stats(), k, floor, l0);
    }
  }
  for (const auto& metric : setting.metrics()) {
    if (metric.stats().n() < 2) continue;
    auto* band = envelope.add_metrics();
    band->set_name(metric.name());
    *band->mutable_band() = make_band(metric.stats(), k, floor, initial_loss);
  }
  return envelope;
}

void save_envelope(const proto::Envelope& envelope, const std::string& path) {
  internal::write_file_atomic(path, to_json(envelope) + "\n");
}

proto::Envelope load_envelope(const std::string& path) {
  const std::string text = internal::read_input_file(path, "envelope", internal::kMaxTextInputBytes);
  proto::Envelope envelope;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // a newer writer may add fields; schema_version guards meaning
  const auto status = google::protobuf::util::JsonStringToMessage(text, &envelope, options);
  if (!status.ok()) {
    std::string why(status.message());
    throw Error::input(path +
                       ": not an envelope (JSON of proto/sweep.proto Envelope): " + why.substr(0, why.find('\n')));
  }
  if (envelope.schema_version() == 0 || envelope.steps().empty()) {
    throw Error::input(path + ": not an envelope (no schema_version or no steps)");
  }
  if (envelope.schema_version() > kEnvelopeSchemaVersion) {
    throw Error::input(path + ": envelope schema_version " + std::to_string(envelope.schema_version()) +
                       " is newer than this reader's (" + std::to_string(kEnvelopeSchemaVersion) + ")");
  }
  validate_bands(envelope, path);
  return envelope;
}

proto::EnvelopeCheck check_envelope(const proto::Envelope& envelope, const RunData& run,
                                    const std::string& envelope_path) {
  proto::EnvelopeCheck check;
  check.set_run_dir(run.dir);
  check.set_envelope(envelope_path);
  std::map<int64_t, const proto::StepRecord*> steps;
  for (const auto& s : run.steps) steps.emplace(s.step(), &s);
  // The primary series by its name: "loss", or the first named value's ("d_loss").
  const std::string primary = run.header.series().empty() ? "loss" : run.header.series(0);
  int64_t missing = 0;
  int64_t missing_series = 0;
  for (const auto& band : envelope.steps()) {
    const auto it = steps.find(band.step());
    if (it == steps.end()) {
      if (missing++ == 0) check.add_outside("step " + std::to_string(band.step()) + ": missing from the run");
      continue;
    }
    check.set_steps_checked(check.steps_checked() + 1);
    const proto::StepRecord& step = *it->second;
    // The step's series in the envelope's order: the primary, then each other banded series.
    std::vector<std::pair<std::string, const proto::Band*>> bands = {{primary, &band.loss()}};
    for (const auto& s : band.series()) bands.emplace_back(s.name(), &s.band());
    bool outside_here = false;
    for (std::size_t i = 0; i < bands.size(); ++i) {
      const auto& [name, b] = bands[i];
      internal::ExactValue value = internal::loss_of(step);
      if (i > 0) {
        value = internal::ExactValue();
        for (const auto& v : step.values()) {
          if (v.name() == name) value = internal::value_of(v);
        }
        if (!value.has_value()) {
          if (missing_series++ == 0) {
            check.add_outside("step " + std::to_string(band.step()) + ": " + name + " missing from the run");
          }
          continue;
        }
      }
      if (inside(value.value(), *b)) continue;
      outside_here = true;
      if (!check.has_first_step_outside()) {
        check.set_first_step_outside(band.step());
        check.set_series(name);
        check.set_loss(value.value());
        check.set_low(b->low());
        check.set_high(b->high());
        check.add_outside("step " + std::to_string(band.step()) + ": " + name + " " + value.text() + " outside " +
                          band_text(b->low(), b->high()));
        // The headline comes first, before any missing step or series named earlier.
        for (int j = check.outside_size() - 1; j > 0; --j) check.mutable_outside()->SwapElements(j, j - 1);
      }
    }
    if (outside_here) check.set_steps_outside(check.steps_outside() + 1);
  }
  if (missing_series > 1) {
    check.add_outside(std::to_string(missing_series) + " values of the envelope's series missing from the run");
  }
  if (missing > 1) check.add_outside(std::to_string(missing) + " steps of the envelope missing from the run");
  if (check.steps_outside() > 1) {
    check.add_outside(std::to_string(check.steps_outside()) + " of " + std::to_string(check.steps_checked()) +
                      " steps outside their band");
  }
  const auto metrics = final_metrics(run);
  for (const auto& band : envelope.metrics()) {
    const auto it = metrics.find(band.name());
    if (it == metrics.end()) {
      check.add_outside(band.name() + ": missing from the run");
    } else if (!inside(it->second, band.band())) {
      check.add_outside(band.name() + ": " + narrowest_text(it->second) + " outside " +
                        band_text(band.band().low(), band.band().high()));
    }
  }
  check.set_inside(check.outside().empty());
  if (!envelope.steps().empty() && !run.steps.empty() &&
      run.steps.back().step() > envelope.steps(envelope.steps_size() - 1).step()) {
    check.add_notes("the run has steps after the envelope's last (" +
                    std::to_string(envelope.steps(envelope.steps_size() - 1).step()) + "); they are not judged");
  }
  proto::RunRecord made, checked;
  *made.mutable_config() = envelope.config();
  *checked.mutable_config() = run.header.config();
  checked.mutable_config()->set_seed(0);
  for (const auto& d : header_differences(made, checked)) {
    if (d.category() == "config") check.add_notes("config differs from the envelope's: " + d.explanation());
  }
  return check;
}

std::string format_envelope_check(const proto::EnvelopeCheck& check) {
  std::ostringstream out;
  if (check.inside()) {
    out << "inside the envelope: " << check.steps_checked() << " steps and the final metrics within their bands\n";
  } else if (check.has_first_step_outside()) {
    out << "outside the envelope at step " << check.first_step_outside() << ": "
        << (check.series().empty() ? "loss" : check.series()) << " " << narrowest_text(check.loss()) << " not in "
        << band_text(check.low(), check.high()) << "\n";
  } else {
    out << "outside the envelope\n";
  }
  // The first step outside is the headline already.
  for (int i = check.has_first_step_outside() ? 1 : 0; i < check.outside_size(); ++i) {
    out << "  outside: " << check.outside(i) << "\n";
  }
  for (const auto& line : check.notes()) out << "  note: " << line << "\n";
  return out.str();
}

}  // namespace repro
