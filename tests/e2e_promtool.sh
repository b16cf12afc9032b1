#!/usr/bin/env bash
# End-to-end test: `promtool push metrics` sends a text-format metrics file (a counter, a
# gauge with a non-ASCII label value, a histogram, a summary, an untyped metric, all with
# explicit timestamps) to promscope; promtool must report success.
#   - RW 1.0 (the default): every sample must arrive exactly, with the metadata.
#   - `--protobuf_message io.prometheus.write.v2.Request`: promtool 3.16 sends the same
#     RW 1.0 WriteRequest body labelled as RW 2.0 (Content-Type
#     `proto=io.prometheus.write.v2.Request`, `X-Prometheus-Remote-Write-Version: 2.0.0`).
#     Read as RW 2.0 it holds nothing, so nothing may arrive, and promscope must say what
#     it looks like (promtool still reports success: the Written headers say 0, which its
#     client accepts).
#
#   tests/e2e_promtool.sh [PROMTOOL_BIN]
#
# promtool is the argument, else $PROMTOOL_BIN, else tests/fetch_senders.sh prometheus
# builds it (3.16.0). Prints PASS/FAIL lines and ends with `N passed, M failed`; exits 1 on
# any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tests/e2e/lib.sh

promtool="${1:-${PROMTOOL_BIN:-}}"
if [[ -z "$promtool" ]]; then
    eval "$(tests/fetch_senders.sh prometheus)"
    promtool="$PROMTOOL_BIN"
fi
e2e_init promtool
version="$("$promtool" --version 2>&1 | head -n 1)"
echo "e2e: $version ($promtool)"

python3 tests/e2e/promtool_input.py "$work/metrics.prom" "$work/sent.jsonl" "$((started_ms - 5000))"

declare -A message=([rw1]=prometheus.WriteRequest [rw2]=io.prometheus.write.v2.Request)
for p in rw1 rw2; do
    name="${p^^}"
    start_promscope "$p"
    if "$promtool" push metrics --protobuf_message="${message[$p]}" \
        "http://127.0.0.1:${ps_port[$p]}" "$work/metrics.prom" >"$work/promtool-$p.log" 2>&1; then
        pass "$name: promtool push metrics --protobuf_message=${message[$p]} succeeds"
    else
        fail "$name: promtool push metrics --protobuf_message=${message[$p]} succeeds:" \
            "$(paste -sd ' ' "$work/promtool-$p.log" | head -c 600)"
    fi
    wait_until 10 0.2 grep -qE '"e2e_promtool_untyped"|"problem"' "$work/$p.jsonl" || true
    if [[ $p == rw1 ]]; then
        counted python3 tests/e2e/check_sent.py "$name" "$work/sent.jsonl" "$work/$p.jsonl"
    else
        : >"$work/nothing.jsonl"
        counted python3 tests/e2e/check_sent.py "$name" "$work/nothing.jsonl" "$work/$p.jsonl" \
            --sent-nothing --want-problem content-type-mismatch
    fi
    finish_promscope "$p" "$name" "Go-http-client/"
done
e2e_result
