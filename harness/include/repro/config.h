// repro/config.h: RunConfig — one declarative description of a run.
//
// A config is written in protobuf text format (see proto/run_config.proto and
// models/configs/*.textproto), overridden with "a.b.c=value" assignments (`repro run --set`),
// then resolved: every field of the chosen sections is set explicitly, defaults included.
// The resolved config is what a run records and what a rerun uses.
//
//   proto::RunConfig config = repro::load_config("models/configs/demo.textproto", {"optimizer.lr=0.01"});
//
// Every function here throws repro::Error whose one-line message names the place: the file with
// line and column for parse errors, the field path for overrides and invalid values, the file
// for missing or unreadable data.
#pragma once

#include <string>
#include <vector>

#include "proto/run_config.pb.h"

namespace repro {

// Parses protobuf text. `origin` names the source in errors ("<origin>:<line>:<column>: ...",
// line and column counted from 1). Unknown fields and wrong types are errors (input).
proto::RunConfig parse_config(const std::string& text, const std::string& origin);

// Applies one override "path.to.field=value" (e.g. "optimizer.lr=0.1", "model.mlp.hidden=64,32",
// "data.path=/data"). Values use text-format syntax; strings need no quotes; a repeated field
// takes a comma-separated list that replaces its elements. Setting a field of a oneof member
// (model.cnn.dropout) selects that member. "params.NAME=VALUE" sets the user program's
// hyperparameter NAME (RunConfig.params, read by Session::param) to the text VALUE; NAME is a
// letter or '_' followed by letters, digits, '_', '.' or '-' ("params.d.lr=0.0002"). Throws
// Error (usage) naming the field path, or the assignment for a bad parameter name.
void apply_override(proto::RunConfig* config, const std::string& assignment);

// Sets every unset field of every present section to its declared default, creating the
// sections (determinism, data, optimizer, train, record) when absent. The model section is
// resolved only for the model chosen; model.mlp.hidden defaults to {256, 128}.
void resolve_config(proto::RunConfig* config);

// Checks ranges and combinations (lr > 0, batch_size > 0, split_fraction in (0,1), steps > 0,
// known names, parameter names in params...) and that the data files the config reads exist and are readable.
// Throws Error (usage) "<origin>: <field>: <problem>" or Error (input) naming the data file.
void validate_config(const proto::RunConfig& config, const std::string& origin);

// The determinism part of validate_config() alone: thread ranges, known pin values, and pins
// that contradict determinism.portable. For configs that are resolved without the rest being
// validated (a Session's, `repro env --portable-check`'s). Throws Error (usage) as above.
void validate_determinism(const proto::DeterminismConfig& determinism, const std::string& origin);

// The one rule for a comparison tolerance, wherever one is given (a config's check section, a
// check suite entry, --rtol/--atol/--from-step): a tolerance is a finite number >= 0, a first
// judged step >= 0. Throw Error (usage) "<name>: must be a finite number >= 0 (got -1)".
void validate_tolerance(const std::string& name, double value);
void validate_from_step(const std::string& name, int64_t step);

// Reads `path`, applies `overrides` in order, resolves and validates. Throws Error (input)
// when the file cannot be read.
proto::RunConfig load_config(const std::string& path, const std::vector<std::string>& overrides = {});

// Text format of a config, every set field printed (the resolved config shows everything).
std::string config_to_text(const proto::RunConfig& config);

// XXH3-128 of the config's deterministic binary serialization.
std::string config_digest(const proto::RunConfig& config);

// The name a run of `config` is given (its run id holds it): config.name, else the model kind
// ("mlp", "cnn", "torchscript"), else "run".
std::string config_run_name(const proto::RunConfig& config);

}  // namespace repro
