// Private: the names of a user program's hyperparameters (RunConfig.params, Session::param,
// `--set params.NAME=VALUE`), checked in one place.
#pragma once

#include <string>

namespace repro::internal {

// True for a parameter name: a letter or '_', then letters, digits, '_', '.' or '-' ("lr",
// "d.lr", "warmup-steps"), at most 128 characters.
bool is_param_name(const std::string& name);

}  // namespace repro::internal
