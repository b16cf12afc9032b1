"""Writes a text-format metrics file for `promtool push metrics` and what promtool sends
for it (the format of tests/e2e/check_sent.py).

    python3 tests/e2e/promtool_input.py METRICS_FILE SENT_JSONL TIMESTAMP_MS

promtool (util/fmtutil) adds `job="promtool"`, renames a metric's own `job` label to
`exported_job`, turns a histogram into `_bucket` (adding `le="+Inf"` when missing), `_sum`
and `_count` series and a summary into quantile, `_sum` and `_count` series, and sends one
metadata entry per family (RW 1.0).
"""
import json
import sys

metrics_path, sent_path, t = sys.argv[1], sys.argv[2], int(sys.argv[3])

TEXT = f"""# HELP e2e_promtool_requests_total Requests handled.
# TYPE e2e_promtool_requests_total counter
e2e_promtool_requests_total{{code="200",job="api"}} 1027 {t}
e2e_promtool_requests_total{{code="500"}} 3 {t}
# HELP e2e_promtool_temperature_celsius A gauge below zero.
# TYPE e2e_promtool_temperature_celsius gauge
e2e_promtool_temperature_celsius{{room="café ☃ 日本"}} -3.25 {t}
# HELP e2e_promtool_latency_seconds A histogram without its +Inf bucket.
# TYPE e2e_promtool_latency_seconds histogram
e2e_promtool_latency_seconds_bucket{{le="0.1"}} 2 {t}
e2e_promtool_latency_seconds_bucket{{le="0.5"}} 5 {t}
e2e_promtool_latency_seconds_sum 3.5 {t}
e2e_promtool_latency_seconds_count 6 {t}
# HELP e2e_promtool_rpc_seconds A summary.
# TYPE e2e_promtool_rpc_seconds summary
e2e_promtool_rpc_seconds{{quantile="0.5"}} 0.2 {t}
e2e_promtool_rpc_seconds{{quantile="0.99"}} 1.5 {t}
e2e_promtool_rpc_seconds_sum 12 {t}
e2e_promtool_rpc_seconds_count 30 {t}
e2e_promtool_untyped 1e+300 {t}
"""

JOB = [["job", "promtool"]]
SAMPLES = [
    ("e2e_promtool_requests_total", [["code", "200"], ["exported_job", "api"]], 1027),
    ("e2e_promtool_requests_total", [["code", "500"]], 3),
    ("e2e_promtool_temperature_celsius", [["room", "café ☃ 日本"]], -3.25),
    ("e2e_promtool_latency_seconds_bucket", [["le", "0.1"]], 2),
    ("e2e_promtool_latency_seconds_bucket", [["le", "0.5"]], 5),
    ("e2e_promtool_latency_seconds_bucket", [["le", "+Inf"]], 6),
    ("e2e_promtool_latency_seconds_sum", [], 3.5),
    ("e2e_promtool_latency_seconds_count", [], 6),
    ("e2e_promtool_rpc_seconds", [["quantile", "0.5"]], 0.2),
    ("e2e_promtool_rpc_seconds", [["quantile", "0.99"]], 1.5),
    ("e2e_promtool_rpc_seconds_sum", [], 12),
    ("e2e_promtool_rpc_seconds_count", [], 30),
    ("e2e_promtool_untyped", [], 1e300),
]
METADATA = [
    ("e2e_promtool_requests_total", "counter", "Requests handled."),
    ("e2e_promtool_temperature_celsius", "gauge", "A gauge below zero."),
    ("e2e_promtool_latency_seconds", "histogram", "A histogram without its +Inf bucket."),
    ("e2e_promtool_rpc_seconds", "summary", "A summary."),
    ("e2e_promtool_untyped", "unknown", ""),
]

with open(metrics_path, "w", encoding="utf-8") as f:
    f.write(TEXT)
with open(sent_path, "w", encoding="utf-8") as f:
    for name, labels, value in SAMPLES:
        f.write(json.dumps({"kind": "sample", "labels": [["__name__", name], *labels, *JOB],
                            "timestamp_ms": t, "value": value}, ensure_ascii=False) + "\n")
    for metric, kind, help_ in METADATA:
        f.write(json.dumps({"kind": "metadata", "metric": metric, "type": kind, "help": help_,
                            "unit": ""}) + "\n")
