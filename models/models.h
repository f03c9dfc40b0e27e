// models/models.h: the built-in models and data sources, made known to the harness.
//
// The harness (reprotorch::harness) does not depend on this library; it reaches the models and
// data sources through the interface in run/builtins.h. A program that trains built-in configs
// (repro::train, repro::doctor on a config, the repro tool) links reprotorch::models and calls
//
//   repro::models::register_builtins();
//
// once, before the first run. Calling it again is harmless.
#pragma once

namespace repro::models {

void register_builtins();

}  // namespace repro::models
