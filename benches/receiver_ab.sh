#!/usr/bin/env bash
# Two promscope binaries' headless receivers side by side: the CPU each takes a sample,
# interleaved, so that a change's cost shows on a busy machine too.
#
#   benches/receiver_ab.sh A_BIN B_BIN              # RW2 then RW1, 6 rounds of 5 s each
#   PROTOCOLS=rw2 ROUNDS=10 benches/receiver_ab.sh A_BIN B_BIN
#
# Both run `--no-tui --format none` on loopback ports; wrk (benches/wrk_replay.lua) replays
# the side-by-side's bodies (A's `send --write-bodies`: 64 avalanche bodies of 2000 series,
# --churn-every 1) at A, then at B, round after round, after a warm-up lap each. A round's
# figure is samples (2xx x 2000) per CPU second of the receiver's process during its own
# slice (user + system, /proc/PID/stat); prints each round's B/A and the whole run's.
# Needs wrk. Every wait is bounded; the receivers and the temp dir go on exit.
set -euo pipefail

a="$(realpath "${1:?usage: receiver_ab.sh A_BIN B_BIN}")"
b="$(realpath "${2:?usage: receiver_ab.sh A_BIN B_BIN}")"
root="$(cd "$(dirname "$0")/.." && pwd)"
ROUNDS="${ROUNDS:-6}" SLICE="${SLICE:-5}" PROTOCOLS="${PROTOCOLS:-rw2 rw1}"
BASE_PORT="${BASE_PORT:-19500}" CONNECTIONS="${CONNECTIONS:-8}"
command -v wrk >/dev/null || { echo "receiver_ab.sh: wrk is needed" >&2; exit 1; }

work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# listening PORT: whether something accepts connections on 127.0.0.1:PORT.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
# replay PORT DIR SECONDS: the 2xx responses wrk got.
replay() {
    timeout $(( $3 + 60 )) wrk -t1 -c"$CONNECTIONS" -d"$3"s --timeout 10s \
        -s "$root/benches/wrk_replay.lua" "http://127.0.0.1:$1/api/v1/write" -- "$2" 1 \
        | grep -o 'status_2[0-9][0-9]=[0-9]*' | awk -F= '{s += $2} END {print s + 0}'
}

echo "receiver_ab.sh $(date -u '+%Y-%m-%d %H:%M:%S UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "A: $a ($("$a" --version | head -n1))"
echo "B: $b ($("$b" --version | head -n1))"
port=$BASE_PORT
for proto in $PROTOCOLS; do
    dir="$work/bodies-$proto"
    "$a" send --write-bodies "$dir" --count 64 --protocol "$proto" --metrics 10 \
        --series-per-metric 200 --samples-per-request 2000 --churn-every 1 >/dev/null 2>&1
    ports=()
    receivers=()
    for bin in "$a" "$b"; do
        while listening "$port"; do port=$(( port + 1 )); done
        "$bin" --no-tui --format none --listen "127.0.0.1:$port" 2>"$work/log-$port" &
        pids+=($!)
        receivers+=($!)
        ports+=("$port")
        for _ in $(seq 100); do listening "$port" && break; sleep 0.1; done
        listening "$port" || { cat "$work/log-$port" >&2; exit 1; }
        port=$(( port + 1 ))
    done
    for i in 0 1; do replay "${ports[$i]}" "$dir" 4 >/dev/null; done
    declare -a ok=(0 0) ticks=(0 0)
    echo "$proto:"
    for round in $(seq "$ROUNDS"); do
        line="  round $round:"
        declare -a rate=(0 0)
        for i in 0 1; do
            t0=$(cpu_ticks "${receivers[$i]}")
            n=$(replay "${ports[$i]}" "$dir" "$SLICE")
            t=$(( $(cpu_ticks "${receivers[$i]}") - t0 ))
            ok[i]=$(( ok[i] + n )); ticks[i]=$(( ticks[i] + t ))
            rate[i]=$(awk -v n="$n" -v t="$t" -v hz="$(getconf CLK_TCK)" \
                'BEGIN {printf "%.0f", (t > 0) ? n * 2000 * hz / t : 0}')
        done
        echo "$line A ${rate[0]} B ${rate[1]} samples per CPU s, B/A $(awk -v a="${rate[0]}" -v b="${rate[1]}" 'BEGIN {printf "%.3f", (a > 0) ? b / a : 0}')"
    done
    awk -v na="${ok[0]}" -v ta="${ticks[0]}" -v nb="${ok[1]}" -v tb="${ticks[1]}" -v hz="$(getconf CLK_TCK)" \
        'BEGIN {a = ta ? na * 2000 * hz / ta : 0; b = tb ? nb * 2000 * hz / tb : 0;
                printf "  all: A %.0f B %.0f samples per CPU s, B/A %.3f\n", a, b, a ? b / a : 0}'
    for pid in "${receivers[@]}"; do kill "$pid" 2>/dev/null || true; done
done
