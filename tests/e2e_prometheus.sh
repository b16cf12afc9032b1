#!/usr/bin/env bash
# End-to-end test: a real Prometheus remote-writes to promscope.
#
#   tests/e2e_prometheus.sh [PROMETHEUS_BIN]
#
# The Prometheus binary is the argument, else $PROMETHEUS_BIN, else `prometheus` on PATH
# (tests/fetch_senders.sh fetches 2.42 and 3.5 from Debian and builds 3.16). promscope is
# $PROMSCOPE_BIN, default target/release/promscope (built with `cargo build --release` if
# missing).
#
# One promscope per protocol, each on its own free loopback port writing JSON lines to a
# file, so every record's protocol is known:
#   - Prometheus 2.x: one RW 1.0 remote_write;
#   - Prometheus 3.x: an RW 1.0 and an RW 2.0 remote_write (`protobuf_message:
#     io.prometheus.write.v2.Request`), native histograms scraped with protobuf and sent;
#   - Prometheus 3.16 and later, also: a fixed OpenMetrics target (tests/e2e/target.py, job
#     `target`) with exemplars (`exemplar-storage`, `send_exemplars`), its classic
#     histogram converted to custom buckets (`convert_classic_histograms_to_nhcb`), and the
#     features `type-and-unit-labels`, `st-storage` and `metadata-wal-records`.
# With Prometheus 3.x each promscope also records (--record); after it stops, each capture
# is replayed headless (records compared one for one with what was printed live) and
# re-sent with `replay --to` to a second promscope (compared the same way, the sender's
# address aside).
# Prometheus scrapes every second. Once the JSON shows what is needed (or after
# $E2E_TIMEOUT seconds, default 60) the script checks the records
# (tests/e2e/check_prometheus.py), compares values with what Prometheus stored
# (check_prometheus_values.py), checks Prometheus's own remote-storage counters
# (check_prometheus_metrics.py), its log, and promscope's exit status and summary.
#
# Prints PASS/FAIL lines and ends with `N passed, M failed`; exits 1 on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tests/e2e/lib.sh

prom="${1:-${PROMETHEUS_BIN:-}}"
if [[ -z "$prom" ]]; then
    prom="$(command -v prometheus || true)"
fi
if [[ -z "$prom" || ! -x "$prom" ]]; then
    echo "e2e: no Prometheus binary (pass it as an argument or set PROMETHEUS_BIN;" \
        "tests/fetch_senders.sh fetches them)" >&2
    exit 2
fi

# --- what this Prometheus is -----------------------------------------------------------
version_line="$("$prom" --version 2>&1 || true)"
version_line="${version_line%%$'\n'*}"
version="$(sed -nE 's/^prometheus, version ([0-9]+\.[0-9]+\.[0-9]+[^ ]*).*/\1/p' <<<"$version_line")"
major="${version%%.*}"
minor="${version#*.}"
minor="${minor%%.*}"
if [[ -z "$version" || ! "$major" =~ ^[0-9]+$ ]]; then
    echo "e2e: cannot read the version of $prom: $version_line" >&2
    exit 2
fi
e2e_init "prometheus-$version"
echo "e2e: $version_line ($prom)"
job="promscope-e2e"
newest=0
if ((major > 3 || (major == 3 && minor >= 16))); then
    newest=1
fi

if ((major >= 3)); then
    protocols=(rw1 rw2)
else
    protocols=(rw1)
fi

# Prometheus 3.x: each promscope also records what it receives (--record), replayed below.
record=()
for p in "${protocols[@]}"; do
    ((major >= 3)) && record=(--record "$work/$p.warc")
    start_promscope "$p" ${record[@]+"${record[@]}"}
done
target_args=()
if ((newest)); then
    target_port="$(free_port)"
    python3 tests/e2e/target.py "$target_port" "$work/target.json" 2>"$work/target.stderr" &
    pids+=("$!")
    wait_until 10 0.1 listening "$target_port" || give_up "the scrape target listens"
    target_args=(--target "$work/target.json")
fi

# --- Prometheus ------------------------------------------------------------------------
prom_port="$(free_port)"
flags=()
scrape_extra=""
remote_extra=""
if ((major >= 3)); then
    # Native histograms: up to 3.8 behind a feature flag (a no-op from 3.9 on); from 3.8
    # the scrape setting scrape_native_histograms, required from 3.9.
    features=()
    help="$("$prom" --help 2>&1 || true)"
    if [[ "$help" == *native-histograms* ]] && ((minor < 9)); then
        features+=(native-histograms)
    fi
    # RW2 carries metadata on each series, taken from WAL metadata records, which 3.x only
    # writes with this (unlisted in --help) feature; without it every series gets an empty
    # Metadata message.
    features+=(metadata-wal-records)
    if ((newest)); then
        features+=(exemplar-storage type-and-unit-labels st-storage)
    fi
    flags+=("--enable-feature=$(IFS=,; echo "${features[*]}")")
    if ((minor >= 8)); then
        scrape_extra+=$'\n    scrape_native_histograms: true'
    fi
    scrape_extra+=$'\n    scrape_protocols: [PrometheusProto, OpenMetricsText1.0.0, OpenMetricsText0.0.1, PrometheusText0.0.4]'
    remote_extra+=$'\n    send_native_histograms: true'
