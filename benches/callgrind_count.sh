#!/usr/bin/env bash
# Instructions per iteration of a divan bench in the functions named (callgrind
# --toggle-collect), as the difference of a 20- and a 10-sample run over 10, so
# set-up and warm-up cancel out.
#   benches/callgrind_count.sh BENCH_BINARY FILTER FUNCTION...
set -euo pipefail
bin="$1"; filter="$2"; shift 2
toggles=()
for f in "$@"; do toggles+=("--toggle-collect=$f"); done
total() {
  local out
  out="$(mktemp)"
  valgrind --tool=callgrind "${toggles[@]}" --callgrind-out-file="$out" \
    "$bin" --bench --sample-count "$1" --sample-size 1 "$filter" >/dev/null 2>&1
  grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}'
  rm -f "$out"
}
a=$(total 20); b=$(total 10)
echo $(( (a - b) / 10 ))
