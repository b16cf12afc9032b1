# Shared by the end-to-end tests (tests/e2e_*.sh): result counting, processes started by
# the test, free ports, waiting, and promscope itself. Source it after `set -euo pipefail`
# and `cd` to the repository root:
#
#   source tests/e2e/lib.sh
#   e2e_init NAME            # work dir, promscope binary, cleanup on exit
#   start_promscope rw1      # promscope --no-tui --format json on a free port: $work/rw1.jsonl
#   ...                      # start the sender, `counted python3 tests/e2e/check_*.py ...`
#   finish_promscope rw1 RW1 'Prometheus/'   # stop it, check status, summary and senders
#   e2e_result               # `N passed, M failed`; exits 1 on any failure
#
# Every line a test prints about its outcome starts with `PASS: ` or `FAIL: `. Work files
# (configs, logs, JSON lines) are kept in $work on failure or when E2E_KEEP=1.

e2e_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

passed=0
failed=0
pass() {
    passed=$((passed + 1))
    echo "PASS: $*"
}
fail() {
    failed=$((failed + 1))
    echo "FAIL: $*"
}
# check DESCRIPTION COMMAND...: PASS when COMMAND succeeds.
check() {
    local what="$1"
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}
# counted COMMAND...: runs a checker that prints `PASS: ...`/`FAIL: ...` lines and counts them.
counted() {
    local line
    while IFS= read -r line; do
        case "$line" in
        PASS:*) passed=$((passed + 1)) ;;
        FAIL:*) failed=$((failed + 1)) ;;
        esac
        echo "$line"
    done < <("$@" || echo "FAIL: checker $* exited with status $?")
}

# e2e_result: the closing line; the exit status of the test.
e2e_result() {
    if ((failed > 0)); then
        dump_logs
    fi
    echo "$passed passed, $failed failed"
    ((failed == 0))
}

# give_up WHAT: a step the rest depends on failed: count it, show the logs, stop.
give_up() {
    fail "$*"
    e2e_result || true
    exit 1
}

# running PID: true while PID has not exited (a zombie counts as exited).
running() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"
    [[ "${stat:0:1}" != Z ]]
}
# stop PID SECONDS [signalled]: SIGTERM (unless already signalled), SIGKILL after SECONDS;
# leaves the exit status in $stopped.
stopped=0
stop() {
    local end=$((SECONDS + $2))
    # A second SIGTERM can kill a sender that is shutting down (vmagent exits
    # 143 on one): `stop PID SECS signalled` only waits.
    [[ "${3:-}" == signalled ]] || kill -TERM "$1" 2>/dev/null || true
    while running "$1" && ((SECONDS < end)); do
        sleep 0.1
    done
    if running "$1"; then
        echo "e2e: pid $1 still running $2 s after SIGTERM: killing it" >&2
        kill -KILL "$1" 2>/dev/null || true
    fi
    stopped=0
    wait "$1" 2>/dev/null || stopped=$?
    local pid rest=()
    for pid in ${pids[@]+"${pids[@]}"}; do
        [[ "$pid" == "$1" ]] || rest+=("$pid")
    done
    pids=(${rest[@]+"${rest[@]}"})
}

# e2e_init NAME: makes $work, finds $promscope (building it if needed), stops every pid in
# $pids on exit.
e2e_init() {
    e2e_name="$1"
    promscope="${PROMSCOPE_BIN:-target/release/promscope}"
    if [[ ! -x "$promscope" ]]; then
        if [[ -n "${PROMSCOPE_BIN:-}" ]]; then
            echo "e2e: PROMSCOPE_BIN=$promscope is not an executable" >&2
            exit 2
        fi
        echo "e2e: $promscope missing: running cargo build --release" >&2
        cargo build --release >&2
    fi
    promscope="$(cd "$(dirname "$promscope")" && pwd)/$(basename "$promscope")"
    timeout_s="${E2E_TIMEOUT:-60}"
    command -v python3 >/dev/null || {
        echo "e2e: python3 is needed" >&2
        exit 2
    }
    work="$(mktemp -d "${TMPDIR:-/tmp}/promscope-e2e-$1.XXXXXX")"
    pids=()
    trap e2e_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    started_ms="$(now_ms)"
    echo "e2e: promscope $("$promscope" --version 2>&1) ($promscope)"
}
e2e_cleanup() {
    local rc=$? pid
    for pid in ${pids[@]+"${pids[@]}"}; do
        stop "$pid" 10
    done
    pids=()
    if [[ "$rc" -eq 0 && "${E2E_KEEP:-0}" != 1 ]]; then
        rm -rf "$work"
    else
        echo "e2e: work files kept in $work" >&2
    fi
}

