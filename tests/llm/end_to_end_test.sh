#!/bin/sh
# end_to_end_test.sh EXAMPLE_CHAT WEFT_RUN EXAMPLE_SOURCE
# The example host app and weft-run answer a chat question with SmolLM2-135M.
# Exit 77 (skipped) when the model is not in the cache.
set -eu
example=$1
run=$2
source=$3
model=${WEFT_MODEL_SMOLLM2:-${XDG_CACHE_HOME:-$HOME/.cache}/weft/models/SmolLM2-135M-Instruct.Q4_1.gguf}
if [ ! -f "$model" ]; then
  echo "SKIP: $model not found (tools/models/fetch.py smollm2)"
  exit 77
fi
lines=$(wc -l < "$source")
if [ "$lines" -ge 100 ]; then
  echo "FAIL: the example host app has $lines lines; it must stay under 100"
  exit 1
fi
answer=$("$example" "$model" "What is the capital of France?")
echo "example: $answer"
case "$answer" in
  *Paris*) ;;
  *) echo "FAIL: the example's answer does not name Paris"; exit 1 ;;
esac
answer=$("$run" -m "$model" --chat -p "What is the capital of France?" -n 16 --temp 0 2>/dev/null)
echo "weft-run: $answer"
case "$answer" in
  *Paris*) ;;
  *) echo "FAIL: weft-run's answer does not name Paris"; exit 1 ;;
esac
echo "2 passed, 0 failed"
