#!/usr/bin/env bash
# End-to-end test: the npm `prometheus-remote-write` client (0.5.1, default set-up with
# node-fetch) sends four requests (gauges, a counter, a non-ASCII label value, extreme
# values) to promscope; what it was given must arrive exactly.
#
#   tests/e2e_npm.sh
#
# The client sends snappy bodies without a Content-Encoding header: promscope takes them
# as snappy, as Prometheus does, and warns about each. Its node_modules come from
# $E2E_NODE_PATH, else tests/fetch_senders.sh npm. Prints PASS/FAIL lines and ends with
# `N passed, M failed`; exits 1 on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tests/e2e/lib.sh

if [[ -z "${E2E_NODE_PATH:-}" ]]; then
    eval "$(tests/fetch_senders.sh npm)"
fi
e2e_init npm
echo "e2e: node $(node --version), prometheus-remote-write" \
    "$(node -p 'require(process.argv[1] + "/prometheus-remote-write/package.json").version' \
        "$E2E_NODE_PATH")"

start_promscope npm
url="http://127.0.0.1:${ps_port[npm]}/api/v1/write"
if NODE_PATH="$E2E_NODE_PATH" node tests/e2e/npm/sender.js "$url" "$work/sent.jsonl" \
    >"$work/sender.log" 2>&1; then
    pass "NPM: every request answered 2xx ($(tail -n 1 "$work/sender.log"))"
else
    fail "NPM: every request answered 2xx: $(paste -sd ' ' "$work/sender.log" | head -c 600)"
fi
# The client returns once promscope answered; the records are printed right after.
wait_until 10 0.2 grep -q '"e2e_npm_jobs_total"},.*"45"' "$work/npm.jsonl" || true
counted python3 tests/e2e/check_sent.py NPM "$work/sent.jsonl" "$work/npm.jsonl" \
    --want-warning 'Content-Encoding' --want-problem labels-unsorted
finish_promscope npm RW1 node-fetch
e2e_result