now_ms() { python3 -c 'import time; print(int(time.time() * 1000))'; }
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_until SECONDS INTERVAL COMMAND...: polls COMMAND every INTERVAL seconds.
wait_until() {
    local end=$((SECONDS + $1)) interval="$2"
    shift 2
    until "$@"; do
        ((SECONDS < end)) || return 1
        sleep "$interval"
    done
}
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# http_ok URL [OUTPUT_FILE]: GET succeeds (the body saved to OUTPUT_FILE if given).
http_ok() {
    python3 - "$@" <<'PY'
import sys, urllib.request
try:
    body = urllib.request.urlopen(sys.argv[1], timeout=5).read()
except Exception:
    sys.exit(1)
if len(sys.argv) > 2:
    with open(sys.argv[2], "wb") as f:
        f.write(body)
PY
}

dump_logs() {
    local f
    for f in "$work"/*.log "$work"/*.stderr; do
        [[ -f "$f" ]] || continue
        echo "----- last lines of $(basename "$f") -----"
        tail -n 25 "$f"
    done
}

# start_promscope NAME [ARGS...]: promscope --no-tui --format json on a free loopback port,
# JSON lines in $work/NAME.jsonl, stderr (the summary) in $work/NAME.stderr; its port in
# ${ps_port[NAME]}, its pid in ${ps_pid[NAME]}. Waits until it listens.
declare -A ps_port ps_pid
start_promscope() {
    local name="$1" port
    shift
    port="$(free_port)"
    "$promscope" --no-tui --format json --listen "127.0.0.1:$port" "$@" \
        >"$work/$name.jsonl" 2>"$work/$name.stderr" &
    ps_pid[$name]=$!
    ps_port[$name]=$port
    pids+=("$!")
    wait_until 20 0.1 listening "$port" || give_up "promscope ($name) listens on 127.0.0.1:$port"
}

# finish_promscope NAME PROTOCOL SENDER_PREFIX [PROBES [HANDSHAKES]]: stops promscope NAME with
# SIGTERM and checks that it exits 0, that its summary counts accepted requests and no rejected
# ones, and that every sender it lists has a User-Agent starting with SENDER_PREFIX and spoke
# PROTOCOL (`RW1`, `RW2`, `VM`, ... as the summary names it). With PROBES, that many
# requests of tests/e2e/probe.py (User-Agent promscope-e2e-probe) were to be rejected and
# counted for that sender; with HANDSHAKES, that many of its TLS handshakes besides, counted
# for a sender of no User-Agent and no protocol (bad_tls). Prints the summary.
finish_promscope() {
    local name="$1" proto="$2" agent="$3" probes="${4:-0}" handshakes="${5:-0}" label="${1^^}"
    local summary accepted rejected senders
    stop "${ps_pid[$name]}" 30
    check "$label: promscope exits 0 on SIGTERM (status $stopped)" test "$stopped" -eq 0
    summary="$work/$name.stderr"
    accepted="$(sed -nE 's/^ *requests +([0-9]+) accepted, ([0-9]+) rejected.*/\1/p' "$summary")"
    rejected="$(sed -nE 's/^ *requests +([0-9]+) accepted, ([0-9]+) rejected.*/\2/p' "$summary")"
    check "$label: summary shows accepted requests and $((probes + handshakes)) rejected (${accepted:-none} accepted, ${rejected:-?} rejected)" \
        test "${accepted:-0}" -gt 0 -a "${rejected:--1}" -eq "$((probes + handshakes))"
    # Sender lines: "    USER-AGENT @ IP  PROTO  N accepted, M rejected".
    senders="$(grep -E '^    .* @ .*  [^ ]+  [0-9]+ accepted' "$summary" || true)"
    check "$label: every sender is $agent… over $proto: $(tr -s ' ' <<<"$senders" | paste -sd ';' -)" \
        python3 - "$senders" "$proto" "$agent" "$probes" "$handshakes" <<'PY'
import re, sys
lines, proto, agent = sys.argv[1].splitlines(), sys.argv[2], sys.argv[3]
probes, handshakes = int(sys.argv[4]), int(sys.argv[5])
pattern = re.compile(r"^    (.*) @ 127\.0\.0\.1  (\S+)  (\d+) accepted, (\d+) rejected")
senders = [m.groups() if (m := pattern.match(l)) else (l, "", "", "") for l in lines]
probe = [s for s in senders if s[0] == "promscope-e2e-probe"]
tls = [s for s in senders if s[0] == "(no User-Agent)" and s[1] == "?"]
ok = all(s[0].startswith(agent) and s[1] == proto for s in senders if s not in probe + tls)
ok = ok and len(senders) > len(probe) + len(tls)
ok = ok and ([(s[2], s[3]) for s in probe] == [("0", str(probes))] if probes else not probe)
ok = ok and ([(s[2], s[3]) for s in tls] == [("0", str(handshakes))] if handshakes else not tls)
sys.exit(0 if ok else 1)
PY
    sed 's/^/  /' "$summary"
}
