#!/usr/bin/env bash
# Captures (issue 15), in one run on this machine:
#   1. recording's cost: headless promscope (--no-tui --format none) with and without
#      --record, the avalanche workload (RW1, 10 x 200 series, 2000 samples a request,
#      64 bodies with --churn-every 1) replayed by wrk (benches/wrk_replay.lua), in
#      ROUNDS slices of SLICE seconds taken in turns (plain, recording, plain, ...);
#   2. replay headless (--no-tui --format none) flat out from the capture slice 1 wrote;
#   3. replay headless from a pcap that tcpdump took of PCAP_REQUESTS requests of the
#      same workload on the loopback (promscope send --precompute, one connection).
# Samples/s = samples replayed / wall seconds of the replay process (start to exit).
#   PROMSCOPE_BIN=target/release/promscope benches/capture.sh
# Settings: SLICE (s, 5), ROUNDS (2 per receiver), CONNECTIONS (8), PCAP_REQUESTS (1000),
# BASE_PORT (19600). Needs wrk, tcpdump (root, for the loopback), and a release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
SLICE="${SLICE:-5}"; ROUNDS="${ROUNDS:-2}"; CONNECTIONS="${CONNECTIONS:-8}"
PCAP_REQUESTS="${PCAP_REQUESTS:-1000}"; BASE_PORT="${BASE_PORT:-19600}"
bin="${PROMSCOPE_BIN:-$root/target/release/promscope}"
log() { echo "capture.sh: $*" >&2; }
work="$(mktemp -d "${TMPDIR:-/tmp}/capture_bench.XXXXXX")"
pids=()
cleanup() { for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
echo "date $(date -u +%FT%TZ)  commit $(git rev-parse --short HEAD)  nproc $(nproc)  load $(cut -d' ' -f1-3 /proc/loadavg)"

"$bin" send --write-bodies "$work/bodies" --count 64 --churn-every 1 >/dev/null 2>&1
plain="http://127.0.0.1:$BASE_PORT/api/v1/write"
recording="http://127.0.0.1:$((BASE_PORT + 1))/api/v1/write"
"$bin" --no-tui --format none --listen "127.0.0.1:$BASE_PORT" 2>"$work/plain.err" & pids+=($!)
"$bin" --no-tui --format none --listen "127.0.0.1:$((BASE_PORT + 1))" --record "$work/cap.warc" 2>"$work/rec.err" & pids+=($!)
sleep 1
ok() { grep -o 'status_2[0-9][0-9]=[0-9]*' <<<"$1" | awk -F= '{s+=$2} END {print s+0}'; }
slice() { timeout $((SLICE + 60)) wrk -t1 -c"$CONNECTIONS" -d"${SLICE}s" --timeout 10s \
    -s "$root/benches/wrk_replay.lua" "$1" -- "$work/bodies" 1 | grep '^REPLAY' | head -n1; }
declare -A total=([plain]=0 [recording]=0)
for url in "$plain" "$recording"; do slice "$url" >/dev/null; done   # warm-up
for ((r = 1; r <= ROUNDS; r++)); do
    for name in plain recording; do
        url="$plain"; [[ "$name" == recording ]] && url="$recording"
        line="$(slice "$url")"
        total[$name]=$(( ${total[$name]} + $(ok "$line") ))
        log "round $r $name: $line"
    done
done
secs=$((SLICE * ROUNDS))
p=$(( total[plain] * 2000 / secs )); q=$(( total[recording] * 2000 / secs ))
echo "headless, $CONNECTIONS connections, ${secs}s each in ${ROUNDS} turns: plain $p samples/s, recording $q samples/s, cost $(awk -v p="$p" -v q="$q" 'BEGIN {printf "%.1f%%", (p - q) * 100 / p}')"
for p in "${pids[@]}"; do kill -INT "$p"; done; wait "${pids[@]}" 2>/dev/null || true; pids=()
grep -h 'recorded\|dropped' "$work/rec.err" | sed 's/^/  recording run: /'
ls -l "$work/cap.warc" | awk '{print "  capture " $5 " bytes"}'

replay() { # FILE: prints samples/s of a headless flat-out replay
    local start end out samples
    start=$(date +%s.%N)
    out="$("$bin" replay "$1" --no-tui --format none 2>&1)" || { log "replay failed: $out"; return 1; }
    end=$(date +%s.%N)
    samples="$(sed -n 's/.*received *\([0-9]*\) samples.*/\1/p' <<<"$out" | head -n1)"
    awk -v s="$samples" -v a="$start" -v b="$end" 'BEGIN {printf "%d samples in %.2fs: %.0f samples/s\n", s, b - a, s / (b - a)}'
}
echo "replay --no-tui --format none of the capture: $(replay "$work/cap.warc")"

pcap_port=$((BASE_PORT + 2))
"$bin" --no-tui --format none --listen "127.0.0.1:$pcap_port" 2>/dev/null & pids+=($!)
tcpdump -i lo -B 65536 -s 0 -w "$work/cap.pcap" "tcp port $pcap_port" 2>"$work/tcpdump.err" & pids+=($!)
sleep 1
"$bin" send --url "http://127.0.0.1:$pcap_port/api/v1/write" --precompute --concurrency 1 \
    --requests "$PCAP_REQUESTS" >/dev/null 2>&1
sleep 1
for p in "${pids[@]}"; do kill -INT "$p"; done; wait "${pids[@]}" 2>/dev/null || true; pids=()
grep -h 'captured\|dropped' "$work/tcpdump.err" | sed 's/^/  tcpdump: /'
ls -l "$work/cap.pcap" | awk '{print "  pcap " $5 " bytes"}'
echo "replay --no-tui --format none of the pcap ($PCAP_REQUESTS requests sent): $(replay "$work/cap.pcap")"
echo "load after $(cut -d' ' -f1-3 /proc/loadavg)"
