#!/usr/bin/env bash
# End-to-end test: a real Prometheus remote-writes its own metrics to promscope.
#
#   tests/e2e_prometheus.sh [PROMETHEUS_BIN]
#
# The Prometheus binary is the argument, else $PROMETHEUS_BIN, else `prometheus` on PATH
# (tests/fetch_prometheus.sh fetches 2.x and 3.x). promscope is $PROMSCOPE_BIN, default
# target/release/promscope (built with `cargo build --release` if missing).
#
# One promscope per protocol, each on its own free loopback port writing JSON lines to a
# file, so every record's protocol is known:
#   - Prometheus 2.x: one RW 1.0 remote_write;
#   - Prometheus 3.x: an RW 1.0 and an RW 2.0 remote_write (`protobuf_message:
#     io.prometheus.write.v2.Request`), native histograms scraped with protobuf and sent.
# Prometheus scrapes itself every second. Once the JSON shows what is needed (or after
# $E2E_TIMEOUT seconds, default 60) the script checks the records, Prometheus's own
# remote-storage counters and promscope's exit status and summary.
#
# Prints PASS/FAIL lines and ends with `N passed, M failed`; exits 1 on any failure.
# Work files (configs, logs, JSON) are kept on failure or when E2E_KEEP=1.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

prom="${1:-${PROMETHEUS_BIN:-}}"
if [[ -z "$prom" ]]; then
    prom="$(command -v prometheus || true)"
fi
if [[ -z "$prom" || ! -x "$prom" ]]; then
    echo "e2e: no Prometheus binary (pass it as an argument or set PROMETHEUS_BIN;" \
        "tests/fetch_prometheus.sh fetches one)" >&2
    exit 2
fi
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
    done < <("$@" || echo "FAIL: checker $1 exited with status $?")
}

