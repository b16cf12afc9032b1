#!/usr/bin/env bash
# End-to-end test: vmagent scrapes a fixed target (tests/e2e/target.py) and its own
# /metrics every second and remote-writes to promscope, three times side by side:
#   - auto:  no flag; vmagent starts with VictoriaMetrics' protocol (RW 1.0 protobuf,
#            zstd-compressed) and falls back to Prometheus's for good on a 400 or 415;
#   - vm:    -remoteWrite.forceVMProto;
#   - prom:  -remoteWrite.forcePromProto (RW 1.0, snappy).
# Each must arrive whole (see tests/e2e/check_vmagent.py) with vmagent counting no error,
# retry or drop, and promscope must show the protocol: VM, VM, RW1. After three scrapes of
# each job vmagent stops scraping (SIGHUP with an empty scrape config) and sends what it
# holds; its own counts of what it sent (blocks, compressed bytes, series, metadata) must
# then equal what promscope decoded.
# vmagent runs one queue per URL: with its default (2 per CPU) blocks go out concurrently, a
# scrape can arrive after the next one, and promscope then rightly reports `out-of-order`
# (CI saw 15 such samples once), which would make the no-problems check depend on timing.
#
#   tests/e2e_vmagent.sh [VMAGENT_BIN]
#
# vmagent is the argument, else $VMAGENT_BIN, else tests/fetch_senders.sh vmagent builds it
# (v1.153.0, with Go 1.27.3). Prints PASS/FAIL lines and ends with `N passed, M failed`;
# exits 1 on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tests/e2e/lib.sh

vmagent="${1:-${VMAGENT_BIN:-}}"
if [[ -z "$vmagent" ]]; then
    eval "$(tests/fetch_senders.sh vmagent)"
    vmagent="$VMAGENT_BIN"
fi
e2e_init vmagent
echo "e2e: $("$vmagent" --version 2>&1 | head -n 1) ($vmagent)"

target_port="$(free_port)"
python3 tests/e2e/target.py "$target_port" "$work/target.json" 2>"$work/target.stderr" &
pids+=("$!")
wait_until 10 0.1 listening "$target_port" || give_up "the scrape target listens"

declare -A flag=([auto]="" [vm]=-remoteWrite.forceVMProto [prom]=-remoteWrite.forcePromProto)
declare -A want=([auto]=VM [vm]=VM [prom]=RW1)
declare -A vm_pid vm_port
runs=(auto vm prom)
for r in "${runs[@]}"; do
    start_promscope "$r"
    vm_port[$r]="$(free_port)"
    cat >"$work/scrape-$r.yml" <<EOF
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: target
    static_configs:
      - targets: ['127.0.0.1:$target_port']
  - job_name: self
    static_configs:
      - targets: ['127.0.0.1:${vm_port[$r]}']
EOF
    "$vmagent" -httpListenAddr="127.0.0.1:${vm_port[$r]}" \
        -promscrape.config="$work/scrape-$r.yml" \
        -remoteWrite.url="http://127.0.0.1:${ps_port[$r]}/api/v1/write" \
        -remoteWrite.tmpDataPath="$work/vmagent-data-$r" \
        -remoteWrite.flushInterval=1s \
        -remoteWrite.queues=1 \
        ${flag[$r]:+"${flag[$r]}"} >"$work/vmagent-$r.log" 2>&1 &
    vm_pid[$r]=$!
    pids+=("$!")
done

# idle R: fetches vmagent R's /metrics into $work/vmagent-R.metrics; true once it runs no
# scraper, holds no unsent block, and its remote-write counters (which only grow) read the
# same as at least 3 s before (vmagent flushes every second). They then cover all it will
# send: stopping it sends nothing more (its scrapers' stale markers went out as they stopped).
declare -A idle_last idle_since
idle_counters='vm_promscrape_active_scrapers\{type="static_configs"\}|vmagent_remotewrite_('
idle_counters+='pending_[a-z_]+|blocks_sent_total|bytes_sent_total|requests_total'
idle_counters+='|block_size_rows_sum|block_metadata_rows_sum)'
idle() {
    local r="$1" now t="${EPOCHREALTIME/./}"
    http_ok "http://127.0.0.1:${vm_port[$r]}/metrics" "$work/vmagent-$r.metrics" || return 1
    now="$(grep -E "^($idle_counters)[{ ]" "$work/vmagent-$r.metrics")"
    if [[ "$now" != "${idle_last[$r]:-}" ]]; then
        idle_last[$r]="$now"
        idle_since[$r]=$t
    fi
    # None of the counters on the page (renamed?) must not end the script under set -u.
    : "${idle_since[$r]:=$t}"
    ((t - idle_since[$r] >= 3000000)) \
        && ! grep -qE '^(vm_promscrape_active_scrapers|vmagent_remotewrite_pending_).* [1-9]' \
            <<<"$now"
}

for r in "${runs[@]}"; do
    name="${r^^}"
    if wait_until "$timeout_s" 1 python3 tests/e2e/check_vmagent.py wait "$name" \
        "$work/target.json" "$work/$r.jsonl"; then
        echo "e2e: $name: three scrapes of each job arrived"
    else
        echo "e2e: $name: gave up waiting after $timeout_s s"
    fi
done

# Then each stops scraping (an empty scrape config, reloaded on SIGHUP; all three at once, so
# that none goes on while another is checked) and sends what it holds; once it is idle, its
# counters are compared with what promscope decoded.
for r in "${runs[@]}"; do
    printf 'scrape_configs: []\n' >"$work/scrape-$r.yml"
    kill -HUP "${vm_pid[$r]}" 2>/dev/null || true
done
declare -A idled
all_idle() {
    local r waiting=0
    for r in "${runs[@]}"; do
        if [[ -z "${idled[$r]:-}" ]]; then
            if idle "$r"; then idled[$r]=1; else waiting=1; fi
        fi
    done
    ((waiting == 0))
}
wait_until "$timeout_s" 1 all_idle || true
for r in "${runs[@]}"; do
    check "${r^^}: vmagent stops scraping on SIGHUP and sends what it holds" \
        test -n "${idled[$r]:-}"
done

for r in "${runs[@]}"; do
    kill -TERM "${vm_pid[$r]}" 2>/dev/null || true
done
for r in "${runs[@]}"; do
    name="${r^^}"
    stop "${vm_pid[$r]}" 30 signalled
    check "$name: vmagent exits cleanly on SIGTERM (status $stopped)" test "$stopped" -eq 0
    problems="$(grep -E '\b(warn|error|fatal|panic)\b' "$work/vmagent-$r.log" | grep -i remotewrite || true)"
    check "$name: vmagent logged no remote-write warnings or errors${problems:+: $(head -c 600 <<<"$problems")}" \
        test -z "$problems"
    finish_promscope "$r" "${want[$r]}" vmagent
    counted python3 tests/e2e/check_vmagent.py report "$name (${flag[$r]:-negotiated})" \
        "$work/target.json" "$work/$r.jsonl" "$work/vmagent-$r.metrics" "$work/$r.stderr"
done
e2e_result
