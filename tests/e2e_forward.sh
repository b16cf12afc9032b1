#!/usr/bin/env bash
# End-to-end test of forward mode: a real Prometheus 3.x scraping itself remote-writes
# through promscope --forward to a second Prometheus 3.x (--web.enable-remote-write-receiver).
#
#   tests/e2e_forward.sh [PROMETHEUS_BIN]
#
# The Prometheus binary is the argument, else $PROMETHEUS_BIN (tests/fetch_senders.sh builds
# 3.16); it plays both the sender and the backends. promscope is $PROMSCOPE_BIN, default
# target/release/promscope.
#
#   sender ── rw1 (RW 1.0) ──▶ promscope rw1 --forward ──▶ backend rw1
#          └─ rw2 (RW 2.0) ──▶ promscope rw2 --forward ──▶ backend rw2
#
# The sender scrapes itself every second, native histograms included, and sends both. The
# test checks that each backend's TSDB ends up with every series and value the sender's has
# (through both HTTP APIs), that the sender counts no failed samples, that RW 2.0 Written
# headers reach it, that out-of-order, duplicate and too-old samples sent through promscope
# get the backend's 400 and message (and show in promscope's JSON), and that with a backend
# stopped the sender gets 502 and promscope counts it.
#
# Prints PASS/FAIL lines and ends with `N passed, M failed`; exits 1 on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tests/e2e/lib.sh

prom="${1:-${PROMETHEUS_BIN:-}}"
if [[ -z "$prom" || ! -x "$prom" ]]; then
    echo "e2e: no Prometheus 3.x binary (pass it as an argument or set PROMETHEUS_BIN;" \
        "tests/fetch_senders.sh builds one)" >&2
    exit 2
fi
version_line="$("$prom" --version 2>&1 || true)"
version_line="${version_line%%$'\n'*}"
version="$(sed -nE 's/^prometheus, version ([0-9]+\.[0-9]+\.[0-9]+[^ ]*).*/\1/p' <<<"$version_line")"
if [[ "${version%%.*}" != 3 ]]; then
    echo "e2e: forward mode is tested with Prometheus 3.x; $prom is $version_line" >&2
    exit 2
fi
e2e_init "forward-$version"
echo "e2e: $version_line ($prom)"
job="promscope-e2e-forward"
protocols=(rw1 rw2)

# --- the backends ----------------------------------------------------------------------
declare -A backend_port backend_pid
for p in "${protocols[@]}"; do
    backend_port[$p]="$(free_port)"
    printf 'global:\n  scrape_interval: 1m\n' >"$work/backend-$p.yml"
    "$prom" --config.file="$work/backend-$p.yml" \
        --storage.tsdb.path="$work/backend-$p" \
        --web.listen-address="127.0.0.1:${backend_port[$p]}" \
        --web.enable-remote-write-receiver \
        --web.remote-write-receiver.accepted-protobuf-messages=prometheus.WriteRequest \
        --web.remote-write-receiver.accepted-protobuf-messages=io.prometheus.write.v2.Request \
        >"$work/backend-$p.log" 2>&1 &
    backend_pid[$p]=$!
    pids+=("$!")
done
for p in "${protocols[@]}"; do
    wait_until 30 0.5 http_ok "http://127.0.0.1:${backend_port[$p]}/-/ready" \
        || give_up "backend $p becomes ready"
done
pass "the backends (Prometheus $version with the remote-write receiver) are ready"

# --- promscope in front of each ---------------------------------------------------------
for p in "${protocols[@]}"; do
    start_promscope "$p" --forward "http://127.0.0.1:${backend_port[$p]}/api/v1/write"
done

