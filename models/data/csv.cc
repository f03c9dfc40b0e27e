// The csv source: a plain comma-separated file with a header row (no quoting), numbers parsed
// with std::from_chars so the result never depends on the process locale.
#include <torch/torch.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <string_view>

#include "models/data/sources.h"
#include "repro/error.h"
#include "util/input_file.h"
#include "util/strings.h"

namespace repro::models::internal {

namespace {

// Labels are class indices; anything larger is almost certainly the wrong column.
constexpr int64_t kMaxLabel = 1 << 16;

using repro::internal::trim;

// The comma-separated fields of a line, each trimmed (no quoting).
std::vector<std::string> fields_of(std::string_view line) {
  std::vector<std::string> fields = repro::internal::split(line, ',');
  for (auto& field : fields) field = std::string(trim(field));
  return fields;
}

// The column index of each wanted name; throws Error (usage) naming `field` for a missing one.
size_t column_of(const std::map<std::string, size_t, std::less<>>& header, const std::string& name,
                 const std::string& field, const std::string& path) {
  const auto it = header.find(name);
  if (it == header.end()) throw Error::usage(field + ": column '" + name + "' not in header of " + path);
  return it->second;
}

class CsvParser {
 public:
  CsvParser(std::string path, const proto::DataConfig& config) : path_(std::move(path)), config_(config) {}

  LoadedData parse() {
    if (config_.csv_features().empty()) throw Error::usage("data.csv_features: name at least one feature column");
    repro::internal::check_input_file(path_, "");  // a regular file: a FIFO or /dev/zero never ends
    std::ifstream in(path_, std::ios::binary);
    if (!in) throw Error::input(path_ + ": cannot open: " + std::strerror(errno));
    std::string line;
    if (!next_line(in, line)) throw Error::input(path_ + ": empty file, expected a header row");
    read_header(line);
    std::vector<float> features;
    std::vector<int64_t> labels;
    while (next_line(in, line)) {
      const auto fields = fields_of(line);
      if (fields.size() != columns_) {
        throw Error::input(where() + "expected " + std::to_string(columns_) + " columns, got " +
                           std::to_string(fields.size()));
      }
      for (size_t i = 0; i < feature_columns_.size(); ++i) {
        features.push_back(parse_feature(fields[feature_columns_[i]], config_.csv_features(static_cast<int>(i))));
      }
      labels.push_back(parse_label(fields[label_column_]));
    }
    if (in.bad()) throw Error::input(path_ + ": read error");
    if (labels.empty()) throw Error::input(path_ + ": no data rows after the header");

    const auto n = static_cast<int64_t>(labels.size());
    const auto f = static_cast<int64_t>(feature_columns_.size());
    LoadedData data;
    data.train.features = at::tensor(features, at::kFloat).view({n, f});
    data.train.labels = at::tensor(labels, at::kLong);
    data.input_shape = {f};
    data.num_classes = data.train.labels.max().item<int64_t>() + 1;
    data.files = csv_files(config_);
    return data;
  }

 private:
  // The next non-blank line, counting line numbers from 1.
  bool next_line(std::istream& in, std::string& line) {
    while (std::getline(in, line)) {
      ++line_number_;
      if (!trim(line).empty()) return true;
    }
    return false;
  }

  std::string where() const { return path_ + ":" + std::to_string(line_number_) + ": "; }

  void read_header(const std::string& line) {
    const auto names = fields_of(line);
    columns_ = names.size();
    std::map<std::string, size_t, std::less<>> header;
    for (size_t i = 0; i < names.size(); ++i) {
      if (!header.emplace(std::string(names[i]), i).second) {
        throw Error::input(where() + "duplicate column '" + std::string(names[i]) + "' in header");
      }
    }
    for (const auto& name : config_.csv_features()) {
      feature_columns_.push_back(column_of(header, name, "data.csv_features", path_));
    }
    label_column_ = column_of(header, config_.csv_label(), "data.csv_label", path_);
  }

  float parse_feature(std::string_view text, const std::string& column) const {
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
      throw Error::input(where() + "column '" + column + "': not a finite number: '" + std::string(text) + "'");
    }
    return static_cast<float>(value);
  }

  int64_t parse_label(std::string_view text) const {
    int64_t value = -1;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 0 || value > kMaxLabel) {
      throw Error::input(where() + "label column '" + config_.csv_label() + "': not an integer in 0.." +
                         std::to_string(kMaxLabel) + ": '" + std::string(text) + "'");
    }
    return value;
  }

  std::string path_;
  const proto::DataConfig& config_;
  int64_t line_number_ = 0;
  size_t columns_ = 0;
  std::vector<size_t> feature_columns_;
  size_t label_column_ = 0;
};

}  // namespace

std::vector<DataFile> csv_files(const proto::DataConfig& config) { return {{"csv", config.path()}}; }

LoadedData load_csv(const proto::DataConfig& config) { return CsvParser(config.path(), config).parse(); }

}  // namespace repro::models::internal
