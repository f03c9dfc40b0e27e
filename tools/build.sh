# Shared by tools/demo and tools/test: configure and build in ./build (or $REPRO_BUILD_DIR).
# Sourced, not run. Reconfigures only when the build directory has no cache yet, so a second
# call is an incremental build; ccache (when installed) keeps even a fresh clone's build fast.
repro_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repro_build=${REPRO_BUILD_DIR:-"$repro_root/build"}

repro_configure() {
  local werror=OFF
  [[ -n ${CI:-} ]] && werror=ON   # warnings are errors in CI, for our code only
  if [[ ! -f $repro_build/CMakeCache.txt ]]; then
    cmake -S "$repro_root" -B "$repro_build" -G Ninja \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREPRO_WERROR=$werror "$@"
  else
    cmake "$repro_build" -DREPRO_WERROR=$werror "$@" >/dev/null
  fi
}

repro_build() {
  cmake --build "$repro_build" --parallel "${REPRO_JOBS:-$(nproc)}" "$@"
}
