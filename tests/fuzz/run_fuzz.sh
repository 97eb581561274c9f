#!/usr/bin/env bash
# Runs the GGUF fuzzer for a bounded time on the seed corpus.
#   run_fuzz.sh <fuzzer> <seed generator> <work dir> <seconds> <dictionary>
# The environment variable WEFT_GGUF_FUZZ_SECONDS overrides <seconds>.
# Fails (non-zero) on any crash, sanitizer report, leak or timeout that
# libFuzzer finds; the input that caused it is left in <work dir>.
set -euo pipefail
fuzzer=$1
seeds_tool=$2
work=$3
seconds=${WEFT_GGUF_FUZZ_SECONDS:-$4}
dict=$5

rm -rf "$work/seeds"
mkdir -p "$work/seeds" "$work/corpus"
"$seeds_tool" "$work/seeds"
echo "seeds: $(ls "$work/seeds" | wc -l) files; corpus kept in $work/corpus"

# The run is bounded by time and by a count of runs, whichever comes first.
# New inputs go to the first directory, so the corpus grows from run to run.
status=0
"$fuzzer" \
  -max_total_time="$seconds" -runs=50000000 \
  -max_len=16384 -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
  -dict="$dict" -artifact_prefix="$work/" -print_final_stats=1 \
  "$work/corpus" "$work/seeds" || status=$?
if [[ $status -ne 0 ]]; then
  echo "fuzzer failed with status $status; reproducer: $(ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null | head -1)"
  exit "$status"
fi