# running PID: true while PID has not exited (a zombie counts as exited).
running() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"
    [[ "${stat:0:1}" != Z ]]
}
# stop PID SECONDS: SIGTERM, SIGKILL after SECONDS; leaves the exit status in $stopped.
stopped=0
stop() {
    local end=$((SECONDS + $2))
    kill -TERM "$1" 2>/dev/null || true
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

work="$(mktemp -d "${TMPDIR:-/tmp}/promscope-e2e.XXXXXX")"
pids=()
cleanup() {
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
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

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
http_ok() {
    python3 - "$1" <<'PY'
import sys, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=2).read()
except Exception:
    sys.exit(1)
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
echo "e2e: $version_line ($prom)"
echo "e2e: promscope $("$promscope" --version 2>&1) ($promscope)"
job="promscope-e2e"

if ((major >= 3)); then
    protocols=(rw1 rw2)
else
    protocols=(rw1)
fi

# --- promscope, one per protocol -------------------------------------------------------
declare -A ps_port ps_pid
started_ms="$(python3 -c 'import time; print(int(time.time() * 1000))')"
for p in "${protocols[@]}"; do
    port="$(free_port)"
    "$promscope" --no-tui --format json --listen "127.0.0.1:$port" \
        >"$work/$p.jsonl" 2>"$work/$p.stderr" &
    ps_pid[$p]=$!
    ps_port[$p]=$port
    pids+=("$!")
done
for p in "${protocols[@]}"; do
    if ! wait_until 20 0.1 listening "${ps_port[$p]}"; then
        fail "promscope ($p) listens on 127.0.0.1:${ps_port[$p]}"
        dump_logs
        echo "$passed passed, $failed failed"
        exit 1
    fi
done

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
    if [[ "$help" == *native-histograms* ]]; then
        features+=(native-histograms)
    fi
    # RW2 carries metadata on each series, taken from WAL metadata records, which 3.x only
    # writes with this (unlisted in --help) feature; without it every series gets an empty
    # Metadata message.
    features+=(metadata-wal-records)
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
remote_write:
EOF
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
if ! wait_until 30 0.5 http_ok "http://127.0.0.1:$prom_port/-/ready"; then
    fail "Prometheus starts and becomes ready"
    dump_logs
    echo "$passed passed, $failed failed"
    exit 1
fi
pass "Prometheus $version starts and becomes ready"

# --- the checker for promscope's JSON lines ---------------------------------------------
cat >"$work/check_json.py" <<'PY'
"""Checks the JSON lines promscope printed for each protocol.

argv: MODE (wait|report) JOB START_MS then PROTO=FILE pairs. `wait` exits 0 once every
expectation is met; `report` prints a PASS/FAIL line per expectation.
"""
import json
import sys
import time

mode, job, start_ms = sys.argv[1], sys.argv[2], int(sys.argv[3])
instances = [a.split("=", 1) for a in sys.argv[4:]]
major = 3 if any(p == "rw2" for p, _ in instances) else 2
now_ms = int(time.time() * 1000)
results = []


def expect(ok, what):
    results.append((bool(ok), what))


def load(path):
    records, bad = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.endswith("\n"):
                break  # still being written
            try:
                records.append(json.loads(line))
            except ValueError as e:
                bad.append(f"line {n}: {e}: {line[:200]!r}")
    return records, bad


def num(s):
    return float(s)


def histogram_problems(h):
    """Why a histogram record is not a plausible native histogram ([] when it is)."""
    problems = []
    for key in ("count", "sum", "schema", "zero_threshold", "zero_count", "positive_spans",
                "positive_buckets", "negative_spans", "negative_buckets", "counts", "reset_hint"):
        if key not in h:
            problems.append(f"no {key}")
    if problems:
        return problems
    if not -4 <= h["schema"] <= 8:
        problems.append(f"schema {h['schema']}")
    for sign in ("positive", "negative"):
        n = sum(s["length"] for s in h[f"{sign}_spans"])
        if n != len(h[f"{sign}_buckets"]):
            problems.append(f"{sign} spans cover {n} buckets but {len(h[sign + '_buckets'])} given")
        if any(num(b) < 0 for b in h[f"{sign}_buckets"]):
            problems.append(f"negative {sign} bucket count")
    total = num(h["zero_count"]) + sum(map(num, h["positive_buckets"])) + sum(
        map(num, h["negative_buckets"]))
    if abs(total - num(h["count"])) > 1e-6 * max(1.0, num(h["count"])):
        problems.append(f"count {h['count']} but buckets add up to {total}")
    if h["counts"] not in ("integer", "float"):
        problems.append(f"counts {h['counts']!r}")
    return problems


for proto, path in instances:
    name = proto.upper()
    records, bad = load(path)
    by_kind = {}
    for r in records:
        by_kind.setdefault(r.get("kind"), []).append(r)
    samples = by_kind.get("sample", [])
    metadata = by_kind.get("metadata", [])
    histograms = by_kind.get("histogram", [])

    def series(metric):
        return [s for s in samples if s["labels"].get("__name__") == metric]

    for metric in ("up", "prometheus_build_info"):
        got = series(metric)
        jobs = sorted({s["labels"].get("job") for s in got}, key=str)
        expect(got and jobs == [job],
               f"{name}: samples of {metric} arrive with job={job} ({len(got)} samples, jobs {jobs})")
    ups = [s["value"] for s in series("up")]
    expect(ups and all(v == "1" for v in ups), f"{name}: every up sample is 1 ({sorted(set(ups))})")
    info = series("prometheus_build_info")
    versions = sorted({s["labels"].get("version") for s in info}, key=str)
    expect(info and all(s["labels"].get("instance") for s in info) and len(versions) == 1,
           f"{name}: prometheus_build_info has instance and version labels (version {versions})")
    expect(len({s["labels"].get("__name__") for s in samples}) >= 50,
           f"{name}: samples of many metrics arrive "
           f"({len(samples)} samples of {len({s['labels'].get('__name__') for s in samples})} metrics)")
    stamps = [s["timestamp_ms"] for s in samples] + [h["timestamp_ms"] for h in histograms]
    expect(stamps and all(start_ms - 120_000 <= t <= now_ms + 60_000 for t in stamps),
           f"{name}: sample timestamps are milliseconds from this run")
    # RW1 sends metadata in separate requests; RW2 on each series (printed once per metric).
    types = {m["metric"]: m["type"] for m in metadata}
    expect(len(types) >= 10,
           f"{name}: metadata arrives ({len(metadata)} records for {len(types)} metrics)")
    expect(types.get("prometheus_build_info") == "gauge"
           and types.get("prometheus_http_requests_total") == "counter"
           and any(m["help"] for m in metadata),
           f"{name}: metadata is right (prometheus_build_info: {types.get('prometheus_build_info')},"
           f" prometheus_http_requests_total: {types.get('prometheus_http_requests_total')})")
    if major >= 3:
        native = [h for h in histograms if h["labels"].get("__name__")
                  == "prometheus_http_request_duration_seconds"]
        expect(native, f"{name}: native histograms arrive ({len(histograms)} histogram records,"
               f" {len(native)} of prometheus_http_request_duration_seconds)")
        problems = {f"{h['labels'].get('__name__')}: {p}" for h in histograms
                    for p in histogram_problems(h)}
        expect(histograms and not problems,
               f"{name}: histograms are consistent (count = zero + buckets, spans match)"
               + (f": {sorted(problems)[:5]}" if problems else ""))
        expect(histograms and all(h["labels"].get("job") == job for h in histograms),
               f"{name}: histograms carry job={job}")
        if native and mode == "report":
            h = native[-1]
            print(f"  {name} histogram e.g. {h['labels'].get('handler')}: count {h['count']},"
                  f" sum {h['sum']}, schema {h['schema']}, {len(h['positive_buckets'])} buckets,"
                  f" counts {h['counts']}, reset_hint {h['reset_hint']}", file=sys.stderr)
    expect(not bad, f"{name}: every output line is JSON" + (f": {bad[:3]}" if bad else ""))
    rejected = by_kind.get("rejected", [])
    expect(not rejected, f"{name}: no rejected requests"
           + (f": {[(r.get('status'), r.get('message')) for r in rejected[:3]]}" if rejected else ""))
    warnings = by_kind.get("warning", [])
    expect(not warnings, f"{name}: no warnings"
           + (f": {sorted({w.get('message') for w in warnings})[:3]}" if warnings else ""))
    if mode == "report":
        print(f"  {name}: {len(records)} records: "
              + ", ".join(f"{len(v)} {k}" for k, v in sorted(by_kind.items(), key=str)),
              file=sys.stderr)

if mode == "wait":
    sys.exit(0 if all(ok for ok, _ in results) else 1)
for ok, what in results:
    print(("PASS: " if ok else "FAIL: ") + what)
PY

instances=()
for p in "${protocols[@]}"; do
    instances+=("$p=$work/$p.jsonl")
done
check_json() { python3 "$work/check_json.py" "$1" "$job" "$started_ms" "${instances[@]}"; }

waited_from=$SECONDS
if wait_until "$timeout_s" 2 check_json wait; then
    echo "e2e: everything expected arrived after $((SECONDS - waited_from)) s"
else
    echo "e2e: gave up waiting after $((SECONDS - waited_from)) s"
fi
counted check_json report

# --- values: what promscope printed against what Prometheus stored --------------------------
cat >"$work/check_values.py" <<'PY'
"""Queries Prometheus at the exact timestamps of records promscope printed and compares values.

argv: PROMETHEUS_URL then PROTO=FILE pairs. Samples of up to 40 series and up to 8 native
histograms per protocol: float values must be equal; histograms must have the same count,
sum and non-empty buckets (bounds computed from schema and spans).
"""
import json
import math
import sys
import urllib.parse
import urllib.request

base, instances = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]


def selector(labels):
    return "{" + ",".join(f"{k}={json.dumps(v)}" for k, v in sorted(labels.items())) + "}"


def query(labels, ts_ms):
    q = urllib.parse.urlencode({"query": selector(labels), "time": f"{ts_ms / 1000:.3f}"})
    with urllib.request.urlopen(f"{base}/api/v1/query?{q}", timeout=10) as r:
        body = json.load(r)
    result = body["data"]["result"]
    return result[0] if len(result) == 1 else None


def f(s):
    return math.nan if s == "StaleNaN" else float(s)


def buckets_of(h):
    """Non-empty buckets as {(lower, upper): count}, as Prometheus's API lists them."""
    out = {}
    zt, zc = f(h["zero_threshold"]), f(h["zero_count"])
    if zc > 0:
        out[(-zt, zt)] = zc
    if h.get("custom_values"):
        return None  # custom bounds (schema -53): not compared
    base_ = 2.0 ** (2.0 ** -h["schema"])
    for sign in (1, -1):
        prefix = "positive" if sign > 0 else "negative"
        counts = iter(map(f, h[f"{prefix}_buckets"]))
        idx = 0
        for span in h[f"{prefix}_spans"]:
            idx += span["offset"]
            for _ in range(span["length"]):
                c = next(counts)
                if c > 0:
                    lo, hi = base_ ** (idx - 1), base_ ** idx
                    out[(lo, hi) if sign > 0 else (-hi, -lo)] = c
                idx += 1
    return out


def close(a, b):
    return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def same_buckets(mine, theirs):
    if mine is None:
        return True
    if len(mine) != len(theirs):
        return False
    for (lo, hi), c in mine.items():
        if not any(close(lo, l2) and close(hi, h2) and c == c2 for (l2, h2), c2 in theirs.items()):
            return False
    return True


for proto, path in instances:
    name = proto.upper()
    samples, histograms = {}, {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            key = json.dumps(r.get("labels"), sort_keys=True)
            if r["kind"] == "sample" and not math.isnan(f(r["value"])):
                samples.setdefault(key, r)
            elif r["kind"] == "histogram":
                histograms[key] = r  # the latest, with the most buckets
    picked = sorted(samples.values(), key=lambda r: json.dumps(r["labels"], sort_keys=True))
    picked = picked[:: max(1, len(picked) // 40)][:40]
    wrong = []
    for r in picked:
        got = query(r["labels"], r["timestamp_ms"])
        theirs = got and got.get("value")
        if not theirs or int(round(theirs[0] * 1000)) != r["timestamp_ms"] \
                or f(theirs[1]) != f(r["value"]):
            wrong.append(f"{selector(r['labels'])}@{r['timestamp_ms']}: promscope {r['value']},"
                         f" Prometheus {theirs}")
    print(("FAIL" if wrong or not picked else "PASS")
          + f": {name}: sample values equal Prometheus's at the same timestamps"
          f" ({len(picked) - len(wrong)}/{len(picked)} series)" + (f": {wrong[:3]}" if wrong else ""))
    if name != "RW2" and not histograms:
        continue
    picked = list(histograms.values())[:8]
    wrong = []
    for h in picked:
        got = query(h["labels"], h["timestamp_ms"])
        theirs = got and got.get("histogram")
        if not theirs:
            wrong.append(f"{selector(h['labels'])}@{h['timestamp_ms']}: Prometheus has no histogram")
            continue
        ts, t = theirs
        tb = {(float(lo), float(hi)): float(c) for _, lo, hi, c in t.get("buckets", [])}
        if int(round(ts * 1000)) != h["timestamp_ms"] or f(h["count"]) != float(t["count"]) \
                or f(h["sum"]) != float(t["sum"]) or not same_buckets(buckets_of(h), tb):
            wrong.append(f"{selector(h['labels'])}@{h['timestamp_ms']}: promscope count {h['count']}"
                         f" sum {h['sum']} buckets {buckets_of(h)}; Prometheus {theirs}")
    print(("FAIL" if wrong or not picked else "PASS")
          + f": {name}: histograms equal Prometheus's (count, sum, bucket bounds and counts;"
          f" {len(picked) - len(wrong)}/{len(picked)} series)" + (f": {wrong[:2]}" if wrong else ""))
PY
counted python3 "$work/check_values.py" "http://127.0.0.1:$prom_port" "${instances[@]}"

# --- Prometheus's own view of its remote writes ---------------------------------------------
cat >"$work/check_metrics.py" <<'PY'
"""Checks Prometheus's remote-storage counters. argv: METRICS_FILE MAJOR then remote names."""
import re
import sys

path, major, remotes = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
rows = []
with open(path, encoding="utf-8") as f:
    for line in f:
        m = line_re.match(line)
        if m and m.group(1).startswith("prometheus_remote_storage_"):
            rows.append((m.group(1), dict(label_re.findall(m.group(2) or "")), float(m.group(3))))


def values(metric, remote):
    return [v for n, l, v in rows if n == metric and l.get("remote_name") == remote]


for remote in remotes:
    name = remote.upper()
    for metric in ("samples", "histograms", "exemplars"):
        got = values(f"prometheus_remote_storage_{metric}_failed_total", remote)
        print(("PASS" if got and sum(got) == 0 else "FAIL")
              + f": {name}: prometheus_remote_storage_{metric}_failed_total is 0 ({got})")
    bad = sorted({f"{n}{sorted(l.items())} = {v:g}" for n, l, v in rows
                  if l.get("remote_name") == remote and v != 0
                  and re.search(r"_(failed|dropped|retried)(_[a-z]+)?_total$|_dropped_total$", n)})
    checked = sorted({n for n, l, v in rows if l.get("remote_name") == remote
                      and re.search(r"_(failed|dropped|retried)(_[a-z]+)?_total$", n)})
    print(("FAIL" if bad else "PASS")
          + f": {name}: no failed, dropped or retried data (checked {len(checked)} counters)"
          + (f": {bad}" if bad else ""))
    sent = values("prometheus_remote_storage_samples_total", remote)
    print(("PASS" if sum(sent) > 0 else "FAIL")
          + f": {name}: Prometheus counts samples sent ({sum(sent):g})")
    if major >= 3:
        sent = values("prometheus_remote_storage_histograms_total", remote)
        print(("PASS" if sum(sent) > 0 else "FAIL")
              + f": {name}: Prometheus counts histograms sent ({sum(sent):g})")
    if remote == "rw1":
        sent = values("prometheus_remote_storage_metadata_total", remote)
        print(("PASS" if sum(sent) > 0 else "FAIL")
              + f": {name}: Prometheus counts metadata sent ({sum(sent):g})")
PY
if python3 - "http://127.0.0.1:$prom_port/metrics" "$work/prometheus.metrics" <<'PY'; then
import sys, urllib.request
with open(sys.argv[2], "wb") as f:
    f.write(urllib.request.urlopen(sys.argv[1], timeout=10).read())
PY
    counted python3 "$work/check_metrics.py" "$work/prometheus.metrics" "$major" "${protocols[@]}"
else
    fail "Prometheus serves /metrics"
fi

# --- shutdown ----------------------------------------------------------------------------
stop "$prom_pid" 30
prom_status=$stopped
check "Prometheus exits cleanly on SIGTERM (status $prom_status)" test "$prom_status" -eq 0
errors="$(grep -iE 'level=error.*remote|remote.*level=error|non-recoverable|failed to send' \
    "$work/prometheus.log" || true)"
check "Prometheus logged no remote-write errors${errors:+: $(head -c 600 <<<"$errors")}" \
    test -z "$errors"

for p in "${protocols[@]}"; do
    name="${p^^}"
    stop "${ps_pid[$p]}" 30
    status=$stopped
    check "$name: promscope exits 0 on SIGTERM (status $status)" test "$status" -eq 0
    summary="$work/$p.stderr"
    accepted="$(sed -nE 's/^ *requests +([0-9]+) accepted, ([0-9]+) rejected.*/\1/p' "$summary")"
    rejected="$(sed -nE 's/^ *requests +([0-9]+) accepted, ([0-9]+) rejected.*/\2/p' "$summary")"
    check "$name: summary shows accepted requests (${accepted:-none} accepted, ${rejected:-?} rejected)" \
        test "${accepted:-0}" -gt 0 -a "${rejected:-1}" -eq 0
    # Sender lines: "    USER-AGENT @ IP  PROTO  N accepted, M rejected".
    senders="$(grep -E '^    .* @ .*  RW[12]  [0-9]+ accepted' "$summary" || true)"
    want="${p^^}"
    check "$name: every sender is Prometheus over $want: $(tr -s ' ' <<<"$senders" | paste -sd ';' -)" \
        bash -c '[[ -n "$1" ]] && ! grep -vE "^    Prometheus/[^ ]+ @ 127\.0\.0\.1  $2  " <<<"$1" >/dev/null' \
        _ "$senders" "$want"
    sed 's/^/  /' "$summary"
done

if ((failed > 0)); then
    dump_logs
fi
echo "$passed passed, $failed failed"
((failed == 0))
