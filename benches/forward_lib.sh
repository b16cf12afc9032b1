# Shared by benches/forward.sh and benches/forward_ab.sh (sourced, not run): the
# receivers' processes, wrk turns at them in interleaved rounds, CPU per request, and
# the summary of each receiver's throughput as a ratio to the sink's in the same round.
#
# The caller sets `work` (a temp dir) and may set `session` (a tmux session) before
# calling fb_traps; fb_start and fb_tmux add processes that are stopped on exit.

fb_pids=()
declare -A fb_pid=()

fb_log() { echo "${FB_NAME:-forward-bench}: $*" >&2; }
fb_die() { fb_log "$*"; exit 1; }

fb_cleanup() {
    local pid
    [[ -n "${session:-}" ]] && tmux kill-session -t "$session" 2>/dev/null
    for pid in ${fb_pids[@]+"${fb_pids[@]}"}; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in ${fb_pids[@]+"${fb_pids[@]}"}; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    fb_pids=()
    [[ -n "${work:-}" ]] && rm -rf "$work"
    return 0
}

fb_traps() {
    trap fb_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

fb_listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Up to 10 s, or while a cargo build (benches/passthru.sh's first use) is still going.
fb_wait_listening() {
    local tries=0
    until fb_listening "$1"; do
        tries=$((tries + 1))
        if ((tries > 100)) && ! pgrep -x cargo >/dev/null; then fb_die "nothing listens on $1"; fi
        sleep 0.1
    done
}

# fb_start NAME PORT BINARY ARGS...: a headless receiver on 127.0.0.1:PORT, its stderr
# in $work/NAME.stderr, its pid in fb_pid[NAME].
fb_start() {
    local name="$1" port="$2" bin="$3"
    shift 3
    fb_listening "$port" && fb_die "port $port is taken (set BASE_PORT)"
    local cpus
    cpus="$(fb_cpus "$name")"
    # Unquoted on purpose: nothing, or the words taskset -c CPUS (taskset execs the
    # receiver, so $! stays its pid).
    # shellcheck disable=SC2086
    ${cpus:+taskset -c $cpus} "$bin" --listen "127.0.0.1:$port" --no-tui --format none "$@" >/dev/null 2>"$work/$name.stderr" &
    fb_pids+=("$!")
    fb_pid[$name]=$!
}

# fb_cpus NAME: the CPUs (taskset -c list) for the sink and wrk (NAME sink) or for a
# forwarder (any other NAME); empty, for anywhere, unless PIN=SINK_CPUS:FORWARDER_CPUS
# (e.g. PIN=0:1) is set: what forwarding costs a pipeline when the forwarder has a core
# of its own (as on a host apart from the backend's), against the default of all
# sharing every core.
fb_cpus() {
    [[ -n "${PIN:-}" ]] || return 0
    if [[ $1 == sink ]]; then echo "${PIN%%:*}"; else echo "${PIN##*:}"; fi
}

# fb_ab_start OLD_BINARY NEW_BINARY (a script's arguments): a temp dir in $work, and on
# loopback from $BASE_PORT on: a sink of NEW (or of $SINK_BIN, with $SINK_ARGS), then a
# headless forwarder of OLD and one of NEW in front of it (with $FORWARD_ARGS); sets
# old, new, sink, old_port and new_port, and waits until all three listen.
fb_ab_start() {
    [[ $# == 2 && -x "$1" && -x "$2" ]] || fb_die "usage: $0 OLD_BINARY NEW_BINARY"
    old="$1" new="$2"
    work="$(mktemp -d "${TMPDIR:-/tmp}/${FB_NAME:-forward}.XXXXXX")"
    fb_traps
    sink=$BASE_PORT old_port=$((BASE_PORT + 1)) new_port=$((BASE_PORT + 2))
    # shellcheck disable=SC2086 # SINK_ARGS and FORWARD_ARGS are lists of words
    fb_start sink "$sink" "${SINK_BIN:-$new}" ${SINK_ARGS:-}
    # shellcheck disable=SC2086
    fb_start old "$old_port" "$old" --forward "http://127.0.0.1:$sink" ${FORWARD_ARGS:-}
    # shellcheck disable=SC2086
    fb_start new "$new_port" "$new" --forward "http://127.0.0.1:$sink" ${FORWARD_ARGS:-}
    local port
    for port in $sink $old_port $new_port; do fb_wait_listening "$port"; done
}

# fb_tmux NAME PORT COMMAND: a receiver with its dashboard in a window of $session (80x24).
fb_tmux() {
    local name="$1" port="$2" command="$3"
    fb_listening "$port" && fb_die "port $port is taken (set BASE_PORT)"
    if tmux has-session -t "$session" 2>/dev/null; then
        tmux new-window -t "$session" -n "$name" "exec $command"
    else
        tmux new-session -d -s "$session" -n "$name" -x 80 -y 24 "exec $command"
    fi
    fb_pid[$name]="$(tmux display-message -p -t "$session:$name" '#{pane_pid}')"
}

# fb_bodies BINARY PROTOCOL DIR: the default avalanche workload, 64 bodies of 2000 samples.
fb_bodies() {
    "$1" send --write-bodies "$3" --count 64 --protocol "$2" >/dev/null 2>&1 ||
        fb_die "cannot write $2 bodies"
}

# fb_wrk_ok PORT SECONDS BODIES: wrk flat out (-t1 -c$CONNECTIONS); prints the 2xx count.
fb_wrk_ok() {
    local cpus
    cpus="$(fb_cpus sink)"
    # shellcheck disable=SC2086 # nothing, or the words taskset -c CPUS
    ${cpus:+taskset -c $cpus} timeout $(( $2 + 60 )) wrk -t1 -c"${CONNECTIONS:-8}" -d"$2"s --timeout 10s \
        -s "$root/benches/wrk_replay.lua" "http://127.0.0.1:$1/api/v1/write" -- "$3" 1 |
        grep -o 'status_2[0-9][0-9]=[0-9]*' | awk -F= '{s+=$2} END {print s+0}'
}

# CPU time (user + system, clock ticks) a process has used, all its threads.
fb_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# CPU time (clock ticks) of a process's threads named "inspection" and "inspect-spare"
# (forward mode's decoding for the screen; 0 for a process without them, such as the relay).
fb_inspection_ticks() {
    cat /proc/"$1"/task/*/stat 2>/dev/null |
        awk '$2 == "(inspection)" || $2 == "(inspect-spare)" {t += $14 + $15} END {print t + 0}'
}

# fb_turns OUT ROUNDS SLICE BODIES SINK_NAME NAME:PORT ...: wrk at each receiver in turn,
# in the order given (the sink first), ROUNDS rounds of SLICE seconds. One line per turn
# in OUT: round name ok own_ticks sink_ticks own_inspection_ticks.
fb_turns() {
    local out="$1" rounds="$2" slice="$3" bodies="$4" sink="$5"
    shift 5
    local round turn name port t0 i0 s0 ok pid
    for round in $(seq "$rounds"); do
        for turn in "$@"; do
            IFS=: read -r name port <<<"$turn"
            pid="${fb_pid[$name]}"
            t0=$(fb_ticks "$pid"); i0=$(fb_inspection_ticks "$pid"); s0=$(fb_ticks "${fb_pid[$sink]}")
            ok=$(fb_wrk_ok "$port" "$slice" "$bodies")
            echo "$round $name $ok $(( $(fb_ticks "$pid") - t0 )) $(( $(fb_ticks "${fb_pid[$sink]}") - s0 )) $(( $(fb_inspection_ticks "$pid") - i0 ))" >>"$out"
        done
    done
}

# fb_summary OUT SLICE SINK_NAME SAMPLES_PER_REQUEST NAME...: per receiver, samples/s
# over all its turns; its count as a ratio to the sink's around it (the mean of the sink's
# turn of its round and of the next round, so that a slow spell of the host falls on both
# sides alike): the median, the middle half (quartiles) and the range over the rounds,
# and over all rounds together; and CPU per request: its own (a forwarder's, split into
# its inspection thread's and the rest: receiving, forwarding, answering), and the
# sink's while the receiver had the load.
fb_summary() {
    python3 - "$@" <<'PY'
import os, statistics, sys
out, slice_s, sink, per_req, names = sys.argv[1], float(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5:]
hz = os.sysconf("SC_CLK_TCK")
turns = {}
for line in open(out):
    rnd, name, ok, own, snk, insp = line.split()
    turns.setdefault(name, {})[int(rnd)] = (int(ok), int(own), int(snk), int(insp))
base = turns[sink]
for name in names:
    mine = turns[name]
    ok = sum(v[0] for v in mine.values())
    rate = ok * per_req / (slice_s * len(mine))
    line = f"  {name:<9} {rate:>11,.0f} samples/s"
    if name != sink:
        around = lambda r: statistics.mean(base[q][0] for q in (r, r + 1) if q in base)
        ratios = sorted(100 * mine[r][0] / around(r) for r in mine if r in base and around(r) > 0)
        pooled = 100 * ok / max(1, sum(around(r) for r in mine if r in base))
        q1, _, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else (ratios[0],) * 3
        line += (f"  {statistics.median(ratios):5.1f}% of the sink (median of {len(ratios)} rounds;"
                 f" middle half {q1:.1f}-{q3:.1f}, all {ratios[0]:.1f}-{ratios[-1]:.1f}; pooled {pooled:.1f}%)")
        per_request = lambda i: 1000 * sum(v[i] for v in mine.values()) / hz / max(1, ok)
        line += (f"  own CPU {per_request(1):.3f} ms/request"
                 f" (inspection {per_request(3):.3f}, the rest {per_request(1) - per_request(3):.3f})")
    line += f"  sink CPU {1000 * sum(v[2] for v in mine.values()) / hz / max(1, ok):.3f} ms/request"
    print(line)
PY
}

# fb_paced OUT ROUND NAME PORT BODIES RATE SECONDS: benches/paced.py at 127.0.0.1:PORT
# (RATE requests/s for SECONDS over one kept-alive connection); appends
# "ROUND NAME PACED requests=.. non2xx=.. p50_us=.. ..." to OUT.
fb_paced() {
    local line
    line=$(python3 "$root/benches/paced.py" "http://127.0.0.1:$4/api/v1/write" "$5" "$6" "$7")
    echo "$2 $3 $line" >>"$1"
}

# fb_latency_summary OUT SINK_NAME NAME...: from fb_paced's lines, the sink's p50 and p99
# (median over the rounds, and their range), and per forwarder its own and the added
# latency: its percentile minus the sink's in the same round, the median over the rounds
# and their range; then the answers that were not 2xx.
fb_latency_summary() {
    python3 - "$@" <<'PY'
import statistics, sys
out, sink_name, names = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = {}
for line in open(out):
    rnd, name, _, *fields = line.split()
    rows.setdefault(name, {})[int(rnd)] = dict(f.split("=") for f in fields)
sink = rows[sink_name]
med = statistics.median
for q in ("p50_us", "p99_us"):
    base = [int(v[q]) / 1000 for v in sink.values()]
    print(f"  {q[:3]} {sink_name} {med(base):.2f} ms (rounds {min(base):.2f}-{max(base):.2f})")
    for name in names:
        added = sorted((int(rows[name][r][q]) - int(sink[r][q])) / 1000 for r in rows[name] if r in sink)
        own = [int(v[q]) / 1000 for v in rows[name].values()]
        print(f"      {name}: {med(own):.2f} ms, added {med(added):+.2f} ms median of {len(added)} rounds"
              f" (rounds {added[0]:+.2f} to {added[-1]:+.2f})")
bad = sum(int(v["non2xx"]) for r in rows.values() for v in r.values())
print(f"  answers not 2xx: {bad}")
PY
}
