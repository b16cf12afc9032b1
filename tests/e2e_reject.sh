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
# refusals as non-recoverable, and keeps sending: its failed samples are no more than those
# of the relabelled metric (each request fails only the refused series' samples, since the
# Written headers count the rest).
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
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: reject-e2e
    static_configs:
      - targets: ['127.0.0.1:$prom_port']
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
"$prom" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
    --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
prom_pid=$!
pids+=("$prom_pid")
wait_until 30 0.5 http_ok "http://127.0.0.1:$prom_port/-/ready" \
    || give_up "Prometheus starts and becomes ready"
pass "Prometheus $("$prom" --version 2>&1 | head -n 1 | cut -d' ' -f3) starts and becomes ready"
# Enough requests for both kinds of series, refused and written, several times over.
requests() { grep -c '"kind":"rejected"' "$work/rw2.jsonl" || true; }
wait_until "$timeout_s" 1 test "$(requests)" -ge 5 || true
http_ok "http://127.0.0.1:$prom_port/metrics" "$work/prometheus.metrics" \
    || fail "Prometheus serves /metrics"
stop "$prom_pid" 30
counted python3 - "$work/rw2.jsonl" "$work/prometheus.metrics" "$work/prometheus.log" <<'PY'
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
ok(retried == 0, f"nothing is retried: 400 is final ({retried:g})")
ok(re.search(r"non-recoverable", log) is not None, "Prometheus logs the 400s as non-recoverable")
PY
stop "${ps_pid[rw2]}" 30
check "REJECT: promscope exits 0 on SIGTERM (status $stopped)" test "$stopped" -eq 0
check "REJECT: the summary counts label-value-too-long" grep -q 'label-value-too-long: ' "$work/rw2.stderr"
sed 's/^/  /' "$work/rw2.stderr"
e2e_result
