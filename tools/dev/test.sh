#!/usr/bin/env bash
# Every test: install dependencies, build in build-test/ with AddressSanitizer,
# UndefinedBehaviorSanitizer and warnings as errors, then run the whole suite
# with ctest. Exits with ctest's status.
set -euo pipefail
# shellcheck source=tools/dev/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

bash "$WEFT_ROOT/tools/dev/deps.sh"
weft_configure_build "$WEFT_ROOT/build-test" \
  -DWEFT_ASAN=ON -DWEFT_UBSAN=ON -DWEFT_WERROR=ON
weft_section "ctest"
status=0
ctest --test-dir "$WEFT_ROOT/build-test" --output-on-failure -j2 || status=$?
weft_section "ctest exited with $status"
exit "$status"
