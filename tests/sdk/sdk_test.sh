#!/usr/bin/env bash
# The installed SDK, end to end.
#
#   sdk_test.sh <weft build dir> <weft source dir> <scratch dir>
#
# 1. Installs the build into <scratch>/prefix with `cmake --install`.
# 2. Checks the installed tree holds what a backend author and an application
#    need (headers, libraries, CMake package, pkg-config files, weft-probe).
# 3. Builds the null template installed in share/weft/examples/null, out of
#    tree, twice: as a CMake project that does
#    find_package(weft), and with plain `cc $(pkg-config --cflags weft-abi)`.
# 4. Checks that no plugin links libweft and that each exports the entry point.
# 5. Loads each plugin with the installed weft-probe and checks that it is
#    active and that its device is in the registry.
# 6. Builds and runs a small application (tests/sdk/app) against the shared
#    and the static library, with find_package(weft) and with pkg-config.
#
# Environment (set by ctest): CC, WEFT_CMAKE, READELF, PYTHON3,
# WEFT_CMAKE_GENERATOR, WEFT_SANITIZE_FLAGS. Exit status 0 on success; every failure says what.
set -euo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 <weft build dir> <weft source dir> <scratch dir>" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work=$3

cc=${CC:-cc}
cmake=${WEFT_CMAKE:-cmake}
readelf=${READELF:-readelf}
python3=${PYTHON3:-python3}
generator=${WEFT_CMAKE_GENERATOR:-}

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok:   $*"; }
section() { printf '\n== %s ==\n' "$*"; }

# The run must not depend on the caller's plugin environment.
unset WEFT_PLUGIN_PATH WEFT_PLUGINS_DISABLE WEFT_PLUGINS_ONLY WEFT_DEVICE WEFT_LOG

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
prefix=$work/prefix

section "install into $prefix"
if ! "$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1; then
  cat "$work/install.log" >&2
  echo "FAIL: cmake --install $build --prefix $prefix" >&2
  exit 1
fi
pass "cmake --install"

# The library directory is whatever the build was configured with (lib,
# lib64, lib/x86_64-linux-gnu ...): find it instead of assuming it.
libweft=$(find "$prefix" -name libweft.so -print -quit)
if [[ -z $libweft ]]; then
  echo "FAIL: no libweft.so anywhere under $prefix" >&2
  find "$prefix" >&2
  exit 1
fi
libdir=$(dirname "$libweft")
echo "libdir: ${libdir#"$prefix"/}"

section "installed tree"
for f in include/weft/abi.h include/weft/weft.h bin/weft-probe; do
  if [[ -f $prefix/$f ]]; then pass "$f"; else fail "missing $prefix/$f"; fi
done
for f in libweft.so libweft.a cmake/weft/weftConfig.cmake \
         cmake/weft/weftConfigVersion.cmake cmake/weft/WeftPlugin.cmake \
         pkgconfig/weft.pc pkgconfig/weft-abi.pc; do
  if [[ -e $libdir/$f ]]; then
    pass "${libdir#"$prefix"/}/$f"
  else
    fail "missing $libdir/$f"
  fi
done
# The template ships with the SDK; it is built from there below, so the
# third-party path needs nothing but the installed prefix.
example=$prefix/share/weft/examples/null
for f in CMakeLists.txt null.h plugin.c device.c buffer.c; do
  if [[ -f $example/$f ]]; then pass "share/weft/examples/null/$f"; else fail "missing $example/$f"; fi
done
# The null backend is a template, not a plugin for a system's registry.
if [[ -e $libdir/weft/plugins/libweft-null.so ]]; then
  fail "libweft-null.so was installed into ${libdir#"$prefix"/}/weft/plugins"
else
  pass "the null template is not installed as a plugin"
