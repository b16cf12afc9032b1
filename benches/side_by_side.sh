#!/usr/bin/env bash
# End-to-end remote-write throughput: promscope vs Prometheus 3.x's own receiver,
# with the same pre-generated avalanche workload replayed by wrk, in one run.
#
#   benches/side_by_side.sh                 # build, fetch, measure RW1 then RW2 (~2 minutes)
#   DURATION=30 CONNECTIONS=16 benches/side_by_side.sh --no-build   # other settings, no build
#
# What it does, per protocol (RW1, then RW2):
#   1. `promscope send --write-bodies` writes BODIES bodies of the default avalanche
#      workload (10 metric names x 200 series, 13 labels, 2000 samples per request),
#      with --churn-every 1 so every body holds its own 2000 series (cycle_id = body index);
#   2. promscope runs headless (--no-tui --format none) on one loopback port and
#      Prometheus 3.x on another (--web.enable-remote-write-receiver, a config that
#      scrapes nothing, a fresh TSDB dir; for RW2 also accepting io.prometheus.write.v2.Request);
#   3. wrk replays the bodies round-robin (benches/wrk_replay.lua, counting responses by
#      status) at each receiver until it has seen every body (the warm-up), then for
#      DURATION seconds per receiver, cut into ROUNDS slices taken in turns
#      (promscope, Prometheus, promscope, Prometheus) so that a change in the load from
#      other processes hits both about equally;
#   4. promscope's own summary (samples received) cross-checks wrk's count, and
#      Prometheus's /metrics tells how many samples its TSDB appended or rejected;
#   5. RW1 only, a control: the workload without churn, 4 s at Prometheus, to show
#      why the churn is there (see below).
# Samples/s = 2xx responses in the measured slices x samples per request / their seconds.
# Samples per CPU second = the same 2xx samples / the user + system CPU time the receiver's
# process used during its own slices (/proc/PID/stat): on a busy machine the receivers get
# unequal shares of the cores (a request of promscope's waits for the scheduler as long as
# one of Prometheus's, but is done far sooner), which squeezes the samples/s ratio; the CPU
# ratio says what each sample costs.
#
# Why churn: wrk replays a fixed set of bodies, so every body is sent many times. Prometheus
# answers 400 "out of order sample" (and rolls the whole request back) when a series gets a
# timestamp older than its newest one, which is what the default workload (the same 2000
# series in every body, timestamps increasing body by body) produces from the second lap on.
# A sample with the same timestamp AND value as the series' newest one is an exact
# duplicate: Prometheus accepts it (2xx) and drops it silently at commit. With one series
# set per body, every lap after the first repeats exactly the newest sample of each series,
# so Prometheus accepts the whole workload; the warm-up lap creates the series, and the
# measured slices are the steady state (decode, label building, series lookup, WAL write; only
# the chunk append is skipped for the duplicates, which if anything flatters Prometheus).
#
# promscope, Prometheus and wrk all share the machine's cores; they do for both receivers,
# so the ratio is fair, but absolute numbers depend on what else the machine is doing.
#
# Needs: root for `apt-get install wrk` when wrk is missing; cargo (unless --no-build or
# PROMSCOPE_BIN is set); tests/fetch_senders.sh's needs (apt-get download).
# Traffic stays on 127.0.0.1; every loop and wait is bounded; processes and the temp dir
# are cleaned up on exit.
#
# wrk -t1 -c8 by default: of -t1/-t2 x -c4/-c8/-c16 tried on the 2-core machine, it was
# among the best for both receivers (wrk itself needs ~5% of a core here: the requests
# are formatted once, up front).
#
# Settings (environment): DURATION (s, default 20), WARMUP (s, 4; repeated until
# every wrk thread has sent every body once), THREADS (wrk -t, 1),
# CONNECTIONS (wrk -c, 8), ROUNDS (4: DURATION is cut into ROUNDS slices per receiver,
# taken in turns), BODIES (64), PROTOCOLS ("rw1 rw2"), PROMSCOPE_BIN,
# PROMETHEUS3_BIN (skips the fetch), BASE_PORT (19400), KEEP_WORK=1 (keep the temp dir).
set -euo pipefail

cd "$(dirname "$0")/.."
root="$(pwd)"

