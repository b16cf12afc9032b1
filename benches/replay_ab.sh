#!/usr/bin/env bash
# Headless replay of one capture by two release binaries in turns (A B A B ...), flat out:
#   benches/replay_ab.sh BIN_A BIN_B CAPTURE [ROUNDS]
# Each run is `BIN replay CAPTURE --no-tui --format none` under /usr/bin/time; per run it
# prints wall s, user+sys CPU s, samples (the summary's), samples/s (wall) and samples per
# CPU second; then the median of each per binary and B/A. Samples per CPU second is the
# figure least moved by other load on a shared machine; wall samples/s is what a user sees.
# Make a capture with the avalanche workload (1000 requests, 2M samples):
#   promscope --no-tui --format none --listen 127.0.0.1:19650 --record cap.warc &
#   promscope send --url http://127.0.0.1:19650/api/v1/write --precompute --concurrency 1 --requests 1000
set -euo pipefail
a="$1"; b="$2"; capture="$3"; rounds="${4:-5}"
echo "date $(date -u +%FT%TZ)  nproc $(nproc)  load $(cut -d' ' -f1-3 /proc/loadavg)  capture $(stat -c %s "$capture") bytes"
out="$(mktemp)"; trap 'rm -f "$out"' EXIT
declare -A wall cpu rate per_cpu
run() { # NAME BIN
    local t samples
    /usr/bin/time -f '%e %U %S' -o "$out.time" "$2" replay "$capture" --no-tui --format none 2>"$out"
    t="$(cat "$out.time")"
    samples="$(sed -n 's/.*received *\([0-9]*\) samples.*/\1/p' "$out" | head -n1)"
    read -r w u s <<<"$t"
    local c; c="$(awk -v u="$u" -v s="$s" 'BEGIN {printf "%.2f", u + s}')"
    local r; r="$(awk -v n="$samples" -v w="$w" 'BEGIN {printf "%.0f", n / w}')"
    local p; p="$(awk -v n="$samples" -v c="$c" 'BEGIN {printf "%.0f", n / c}')"
    echo "$1: wall ${w}s cpu ${c}s samples $samples: $r samples/s, $p samples per CPU s"
    wall[$1]+="$w "; cpu[$1]+="$c "; rate[$1]+="$r "; per_cpu[$1]+="$p "
}
for ((i = 1; i <= rounds; i++)); do run A "$a"; run B "$b"; done
rm -f "$out.time"
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
for name in A B; do
    echo "$name median: wall $(median <<<"${wall[$name]}")s cpu $(median <<<"${cpu[$name]}")s $(median <<<"${rate[$name]}") samples/s $(median <<<"${per_cpu[$name]}") samples per CPU s"
done
ra="$(median <<<"${rate[A]}")"; rb="$(median <<<"${rate[B]}")"
pa="$(median <<<"${per_cpu[A]}")"; pb="$(median <<<"${per_cpu[B]}")"
echo "B/A: samples/s $(awk -v a="$ra" -v b="$rb" 'BEGIN {printf "%.2f", b / a}')x, samples per CPU s $(awk -v a="$pa" -v b="$pb" 'BEGIN {printf "%.2f", b / a}')x; load after $(cut -d' ' -f1-3 /proc/loadavg)"
