// Private to run/archive_*.cc: the parts of check_torch_archive, whose rules archive_check.h
// states. archive_class_source.cc checks TorchScript class source and type strings,
// archive_pickle.cc a pickle, archive_check.cc the zip and what ties its records together.
#pragma once

#include <algorithm>
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "repro/error.h"

namespace repro::internal::archive {

inline constexpr std::size_t kMaxDepth = 100;        // nesting of pickled values and of types
inline constexpr std::size_t kMaxDims = 64;          // dimensions of a pickled tensor
inline constexpr std::size_t kMaxGlobalBytes = 256;  // each of a GLOBAL's two names

// The archive and the place in it that a refusal names.
struct Place {
  const std::string& path;
  const std::string& what;
  [[noreturn]] void refuse(const std::string& record, const std::string& problem) const {
    throw Error::input(path + ": " + what + " archive: " + record + ": " + problem);
  }
};

inline bool is_digits(std::string_view s, std::size_t max_size = 20) {
  return !s.empty() && s.size() <= max_size &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

inline bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

inline bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

inline bool is_name_start(char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

// "__torch__.Module" and "__torch__.___torch_mangle_<digits>.Module": the classes torch names
// for an archive's modules.
inline bool is_archive_class(std::string_view name) {
  if (name == "__torch__.Module") return true;
  constexpr std::string_view prefix = "__torch__.___torch_mangle_", suffix = ".Module";
  return starts_with(name, prefix) && ends_with(name, suffix) && name.size() > prefix.size() + suffix.size() &&
         is_digits(name.substr(prefix.size(), name.size() - prefix.size() - suffix.size()));
}

// archive_class_source.cc. One class file (`class Module(Module):` and attribute lines),
// refused through `at` naming `record`; returns the classes its types name.
std::set<std::string> check_class_source(std::string_view source, const std::string& record, const Place& at);

// Whether `type` is a whole type of the grammar torch prints for attributes; the archive's
// classes it names are added to `classes`.
bool parse_type(std::string_view type, std::set<std::string>* classes);

// archive_pickle.cc. The pickles of an archive, and what each may hold.
enum class Pickle {
  kData,       // data.pkl: the archive's root object, its classes and tensors from data/<key>
  kConstants,  // constants.pkl: a tuple
  kDebug,      // code/....py.debug_pkl: any value
};

// Refuses (through `at`, naming `record`) the first thing in `bytes` that torch's writer would
// not have written for pickle `which`; `storages` are the archive's data/<key> records and
// their sizes; the classes the pickle names are added to `classes`.
void check_pickle(std::string_view bytes, const std::string& record, const Place& at, Pickle which,
                  const std::map<std::string, std::size_t>& storages, std::set<std::string>* classes);

}  // namespace repro::internal::archive
