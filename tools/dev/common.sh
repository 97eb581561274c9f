# shellcheck shell=bash
# Shared by the scripts in tools/dev/: repository root, section headers, and
# configure-then-build. Sourced, not run.

WEFT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

weft_section() {
  printf '\n==== %s ====\n' "$*"
}

# weft_configure_build <build dir> [cmake -D options...]
# Configures with Ninja on first use (an existing build directory keeps the
# generator it was made with) and builds with two jobs.
weft_configure_build() {
  local dir=$1
  shift
  local gen=()
  if [[ ! -f $dir/CMakeCache.txt ]]; then
    gen=(-G Ninja)
  fi
  weft_section "configure $dir"
  cmake -S "$WEFT_ROOT" -B "$dir" "${gen[@]}" "$@"
  weft_section "build $dir"
  cmake --build "$dir" -j2
}