DURATION="${DURATION:-20}"
WARMUP="${WARMUP:-4}"
THREADS="${THREADS:-1}"
CONNECTIONS="${CONNECTIONS:-8}"
BODIES="${BODIES:-64}"
PROTOCOLS="${PROTOCOLS:-rw1 rw2}"
BASE_PORT="${BASE_PORT:-19400}"
ROUNDS="${ROUNDS:-4}"
# The workload: promscope send's defaults (avalanche-shaped).
METRICS=10
SERIES_PER_METRIC=200
SAMPLES_PER_REQUEST=2000

build=1
for arg in "$@"; do
    case "$arg" in
        --no-build) build=0 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "side_by_side: unknown argument $arg" >&2; exit 2 ;;
    esac
done

log() { echo "side_by_side: $*" >&2; }
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
die() { log "$*"; exit 1; }

# --- tools -----------------------------------------------------------------------------
need_apt() {
    local pkg="$1"
    export DEBIAN_FRONTEND=noninteractive
    log "installing $pkg"
    apt-get install -y -q "$pkg" >&2 || { apt-get update -q >&2 && apt-get install -y -q "$pkg" >&2; }
}
command -v wrk >/dev/null || need_apt wrk
command -v curl >/dev/null || need_apt curl
command -v wrk >/dev/null || die "wrk is not installed"

if [[ -n "${PROMSCOPE_BIN:-}" ]]; then
    promscope="$PROMSCOPE_BIN"
else
    promscope="$root/target/release/promscope"
    if [[ "$build" == 1 || ! -x "$promscope" ]]; then
        log "cargo build --release"
        cargo build --release -q >&2
    fi
fi
[[ -x "$promscope" ]] || die "no promscope binary at $promscope"

if [[ -z "${PROMETHEUS3_BIN:-}" ]]; then
    eval "$("$root/tests/fetch_senders.sh" prometheus3)"
fi
prometheus="$PROMETHEUS3_BIN"
"$prometheus" --version >/dev/null 2>&1 || die "Prometheus 3 at $prometheus does not run"

# --- processes and temp dir, cleaned up on any exit --------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/side_by_side.XXXXXX")"
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        # bounded: 10 s, then KILL
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    if [[ "${KEEP_WORK:-0}" == 1 ]]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# stop PID: SIGTERM, wait (bounded) for it to exit, and forget it.
stop() {
    local pid="$1" i
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    local keep=() p
    for p in "${pids[@]}"; do [[ "$p" == "$pid" ]] || keep+=("$p"); done
    pids=("${keep[@]+"${keep[@]}"}")
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
    local p
    for p in $(seq "$1" $(( $1 + 99 ))); do
        port_in_use "$p" || { echo "$p"; return; }
    done
    die "no free port from $1"
}

