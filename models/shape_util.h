// models/shape_util.h (private): small helpers shared by the model builders.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "models/model.h"
#include "repro/error.h"

namespace repro::models::internal {

// "[1,28,28]", for messages.
inline std::string shape_string(const std::vector<int64_t>& shape) {
  std::ostringstream s;
  s << '[';
  for (size_t i = 0; i < shape.size(); ++i) s << (i ? "," : "") << shape[i];
  s << ']';
  return s.str();
}

// Throws Error (usage) naming `field` unless every input dimension and num_classes is positive.
inline void check_shape(const DataShape& shape, const std::string& field) {
  bool ok = !shape.input_shape.empty() && shape.num_classes > 0;
  for (int64_t d : shape.input_shape) ok = ok && d > 0;
  if (!ok) {
    throw Error::usage(field + ": cannot build for data of shape " + shape_string(shape.input_shape) + " with " +
                       std::to_string(shape.num_classes) + " classes");
  }
}

// Throws Error (usage) naming `field` unless 0 <= value < 1.
inline void check_dropout(double value, const std::string& field) {
  if (!(value >= 0.0 && value < 1.0)) {
    throw Error::usage(field + ": must be in [0, 1), got " + std::to_string(value));
  }
}

// Throws Error (usage) naming `field` unless value > 0.
inline void check_positive(int64_t value, const std::string& field) {
  if (value <= 0) throw Error::usage(field + ": must be positive, got " + std::to_string(value));
}

}  // namespace repro::models::internal
