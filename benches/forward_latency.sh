#!/usr/bin/env bash
# Forward mode's added latency at 100k samples/s, two binaries against each other and
# against sending directly: one sink (promscope --no-tui --format none, from B), a
# headless forwarder of A and one of B in front of it. benches/paced.py sends 50
# requests/s of 2000 samples over one kept-alive connection to the sink, A, B in turns,
# ROUNDS rounds of SECONDS each (A and B in turn first), so that load from other processes
# falls on all alike.
# Per forwarder and round, the added latency is its percentile minus the sink's in the
# same round; printed: the medians over the rounds (and their range) of p50 and p99,
# what each forwarder left uninspected (its summary), and how idle the host was
# (/proc/stat over the whole run).
#
#   benches/forward_latency.sh OLD_BINARY NEW_BINARY   # per protocol ROUNDS (8) x 3 x SECONDS (4)
#
# Settings: ROUNDS, SECONDS_PER_TURN, PROTOCOLS ("rw1 rw2"), BASE_PORT (20140), SINK_ARGS
# (more arguments for the sink), FORWARD_ARGS (more arguments for both forwarders).
set -euo pipefail
ROUNDS="${ROUNDS:-8}" SECONDS_PER_TURN="${SECONDS_PER_TURN:-4}" PROTOCOLS="${PROTOCOLS:-rw1 rw2}"
BASE_PORT="${BASE_PORT:-20140}"
RATE=50 # requests/s of 2000 samples: 100k samples/s
cd "$(dirname "$0")/.."
root="$(pwd)"
FB_NAME=forward-latency
# shellcheck source=benches/forward_lib.sh
source "$root/benches/forward_lib.sh"
fb_ab_start "$@"
cpu_line() { head -1 /proc/stat; }
stat_before="$(cpu_line)"
echo "forward-latency: $(date -u +%H:%M:%SZ), load $(cut -d' ' -f1-3 /proc/loadavg), $ROUNDS rounds of $SECONDS_PER_TURN s a receiver, $RATE requests/s"
echo "  old = $old, new = $new"
for proto in $PROTOCOLS; do
    fb_bodies "$new" "$proto" "$work/bodies-$proto"
    for round in $(seq "$ROUNDS"); do
        # The sink first, then the forwarders, one round in one order, the next in the other.
        turns=("sink:$sink" "old:$old_port" "new:$new_port")
        (( round % 2 )) || turns=("sink:$sink" "new:$new_port" "old:$old_port")
        for turn in "${turns[@]}"; do
            IFS=: read -r name port <<<"$turn"
            fb_paced "$work/rounds-$proto" "$round" "$name" "$port" "$work/bodies-$proto" \
                "$RATE" "$SECONDS_PER_TURN"
        done
    done
    echo "$proto:"
    fb_latency_summary "$work/rounds-$proto" sink old new
done
stat_after="$(cpu_line)"
python3 - "$stat_before" "$stat_after" <<'PY'
import os, sys
a, b = ([int(x) for x in s.split()[1:9]] for s in sys.argv[1:3])
d = [y - x for x, y in zip(a, b)]
idle = (d[3] + d[4]) / max(1, sum(d)) * os.cpu_count()
print(f"  host over the run: {idle:.2f} of {os.cpu_count()} cores idle on average")
PY
echo "  load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
for pid in ${fb_pids[@]+"${fb_pids[@]}"}; do kill -TERM "$pid" 2>/dev/null || true; done
for pid in ${fb_pids[@]+"${fb_pids[@]}"}; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
done
fb_pids=()
for name in old new; do
    echo "  $name forwarder: $(grep -E '^  forwarded' "$work/$name.stderr" | sed 's/^ *//')"
done