fi
{
    cat <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: $job
    static_configs:
      - targets: ['127.0.0.1:$prom_port']$scrape_extra
EOF
    if ((newest)); then
        remote_extra+=$'\n    send_exemplars: true'
        cat <<EOF
  - job_name: target
    static_configs:
      - targets: ['127.0.0.1:$target_port']
    scrape_protocols: [OpenMetricsText1.0.0]
    convert_classic_histograms_to_nhcb: true
EOF
    fi
    echo "remote_write:"
    for p in "${protocols[@]}"; do
        path=/api/v1/write
        message=""
        # RW1 sends metadata in requests of its own; RW2 on every series (3.x warns that
        # metadata_config.send is redundant there).
        metadata=$'\n    metadata_config:\n      send: true\n      send_interval: 2s'
        if [[ $p == rw2 ]]; then
            path=/rw2
            message=$'\n    protobuf_message: io.prometheus.write.v2.Request'
            metadata=""
        elif ((newest)); then
            # RW 1.0 cannot carry custom buckets: without this, Prometheus drops them
            # (prometheus_remote_storage_histograms_dropped_total{reason="nhcb_in_rw1_not_supported"}).
            message=$'\n    convert_nhcb_to_classic: true'
        fi
        cat <<EOF
  - name: $p
    url: http://127.0.0.1:${ps_port[$p]}$path$message$remote_extra
    remote_timeout: 10s
    queue_config:
      batch_send_deadline: 1s
      min_backoff: 100ms
      max_backoff: 1s$metadata
EOF
    done
} >"$work/prometheus.yml"

"$prom" --config.file="$work/prometheus.yml" \
    --storage.tsdb.path="$work/data" \
    --web.listen-address="127.0.0.1:$prom_port" \
    ${flags[@]+"${flags[@]}"} >"$work/prometheus.log" 2>&1 &
prom_pid=$!
pids+=("$prom_pid")
echo "e2e: Prometheus pid $prom_pid on 127.0.0.1:$prom_port, flags: ${flags[*]:-none}; remote_write:" \
    "$(for p in "${protocols[@]}"; do printf '%s->127.0.0.1:%s ' "$p" "${ps_port[$p]}"; done)"
wait_until 30 0.5 http_ok "http://127.0.0.1:$prom_port/-/ready" \
    || give_up "Prometheus starts and becomes ready"
pass "Prometheus $version starts and becomes ready"

# --- what promscope printed ------------------------------------------------------------
instances=()
for p in "${protocols[@]}"; do
    instances+=("$p=$work/$p.jsonl")
done
check_json() {
    python3 tests/e2e/check_prometheus.py "$1" "$job" "$started_ms" \
        ${target_args[@]+"${target_args[@]}"} "${instances[@]}"
}
waited_from=$SECONDS
if wait_until "$timeout_s" 2 check_json wait; then
    echo "e2e: everything expected arrived after $((SECONDS - waited_from)) s"
else
    echo "e2e: gave up waiting after $((SECONDS - waited_from)) s"
fi
counted check_json report

# --- values: what promscope printed against what Prometheus stored --------------------------
counted python3 tests/e2e/check_prometheus_values.py "http://127.0.0.1:$prom_port" "${instances[@]}"

# --- Prometheus's own view of its remote writes ---------------------------------------------
if http_ok "http://127.0.0.1:$prom_port/metrics" "$work/prometheus.metrics"; then
    counted python3 tests/e2e/check_prometheus_metrics.py "$work/prometheus.metrics" "$major" \
        "${protocols[@]}"
else
    fail "Prometheus serves /metrics"
fi

# --- shutdown ----------------------------------------------------------------------------
stop "$prom_pid" 30
check "Prometheus exits cleanly on SIGTERM (status $stopped)" test "$stopped" -eq 0
errors="$(grep -iE 'level=error.*remote|remote.*level=error|non-recoverable|failed to send' \
    "$work/prometheus.log" || true)"
check "Prometheus logged no remote-write errors${errors:+: $(head -c 600 <<<"$errors")}" \
    test -z "$errors"

for p in "${protocols[@]}"; do
    finish_promscope "$p" "${p^^}" Prometheus/
done

# --- captures: replayed headless, and re-sent to a second promscope ------------------------
if ((major >= 3)); then
    for p in "${protocols[@]}"; do
        capture="$work/$p.warc"
        if "$promscope" replay "$capture" --no-tui --format json \
            >"$work/$p.replayed.jsonl" 2>"$work/$p.replayed.stderr"; then
            pass "${p^^}: promscope replay --no-tui of the capture exits 0"
        else
            fail "${p^^}: promscope replay --no-tui of the capture exits 0 (status $?)"
        fi
        counted python3 tests/e2e/compare_records.py \
            "${p^^}: the capture replayed headless prints what was printed live" \
            "$work/$p.jsonl" "$work/$p.replayed.jsonl"
        path=/api/v1/write
        [[ $p == rw2 ]] && path=/rw2
        start_promscope "$p-resent"
        if "$promscope" replay "$capture" --speed max \
            --to "http://127.0.0.1:${ps_port[$p-resent]}$path" >"$work/$p.resend.log" 2>&1; then
            pass "${p^^}: promscope replay --to re-sends the capture: $(tail -n 2 "$work/$p.resend.log" | paste -sd ' ' -)"
        else
            fail "${p^^}: promscope replay --to re-sends the capture: $(tail -n 3 "$work/$p.resend.log" | paste -sd ' ' -)"
        fi
        finish_promscope "$p-resent" "${p^^}" Prometheus/
        # The re-sent requests come from another connection: the sender's address differs.
        counted python3 tests/e2e/compare_records.py \
            "${p^^}: the capture re-sent to a second promscope prints what was printed live" \
            "$work/$p.jsonl" "$work/$p-resent.jsonl" --ignore remote_addr
    done
fi
e2e_result