# --- the sender --------------------------------------------------------------------------
prom_port="$(free_port)"
{
    cat <<EOF2
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: $job
    scrape_native_histograms: true
    scrape_protocols: [PrometheusProto, OpenMetricsText1.0.0, PrometheusText0.0.4]
    static_configs:
      - targets: ['127.0.0.1:$prom_port']
remote_write:
EOF2
    for p in "${protocols[@]}"; do
        message=""
        [[ $p == rw2 ]] && message=$'\n    protobuf_message: io.prometheus.write.v2.Request'
        cat <<EOF2
  - name: $p
    url: http://127.0.0.1:${ps_port[$p]}/api/v1/write$message
    send_native_histograms: true
    remote_timeout: 10s
    queue_config:
      batch_send_deadline: 1s
      min_backoff: 100ms
      max_backoff: 1s
EOF2
    done
} >"$work/sender.yml"
# A short flush deadline: at the end its backend rw1 is stopped on purpose, and the sender
# would otherwise retry it for a minute before exiting.
"$prom" --config.file="$work/sender.yml" --storage.tsdb.path="$work/sender" \
    --web.listen-address="127.0.0.1:$prom_port" --storage.remote.flush-deadline=1s \
    >"$work/sender.log" 2>&1 &
sender_pid=$!
pids+=("$sender_pid")
wait_until 30 0.5 http_ok "http://127.0.0.1:$prom_port/-/ready" || give_up "the sender becomes ready"
pass "the sender (Prometheus $version) is ready"

# --- both TSDBs ----------------------------------------------------------------------------
from_ms="$(now_ms)"
sleep "${E2E_FORWARD_SECONDS:-20}"
# Compared up to a few seconds ago: what the sender has by then it has sent.
to_ms=$(($(now_ms) - 3000))
for p in "${protocols[@]}"; do
    counted python3 tests/e2e/check_forward.py compare "http://127.0.0.1:$prom_port" \
        "http://127.0.0.1:${backend_port[$p]}" "${p^^}" "$job" "$from_ms" "$to_ms"
done

# --- what the sender counts --------------------------------------------------------------------
if http_ok "http://127.0.0.1:$prom_port/metrics" "$work/sender.metrics"; then
    for p in "${protocols[@]}"; do
        for m in samples histograms; do
            sent="$(awk -v m="prometheus_remote_storage_${m}_total" -v r="remote_name=\"$p\"" \
                '$1 ~ "^"m"\\{" && index($1, r) {s += $2} END {print s + 0}' "$work/sender.metrics")"
            lost="$(awk -v m="prometheus_remote_storage_${m}_failed_total" -v r="remote_name=\"$p\"" \
                '$1 ~ "^"m"\\{" && index($1, r) {s += $2} END {print s + 0}' "$work/sender.metrics")"
            check "${p^^}: the sender sent $m ($sent) and counts 0 failed ($lost)" \
                test "$sent" != 0 -a "$lost" = 0
        done
    done
else
    fail "the sender serves /metrics"
fi

# --- Written headers and the backends' refusals through promscope ----------------------------
counted python3 tests/e2e/check_forward.py written "http://127.0.0.1:${ps_port[rw2]}/api/v1/write"
for p in "${protocols[@]}"; do
    counted python3 tests/e2e/check_forward.py rejections \
        "http://127.0.0.1:${ps_port[$p]}/api/v1/write" "$work/$p.jsonl" "$p"
done

# --- a backend stopped mid-run: 502 to the sender, counted --------------------------------------
stop "${backend_pid[rw1]}" 30
has_failed() { grep -q '"answered":false' "$work/rw1.jsonl"; }
wait_until 20 0.5 has_failed || true
counted python3 tests/e2e/check_forward.py failed "$work/rw1.jsonl"

# --- shutdown -------------------------------------------------------------------------------
stop "$sender_pid" 30
check "the sender exits cleanly on SIGTERM (status $stopped)" test "$stopped" -eq 0
for p in "${protocols[@]}"; do
    stop "${ps_pid[$p]}" 30
    check "${p^^}: promscope exits 0 on SIGTERM (status $stopped)" test "$stopped" -eq 0
    summary="$(grep -E '^  forwarded ' "$work/$p.stderr" || true)"
    echo "  ${p^^}: $summary"
    check "${p^^}: the summary counts what was forwarded" grep -qE ' [1-9][0-9]* ok' <<<"$summary"
done
unanswered="$(sed -nE 's/.* ([0-9]+) without an answer.*/\1/p' "$work/rw1.stderr")"
check "RW1: the summary counts the requests the stopped backend did not answer (${unanswered:-none})" \
    test "${unanswered:-0}" -gt 0
e2e_result
