#!/usr/bin/env bash
# End-to-end test: a real Prometheus (3.16) remote-writes to promscope over HTTPS, with
# certificates the test makes with openssl:
#   - mtls:   `--web.config.file` with tls_server_config requiring a client certificate
#             (RequireAndVerifyClientCert) and basic_auth_users (a bcrypt hash); Prometheus
#             sends RW 1.0 with `tls_config` (CA, client certificate) and `basic_auth`;
#   - bearer: `--web.config.file` with TLS only, plus `--auth-token-file`; Prometheus sends
#             RW 2.0 with `authorization: {credentials_file: ...}`.
# What Prometheus sends must arrive (tests/e2e/check_prometheus.py) with no failure on its
# side. Then tests/e2e/probe.py knocks with what must be refused: no client certificate,
# a certificate from another CA (both fail the TLS handshake, and promscope shows each as a
# bad_tls record saying why), a wrong password, no credentials, a wrong token (each answered
# 401 and counted for that sender).
#
#   tests/e2e_tls.sh [PROMETHEUS_BIN]
#
# Prometheus is the argument, else $PROMETHEUS_BIN, else tests/fetch_senders.sh prometheus
# builds it; bcrypt comes from $E2E_PYTHON (tests/fetch_senders.sh python). Prints PASS/FAIL
# lines and ends with `N passed, M failed`; exits 1 on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tests/e2e/lib.sh

prom="${1:-${PROMETHEUS_BIN:-}}"
if [[ -z "$prom" ]]; then
    eval "$(tests/fetch_senders.sh prometheus)"
    prom="$PROMETHEUS_BIN"
fi
if [[ -z "${E2E_PYTHON:-}" ]]; then
    eval "$(tests/fetch_senders.sh python)"
fi
command -v openssl >/dev/null || { echo "e2e: openssl is needed" >&2; exit 2; }
e2e_init tls
echo "e2e: $("$prom" --version 2>&1 | head -n 1) ($prom); $(openssl version)"

# --- certificates, password, token -------------------------------------------------------
certs="$work/certs"
mkdir -p "$certs"
# make_ca NAME: a self-signed CA.
make_ca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=promscope e2e $1" -keyout "$certs/$1.key" -out "$certs/$1.crt" 2>>"$work/openssl.log"
}
# make_cert NAME CA EXTENSIONS: a key and a certificate signed by CA.
make_cert() {
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
        -keyout "$certs/$1.key" -out "$certs/$1.csr" 2>>"$work/openssl.log"
    openssl x509 -req -in "$certs/$1.csr" -CA "$certs/$2.crt" -CAkey "$certs/$2.key" \
        -CAcreateserial -days 2 -extfile <(printf '%s\n' "$3") -out "$certs/$1.crt" 2>>"$work/openssl.log"
}
make_ca ca
make_ca other-ca
make_cert server ca $'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth'
make_cert prometheus ca 'extendedKeyUsage=clientAuth'
make_cert stranger other-ca 'extendedKeyUsage=clientAuth'
password="$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"
printf '%s' "$password" >"$work/password"
python3 -c 'import secrets; print(secrets.token_urlsafe(24))' >"$work/token"
hash="$("$E2E_PYTHON" -c 'import bcrypt, sys; print(bcrypt.hashpw(sys.argv[1].encode(), bcrypt.gensalt(10)).decode())' "$password")"

cat >"$work/web-mtls.yml" <<EOF
tls_server_config:
  cert_file: $certs/server.crt
  key_file: $certs/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: $certs/ca.crt
basic_auth_users:
  prometheus: '$hash'
EOF
cat >"$work/web-tls.yml" <<EOF
tls_server_config:
  cert_file: $certs/server.crt
  key_file: $certs/server.key
EOF
start_promscope mtls --web.config.file "$work/web-mtls.yml"
start_promscope bearer --web.config.file "$work/web-tls.yml" --auth-token-file "$work/token"

# --- Prometheus ------------------------------------------------------------------------
job=promscope-e2e
prom_port="$(free_port)"
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: $job
    static_configs:
      - targets: ['127.0.0.1:$prom_port']
    scrape_native_histograms: true
    scrape_protocols: [PrometheusProto, PrometheusText0.0.4]
