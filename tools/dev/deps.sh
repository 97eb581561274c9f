#!/usr/bin/env bash
# Installs what building and testing weft needs on Debian 12, as root.
# A machine that already has every package does no network work: packages
# are checked with dpkg-query first, and apt-get runs only for what is missing.
set -euo pipefail
# shellcheck source=tools/dev/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

packages=(
  cmake ninja-build gcc g++ pkg-config libcmocka-dev
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
  mesa-vulkan-drivers libvulkan-dev vulkan-tools glslc
  pocl-opencl-icd ocl-icd-opencl-dev opencl-c-headers clinfo
  python3 python3-pip  # tools/models/fetch.py downloads the models from PyPI
  clang libclang-rt-14-dev  # tests/fuzz: clang with libFuzzer
)

weft_section "dependencies"
if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "dpkg-query not found: not a Debian system; install these yourself:"
  echo "  ${packages[*]}"
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "all ${#packages[@]} packages present"
  exit 0
fi

echo "missing: ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "error: installing packages needs root; run as root, or install them with:" >&2
  echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y "${missing[@]}"