# wait_for PID CMD...: until CMD succeeds (bounded: 30 s) while PID is alive.
wait_for() {
    local pid="$1"; shift
    for _ in $(seq 300); do
        kill -0 "$pid" 2>/dev/null || return 1
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

# --- workload ---------------------------------------------------------------------------
series=$(( METRICS * SERIES_PER_METRIC ))
per_request=$(( SAMPLES_PER_REQUEST < series ? SAMPLES_PER_REQUEST : series ))
for proto in $PROTOCOLS; do
    "$promscope" send --write-bodies "$work/bodies-$proto" --count "$BODIES" --protocol "$proto" \
        --metrics "$METRICS" --series-per-metric "$SERIES_PER_METRIC" \
        --samples-per-request "$SAMPLES_PER_REQUEST" --churn-every 1 2>&1 | sed 's/^/  /' >&2
done
# The control: the same workload without churn (the same series in every body).
"$promscope" send --write-bodies "$work/bodies-nochurn" --count "$BODIES" --protocol rw1 \
    --metrics "$METRICS" --series-per-metric "$SERIES_PER_METRIC" \
    --samples-per-request "$SAMPLES_PER_REQUEST" 2>&1 | sed 's/^/  /' >&2

# wrk_run URL BODY_DIR SECONDS: runs wrk (bounded by timeout), prints its REPLAY line.
wrk_run() {
    local out
    out="$(timeout $(( $3 + 60 )) wrk -t"$THREADS" -c"$CONNECTIONS" -d"$3"s --timeout 10s \
        -s "$root/benches/wrk_replay.lua" "$1" -- "$2" "$THREADS")" || die "wrk failed: $out"
    grep '^REPLAY' <<<"$out"
}
field() { sed -n "s/.*[[:space:]]$1=\([0-9]*\).*/\1/p" <<<"$2" | head -n1; }
# ok_count LINE: the 2xx responses in a REPLAY line.
ok_count() { grep -o 'status_2[0-9][0-9]=[0-9]*' <<<"$1" | awk -F= '{s+=$2} END {print s+0}'; }

# warm_up NAME URL BODY_DIR: wrk runs of WARMUP seconds until every wrk thread has been
# once round the ring, so that the receiver has seen every series before the measured
# slices (bounded: 6 runs). Adds to warm_ok[NAME] and wrk_runs[NAME].
warm_up() {
    local name="$1" url="$2" dir="$3" warm round
    warm_ok[$name]=0
    for round in 1 2 3 4 5 6; do
        warm="$(wrk_run "$url" "$dir" "$WARMUP")"
        warm_ok[$name]=$(( ${warm_ok[$name]} + $(ok_count "$warm") ))
        wrk_runs[$name]=$(( ${wrk_runs[$name]:-0} + 1 ))
        log "  $name warm-up: $(head -n1 <<<"$warm")"
        (( ${warm_ok[$name]} >= BODIES * THREADS )) && return
    done
    log "  $name: warm-up did not get round the $BODIES bodies"
}

# cpu_ticks PID: user + system CPU time of PID so far, in clock ticks (/proc/PID/stat
# fields 14 and 15; the command name in field 2 is in parentheses and has no ") ").
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

# measure NAME URL BODY_DIR SECONDS PID: one measured slice; adds its 2xx, non-2xx and
# duration to ok[NAME], bad[NAME], us[NAME], the CPU ticks PID (the receiver) used
# during it to cpu[NAME], keeps the largest p99 in p99[NAME].
measure() {
    local name="$1" line ticks
    ticks=$(cpu_ticks "$5")
    line="$(wrk_run "$2" "$3" "$4")"
    ticks=$(( $(cpu_ticks "$5") - ticks ))
    cpu[$name]=$(( ${cpu[$name]:-0} + ticks ))
    slice_cpu=$ticks
    log "  $name measured: $(head -n1 <<<"$line")"
    grep '^REPLAY first_non2xx' <<<"$line" >&2 || true
    line="$(grep -v first_non2xx <<<"$line")"
    runs+=("$name: ${line#REPLAY }")
    slice_rate=$(awk -v ok="$(ok_count "$line")" -v n="$per_request" -v us="$(field duration_us "$line")" \
        'BEGIN {if (us > 0) printf "%.0f", ok * n / (us / 1e6); else print 0}')
    wrk_runs[$name]=$(( ${wrk_runs[$name]:-0} + 1 ))
    ok[$name]=$(( ${ok[$name]:-0} + $(ok_count "$line") ))
    bad[$name]=$(( ${bad[$name]:-0} + $(field non2xx "$line") ))
    us[$name]=$(( ${us[$name]:-0} + $(field duration_us "$line") ))
    local q=$(( $(field p99_us "$line") / 1000 ))
    (( q > ${p99[$name]:-0} )) && p99[$name]=$q
    return 0
}

runs=()
control=""
declare -A warm_ok wrk_runs ok bad us cpu p99 checks round_ratios cpu_round_ratios
slice=$(( (DURATION + ROUNDS - 1) / ROUNDS ))
printf 'global:\n  scrape_interval: 1h\nscrape_configs: []\n' >"$work/prometheus.yml"
for proto in $PROTOCOLS; do
    dir="$work/bodies-$proto"

    port=$(free_port "$BASE_PORT")
    ps_url="http://127.0.0.1:$port/api/v1/write"
    log "$proto: promscope on 127.0.0.1:$port"
    "$promscope" --no-tui --format none --listen "127.0.0.1:$port" 2>"$work/promscope-$proto.log" &
    ps_pid=$!; pids+=("$ps_pid")
    wait_for "$ps_pid" port_in_use "$port" \
        || { cat "$work/promscope-$proto.log" >&2; die "promscope did not start"; }

    port=$(free_port $(( port + 1 )))
    pr_url="http://127.0.0.1:$port/api/v1/write"
    flags=(--web.enable-remote-write-receiver)
    if [[ "$proto" == rw2 ]]; then
        flags+=(--web.remote-write-receiver.accepted-protobuf-messages=prometheus.WriteRequest
                --web.remote-write-receiver.accepted-protobuf-messages=io.prometheus.write.v2.Request)
    fi
    log "$proto: Prometheus on 127.0.0.1:$port"
    "$prometheus" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb-$proto" \
        --web.listen-address="127.0.0.1:$port" "${flags[@]}" >"$work/prometheus-$proto.log" 2>&1 &
    pr_pid=$!; pids+=("$pr_pid")
    wait_for "$pr_pid" curl -fs -o /dev/null "http://127.0.0.1:$port/-/ready" \
        || { tail -n 20 "$work/prometheus-$proto.log" >&2; die "Prometheus did not start"; }

    # Both receivers are up (the idle one costs next to nothing); the measured time is
    # cut into ROUNDS slices taken in turns, so that a change in what else the machine
    # is doing hits both about equally.
    warm_up "$proto/promscope" "$ps_url" "$dir"
    warm_up "$proto/prometheus" "$pr_url" "$dir"
    per_round=""
    per_round_cpu=""
    for (( r = 1; r <= ROUNDS; r++ )); do
        measure "$proto/promscope" "$ps_url" "$dir" "$slice" "$ps_pid"
        a=$slice_rate; a_cpu=$slice_cpu
        measure "$proto/prometheus" "$pr_url" "$dir" "$slice" "$pr_pid"
        per_round+="$(awk -v a="$a" -v b="$slice_rate" 'BEGIN {if (b > 0) printf " %.2f", a / b; else printf " n/a"}')"
        # samples per CPU second, promscope's over Prometheus's
        per_round_cpu+="$(awk -v a="$a" -v ac="$a_cpu" -v b="$slice_rate" -v bc="$slice_cpu" \
            'BEGIN {if (b > 0 && ac > 0) printf " %.2f", (a / ac) / (b / bc); else printf " n/a"}')"
    done
    round_ratios[$proto]="${per_round# }"
    cpu_round_ratios[$proto]="${per_round_cpu# }"

    metrics="$(curl -fs "http://127.0.0.1:$port/metrics" || true)"
    m() { awk -v k="$1" '$1 == k {printf "%.0f", $2}' <<<"$metrics"; }
    checks[$proto/prometheus]="Prometheus TSDB: $(m prometheus_tsdb_head_series) head series, $(m 'prometheus_tsdb_head_samples_appended_total{type="float"}') samples appended (the rest were exact duplicates, dropped), $(m 'prometheus_tsdb_out_of_order_samples_total{type="float"}') out-of-order samples rejected"
    log "  ${checks[$proto/prometheus]}"
    if [[ "$proto" == rw1 ]]; then
        # Why the workload churns: the same bodies without churn, replayed at this Prometheus.
        control="$(wrk_run "$pr_url" "$work/bodies-nochurn" 4)"
        log "  control (no churn): $(head -n1 <<<"$control")"
    fi
    stop "$pr_pid"

    stop "$ps_pid"
    received=$(sed -n 's/^ *received *\([0-9]*\) samples.*/\1/p' "$work/promscope-$proto.log" | tail -n1)
    dropped=$(sed -n 's/^ *dropped *\([0-9]*\) requests.*/\1/p' "$work/promscope-$proto.log" | tail -n1)
    [[ -n "$received" ]] || { cat "$work/promscope-$proto.log" >&2; die "no promscope summary"; }
    # wrk does not count the requests still in flight when its time is up (at most
    # CONNECTIONS per wrk run), so promscope may have received a little more than wrk saw.
    sent=$(( (${warm_ok[$proto/promscope]} + ${ok[$proto/promscope]}) * per_request ))
    slack=$(( ${wrk_runs[$proto/promscope]} * CONNECTIONS * per_request ))
    checks[$proto/promscope]="promscope summary: received $received samples; wrk saw $sent in 2xx (warm-up + measured); difference $(( received - sent )) (up to $slack expected: requests in flight when each of ${wrk_runs[$proto/promscope]} wrk runs ended); ${dropped:-?} requests dropped with 503"
    log "  ${checks[$proto/promscope]}"
done

# rate NAME: measured samples per second.
rate() {
    awk -v ok="${ok[$1]}" -v n="$per_request" -v us="${us[$1]}" \
        'BEGIN {if (us > 0) printf "%.0f", ok * n / (us / 1e6); else print 0}'
}

# per_cpu NAME: measured samples per second of the receiver's CPU time (user + system).
per_cpu() {
    awk -v ok="${ok[$1]}" -v n="$per_request" -v t="${cpu[$1]}" -v hz="$(getconf CLK_TCK)" \
        'BEGIN {if (t > 0) printf "%.0f", ok * n / (t / hz); else print 0}'
}

# --- report -----------------------------------------------------------------------------
commit="$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
dirty="$(git -C "$root" status --porcelain -- src Cargo.toml Cargo.lock build.rs proto 2>/dev/null | awk '{print $2}' | paste -sd' ' -)"
[[ -n "$dirty" ]] && dirty=" (uncommitted changes in: $dirty)"
echo
echo "date:       $(date -u '+%Y-%m-%d %H:%M UTC')"
if [[ -n "${PROMSCOPE_BIN:-}" ]]; then
    echo "promscope:  $("$promscope" --version 2>&1 | head -n1), binary $PROMSCOPE_BIN (given by PROMSCOPE_BIN; work tree at $commit)"
else
    echo "promscope:  $("$promscope" --version 2>&1 | head -n1), built from the work tree at commit $commit$dirty"
fi
echo "prometheus: $("$prometheus" --version 2>&1 | head -n1)"
echo "wrk:        -t$THREADS -c$CONNECTIONS; per receiver: warm-up (${WARMUP}s runs until one lap of the bodies), then $ROUNDS measured slices of ${slice}s, taken in turns"
echo "workload:   $BODIES bodies per protocol, $METRICS metrics x $SERIES_PER_METRIC series, $per_request samples per request, --churn-every 1"
echo "machine:    nproc=$(nproc), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1), load average at start: $load_before"
echo
echo "| protocol | promscope samples/s | Prometheus 3 samples/s | ratio | non-2xx promscope | non-2xx Prometheus | worst p99 ms promscope / Prometheus |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for proto in $PROTOCOLS; do
    a=$(rate "$proto/promscope"); b=$(rate "$proto/prometheus")
    ratio=$(awk -v a="$a" -v b="$b" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}')
    printf '| %s | %s | %s | %s× | %s | %s | %s / %s |\n' "${proto^^}" "$a" "$b" "$ratio" \
        "${bad[$proto/promscope]}" "${bad[$proto/prometheus]}" "${p99[$proto/promscope]}" "${p99[$proto/prometheus]}"
done
echo
for proto in $PROTOCOLS; do
    echo "${proto^^} ratio per round (promscope slice / the Prometheus slice after it): ${round_ratios[$proto]}"
done
echo
echo "Per CPU second of the receiver (user + system time of its process during its own slices;"
echo "less sensitive than samples/s to what else the machine runs, not to cache and scheduler effects):"
echo
echo "| protocol | promscope samples per CPU s | Prometheus 3 samples per CPU s | ratio | promscope CPU s / wall s | Prometheus CPU s / wall s |"
echo "|---|---:|---:|---:|---:|---:|"
for proto in $PROTOCOLS; do
    a=$(per_cpu "$proto/promscope"); b=$(per_cpu "$proto/prometheus")
    ratio=$(awk -v a="$a" -v b="$b" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}')
    hz=$(getconf CLK_TCK)
    ua=$(awk -v t="${cpu[$proto/promscope]}" -v us="${us[$proto/promscope]}" -v hz="$hz" 'BEGIN {if (us > 0) printf "%.2f", (t / hz) / (us / 1e6); else print 0}')
    ub=$(awk -v t="${cpu[$proto/prometheus]}" -v us="${us[$proto/prometheus]}" -v hz="$hz" 'BEGIN {if (us > 0) printf "%.2f", (t / hz) / (us / 1e6); else print 0}')
    printf '| %s | %s | %s | %s× | %s | %s |\n' "${proto^^}" "$a" "$b" "$ratio" "$ua" "$ub"
done
echo
for proto in $PROTOCOLS; do
    echo "${proto^^} per-CPU ratio per round: ${cpu_round_ratios[$proto]}"
done
echo
echo "measured slices (wrk, per status):"
printf '  %s\n' "${runs[@]}"
if [[ -n "$control" ]]; then
    echo "control, RW1 without --churn-every 1 (the same 2000 series in every body), 4 s at Prometheus:"
    sed 's/^REPLAY /  /' <<<"$control"
fi
for proto in $PROTOCOLS; do
    echo "${proto^^}: ${checks[$proto/promscope]}"
    echo "${proto^^}: ${checks[$proto/prometheus]}"
done
