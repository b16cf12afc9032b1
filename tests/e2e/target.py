"""A scrape target with a fixed OpenMetrics page: a counter and a classic histogram with
exemplars and `_created` lines, a gauge with a unit, non-ASCII label values.

    python3 tests/e2e/target.py PORT EXPECTED_JSON

Serves the page on http://127.0.0.1:PORT/metrics (OpenMetrics 1.0 when the scraper accepts
it, else the Prometheus text format without exemplars and `_created`) until killed, and
writes what it exposes to EXPECTED_JSON for the checkers:
{"started_ms", "families": [{"name", "type", "unit", "help", "series": [{"labels", "value",
"created_ms", "exemplar": {"labels", "value", "timestamp_ms"}} | histogram fields]}]}.
"""
import http.server
import json
import sys
import time

port, expected_path = int(sys.argv[1]), sys.argv[2]
started_ms = int(time.time() * 1000)
# Whole seconds: OpenMetrics timestamps are seconds, kept exact in milliseconds.
created_ms = (started_ms // 1000 - 3600) * 1000
exemplar_ms = (started_ms // 1000 - 1) * 1000

FAMILIES = [
    {
        "name": "e2e_request_bytes", "type": "counter", "unit": "bytes",
        "help": "Bytes received, by route.",
        "series": [
            {"labels": {"route": "/a"}, "value": 1234.5, "created_ms": created_ms,
             "exemplar": {"labels": {"trace_id": "4bf92f3577b34da6"}, "value": 17.0,
                          "timestamp_ms": exemplar_ms}},
            {"labels": {"route": "/ü ☃ 日本"}, "value": 5.0, "created_ms": created_ms},
        ],
    },
    {
        "name": "e2e_temperature_celsius", "type": "gauge", "unit": "celsius",
        "help": "A gauge below zero.",
        "series": [{"labels": {"room": "lab"}, "value": -3.25}],
    },
    {
        "name": "e2e_latency_seconds", "type": "histogram", "unit": "seconds",
        "help": "A classic histogram with an exemplar in each bucket.",
        "series": [{
            "labels": {"path": "/api"}, "created_ms": created_ms,
            "bounds": [0.1, 0.5], "cumulative": [2, 5, 6], "count": 6, "sum": 3.5,
            "exemplars": [
                {"labels": {"trace_id": "a1"}, "value": 0.05, "timestamp_ms": exemplar_ms},
                {"labels": {"trace_id": "a2"}, "value": 0.25, "timestamp_ms": exemplar_ms},
                {"labels": {"trace_id": "a3"}, "value": 2.5, "timestamp_ms": exemplar_ms},
            ],
        }],
    },
]


def labels_text(labels):
    def esc(v):
        return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return "{" + ",".join(f'{k}="{esc(v)}"' for k, v in labels.items()) + "}" if labels else ""


def exemplar_text(e, openmetrics):
    if not openmetrics or not e:
        return ""
    return f" # {labels_text(e['labels'])} {e['value']!r} {e['timestamp_ms'] / 1000:.3f}"


def page(openmetrics):
    lines = []
    for f in FAMILIES:
        name, kind = f["name"], f["type"]
        # The text format names a counter family with its _total suffix.
        family = name + "_total" if kind == "counter" and not openmetrics else name
        lines.append(f"# HELP {family} {f['help']}")
        lines.append(f"# TYPE {family} {kind}")
        if openmetrics:
            lines.append(f"# UNIT {name} {f['unit']}")
        for s in f["series"]:
            if kind == "histogram":
                for i, c in enumerate(s["cumulative"]):
                    le = repr(s["bounds"][i]) if i < len(s["bounds"]) else "+Inf"
                    lines.append(f"{name}_bucket{labels_text({**s['labels'], 'le': le})} {c}"
                                 + exemplar_text(s["exemplars"][i], openmetrics))
                lines.append(f"{name}_count{labels_text(s['labels'])} {s['count']}")
                lines.append(f"{name}_sum{labels_text(s['labels'])} {s['sum']!r}")
            else:
                suffix = "_total" if kind == "counter" else ""
                lines.append(f"{name}{suffix}{labels_text(s['labels'])} {s['value']!r}"
                             + exemplar_text(s.get("exemplar"), openmetrics))
            if openmetrics and "created_ms" in s:
                lines.append(f"{name}_created{labels_text(s['labels'])} {s['created_ms'] / 1000:.3f}")
    if openmetrics:
        lines.append("# EOF")
    return ("\n".join(lines) + "\n").encode()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        openmetrics = "application/openmetrics-text" in self.headers.get("Accept", "")
        body = page(openmetrics)
        self.send_response(200)
        self.send_header("Content-Type", "application/openmetrics-text; version=1.0.0; charset=utf-8"
                         if openmetrics else "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


with open(expected_path, "w", encoding="utf-8") as out:
    json.dump({"started_ms": started_ms, "families": FAMILIES}, out, ensure_ascii=False)
http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
