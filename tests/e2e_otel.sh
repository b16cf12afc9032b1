#!/usr/bin/env bash
# End-to-end test: OpenTelemetry's Python SDK with its Prometheus remote-write exporter
# (tests/e2e/otel_sender.py: counters, an up-down counter, gauges, a histogram, a non-ASCII
# attribute value, attributes `a.b` and `a_b` that both become label `a_b`) exports twice
# to promscope; every sample of the requests the exporter built must arrive exactly, and
# the exporter must report no failure and log no warning.
#
#   tests/e2e_otel.sh
#
# The venv comes from $E2E_PYTHON, else tests/fetch_senders.sh python. Prints PASS/FAIL
# lines and ends with `N passed, M failed`; exits 1 on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tests/e2e/lib.sh

if [[ -z "${E2E_PYTHON:-}" ]]; then
    eval "$(tests/fetch_senders.sh python)"
fi
e2e_init otel
echo "e2e: $("$E2E_PYTHON" -m pip list 2>/dev/null | grep -E '^opentelemetry-(sdk|exporter-prometheus-remote-write) ' \
    | tr -s ' ' | paste -sd ',' -)"

start_promscope otel
url="http://127.0.0.1:${ps_port[otel]}/api/v1/write"
if "$E2E_PYTHON" tests/e2e/otel_sender.py "$url" "$work/sent.jsonl" >"$work/sender.log" 2>&1; then
    pass "OTEL: both exports succeed, nothing logged ($(head -n 1 "$work/sender.log"))"
else
    fail "OTEL: both exports succeed, nothing logged: $(paste -sd ' ' "$work/sender.log" | head -c 600)"
fi
wait_until 10 0.2 grep -q '"e2e_otel_latency_s_count".*"4"' "$work/otel.jsonl" || true
# The exporter sorts labels by their names before it maps `a.b` to `a_b`: once mapped, that
# series' names are still in order but repeat one (`__name__`, `a_b`, `a_b`, `service_name`),
# which is label-name-repeated and not labels-unsorted ("no other problems" checks the latter).
counted python3 tests/e2e/check_sent.py OTEL "$work/sent.jsonl" "$work/otel.jsonl" \
    --want-problem label-name-repeated
finish_promscope otel RW1 python-requests/
e2e_result