fi
# The ABI headers must stand alone: nothing beyond the C library's
# <stdint.h>, <stddef.h>, <stdbool.h> and each other.
if [[ -d $prefix/include/weft/abi ]]; then
  bad=$(grep -hE '^[[:space:]]*#[[:space:]]*include' "$prefix"/include/weft/abi.h \
          "$prefix"/include/weft/abi/*.h |
        grep -vE '<(stdint|stddef|stdbool)\.h>|"weft/abi/[a-z_]+\.h"' || true)
  if [[ -z $bad ]]; then pass "ABI headers include nothing else"; else fail "ABI headers include: $bad"; fi
else
  fail "missing $prefix/include/weft/abi/"
fi

section "build plugins/null with find_package(weft)"
cmake_build=$work/cmake-build
gen_args=()
if [[ -n $generator ]]; then gen_args=(-G "$generator"); fi
if "$cmake" -S "$example" -B "$cmake_build" "${gen_args[@]}" \
     -DCMAKE_C_COMPILER="$cc" \
     -DCMAKE_BUILD_TYPE=Release \
     -DCMAKE_C_FLAGS=-Werror \
     -DCMAKE_PREFIX_PATH="$prefix" \
     -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
     -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF \
     >"$work/cmake-configure.log" 2>&1 &&
   "$cmake" --build "$cmake_build" -j2 >"$work/cmake-build.log" 2>&1; then
  pass "configure and build"
  # It must have used the SDK just installed, not another weft on the system.
  weft_dir=$(sed -n 's/^weft_DIR:[A-Z]*=//p' "$cmake_build/CMakeCache.txt")
  case "$weft_dir" in
    "$prefix"/*) pass "weft_DIR=${weft_dir#"$prefix"/}" ;;
    *) fail "find_package(weft) found $weft_dir, not the SDK in $prefix" ;;
  esac
else
  cat "$work"/cmake-*.log >&2
  fail "building plugins/null as a stand-alone CMake project"
fi
cmake_plugin=$cmake_build/libweft-null.so
[[ -f $cmake_plugin ]] || fail "the CMake build did not produce $cmake_plugin"

section "build plugins/null with pkg-config weft-abi"
pkg_build=$work/pkgconfig-build
mkdir -p "$pkg_build"
pkg_plugin=$pkg_build/libweft-null.so
export PKG_CONFIG_PATH=$libdir/pkgconfig
# The .pc files locate the prefix relative to themselves (${pcfiledir}), so
# an install made with --prefix at install time needs no redefinition.
if cflags=$(pkg-config --cflags weft-abi); then
  echo "cflags: $cflags"
  incdir=$(printf '%s\n' $cflags | sed -n 's/^-I//p' | head -n 1)
  if [[ -n $incdir && $(realpath "$incdir") == $(realpath "$prefix/include") ]]; then
    pass "cflags point into the SDK ($incdir)"
  else
    fail "pkg-config --cflags weft-abi gave '$cflags', not the SDK's $prefix/include"
  fi
  # shellcheck disable=SC2086 # cflags is a list of flags
  if (cd "$example" && "$cc" -shared -fPIC $cflags -Wall -Wextra -Werror \
        -Wl,--no-undefined ./*.c -o "$pkg_plugin") \
        >"$work/pkgconfig-build.log" 2>&1; then
    pass "cc -shared -fPIC \$(pkg-config --cflags weft-abi) plugins/null/*.c"
  else
    cat "$work/pkgconfig-build.log" >&2
    fail "building plugins/null with pkg-config"
  fi
else
  fail "pkg-config --cflags weft-abi (PKG_CONFIG_PATH=$PKG_CONFIG_PATH)"
fi

section "plugins never link libweft"
plugins=()
for p in "$cmake_plugin" "$pkg_plugin"; do
  [[ -f $p ]] && plugins+=("$p")
done
for p in "${plugins[@]}"; do
  name=${p#"$work"/}
  if "$readelf" -d "$p" | grep -E 'NEEDED.*\[libweft[.-]' >/dev/null; then
    fail "$name links libweft: $("$readelf" -d "$p" | grep NEEDED | tr -s ' ')"
  else
    pass "$name: no NEEDED libweft"
  fi
  if "$readelf" --dyn-syms -W "$p" | awk '$7 != "UND" {print $8}' |
       grep -qx weft_plugin_negotiate; then
    pass "$name exports weft_plugin_negotiate"
  else
    fail "$name does not export weft_plugin_negotiate"
  fi
done

# check_probe <json> <plugin file> <plugin name>: the record of that file is
# active under that name, and the registry lists the device "<name>:0".
check_probe() {
  "$python3" - "$@" <<'PY'
import json, os, sys

path, plugin_file, name = sys.argv[1], os.path.realpath(sys.argv[2]), sys.argv[3]
with open(path) as f:
    doc = json.load(f)

records = [r for r in doc.get("plugins", [])
           if os.path.realpath(r.get("path", "")) == plugin_file]
if len(records) != 1:
    sys.exit(f"expected one plugin record for {plugin_file}, found {len(records)}")
record = records[0]
if record.get("name") != name:
    sys.exit(f"record of {plugin_file} is named {record.get('name')!r}, not {name!r}")
if record.get("outcome") != "active":
    sys.exit(f"plugin {name} is {record.get('outcome')!r} at stage "
             f"{record.get('stage')!r}: {record.get('reason')!r}")
ids = [d.get("id") for d in doc.get("devices", [])]
if f"{name}:0" not in ids:
    sys.exit(f"device {name}:0 not in the registry: {ids}")
PY
}

section "load with the installed weft-probe"
probe=$prefix/bin/weft-probe
if [[ -x $probe ]]; then
  for p in "${plugins[@]}"; do
    name=${p#"$work"/}
    json=$work/probe-$(echo "$name" | tr '/' '_').json
    # No LD_LIBRARY_PATH: the installed tool must find the installed library
    # by itself, wherever the prefix is.
    if ! "$probe" --json --no-default-paths --plugin-path "$p" >"$json" 2>"$json.err"; then
      cat "$json.err" >&2
      fail "$probe --json --plugin-path $name exited with an error"
      continue
    fi
    if check_probe "$json" "$p" null; then
      pass "$name: active, device null:0 listed"
    else
      fail "$name: weft-probe output does not show it active with its device (see $json)"
    fi
  done
else
  fail "no executable $probe"
fi

section "build and run an application against the SDK"
# Sanitized builds of libweft need the application linked with the same
# sanitizers (the runtime must come first); empty otherwise.
san=${WEFT_SANITIZE_FLAGS:-}
app_build=$work/app-build
if "$cmake" -S "$src/tests/sdk/app" -B "$app_build" "${gen_args[@]}" \
     -DCMAKE_C_COMPILER="$cc" \
     -DCMAKE_BUILD_TYPE=Release \
     -DCMAKE_C_FLAGS="$san" \
     -DCMAKE_EXE_LINKER_FLAGS="$san" \
     -DCMAKE_PREFIX_PATH="$prefix" \
     -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
     -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF \
     >"$work/app-configure.log" 2>&1 &&
   "$cmake" --build "$app_build" -j2 >"$work/app-build.log" 2>&1; then
  pass "find_package(weft): weft::weft and weft::weft_static link"
  for app in sdk_app_shared sdk_app_static; do
    if out=$("$app_build/$app" 2>&1); then
      pass "$app: $out"
    else
      fail "$app: $out"
    fi
  done
else
  cat "$work"/app-*.log >&2
  fail "building an application with find_package(weft)"
fi
if app_flags=$(pkg-config --cflags --libs weft); then
  # shellcheck disable=SC2086 # flag lists
  if "$cc" $san "$src/tests/sdk/app/main.c" -o "$work/app-pkgconfig" $app_flags \
       -Wl,-rpath,"$libdir" >"$work/app-pkgconfig.log" 2>&1; then
    if out=$("$work/app-pkgconfig" 2>&1); then
      pass "pkg-config weft: $out"
    else
      fail "application built with pkg-config weft: $out"
    fi
  else
    cat "$work/app-pkgconfig.log" >&2
    fail "building an application with \$(pkg-config --cflags --libs weft)"
  fi
else
  fail "pkg-config --cflags --libs weft (PKG_CONFIG_PATH=$PKG_CONFIG_PATH)"
fi

echo
if [[ $failures -ne 0 ]]; then
  echo "sdk_test: $failures check(s) failed"
  exit 1
fi
echo "sdk_test: all checks passed"
