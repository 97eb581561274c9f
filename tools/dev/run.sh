#!/usr/bin/env bash
# The main job: install dependencies, make a Release build in build/ and run
# weft-probe, which lists every plugin found (active or not, and why) and the
# device registry. Arguments pass through to weft-probe (try --help).
set -euo pipefail
# shellcheck source=tools/dev/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

bash "$WEFT_ROOT/tools/dev/deps.sh"
# The test suite is test.sh's business; leaving it out keeps this build lean.
weft_configure_build "$WEFT_ROOT/build" -DCMAKE_BUILD_TYPE=Release -DWEFT_BUILD_TESTS=OFF
weft_section "build/bin/weft-probe${*:+ $*}"
exec "$WEFT_ROOT/build/bin/weft-probe" "$@"
