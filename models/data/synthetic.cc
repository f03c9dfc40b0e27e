// The synthetic source: Gaussian clusters. Generated with std::mt19937_64 (its output sequence
// is fixed by the C++ standard) and a hand-written Box-Muller transform in double precision,
// not with torch's samplers, whose vectorised paths depend on the CPU capability in use. So the
// data depends on the seed alone, and torch's global generator is left untouched.
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <random>

#include "models/data/sources.h"
#include "repro/error.h"

namespace repro::models::internal {

namespace {

constexpr double kCentreStd = 3.0;  // centres ~ N(0, 3^2) per feature
constexpr double kNoiseStd = 1.0;   // samples ~ N(centre, 1)
constexpr double kTwoPi = 6.283185307179586476925286766559;

class Gaussian {
 public:
  explicit Gaussian(uint64_t seed) : engine_(seed) {}

  double next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = 1.0 - uniform();  // (0, 1]: log is finite
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(kTwoPi * u2);
    has_spare_ = true;
    return r * std::cos(kTwoPi * u2);
  }

  // Uniform in [0, n), without modulo bias.
  int64_t below(uint64_t n) {
    const uint64_t limit = std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % n;
    uint64_t x;
    do {
      x = engine_();
    } while (x >= limit);
    return static_cast<int64_t>(x % n);
  }

 private:
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }  // [0, 1)

  std::mt19937_64 engine_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

Dataset sample(Gaussian& rng, const std::vector<double>& centres, int64_t n, int64_t features, int64_t classes) {
  Dataset d;
  d.features = at::empty({n, features}, at::kFloat);
  d.labels = at::empty({n}, at::kLong);
  float* x = d.features.data_ptr<float>();
  int64_t* y = d.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = rng.below(static_cast<uint64_t>(classes));
    y[i] = label;
    for (int64_t j = 0; j < features; ++j) {
      x[i * features + j] = static_cast<float>(centres[label * features + j] + kNoiseStd * rng.next());
    }
  }
  return d;
}

void check_positive(int64_t value, const char* field) {
  if (value <= 0) throw Error::usage(std::string(field) + ": must be positive, got " + std::to_string(value));
}

}  // namespace

LoadedData load_synthetic(const proto::DataConfig& config, uint64_t seed) {
  const int64_t n = config.synthetic_samples();
  const int64_t features = config.synthetic_features();
  const int64_t classes = config.synthetic_classes();
  check_positive(n, "data.synthetic_samples");
  check_positive(features, "data.synthetic_features");
  check_positive(classes, "data.synthetic_classes");
  if ((n + classes) > (int64_t{1} << 31) / features) {
    throw Error::usage("data.synthetic_samples: " + std::to_string(n) + " samples of " + std::to_string(features) +
                       " features in " + std::to_string(classes) + " classes is too large to generate");
  }

  Gaussian rng(seed);
  std::vector<double> centres(static_cast<size_t>(classes * features));
  for (double& c : centres) c = kCentreStd * rng.next();

  LoadedData data;
  data.train = sample(rng, centres, n, features, classes);
  data.test = sample(rng, centres, n / 4, features, classes);
  data.input_shape = {features};
  data.num_classes = classes;
  return data;
}

}  // namespace repro::models::internal