remote_write:
  - name: mtls
    url: https://127.0.0.1:${ps_port[mtls]}/api/v1/write
    send_native_histograms: true
    tls_config:
      ca_file: $certs/ca.crt
      cert_file: $certs/prometheus.crt
      key_file: $certs/prometheus.key
    basic_auth:
      username: prometheus
      password_file: $work/password
    queue_config: {batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s}
    metadata_config: {send: true, send_interval: 2s}
  - name: bearer
    url: https://127.0.0.1:${ps_port[bearer]}/api/v1/write
    protobuf_message: io.prometheus.write.v2.Request
    send_native_histograms: true
    tls_config:
      ca_file: $certs/ca.crt
    authorization:
      credentials_file: $work/token
    queue_config: {batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s}
EOF
"$prom" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
    --web.listen-address="127.0.0.1:$prom_port" --enable-feature=metadata-wal-records \
    >"$work/prometheus.log" 2>&1 &
prom_pid=$!
pids+=("$prom_pid")
wait_until 30 0.5 http_ok "http://127.0.0.1:$prom_port/-/ready" \
    || give_up "Prometheus starts and becomes ready"

# The checker names records by protocol: mtls carries RW 1.0, bearer RW 2.0.
check_json() {
    python3 tests/e2e/check_prometheus.py "$1" "$job" "$started_ms" \
        "rw1=$work/mtls.jsonl" "rw2=$work/bearer.jsonl"
}
waited_from=$SECONDS
if wait_until "$timeout_s" 2 check_json wait; then
    echo "e2e: everything expected arrived after $((SECONDS - waited_from)) s"
else
    echo "e2e: gave up waiting after $((SECONDS - waited_from)) s"
fi
counted check_json report
if http_ok "http://127.0.0.1:$prom_port/metrics" "$work/prometheus.metrics"; then
    counted python3 tests/e2e/check_prometheus_metrics.py "$work/prometheus.metrics" 3 mtls bearer
else
    fail "Prometheus serves /metrics"
fi
stop "$prom_pid" 30
check "Prometheus exits cleanly on SIGTERM (status $stopped)" test "$stopped" -eq 0
errors="$(grep -iE 'level=error.*remote|remote.*level=error|non-recoverable|failed to send' \
    "$work/prometheus.log" || true)"
check "Prometheus logged no remote-write errors${errors:+: $(head -c 600 <<<"$errors")}" \
    test -z "$errors"

# --- what must be refused ----------------------------------------------------------------
# probe NAME WANT DESCRIPTION ARGS...: tests/e2e/probe.py against promscope NAME answers WANT.
probe() {
    local name="$1" want="$2" what="$3" got
    shift 3
    got="$(python3 tests/e2e/probe.py "https://127.0.0.1:${ps_port[$name]}/api/v1/write" \
        "$certs/ca.crt" "$@" 2>&1)"
    check "${name^^}: $what: $want (got $got)" test "$got" = "$want"
}
client=(--cert "$certs/prometheus.crt" --key "$certs/prometheus.key")
probe mtls tls-error "no client certificate" --user "prometheus:$password"
probe mtls tls-error "a client certificate from another CA" \
    --cert "$certs/stranger.crt" --key "$certs/stranger.key" --user "prometheus:$password"
probe mtls 401 "a wrong password" "${client[@]}" --user "prometheus:not-$password"
probe mtls 401 "no credentials" "${client[@]}"
probe bearer 401 "no token"
probe bearer 401 "a wrong token" --token "not-$(cat "$work/token")"

finish_promscope mtls RW1 Prometheus/ 2 2
# The two refused handshakes, each said in words (OpenSSL's client, TLS 1.3).
check "MTLS: the refused handshakes are bad_tls records saying why" \
    python3 - "$work/mtls.jsonl" <<'PY'
import json, sys
records = [json.loads(l) for l in open(sys.argv[1]) if '"bad_tls"' in l]
said = sorted(r["message"].split(" (")[0] for r in records
              if r["kind"] == "rejected" and r["status"] is None)
sys.exit(0 if said == ["client certificate not signed by the configured CA",
                       "client certificate required but none sent"] else 1)
PY
finish_promscope bearer RW2 Prometheus/ 2
e2e_result
