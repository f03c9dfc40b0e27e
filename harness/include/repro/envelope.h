// repro/envelope.h: envelope baselines — a statistical yardstick for checks where bitwise
// equality cannot be expected (another CPU, another library build).
//
//   repro sweep --config mlp.textproto --seeds 5 --save-envelope mlp.envelope.json
//   repro run --config mlp.textproto                  # later, elsewhere
//   repro check --envelope mlp.envelope.json runs/<run id>
//
// The band. For each step t, from the losses x_1..x_n of the sweep's n seeds at t:
//   margin_t = k · std_t + floor · max(|mean_t|, L0)
//   band_t   = [min_t - margin_t, max_t + margin_t]
// where std is the sample standard deviation (repro/sweep.h) and L0 the mean loss at the first
// step (the loss before training: the scale of the problem). A program that records several
// named series (record_step with NamedValues: a GAN's d_loss and g_loss) gets a band per step
// for each of them, by the same formula over that series' values with its own L0 (its mean at
// its first step); the first named value is the primary series, the loss above. Each final
// metric (final_loss, final_<series>, "<split>/<metric>") gets its band by the same formula.
// Defaults k = 4, floor = 0.05.
// Why this shape: the seeds' range [min, max] is what was seen; k · std widens it for seeds
// not seen (five seeds rarely show the extremes); the floor keeps a band from collapsing
// where every seed has converged to nearly the same value (a loss of 1e-6 ± 1e-6 is not a
// reason to fail a run at 3e-6). Measured on mlp_synthetic (60 steps; 12 seeds; each of the
// 252 five-seed envelopes of seeds 1-10 tested against the 7 seeds outside it): with k = 4,
// floor = 0.05 a held-out seed fell outside in 136 of 1764 tests, 126 of them the one seed
// whose synthetic data set converges ten times slower (the data are drawn from the seed), 10
// another seed at step 3 against the narrowest envelopes; a run with lr × 10 fell outside
// every envelope, first at step 1. (k = 2, same floor: 252 of 1764; k = 4 without the floor:
// 1272 of 1764, mostly at converged steps.) Fewer seeds than five make the band less reliable.
//
// The test. A run is inside when every step of the envelope is in the run with a finite loss
// in its band (low <= loss <= high) and a finite value of each of the step's banded series in
// that series' band, and every final metric of the envelope is in the run and in its band.
// Otherwise it is outside; the result names the first step outside with its series, value and
// band (EnvelopeCheck.series: "loss" or the primary's name, "g_loss"), a missing step or
// series, or the metric. Steps the run has beyond the envelope are not
// judged (a note says so); a config that differs from the envelope's (seed aside) is a note,
// not a failure: the envelope judges numbers.
#pragma once

#include <string>

#include "proto/sweep.pb.h"
#include "repro/record.h"

namespace repro {

inline constexpr unsigned kEnvelopeSchemaVersion = 1;
inline constexpr double kDefaultEnvelopeK = 4.0;
inline constexpr double kDefaultEnvelopeFloor = 0.05;

// The envelope of one sweep setting (its statistics must be filled: summarize_setting).
// `config` is the setting's resolved config (its seed is cleared). Throws Error (usage) when
// k or floor is negative or not finite, or when the setting has fewer than 2 finite values of
// a banded series (the loss, or another named series) at a step.
proto::Envelope make_envelope(const proto::SweepSetting& setting, proto::RunConfig config, double k, double floor);

// The band formula above for one quantity, given its statistics and L0.
proto::Band make_band(const proto::Stats& stats, double k, double floor, double initial_loss);

// Writes the envelope as JSON (protobuf's JSON mapping; doubles round-trip exactly),
// atomically. Throws Error (io) on I/O failure.
void save_envelope(const proto::Envelope& envelope, const std::string& path);

// Reads an envelope file. Throws Error (input) naming the file when it is missing, not JSON
// of an Envelope, has no steps, or has a newer schema_version.
proto::Envelope load_envelope(const std::string& path);

// Tests a run against an envelope (see "The test" above). `envelope_path` is only recorded.
proto::EnvelopeCheck check_envelope(const proto::Envelope& envelope, const RunData& run,
                                    const std::string& envelope_path = "");

// Text: the verdict with the first step outside (its loss and band), then every quantity
// outside, then the notes.
std::string format_envelope_check(const proto::EnvelopeCheck& check);

}  // namespace repro
