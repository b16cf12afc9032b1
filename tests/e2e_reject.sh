#!/usr/bin/env bash
# End-to-end test of strict rejection (`--rule ID=reject`): a real Prometheus 3.x sends
# RW 2.0 to promscope, and a write relabel gives one metric (prometheus_http_requests_total)
# a label value of 3000 bytes, over label-value-too-long's 2048; promscope runs with
# `--rule label-value-too-long=reject`.
#
#   tests/e2e_reject.sh [PROMETHEUS_BIN]     (3.x; $PROMETHEUS_BIN, else `prometheus`)
#
# Checks: promscope answers 400 naming the rule and the series, refuses those series alone
# (no sample of the relabelled metric is printed, other metrics' samples are, request after
# request), and Prometheus counts failed samples, retries nothing (400 is final), logs the
# refusals as non-recoverable, and keeps sending. Then scraping stops (a reload with no
# scrape configs; the remote-write queue, unchanged, stays) and, once the queue is drained,
# Prometheus's failed samples equal exactly its sent samples minus those promscope wrote
# (printed): the refused series' samples, no more, no fewer (Prometheus fails a request's
# samples minus the Written header's count).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tests/e2e/lib.sh

prom="${1:-${PROMETHEUS_BIN:-$(command -v prometheus || true)}}"
[[ -n "$prom" && -x "$prom" ]] || {
    echo "e2e: no Prometheus 3.x binary (argument or PROMETHEUS_BIN)" >&2
    exit 2
}
version="$("$prom" --version 2>&1 | sed -nE '1s/^prometheus, version ([0-9]+)\..*/\1/p')"
[[ "$version" -ge 3 ]] || {
    echo "e2e: $prom is not Prometheus 3.x" >&2
    exit 2
}
e2e_init reject
start_promscope rw2 --rule label-value-too-long=reject
long="$(printf 'p%.0s' $(seq 3000))"
prom_port="$(free_port)"
cat >"$work/global.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
EOF
cat >"$work/scrape.yml" <<EOF
scrape_configs:
  - job_name: reject-e2e
    static_configs:
      - targets: ['127.0.0.1:$prom_port']
EOF
cat >"$work/remote_write.yml" <<EOF
remote_write:
  - name: rw2
    url: http://127.0.0.1:${ps_port[rw2]}/rw2
    protobuf_message: io.prometheus.write.v2.Request
    remote_timeout: 10s
    queue_config:
      batch_send_deadline: 1s
      min_backoff: 100ms
      max_backoff: 1s
    write_relabel_configs:
      - source_labels: [__name__]
        regex: prometheus_http_requests_total
        target_label: long
        replacement: $long
EOF
cat "$work/global.yml" "$work/scrape.yml" "$work/remote_write.yml" >"$work/prometheus.yml"
"$prom" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
    --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
prom_pid=$!
pids+=("$prom_pid")
wait_until 30 0.5 http_ok "http://127.0.0.1:$prom_port/-/ready" \
    || give_up "Prometheus starts and becomes ready"
pass "Prometheus $("$prom" --version 2>&1 | head -n 1 | cut -d' ' -f3) starts and becomes ready"
# Enough requests for both kinds of series, refused and written, several times over.
requests() { grep -c '"kind":"rejected"' "$work/rw2.jsonl" || true; }
enough_requests() { test "$(requests)" -ge 5; }
wait_until "$timeout_s" 1 enough_requests || true
# No more scraping (its stale markers are sent too); the same remote_write keeps its queue.
cat "$work/global.yml" "$work/remote_write.yml" >"$work/prometheus.yml"
kill -HUP "$prom_pid"
# sent_and_written: Prometheus's sent samples (rw2 queue) and the size of promscope's output.
sent_and_written() {
    http_ok "http://127.0.0.1:$prom_port/metrics" "$work/settle.metrics" || return 1
    echo "$(grep -E '^prometheus_remote_storage_samples_total\{.*remote_name="rw2"' "$work/settle.metrics") $(wc -c <"$work/rw2.jsonl")"
}
# settled: neither changed for 3 s (the queue is drained and promscope has printed it all).
settled() {
    local before
    before="$(sent_and_written)" || return 1
    sleep 3
    [[ "$(sent_and_written)" == "$before" ]]
}
wait_until "$timeout_s" 0.5 settled || fail "Prometheus's queue drains once scraping stops"
http_ok "http://127.0.0.1:$prom_port/metrics" "$work/prometheus.metrics" \
    || fail "Prometheus serves /metrics"
# What promscope had written then, to compare with those counts.
cp "$work/rw2.jsonl" "$work/rw2.settled.jsonl"
check "REJECT: Prometheus reloads its configuration without scrape configs" \
    grep -qE '^prometheus_config_last_reload_successful 1' "$work/prometheus.metrics"
stop "$prom_pid" 30
counted python3 - "$work/rw2.jsonl" "$work/prometheus.metrics" "$work/prometheus.log" "$work/rw2.settled.jsonl" <<'PY'
import json, re, sys
records = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
metrics = open(sys.argv[2]).read()
log = open(sys.argv[3]).read()
ok = lambda cond, what: print(("PASS" if cond else "FAIL") + ": REJECT: " + what)
target = "prometheus_http_requests_total"
rejected = [r for r in records if r["kind"] == "rejected"]
ok(rejected and all(r["status"] == 400 for r in rejected),
   f"promscope answers 400 ({len(rejected)} requests)")
ok(all("label-value-too-long" in r["message"] and target + "{" in r["message"] for r in rejected),
   "each 400 names the rule and the series: " + (rejected[0]["message"][:160] if rejected else ""))
problems = [p for p in records if p["kind"] == "problem" and p["rule"] == "label-value-too-long"]
ok(problems and all(p["refused"] and p["labels"]["__name__"] == target for p in problems),
   f"label-value-too-long fires on {target} alone, refused ({len(problems)} records)")
samples = [r for r in records if r["kind"] == "sample"]
names = {s["labels"]["__name__"] for s in samples}
ok(target not in names, f"no sample of {target} is written")
ok(len(names) > 50, f"the rest is written ({len(samples)} samples of {len(names)} metrics)")
def total(name):
    return sum(float(v) for v in re.findall(
        r'^' + name + r'\{[^}]*remote_name="rw2"[^}]*\} (\S+)$', metrics, re.M))
failed, sent = total("prometheus_remote_storage_samples_failed_total"), total("prometheus_remote_storage_samples_total")
retried = total("prometheus_remote_storage_samples_retried_total")
ok(failed > 0, f"Prometheus counts failed samples ({failed:g} of {sent:g} sent)")
ok(failed < sent / 2, "most samples were not failed: only the refused series' are")
written = sum(1 for l in open(sys.argv[4]) if '"kind":"sample"' in l)
ok(failed == sent - written,
   f"failed samples are exactly the refused series' ({failed:g} failed = {sent:g} sent - {written} written)")
ok(retried == 0, f"nothing is retried: 400 is final ({retried:g})")
ok(re.search(r"non-recoverable", log) is not None, "Prometheus logs the 400s as non-recoverable")
PY
stop "${ps_pid[rw2]}" 30
check "REJECT: promscope exits 0 on SIGTERM (status $stopped)" test "$stopped" -eq 0
check "REJECT: the summary counts label-value-too-long" grep -q 'label-value-too-long: ' "$work/rw2.stderr"
sed 's/^/  /' "$work/rw2.stderr"
e2e_result
