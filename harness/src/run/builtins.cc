// The registry behind run/builtins.h: one pointer, set by models::register_builtins().
#include "run/builtins.h"

#include "repro/error.h"

namespace repro::internal {
namespace {
models::Builtins g_builtins{};
bool g_registered = false;
}  // namespace

void set_builtins(const models::Builtins& builtins) {
  g_builtins = builtins;
  g_registered = true;
}

void clear_builtins() {
  g_builtins = {};
  g_registered = false;
}

const models::Builtins* find_builtins() { return g_registered ? &g_builtins : nullptr; }

const models::Builtins& builtins(const std::string& what) {
  if (!g_registered) {
    throw Error::usage(what + " needs the built-in models and data sources, which this program does not link " +
                       "(link models/ and call repro::models::register_builtins(), as the repro tool does)");
  }
  return g_builtins;
}

}  // namespace repro::internal
