#!/usr/bin/env bash
# Forward mode, two binaries against each other and against sending directly:
# one sink (promscope --no-tui --format none, from B), a headless forwarder of A and
# one of B in front of it; wrk flat out at sink, A, B in turns, ROUNDS rounds, so that
# load from other processes falls on all alike. Per receiver: samples/s, its count as a
# ratio to the sink's turns around it (median, quartiles and range over the rounds;
# benches/forward_lib.sh), and per request the CPU time (user + system, /proc/PID/stat)
# of the forwarder and of the sink over its turns: the steadier figure on a busy host.
# With A = B, the two rows show how far two identical measurements differ. With A =
# benches/relay.sh (a plain TCP relay), A's row is the floor any forwarder pays here.
#
#   benches/forward_ab.sh OLD_BINARY NEW_BINARY    # per protocol ROUNDS (20) turns of SLICE (2) s
#
# Settings: ROUNDS, SLICE, CONNECTIONS (wrk -c, 8), PROTOCOLS ("rw1 rw2"), BASE_PORT
# (20120), SINK_ARGS (more arguments for the sink, e.g. every problem rule off: a faster sink),
# FORWARD_ARGS (more arguments for both forwarders), SINK_BIN (the sink's binary when
# NEW is not promscope, e.g. two relays against each other), PIN (SINK_CPUS:FORWARDER_CPUS,
# e.g. 0:1: the sink and wrk on the first CPUs, the forwarders on the others;
# benches/forward_lib.sh fb_pinned).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
FB_NAME=forward-ab
# shellcheck source=benches/forward_lib.sh
source "$root/benches/forward_lib.sh"
ROUNDS="${ROUNDS:-20}" SLICE="${SLICE:-2}" PROTOCOLS="${PROTOCOLS:-rw1 rw2}"
BASE_PORT="${BASE_PORT:-20120}"
command -v wrk >/dev/null || fb_die "wrk is needed"
fb_ab_start "$@"
echo "forward-ab: $(date -u +%H:%M:%SZ), load $(cut -d' ' -f1-3 /proc/loadavg), $ROUNDS rounds of $SLICE s, wrk -c${CONNECTIONS:-8}, sink args: ${SINK_ARGS:-none}${PIN:+, pinned sink:forwarders $PIN}" | cut -c1-200
echo "  old = $old, new = $new"
for proto in $PROTOCOLS; do
    fb_bodies "${SINK_BIN:-$new}" "$proto" "$work/bodies-$proto"
    fb_wrk_ok "$sink" 2 "$work/bodies-$proto" >/dev/null # warm-up
    fb_turns "$work/turns-$proto" "$ROUNDS" "$SLICE" "$work/bodies-$proto" sink \
        "sink:$sink" "old:$old_port" "new:$new_port"
    echo "$proto:"
    fb_summary "$work/turns-$proto" "$SLICE" sink 2000 sink old new
done
echo "  load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
